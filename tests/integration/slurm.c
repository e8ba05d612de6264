/* Shards on a real job scheduler (docs/farms.md, "Proof on Slurm"): a
 * private Slurm cluster on localhost (Debian's slurmctld, slurmd and
 * munged, its own key, ports, spool and state in a temp dir) runs
 * tests/suites/slurm-shards.yaml as a 4-task job array, each task a
 * `ktstr-orch run --partition auto` that reads its shard from Slurm's own
 * variables. One task is cancelled (scancel) and one has its ktstr-orch
 * killed with SIGKILL mid-run: the merge is an infrastructure error that
 * names the shard with no file, never fewer tests. Both tasks requeued, the
 * merge equals one unsharded run record for record.
 *
 * The cluster lives in its own PID namespace (unshare --pid --kill-child,
 * under PR_SET_PDEATHSIG): whatever happens to this test, even criterion
 * killing it at its timeout, no daemon or job outlives it; the test
 * proves from /proc that none did. */
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

#include <json-c/json.h>

#include "lib/shard_records.h"
#include "lib/suite_run.h"
#include "lib/vmtest.h"

#define TASKS 4
#define CMD_MS (30 * 1000)	  /* one Slurm client command */
#define READY_MS (60 * 1000)	  /* the node idle after the daemons start */
#define ARRAY_MS (600 * 1000)	  /* every task of the array ended */
#define STARTED_MS (300 * 1000)	  /* a task's ktstr-orch running */
#define STOP_MS (20 * 1000)	  /* daemons gone after a clean shutdown */
#define VM_GONE_MS (10 * 1000)	  /* a killed task's worker and QEMU gone */

/* The private cluster; file scope so that the fini tears it down however
 * the test ended. */
static struct cluster {
	char dir[1024];	 /* the temp dir: key, sockets, conf, state, logs, shards */
	pid_t holder;	 /* unshare(1); its death kills the namespace; 0 = none */
	dev_t ns_dev;	 /* the cluster's PID namespace (st_dev, st_ino of its ns/pid) */
	ino_t ns_ino;
} cl;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The tails of the cluster's logs named (space-separated, in its temp
 * dir), for a failure message; a static buffer: one call per message. */
static const char *log_tail(const char *names)
{
	static char buf[8192];
	char cmd[2048], *out = NULL;

	snprintf(cmd, sizeof(cmd), "cd %s && tail -v -c 1500 %s 2>&1", cl.dir, names);
	vmtest_sh(cmd, CMD_MS, &out);
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

	if (vmtest_sh("slurmd -C 2>&1", CMD_MS, &out) || strncmp(out, "NodeName=", 9))
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

static void write_file(const char *path, const char *text, mode_t mode)
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
	write_file(path, conf, 0644);
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
	long start = now_ms(), end = start + READY_MS;
	char *out = NULL;

	for (;;) {
		if (!cl.ns_ino && !holder_ended())
			read_ns();
		free(out);
		out = NULL;
		if (cl.ns_ino && sh_status("sinfo -h -N -o %t 2>&1", CMD_MS, &out) == 0 &&
		    !strcmp(out, "idle\n"))
			break;
		if (holder_ended() || now_ms() > end)
			test_missing("the private Slurm cluster did not come up (waited at most %d s) "
				     "(sinfo: %.*s)\n%s",
				     READY_MS / 1000, out ? (int)strcspn(out, "\n") : 0, out ? out : "",
				     log_tail("cluster.log slurmctld.log slurmd.log"));
		nap_ms(200);
	}
	free(out);
	fprintf(stderr, "slurm: node idle %ld ms after the daemons started\n", now_ms() - start);
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
static int ns_procs(const char *arg, int sig, char *what, size_t whatlen)
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
static int stop_cluster(char *what, size_t whatlen)
{
	char cmd[1200];
	long end;
	int left = 0;

	if (what && whatlen)
		what[0] = '\0';
	if (!cl.holder)
		return 0;
	vmtest_sh("scancel --user=root", CMD_MS, NULL);
	vmtest_sh("scontrol shutdown", CMD_MS, NULL);
	snprintf(cmd, sizeof(cmd), "munged --stop --socket=%s/munge.sock", cl.dir);
	vmtest_sh(cmd, CMD_MS, NULL);
	for (end = now_ms() + STOP_MS; !holder_ended() && now_ms() < end;)
		nap_ms(100);
	if (cl.holder) {
		kill(cl.holder, SIGKILL);
		waitpid(cl.holder, NULL, 0);
		cl.holder = 0;
	}
	/* The kernel has killed them all; reaping takes a moment. */
	for (end = now_ms() + 5000; cl.ns_ino && now_ms() < end; nap_ms(100))
		if (!(left = ns_procs(NULL, 0, what, whatlen)))
			break;
	return left;
}

static void setup(void)
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
		      CMD_MS, &out) || (out && *out))
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
	cr_assert_eq(vmtest_sh(buf, CMD_MS, &out), 0, "munge key: %s", out ? out : "");
	free(out);
	write_conf();
	start_cluster();
	wait_ready();
}

