/* /init of the nested rig's L2 guest: report the topology the guest kernel
 * built from our engine's ACPI/MP/CPUID tables, one fact per line on COM2
 * (/dev/ttyS1), then power off. scripts/nested-rig compares these lines
 * with the topology it asked for, so every line is "L2TOPO <key> <value>":
 *
 *   L2TOPO online 0-7
 *   L2TOPO ncpus 8
 *   L2TOPO siblings <cpu> <thread_siblings_list>
 *   L2TOPO llc <cpu> <cache/index3/shared_cpu_list or "none">
 *   L2TOPO node <n> <cpulist>
 *   L2TOPO distance <n> <distances>
 *   L2TOPO uptime <seconds>
 *   L2TOPO kernel <release>
 *   L2TOPO cmdline <the kernel command line>
 *   L2TOPO done
 *
 * With a sched_ext scheduler at /sched in its initramfs (the rig's sched_ext
 * run, NESTED_SCX), it then runs it: mounts bpf and cgroup2, starts /sched
 * with its output in /sched.log, waits (bounded) for
 * /sys/kernel/sched_ext/state to read "enabled", keeps 2 busy tasks per CPU
 * for $L2_BUSY_S seconds (default 5; a kernel parameter reaches PID 1 as an
 * environment variable), watching the state every 100 ms, then stops the
 * scheduler with SIGINT. With $L2_STALL_S the scheduler is started with
 * --stall-after $L2_STALL_S (scx_ktstr: one CPU stops dispatching), so the
 * kernel's watchdog must eject it; how soon says which timeout it used:
 *
 *   L2SCX enabled <seconds from start to enabled> | L2SCX error <why>
 *   L2SCX ops <root/ops>              the attached scheduler's name
 *   L2SCX busy <tasks> <seconds>
 *   L2SCX stall_after <seconds>       (stall mode)
 *   L2SCX left_enabled <state> <seconds after enabled>   the scheduler went away
 *   L2SCX state_after <state>         "enabled": never ejected
 *   L2SCX sched_exit <status>         0: detached on SIGINT, 4: ejected
 *   L2SCX log <line>                  the scheduler's own lines (not the
 *                                     kernel's debug dump), at most 40
 *   L2SCX done
 *
 * The cmdline line lets the rig's bench mode (NESTED_BENCH) give QEMU exactly
 * the command line our engine built, read back from the guest itself rather
 * than copied from vmm-worker/cmdline.c, which could drift.
 *
 * Static, libc only, no allocation: it is PID 1 and must never fail
 * silently; any unreadable file is reported as "?" rather than skipped. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* cpu_set_t, sched_setaffinity */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static FILE *out;

/* Read a small sysfs file into buf, without the trailing newline. Returns 0
 * or -errno (buf then holds "?"). */
static int slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	snprintf(buf, len, "?");
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0) {
		snprintf(buf, len, "?");
		return -err;
	}
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* Highest CPU number in a cpulist such as "0-3,8" (-1 when empty). */
static int last_cpu(const char *list)
{
	const char *p = list;
	int last = -1;

	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		last = (int)v;
		p = end;
		if (*p == '-' || *p == ',')
			p++;
	}
	return last;
}

static int ncpus_seen;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Wait for pid at most ms; 1 and *status when it ended, 0 when not. */
static int wait_bounded(pid_t pid, long ms, int *status)
{
	for (long waited = 0;; waited += 50) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 1;
		if (r < 0 || waited >= ms)
			return 0;
		sleep_ms(50);
	}
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A busy task: spins until its deadline (it ends by itself: nothing here
 * can leave a task running past the run). */
static void spin_until(double deadline)
{
	volatile unsigned long n = 0;

	while (now_s() < deadline)
		for (int i = 0; i < 100000; i++)
			n++;
	_exit(0);
}

