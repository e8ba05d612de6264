/* See slurm_cluster.h. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/util.h"
#include "lib/slurm_cluster.h"
#include "lib/suite_run.h"
#include "lib/vmtest.h"

#define READY_MS (60 * 1000) /* the node idle after the daemons start */
#define STOP_MS (20 * 1000)  /* daemons gone after a clean shutdown */

/* The private cluster; file scope so that the fini tears it down however
 * the test ended. */
static struct cluster {
	char dir[1024];	 /* the temp dir: key, sockets, conf, state, logs, shards */
	pid_t holder;	 /* unshare(1); its death kills the namespace; 0 = none */
	dev_t ns_dev;	 /* the cluster's PID namespace (st_dev, st_ino of its ns/pid) */
	ino_t ns_ino;
} cl;

void slurm_nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The tails of the cluster's logs named (space-separated, in its temp
 * dir), for a failure message; a static buffer: one call per message. */
const char *slurm_log_tail(const char *names)
{
	static char buf[8192];
	char cmd[2048], *out = NULL;

	snprintf(cmd, sizeof(cmd), "cd %s && tail -v -c 1500 %s 2>&1", cl.dir, names);
	vmtest_sh(cmd, SLURM_CMD_MS, &out);
	snprintf(buf, sizeof(buf), "%s", out ? out : "");
	free(out);
	return buf;
}

/* Two ports nobody listens on: bound together to port 0, so they differ,
 * then closed for the daemons (a race with another binder is possible but
 * shows as a daemon's bind error in its log). */
static void free_ports(int *ports, int n)
{
	int fds[4];

	cr_assert_leq(n, 4);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert_geq(fds[i], 0);
		cr_assert_eq(bind(fds[i], (struct sockaddr *)&a, sizeof(a)), 0, "bind: %m");
		cr_assert_eq(getsockname(fds[i], (struct sockaddr *)&a, &len), 0);
		ports[i] = ntohs(a.sin_port);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* The node line of slurm.conf for this host, from `slurmd -C` (its
 * NodeName is the host name slurmd will look itself up by). */
static void node_line(char *buf, size_t len, char *name, size_t namelen)
{
	char *out = NULL;
	size_t n;

	if (vmtest_sh("slurmd -C 2>&1", SLURM_CMD_MS, &out) || strncmp(out, "NodeName=", 9))
		test_missing("slurmd -C cannot describe this host: %s", out ? out : "");
	n = strcspn(out, "\n");
	cr_assert_lt(n, len, "slurmd -C: line too long");
	memcpy(buf, out, n);
	buf[n] = '\0';
	n = strcspn(out + 9, " \n");
	cr_assert(n > 0 && n < namelen, "slurmd -C: NodeName");
	memcpy(name, out + 9, n);
	name[n] = '\0';
	free(out);
}

void slurm_write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);

	cr_assert_geq(fd, 0, "%s: %m", path);
	cr_assert_eq(write(fd, text, len), (ssize_t)len, "%s: %m", path);
	close(fd);
}

/* slurm.conf for Slurm 22.05 (Debian 12): SlurmUser root, every path in
 * the temp dir, munge through our own socket, no cgroup plugins
 * (proctrack/linuxproc, task/none), no accounting. Records of ended jobs
 * are kept an hour (MinJobAge), so the test can read every task's state;
 * a cancelled task gets SIGKILL 10 s after SIGTERM (KillWait). */