static void teardown(void)
{
	stop_cluster(NULL, 0);
	if (cl.dir[0])
		vmtest_rm_rf(cl.dir);
	cl.dir[0] = '\0';
}

/* One field of `scontrol -o show job ID` ("JobState", "ExitCode", ...). */
static void job_field(const char *id, const char *key, char *val, size_t len)
{
	char cmd[256], pat[64], *out = NULL, *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "scontrol -o show job %s 2>&1", id);
	cr_assert_eq(sh_status(cmd, CMD_MS, &out), 0, "%s: %s", cmd, out);
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
static void wait_job_ended(const char *job, int ms)
{
	char cmd[256], *out = NULL;
	long end = now_ms() + ms;

	snprintf(cmd, sizeof(cmd), "squeue -h -j %s -t PD,R,CG,CF,S -o '%%i %%T' 2>&1", job);
	for (;;) {
		free(out);
		out = NULL;
		cr_assert_eq(sh_status(cmd, CMD_MS, &out), 0, "%s: %s", cmd, out);
		if (!*out)
			break;
		cr_assert_lt(now_ms(), end, "job %s still has tasks after %d s:\n%s\n%s", job,
			     ms / 1000, out, log_tail("slurmctld.log"));
		nap_ms(1000);
	}
	free(out);
}

/* Waits (bounded) until task's ktstr-orch is mid-run: its shard chosen
 * and a VM of it started (the worker says so in the task's log). */
static void wait_task_started(const char *job, int task)
{
	char log[64], cmd[2600];
	long end = now_ms() + STARTED_MS;

	snprintf(log, sizeof(log), "task-%d.log", task);
	snprintf(cmd, sizeof(cmd), "grep -q -- '--partition auto: shard' %s/%s && "
				   "grep -q 'worker: running ' %s/%s",
		 cl.dir, log, cl.dir, log);
	while (vmtest_sh(cmd, CMD_MS, NULL)) {
		char id[64], state[64];

		snprintf(id, sizeof(id), "%s_%d", job, task);
		job_field(id, "JobState", state, sizeof(state));
		cr_assert(!strcmp(state, "PENDING") || !strcmp(state, "RUNNING"),
			  "task %s is %s before its ktstr-orch started\n%s", id, state, log_tail(log));
		cr_assert_lt(now_ms(), end, "task %s: no VM of its ktstr-orch started within %d s",
			     id, STARTED_MS / 1000);
		nap_ms(500);
	}
}

/* Puts a cancelled or failed task back in the queue, to start now (a
 * requeued job is otherwise held about two minutes). */
static void requeue(const char *job, int task)
{
	char cmd[256], *out = NULL;
	int rc;

	snprintf(cmd, sizeof(cmd), "scontrol requeue %s_%d 2>&1 && "
				   "scontrol update JobId=%s_%d StartTime=now 2>&1",
		 job, task, job, task);
	rc = sh_status(cmd, CMD_MS, &out);
	cr_assert_eq(rc, 0, "%s: %s", cmd, out);
	free(out);
}

/* Task job_task's state and exit code (want_exit NULL: any), said with
 * its run time on stderr (the measured figures of docs/farms.md). */
static void assert_task(const char *job, int task, const char *want_state, const char *want_exit)
{
	char id[64], state[64], code[64], run[64], log[64];

	snprintf(id, sizeof(id), "%s_%d", job, task);
	snprintf(log, sizeof(log), "task-%d.log", task);
	job_field(id, "JobState", state, sizeof(state));
	job_field(id, "ExitCode", code, sizeof(code));
	job_field(id, "RunTime", run, sizeof(run));
	fprintf(stderr, "slurm: task %s %s exit %s run time %s\n", id, state, code, run);
	cr_assert_str_eq(state, want_state, "task %s\n%s", id, log_tail(log));
	if (want_exit)
		cr_assert_str_eq(code, want_exit, "task %s\n%s", id, log_tail(log));
}