static void run_scheduler(void)
{
	char buf[256], line[512];
	double t0 = now_s(), busy_s = 5;
	const char *e = getenv("L2_BUSY_S"), *stall = getenv("L2_STALL_S");
	pid_t sched, spin[128];
	int nspin = 0, status = 0, enabled = 0;
	FILE *log;

	if (e && atof(e) > 0 && atof(e) <= 60)
		busy_s = atof(e);
	if (stall && !(atof(stall) > 0 && atof(stall) <= 60 && strspn(stall, "0123456789.") == strlen(stall)))
		stall = NULL;
	mkdir("/sys/fs/bpf", 0755);
	mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL);
	mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL);
	sched = fork();
	if (sched == 0) {
		int fd = open("/sched.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (stall)
			execl("/sched", "sched", "--stall-after", stall, (char *)NULL);
		else
			execl("/sched", "sched", (char *)NULL);
		_exit(127);
	}
	if (sched < 0) {
		fprintf(out, "L2SCX error fork: %s\n", strerror(errno));
		goto done;
	}
	/* Loading includes the BPF verifier, slow under nested emulation. */
	for (int i = 0; i < 1200; i++) {
		if (!slurp("/sys/kernel/sched_ext/state", buf, sizeof(buf)) && !strcmp(buf, "enabled")) {
			enabled = 1;
			break;
		}
		if (waitpid(sched, &status, WNOHANG) == sched) {
			fprintf(out, "L2SCX error the scheduler exited with status %d before sched_ext was enabled (state %s)\n",
				exit_code(status), buf);
			sched = -1;
			break;
		}
		sleep_ms(100);
	}
	if (!enabled) {
		if (sched > 0)
			fprintf(out, "L2SCX error sched_ext not enabled after 120 s (state %s)\n", buf);
		goto stop;
	}
	double t_en = now_s();

	fprintf(out, "L2SCX enabled %.2f\n", t_en - t0);
	slurp("/sys/kernel/sched_ext/root/ops", buf, sizeof(buf));
	fprintf(out, "L2SCX ops %s\n", buf);
	if (stall)
		fprintf(out, "L2SCX stall_after %s\n", stall);
	{
		double deadline = now_s() + busy_s;
		int left = 0;
		int want = 2 * (ncpus_seen > 0 ? ncpus_seen : 1);

		for (int i = 0; i < want && nspin < (int)(sizeof(spin) / sizeof(spin[0])); i++) {
			pid_t p = fork();

			if (p == 0) {
				/* Stall run: the first task on each CPU is
				 * pinned there, so the CPU that stops
				 * dispatching holds a runnable task that can
				 * run nowhere else and never runs: the
				 * kernel's watchdog must see it. Unpinned
				 * tasks alone would all move to the other
				 * CPUs, and the stall would go unseen unless
				 * some kthread of that CPU happened to wake. */
				if (stall && i < ncpus_seen) {
					cpu_set_t set;

					CPU_ZERO(&set);
					CPU_SET(i, &set);
					sched_setaffinity(0, sizeof(set), &set);
				}
				spin_until(deadline);
			}
			if (p > 0)
				spin[nspin++] = p;
		}
		fprintf(out, "L2SCX busy %d %.1f\n", nspin, busy_s);
		while (now_s() < deadline) {
			if (!left && (slurp("/sys/kernel/sched_ext/state", buf, sizeof(buf)) ||
				      strcmp(buf, "enabled"))) {
				left = 1;
				fprintf(out, "L2SCX left_enabled %s %.2f\n", buf, now_s() - t_en);
				/* The stall run is over once the scheduler is gone. */
				if (stall)
					break;
			}
			sleep_ms(100);
		}
		if (now_s() < deadline)
			for (int i = 0; i < nspin; i++)
				kill(spin[i], SIGKILL);
		for (int i = 0; i < nspin; i++)
			if (!wait_bounded(spin[i], (long)(busy_s * 1000) + 30000, &status)) {
				kill(spin[i], SIGKILL);
				waitpid(spin[i], &status, 0);
			}
	}
	slurp("/sys/kernel/sched_ext/state", buf, sizeof(buf));
	fprintf(out, "L2SCX state_after %s\n", buf);
stop:
	if (sched > 0) {
		kill(sched, SIGINT);
		if (!wait_bounded(sched, 10000, &status)) {
			fprintf(out, "L2SCX error the scheduler ignored SIGINT for 10 s: killed\n");
			kill(sched, SIGKILL);
			waitpid(sched, &status, 0);
		}
		fprintf(out, "L2SCX sched_exit %d\n", exit_code(status));
	}
	if ((log = fopen("/sched.log", "r"))) {
		for (int n = 0; n < 40 && fgets(line, sizeof(line), log);) {
			line[strcspn(line, "\n")] = 0;
			/* Its own lines and the exit line; not the debug dump. */
			if (strncmp(line, "scx_", 4) && !strstr(line, "EXIT:"))
				continue;
			fprintf(out, "L2SCX log %s\n", line);
			n++;
		}
		fclose(log);
	}
done:
	fprintf(out, "L2SCX done\n");
}