static void write_conf(void)
{
	char node[512], host[256], conf[16384], path[1100];
	int ports[2];

	node_line(node, sizeof(node), host, sizeof(host));
	free_ports(ports, 2);
	snprintf(conf, sizeof(conf),
		 "ClusterName=ktstr\n"
		 "SlurmctldHost=%s(127.0.0.1)\n"
		 "SlurmctldPort=%d\n"
		 "SlurmdPort=%d\n"
		 "SlurmUser=root\n"
		 "SlurmdUser=root\n"
		 "AuthType=auth/munge\n"
		 "CredType=cred/munge\n"
		 "AuthInfo=socket=%s/munge.sock\n"
		 "StateSaveLocation=%s/state\n"
		 "SlurmdSpoolDir=%s/spool\n"
		 "SlurmctldPidFile=%s/slurmctld.pid\n"
		 "SlurmdPidFile=%s/slurmd.pid\n"
		 "SlurmctldLogFile=%s/slurmctld.log\n"
		 "SlurmdLogFile=%s/slurmd.log\n"
		 "ProctrackType=proctrack/linuxproc\n"
		 "TaskPlugin=task/none\n"
		 "JobAcctGatherType=jobacct_gather/none\n"
		 "AccountingStorageType=accounting_storage/none\n"
		 "JobCompType=jobcomp/none\n"
		 "MpiDefault=none\n"
		 "SwitchType=switch/none\n"
		 "SchedulerType=sched/backfill\n"
		 "SelectType=select/cons_tres\n"
		 "SelectTypeParameters=CR_CPU\n"
		 "ReturnToService=2\n"
		 "MinJobAge=3600\n"
		 "KillWait=10\n"
		 "%s NodeAddr=127.0.0.1 State=UNKNOWN\n"
		 "PartitionName=ktstr Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
		 host, ports[0], ports[1], cl.dir, cl.dir, cl.dir, cl.dir, cl.dir, cl.dir, cl.dir,
		 node);
	snprintf(path, sizeof(path), "%s/slurm.conf", cl.dir);
	slurm_write_file(path, conf, 0644);
	/* Every Slurm command of this process and its children (the jobs
	 * included) uses this cluster; /etc/slurm is never read. */
	cr_assert_eq(setenv("SLURM_CONF", path, 1), 0);
}

/* PID 1 of the cluster's namespace: munged (waiting, bounded, for its
 * socket), then slurmctld and slurmd in the foreground; it ends when they
 * all have. */
static const char cluster_sh[] =
	"D=$1\n"
	"munged -F --force --socket=$D/munge.sock --key-file=$D/munge.key "
	"--pid-file=$D/munged.pid --log-file=$D/munged.log --seed-file=$D/munged.seed &\n"
	"i=0\n"
	"while [ ! -S $D/munge.sock ]; do\n"
	"  i=$((i + 1)); [ $i -gt 100 ] && { echo 'munged made no socket in 10 s'; exit 1; }\n"
	"  sleep 0.1\n"
	"done\n"
	"slurmctld -D &\n"
	"slurmd -D &\n"
	"wait\n";

/* Starts the namespace holder: unshare(1) dies with this process
 * (PR_SET_PDEATHSIG) and takes PID 1 of the namespace, so every process
 * of the namespace, with it (--kill-child). */