/* "name=VERDICT ..." of a --json report's records, in its order. */
static void verdicts(const char *file, char *buf, size_t len)
{
	char path[1200];
	json_object *a;

	snprintf(path, sizeof(path), "%s/%s", cl.dir, file);
	a = json_object_from_file(path);
	cr_assert_not_null(a, "%s: %s", path, json_util_get_last_err());
	cr_assert(json_object_is_type(a, json_type_array), "%s", path);
	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *r = json_object_array_get_idx(a, i), *name, *verdict;

		cr_assert(json_object_object_get_ex(r, "name", &name) &&
				  json_object_object_get_ex(r, "verdict", &verdict),
			  "%s: record %zu: %s", path, i, json_object_to_json_string(r));
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s=%s", i ? " " : "",
			 json_object_get_string(name), json_object_get_string(verdict));
	}
	json_object_put(a);
}

TestSuite(slurm, .init = setup, .fini = teardown);

Test(slurm, job_array_shards_merge_into_the_unsharded_run_and_a_killed_task_is_missing,
     .timeout = 1500)
{
	struct suite_env e;
	char cmd[8192], script[1100], job[64], what[4096], *out = NULL;
	long t0 = now_ms(), t;
	int rc, left;

	suite_env_init(&e, false);
	/* One task: its shard, chosen by --partition auto from Slurm's
	 * variables. exec, so that the task's ktstr-orch is its batch step. */
	snprintf(script, sizeof(script), "%s/task.sh", cl.dir);
	snprintf(cmd, sizeof(cmd),
		 "#!/bin/sh\n"
		 "exec %s --workers 1 run %s/tests/suites/slurm-shards.yaml --kernel %s "
		 "--partition auto --allow-empty --json %s/shard-$SLURM_ARRAY_TASK_ID.json\n",
		 e.orch, e.src, e.kernel, cl.dir);
	write_file(script, cmd, 0755);
	snprintf(cmd, sizeof(cmd),
		 "sbatch --parsable --array=0-%d --cpus-per-task=1 --job-name=ktstr-shards "
		 "--chdir=%s --output=%s/task-%%a.log %s 2>&1",
		 TASKS - 1, cl.dir, cl.dir, script);
	rc = sh_status(cmd, CMD_MS, &out);
	cr_assert_eq(rc, 0, "sbatch: %s", out);
	cr_assert_lt(strcspn(out, "\n"), sizeof(job));
	snprintf(job, sizeof(job), "%.*s", (int)strcspn(out, "\n;"), out);
	free(out);

	/* Task 1 cancelled the way a user or a time limit does: SIGTERM,
	 * then SIGKILL. */
	wait_task_started(job, 1);
	snprintf(cmd, sizeof(cmd), "scancel %s_1 2>&1", job);
	rc = sh_status(cmd, CMD_MS, &out);
	cr_assert_eq(rc, 0, "%s: %s", cmd, out);
	free(out);
	/* Task 2's ktstr-orch killed outright, as the OOM killer would. */
	wait_task_started(job, 2);
	snprintf(cmd, sizeof(cmd), "%s/shard-2.json", cl.dir);
	cr_assert_geq(ns_procs(cmd, SIGKILL, what, sizeof(what)), 1,
		      "task 2's ktstr-orch not found");
	fprintf(stderr, "slurm: killed task 2's ktstr-orch: %s", what);

	wait_job_ended(job, ARRAY_MS);
	t = now_ms();
	fprintf(stderr, "slurm: array with two tasks killed ended after %ld s\n", (t - t0) / 1000);
	/* No VM outlives its task, not even the one whose ktstr-orch got
	 * SIGKILL: every task has ended, so no worker or QEMU may be left. */
	for (long end = t + VM_GONE_MS;; nap_ms(200)) {
		left = ns_procs("ktstr-vmm-worker", 0, what, sizeof(what));
		if (!left)
			left = ns_procs("qemu-system-x86_64", 0, what, sizeof(what));
		if (!left)
			break;
		cr_assert_lt(now_ms(), end, "%d VM processes outlived their tasks by %d s:\n%s",
			     left, VM_GONE_MS / 1000, what);
	}
	fprintf(stderr, "slurm: no VM process left %ld ms after the tasks ended\n", now_ms() - t);
	assert_task(job, 0, "COMPLETED", "0:0");
	assert_task(job, 1, "CANCELLED", NULL);
	assert_task(job, 2, "FAILED", "0:9");
	assert_task(job, 3, "COMPLETED", "0:0");

	snprintf(cmd, sizeof(cmd), "cd %s && %s merge --expect-shards %d --json partial.json "
				   "shard-*.json 2>&1",
		 cl.dir, e.orch, TASKS);
	rc = sh_status(cmd, CMD_MS, &out);
	fprintf(stderr, "slurm: merge without tasks 1 and 2 (exit %d):\n%s", rc, out);
	cr_assert_eq(rc, 3, "a killed task is an infrastructure error: exit %d\n%s", rc, out);
	assert_has(out, "shard 3 of 4 missing: no file given carries it");
	assert_has(out, "1 of the 4 selected variants were in the missing shards");
	assert_has(out, "1 passed, 2 failed, 1 skipped");
	free(out);
	snprintf(cmd, sizeof(cmd), "grep -q 'stopping every VM' %s/task-1.log", cl.dir);
	cr_assert_eq(vmtest_sh(cmd, CMD_MS, NULL), 0, "task 1 was not stopped mid-run by SIGTERM\n%s",
		     log_tail("task-1.log"));
	/* The balanced assignment (tests/suites/slurm-shards.yaml) puts e2 in
	 * shard 2 (task 1) and e3 in shard 3 (task 2). Task 1's ktstr-orch,
	 * stopped by SIGTERM, wrote its shard with e2 STOPPED; task 2's wrote
	 * nothing: its shard is a record of its own, never left out. */
	verdicts("partial.json", what, sizeof(what));
	fprintf(stderr, "slurm: merged records: %s\n", what);
	cr_assert_str_eq(what, "e1=PASS e2=STOPPED needs_smt=SKIP ktstr-shard/3-of-4=INFRA_ERROR");

	/* Rerun both, as the farm's operator would, and the merge is whole. */
	requeue(job, 1);
	requeue(job, 2);
	wait_job_ended(job, ARRAY_MS);
	fprintf(stderr, "slurm: requeued tasks ended after %ld s\n", (now_ms() - t) / 1000);
	for (int k = 0; k < TASKS; k++)
		assert_task(job, k, "COMPLETED", "0:0");
	snprintf(cmd, sizeof(cmd), "cd %s && %s merge --expect-shards %d --json merged.json "
				   "--junit merged.xml shard-*.json 2>&1",
		 cl.dir, e.orch, TASKS);
	rc = sh_status(cmd, CMD_MS, &out);
	fprintf(stderr, "slurm: merge of the 4 tasks (exit %d):\n%s", rc, out);
	cr_assert_eq(rc, 0, "merge: exit %d\n%s", rc, out);
	assert_has(out, "3 passed, 0 failed, 1 skipped");
	free(out);
	verdicts("merged.json", what, sizeof(what));
	cr_assert_str_eq(what, "e1=PASS e2=PASS needs_smt=SKIP e3=PASS");

	/* The same suite, unsharded, outside Slurm. */
	t = now_ms();
	snprintf(cmd, sizeof(cmd), "%s --workers 1 run %s/tests/suites/slurm-shards.yaml --kernel %s "
				   "--json %s/whole.json 2>&1",
		 e.orch, e.src, e.kernel, cl.dir);
	rc = sh_status(cmd, RUN_TIMEOUT_MS, &out);
	fprintf(stderr, "slurm: unsharded run (exit %d, %ld s):\n%s", rc, (now_ms() - t) / 1000,
		out);
	cr_assert_eq(rc, 0, "unsharded run: exit %d\n%s", rc, out);
	assert_has(out, "3 passed, 0 failed, 1 skipped");
	free(out);
	assert_same_records(cl.dir, "whole.json", "merged.json");

	t = now_ms();
	left = stop_cluster(what, sizeof(what));
	cr_assert_eq(left, 0, "%d processes of the cluster outlived its teardown:\n%s", left, what);
	fprintf(stderr, "slurm: cluster stopped, no process left, in %ld ms\n", now_ms() - t);
	fprintf(stderr, "slurm: whole test %ld s\n", (now_ms() - t0) / 1000);
	vmtest_rm_rf(e.tmp);
}