static void report(void)
{
	char buf[4096], path[256];
	int ncpus = 0, maxcpu;
	DIR *d;
	struct dirent *de;

	slurp("/sys/devices/system/cpu/online", buf, sizeof(buf));
	fprintf(out, "L2TOPO online %s\n", buf);
	maxcpu = last_cpu(buf);
	for (int cpu = 0; cpu <= maxcpu; cpu++) {
		char sib[256], llc[256];

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		if (slurp(path, sib, sizeof(sib)))
			continue; /* not online/present */
		ncpus++;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cache/index3/shared_cpu_list", cpu);
		if (slurp(path, llc, sizeof(llc)))
			snprintf(llc, sizeof(llc), "none");
		fprintf(out, "L2TOPO siblings %d %s\n", cpu, sib);
		fprintf(out, "L2TOPO llc %d %s\n", cpu, llc);
	}
	fprintf(out, "L2TOPO ncpus %d\n", ncpus);
	ncpus_seen = ncpus;
	/* Nodes in numeric order: readdir order is not. */
	for (int n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", n);
		if (slurp(path, buf, sizeof(buf)))
			continue;
		fprintf(out, "L2TOPO node %d %s\n", n, buf);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", n);
		slurp(path, buf, sizeof(buf));
		fprintf(out, "L2TOPO distance %d %s\n", n, buf);
	}
	/* A node directory beyond 63 would be missed above: say so. */
	if ((d = opendir("/sys/devices/system/node"))) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "node", 4) && atoi(de->d_name + 4) >= 64)
				fprintf(out, "L2TOPO warning node beyond 63: %s\n", de->d_name);
		closedir(d);
	}
	slurp("/proc/uptime", buf, sizeof(buf));
	fprintf(out, "L2TOPO uptime %s\n", buf);
	slurp("/proc/sys/kernel/osrelease", buf, sizeof(buf));
	fprintf(out, "L2TOPO kernel %s\n", buf);
	slurp("/proc/cmdline", buf, sizeof(buf));
	fprintf(out, "L2TOPO cmdline %s\n", buf);
	fprintf(out, "L2TOPO done\n");
}

int main(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	out = fopen("/dev/ttyS1", "w");
	if (!out) /* no COM2: the console still shows the facts */
		out = fopen("/dev/console", "w");
	if (out) {
		setvbuf(out, NULL, _IOLBF, 0);
		/* The worker measures boot_to_init_us up to this marker. */
		fprintf(out, "KTSTR_INIT_STARTED\n");
		report();
		if (!access("/sched", X_OK))
			run_scheduler();
		fflush(out);
	}
	sync();
	reboot(RB_POWER_OFF);
	/* reboot() returned: ACPI poweroff failed; halt so the watchdog ends it. */
	for (;;)
		pause();
}