static void start_cluster(void)
{
	char log[1100];
	pid_t parent = getpid();
	int fd;

	snprintf(log, sizeof(log), "%s/cluster.log", cl.dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cl.holder = fork();
	cr_assert_geq(cl.holder, 0, "fork: %m");
	if (!cl.holder) {
		int nul = open("/dev/null", O_RDONLY);

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent || nul < 0 ||
		    dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execlp("unshare", "unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
		       "/bin/sh", "-c", cluster_sh, "sh", cl.dir, (char *)NULL);
		_exit(127);
	}
	close(fd);
}

static bool holder_ended(void)
{
	int status;

	if (cl.holder > 0 && waitpid(cl.holder, &status, WNOHANG) == cl.holder)
		cl.holder = 0;
	return !cl.holder;
}

/* The namespace unshare made for its children, once it has made it. */
static bool read_ns(void)
{
	struct stat self, ns;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/pid_for_children", (int)cl.holder);
	if (stat("/proc/self/ns/pid", &self) || stat(path, &ns) ||
	    (ns.st_dev == self.st_dev && ns.st_ino == self.st_ino))
		return false;
	cl.ns_dev = ns.st_dev;
	cl.ns_ino = ns.st_ino;
	return true;
}

/* Waits (bounded) for the node to be idle: the controller up, slurmd
 * registered. Slurm that cannot come up here is an environment without
 * Slurm (a skip, a failure in CI), with the daemons' logs as the reason. */
static void wait_ready(void)
{
	uint64_t start = ktstr_now_ms(), end = start + READY_MS;
	char *out = NULL;

	for (;;) {
		if (!cl.ns_ino && !holder_ended())
			read_ns();
		free(out);
		out = NULL;
		if (cl.ns_ino && sh_status("sinfo -h -N -o %t 2>&1", SLURM_CMD_MS, &out) == 0 &&
		    !strcmp(out, "idle\n"))
			break;
		if (holder_ended() || ktstr_now_ms() > end)
			test_missing("the private Slurm cluster did not come up (waited at most %d s) "
				     "(sinfo: %.*s)\n%s",
				     READY_MS / 1000, out ? (int)strcspn(out, "\n") : 0, out ? out : "",
				     slurm_log_tail("cluster.log slurmctld.log slurmd.log"));
		slurm_nap_ms(200);
	}
	free(out);
	fprintf(stderr, "slurm: node idle %ld ms after the daemons started\n",
		(long)(ktstr_now_ms() - start));
}

/* Whether process pid (as this test sees it) lives in the cluster's PID
 * namespace or one nested in it (a VM worker makes its own for QEMU):
 * its namespace and up to 32 parents (NS_GET_PARENT) are compared. */
static bool in_cluster_ns(const char *pid)
{
	char path[300];
	bool in = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/ns/pid", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	for (int depth = 0; fd >= 0 && !in && depth < 32; depth++) {
		struct stat st;
		int parent;

		in = !fstat(fd, &st) && st.st_dev == cl.ns_dev && st.st_ino == cl.ns_ino;
		parent = in ? -1 : ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
	return in;
}

/* The processes (pids as this test sees them) in the cluster's
 * namespaces whose argv has arg (or whose argv[0] is a path to arg), or
 * every one of them (arg NULL); with
 * sig, each gets it. Returns how many there were; their command lines
 * in what (when given). */
int slurm_ns_procs(const char *arg, int sig, char *what, size_t whatlen)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (what && whatlen)
		what[0] = '\0';
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		char path[300], cmd[4096];
		ssize_t len;
		int fd;
		bool hit = !arg;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (!in_cluster_ns(de->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		len = fd < 0 ? -1 : read(fd, cmd, sizeof(cmd) - 1);
		if (fd >= 0)
			close(fd);
		if (len < 0)
			continue;
		cmd[len] = '\0';
		for (ssize_t i = 0; !hit && i < len; i += strlen(cmd + i) + 1)
			hit = !strcmp(cmd + i, arg);
		if (!hit && strrchr(cmd, '/'))
			hit = !strcmp(strrchr(cmd, '/') + 1, arg);
		if (!hit)
			continue;
		n++;
		if (sig)
			kill(atoi(de->d_name), sig);
		for (ssize_t i = 0; i < len; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		if (what && strlen(what) + strlen(cmd) + 8 < whatlen)
			snprintf(what + strlen(what), whatlen - strlen(what), "%s: %s\n", de->d_name,
				 cmd);
	}
	closedir(d);
	return n;
}

/* Stops the cluster: jobs cancelled, `scontrol shutdown` and munged
 * --stop, a bounded wait for PID 1 to end; then SIGKILL for the holder
 * (the kernel kills what is left of the namespace). Returns the number of
 * the namespace's processes still alive after all that (listed in what). */
int slurm_cluster_stop(char *what, size_t whatlen)
{
	char cmd[1200];
	uint64_t end;
	int left = 0;

	if (what && whatlen)
		what[0] = '\0';
	if (!cl.holder)
		return 0;
	vmtest_sh("scancel --user=root", SLURM_CMD_MS, NULL);
	vmtest_sh("scontrol shutdown", SLURM_CMD_MS, NULL);
	snprintf(cmd, sizeof(cmd), "munged --stop --socket=%s/munge.sock", cl.dir);
	vmtest_sh(cmd, SLURM_CMD_MS, NULL);
	for (end = ktstr_now_ms() + STOP_MS; !holder_ended() && ktstr_now_ms() < end;)
		slurm_nap_ms(100);
	if (cl.holder) {
		kill(cl.holder, SIGKILL);
		waitpid(cl.holder, NULL, 0);
		cl.holder = 0;
	}
	/* The kernel has killed them all; reaping takes a moment. */
	for (end = ktstr_now_ms() + 5000; cl.ns_ino && ktstr_now_ms() < end; slurm_nap_ms(100))
		if (!(left = slurm_ns_procs(NULL, 0, what, whatlen)))
			break;
	return left;
}

void slurm_cluster_start(void)
{
	const char *path = getenv("PATH");
	char buf[8192], *out = NULL;

	if (geteuid() != 0)
		cr_skip_test("needs root: the private Slurm cluster runs as SlurmUser root in its "
			     "own PID namespace");
	/* The daemons live in sbin. */
	snprintf(buf, sizeof(buf), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	setenv("PATH", buf, 1);
	if (vmtest_sh("for c in slurmctld slurmd sbatch squeue sinfo scontrol scancel munged "
		      "mungekey unshare; do command -v $c >/dev/null || printf ' %s' $c; done",
		      SLURM_CMD_MS, &out) || (out && *out))
		test_missing("Slurm is not installed (missing:%s): scripts/install-deps installs "
			     "slurmctld, slurmd, slurm-client and munge", out ? out : "?");
	free(out);
	cr_assert_eq(vmtest_tmpdir(cl.dir, sizeof(cl.dir)), 0);
	/* The jobs' ktstr-orch writes its shard here as root; the VMs run as
	 * another account and need nothing from it. */
	cr_assert_eq(chmod(cl.dir, 0755), 0);
	snprintf(buf, sizeof(buf), "cd %s && mkdir state spool && "
				   "mungekey --create --keyfile=%s/munge.key 2>&1",
		 cl.dir, cl.dir);
	cr_assert_eq(vmtest_sh(buf, SLURM_CMD_MS, &out), 0, "munge key: %s", out ? out : "");
	free(out);
	write_conf();
	start_cluster();
	wait_ready();
}

void slurm_cluster_teardown(void)
{
	slurm_cluster_stop(NULL, 0);
	if (cl.dir[0])
		vmtest_rm_rf(cl.dir);
	cl.dir[0] = '\0';
}

/* One field of `scontrol -o show job ID` ("JobState", "ExitCode", ...). */
void slurm_job_field(const char *id, const char *key, char *val, size_t len)
{
	char cmd[256], pat[64], *out = NULL, *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "scontrol -o show job %s 2>&1", id);
	cr_assert_eq(sh_status(cmd, SLURM_CMD_MS, &out), 0, "%s: %s", cmd, out);
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(out, pat);
	cr_assert_not_null(p, "%s: no %s in %s", cmd, key, out);
	p += strlen(pat);
	n = strcspn(p, " \n");
	cr_assert_lt(n, len);
	memcpy(val, p, n);
	val[n] = '\0';
	free(out);
}

/* Waits (bounded) until no task of job is pending, running or completing. */
void slurm_wait_job_ended(const char *job, int ms)
{
	char cmd[256], *out = NULL;
	uint64_t end = ktstr_now_ms() + (uint64_t)ms;

	snprintf(cmd, sizeof(cmd), "squeue -h -j %s -t PD,R,CG,CF,S -o '%%i %%T' 2>&1", job);
	for (;;) {
		free(out);
		out = NULL;
		cr_assert_eq(sh_status(cmd, SLURM_CMD_MS, &out), 0, "%s: %s", cmd, out);
		if (!*out)
			break;
		cr_assert_lt(ktstr_now_ms(), end, "job %s still has tasks after %d s:\n%s\n%s", job,
			     ms / 1000, out, slurm_log_tail("slurmctld.log"));
		slurm_nap_ms(1000);
	}
	free(out);
}

/* Puts a cancelled or failed task back in the queue, to start now (a
 * requeued job is otherwise held about two minutes). */
void slurm_requeue(const char *job, int task)
{
	char cmd[256], *out = NULL;
	int rc;

	snprintf(cmd, sizeof(cmd), "scontrol requeue %s_%d 2>&1 && "
				   "scontrol update JobId=%s_%d StartTime=now 2>&1",
		 job, task, job, task);
	rc = sh_status(cmd, SLURM_CMD_MS, &out);
	cr_assert_eq(rc, 0, "%s: %s", cmd, out);
	free(out);
}

const char *slurm_cluster_dir(void)
{
	return cl.dir;
}
