/* Host-wide reservation end to end (docs/farms.md): real ktstr-orch runs,
 * real workers and QEMU (TCG here), one private lock directory.
 *
 * Two concurrent `run --cpu-cap 1` on this host get disjoint CPUs, proven
 * from /proc (every task of each worker and of its QEMU) and matched with
 * `ktstr-orch locks --json`; a third with a short --reserve-timeout waits
 * and then fails as host contention (exit 3, no PASS); a fourth waits and
 * gets the CPU of a holder killed with SIGKILL within a second. Any host
 * with 2 or more CPUs will do: the caps are of 1 CPU. */
#include <criterion/criterion.h>
#include <sched.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "lib/vmtest.h"

#define WAIT_UP_MS (180 * 1000) /* a VM to start on a busy 2-CPU TCG host */

static char g_orch[1024], g_kernel[1024], g_tmp[1024], g_locks[1100];
static pid_t g_pids[8];
static int g_npids;

/* Whatever fails, no run outlives the test (their workers die with them:
 * PDEATHSIG). */
static void kill_all(void)
{
	for (int i = 0; i < g_npids; i++)
		if (g_pids[i] > 0) {
			kill(g_pids[i], SIGKILL);
			waitpid(g_pids[i], NULL, 0);
		}
	g_npids = 0;
	if (g_tmp[0])
		vmtest_rm_rf(g_tmp);
}

static cpu_set_t g_pair; /* the two CPUs every run of these tests may use */

static void setup(void)
{
	if (vmtest_bin("ktstr-orch", g_orch, sizeof(g_orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", g_kernel, sizeof(g_kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	/* Every run gets the same two CPUs of ours (start()), so the third
	 * cap finds none free on any host, as on a 2-CPU one: reservations
	 * only take CPUs of the process's affinity. */
	{
		cpu_set_t mine;
		int have = 0;

		cr_assert_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
		CPU_ZERO(&g_pair);
		for (int c = 0; c < CPU_SETSIZE && have < 2; c++)
			if (CPU_ISSET(c, &mine)) {
				CPU_SET(c, &g_pair);
				have++;
			}
		if (have < 2)
			cr_skip_test("two caps of 1 CPU need 2 usable CPUs or more");
	}
	cr_assert_eq(vmtest_tmpdir(g_tmp, sizeof(g_tmp)), 0);
	/* Started as root, the runs drop to another user, who must reach the
	 * lock directory: the shared 01777 form, as the default in /tmp. */
	cr_assert_eq(chmod(g_tmp, 0755), 0);
	snprintf(g_locks, sizeof(g_locks), "%s/locks", g_tmp);
	cr_assert_eq(mkdir(g_locks, 0755), 0);
	cr_assert_eq(chmod(g_locks, 01777), 0);
	setenv("KTSTR_LOCK_DIR", g_locks, 1);
}

TestSuite(host_reservation, .init = setup, .fini = kill_all);

/* `ktstr-orch ARGS` in the background, stdout and stderr to tmp/NAME.out
 * and .err; returns its pid (sh execs it). */
static pid_t start(const char *name, const char *args)
{
	char cmd[8192];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec %s %s >%s/%s.out 2>%s/%s.err", g_orch, args, g_tmp, name,
		 g_tmp, name);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		if (sched_setaffinity(0, sizeof(g_pair), &g_pair))
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	g_pids[g_npids++] = pid;
	return pid;
}

static void file_of(const char *name, const char *ext, char *buf, size_t len)
{
	char path[1200];

	snprintf(path, sizeof(path), "%s/%s.%s", g_tmp, name, ext);
	vmtest_slurp(path, buf, len);
}

/* Exit status of pid, waiting at most ms; -1 on timeout. */
static int wait_exit(pid_t pid, int ms)
{
	int status;

	cr_assert_eq(ktstr_wait_timeout(pid, &status, ms), 0, "pid %d did not exit in %d ms",
		     (int)pid, ms);
	for (int i = 0; i < g_npids; i++)
		if (g_pids[i] == pid)
			g_pids[i] = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static pid_t child_named(pid_t parent, const char *comm_prefix)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	cr_assert_not_null(d);
	while (!found && (de = readdir(d))) {
		char path[300], st[4096], val[64];

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		vmtest_slurp(path, st, sizeof(st));
		vmtest_status_field(st, "PPid", val, sizeof(val));
		if (atoi(val) != parent)
			continue;
		/* Name is first in status: no newline before it. */
		if (!strncmp(st, "Name:", 5) &&
		    !strncmp(st + 5 + strspn(st + 5, " \t"), comm_prefix, strlen(comm_prefix)))
			found = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return found;
}

/* The worker of run pid and the QEMU it started, once both exist. */
static void worker_and_qemu(pid_t run, pid_t *worker, pid_t *qemu)
{
	uint64_t end = ktstr_now_ms() + WAIT_UP_MS;

	*worker = *qemu = 0;
	while (ktstr_now_ms() < end) {
		*worker = child_named(run, "ktstr-vmm-work");
		*qemu = *worker ? child_named(*worker, "qemu-system") : 0;
		if (*qemu)
			return;
		usleep(50 * 1000);
	}
	cr_assert_fail("run %d has no worker with QEMU after %d s", (int)run, WAIT_UP_MS / 1000);
}

/* Cpus_allowed_list of every task of pid, which must agree; into list. */
static void tasks_allowed(pid_t pid, char *list, size_t len)
{
	char dir[64];
	struct dirent *de;
	DIR *d;
	int tasks = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	list[0] = '\0';
	while ((de = readdir(d))) {
		char path[400], st[4096], val[256];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, de->d_name);
		vmtest_slurp(path, st, sizeof(st));
		vmtest_status_field(st, "Cpus_allowed_list", val, sizeof(val));
		if (!val[0])
			continue; /* the task ended meanwhile */
		if (!list[0])
			snprintf(list, len, "%s", val);
		cr_expect_str_eq(val, list, "task %s of %d runs on %s, its siblings on %s",
				 de->d_name, (int)pid, val, list);
		tasks++;
	}
	closedir(d);
	cr_assert_gt(tasks, 0, "no task of %d", (int)pid);
}

/* The CPUs `locks --json` says pid holds. */
static void locks_cpus(pid_t pid, char *cpus, size_t len)
{
	char cmd[1200], *out = NULL, pat[64];
	const char *p;

	snprintf(cmd, sizeof(cmd), "%s locks --json", g_orch);
	cr_assert_eq(vmtest_sh(cmd, 30000, &out), 0, "locks failed: %s", out ? out : "");
	snprintf(pat, sizeof(pat), "\"pid\":%d,", (int)pid);
	p = strstr(out, pat);
	cr_assert_not_null(p, "pid %d not among the holders: %s", (int)pid, out);
	p = strstr(p, "\"cpus\":\"");
	cr_assert_not_null(p, "%s", out);
	p += strlen("\"cpus\":\"");
	snprintf(cpus, len, "%.*s", (int)strcspn(p, "\""), p);
	free(out);
}

/* Poll run name's stderr until it holds text; returns when it was seen. */
static uint64_t await_log(const char *name, const char *text, int ms, int tick_ms)
{
	uint64_t end = ktstr_now_ms() + (uint64_t)ms;
	static char err[1 << 16];

	for (;;) {
		file_of(name, "err", err, sizeof(err));
		if (strstr(err, text))
			return ktstr_now_ms();
		cr_assert_lt(ktstr_now_ms(), end, "%s never logged \"%s\":\n%s", name, text, err);
		usleep((useconds_t)tick_ms * 1000);
	}
}

Test(host_reservation, caps_are_disjoint_contention_is_exit_3_and_a_killed_holder_frees_at_once,
     .timeout = 900)
{
	char args[4096], suite[1200], la[256], lb[256], l2[256], lk[256], out[1 << 14];
	char err[1 << 14], want[320];
	pid_t a, b, c, wa, qa, wb, qb, wc, qc;
	uint64_t t_kill, t_got;

	snprintf(suite, sizeof(suite), "%s/hold.yaml", g_tmp);
	FILE *f = fopen(suite, "we");

	cr_assert_not_null(f);
	/* Long enough that A and B still run when the test SIGTERMs them; a
	 * natural end (exit 0) would fail the 130 checked there. */
	fputs("tests:\n  - {name: hold, duration: 150s, timeout: 400s,\n"
	      "     asserts: {max_spread_pct: 100},\n"
	      "     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 1, threads_per_core: 1}}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	snprintf(args, sizeof(args), "run %s --kernel %s --cpu-cap 1", suite, g_kernel);
	a = start("a", args);
	b = start("b", args);

	/* Each run's worker and QEMU, every task of them, on its own CPU. */
	worker_and_qemu(a, &wa, &qa);
	worker_and_qemu(b, &wb, &qb);
	tasks_allowed(wa, la, sizeof(la));
	tasks_allowed(qa, l2, sizeof(l2));
	cr_expect_str_eq(l2, la, "QEMU of run A on %s, its worker on %s", l2, la);
	tasks_allowed(wb, lb, sizeof(lb));
	tasks_allowed(qb, l2, sizeof(l2));
	cr_expect_str_eq(l2, lb, "QEMU of run B on %s, its worker on %s", l2, lb);
	cr_expect(!strchr(la, '-') && !strchr(la, ',') && !strchr(lb, '-') && !strchr(lb, ','),
		  "one CPU each: %s and %s", la, lb);
	cr_assert_str_neq(la, lb, "both runs were pinned to CPU %s", la);
	cr_expect(CPU_ISSET(atoi(la), &g_pair) && CPU_ISSET(atoi(lb), &g_pair),
		  "CPUs %s and %s are the two the runs may use", la, lb);
	locks_cpus(a, lk, sizeof(lk));
	cr_expect_str_eq(lk, la, "locks says run A holds %s, /proc says %s", lk, la);
	locks_cpus(b, lk, sizeof(lk));
	cr_expect_str_eq(lk, lb, "locks says run B holds %s, /proc says %s", lk, lb);

	/* A third waits its --reserve-timeout, then: host contention, exit 3. */
	snprintf(args, sizeof(args), "run %s --kernel %s --cpu-cap 1 --reserve-timeout 2", suite,
		 g_kernel);
	c = start("d", args);
	t_kill = await_log("d", "host reservation: --cpu-cap 1: waiting up to 2 s", WAIT_UP_MS, 20);
	cr_expect_eq(wait_exit(c, WAIT_UP_MS), 3, "contention is an infrastructure error");
	cr_expect_geq(ktstr_now_ms() - t_kill, 1900, "it waited its --reserve-timeout first "
		      "(%llu ms)", (unsigned long long)(ktstr_now_ms() - t_kill));
	file_of("d", "out", out, sizeof(out));
	file_of("d", "err", err, sizeof(err));
	cr_expect(strstr(err, "host reservation: --cpu-cap 1: waiting up to 2 s"), "%s", err);
	cr_expect(strstr(err, "ktstr-orch: host contention: --cpu-cap 1: still not free after "
			      "waiting 2 s (--reserve-timeout)"), "%s", err);
	cr_expect_null(strstr(out, "PASS"), "never a pass: %s", out);
	cr_expect_null(strstr(err, "SKIP"), "not a skip either: %s", err);
	cr_expect_null(strstr(out, "SKIP"), "not a skip either: %s", out);

	/* A fourth waits; SIGKILL of run A hands A's CPU over within a second. */
	snprintf(args, sizeof(args), "run %s --kernel %s --cpu-cap 1 --reserve-timeout 300", suite,
		 g_kernel);
	c = start("c", args);
	await_log("c", "host reservation: --cpu-cap 1: waiting up to 300 s", WAIT_UP_MS, 50);
	t_kill = ktstr_now_ms();
	cr_assert_eq(kill(a, SIGKILL), 0);
	t_got = await_log("c", "host reservation: --cpu-cap 1: reserved after waiting", 10000, 5);
	fprintf(stderr, "host_reservation: SIGKILL of a holder to its waiter's reservation: "
			"%llu ms\n", (unsigned long long)(t_got - t_kill));
	cr_expect_lt(t_got - t_kill, 1000, "the waiter got the CPU %llu ms after the kill",
		     (unsigned long long)(t_got - t_kill));
	cr_expect_eq(wait_exit(a, 10000), 128 + SIGKILL);
	/* "holding CPU 0 (dir/record)", or "holding CPU 0, LLC layout unknown..." */
	snprintf(want, sizeof(want), "--cpu-cap 1: holding CPU %s", la);
	await_log("c", want, 1000, 5);
	file_of("c", "err", err, sizeof(err));
	{
		const char *at = strstr(err, want) + strlen(want);

		cr_expect(*at == ',' || *at == ' ', "the waiter holds A's CPU %s: %s", la, err);
	}
	worker_and_qemu(c, &wc, &qc);
	tasks_allowed(wc, l2, sizeof(l2));
	cr_expect_str_eq(l2, la, "the waiter's worker runs on the freed CPU %s, not %s", la, l2);
	tasks_allowed(qc, l2, sizeof(l2));
	cr_expect_str_eq(l2, la, "the waiter's QEMU runs on the freed CPU %s, not %s", la, l2);
	/* B kept its CPU all along. */
	tasks_allowed(qb, l2, sizeof(l2));
	cr_expect_str_eq(l2, lb, "run B's QEMU moved from %s to %s", lb, l2);

	/* Stopped, not killed: both end as a stop (130), their VMs with them. */
	kill(b, SIGTERM);
	kill(c, SIGTERM);
	cr_expect_eq(wait_exit(b, 120000), 130);
	cr_expect_eq(wait_exit(c, 120000), 130);
}

/* The holder element of `locks --json` for pid, whole, into buf. */
static void locks_entry(pid_t pid, char *buf, size_t len)
{
	char cmd[1200], *out = NULL, pat[64];
	const char *p, *end;

	snprintf(cmd, sizeof(cmd), "%s locks --json", g_orch);
	cr_assert_eq(vmtest_sh(cmd, 30000, &out), 0, "locks failed: %s", out ? out : "");
	snprintf(pat, sizeof(pat), "\"pid\":%d,", (int)pid);
	p = strstr(out, pat);
	cr_assert_not_null(p, "pid %d not among the holders: %s", (int)pid, out);
	end = strstr(p, "\"cmd\":");
	cr_assert_not_null(end, "%s", out);
	end = strchr(end, '}');
	cr_assert_not_null(end, "%s", out);
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	free(out);
}

/* A shell is a holder like a run: `locks` lists it with its CPUs and its
 * guest RAM while its command runs, its worker and QEMU run only on its
 * cap (from /proc), a run that needs its CPU waits and then reports host
 * contention naming it, a run that needs one CPU gets the other, and the
 * shell lets go when it ends. */
Test(host_reservation, a_shell_holds_cpus_and_memory_like_a_run, .timeout = 600)
{
	char args[4096], suite[1200], entry[2048], ls[256], l2[256], want[400];
	char err[1 << 14], out[1 << 14];
	pid_t sh, r, ws, qs;
	uint64_t t_wait;
	int rc;

	snprintf(args, sizeof(args), "shell --kernel %s --cpu-cap 1 --memory-mb 384 "
		 "--exec 'sleep 90; echo slept' --timeout 300", g_kernel);
	sh = start("shell", args);
	worker_and_qemu(sh, &ws, &qs);
	tasks_allowed(ws, ls, sizeof(ls));
	tasks_allowed(qs, l2, sizeof(l2));
	cr_expect_str_eq(l2, ls, "the shell's QEMU on %s, its worker on %s", l2, ls);
	cr_expect(!strchr(ls, '-') && !strchr(ls, ','), "one CPU: %s", ls);
	cr_expect(CPU_ISSET(atoi(ls), &g_pair), "CPU %s is one the shell may use", ls);
	locks_entry(sh, entry, sizeof(entry));
	snprintf(want, sizeof(want), "\"cap\":1,\"cpus\":\"%s\"", ls);
	cr_expect(strstr(entry, want), "locks lists the shell's cap on /proc's CPU %s: %s", ls,
		  entry);
	cr_expect(strstr(entry, "\"mem_mib\":384,\"vms\":1"), "and its guest RAM: %s", entry);
	cr_expect(strstr(entry, "shell") && strstr(entry, "--exec"), "and its command: %s", entry);

	/* A run that needs both CPUs: the shell's is not free. */
	snprintf(suite, sizeof(suite), "%s/one2.yaml", g_tmp);
	FILE *f = fopen(suite, "we");

	cr_assert_not_null(f);
	fputs("tests:\n  - {name: one, duration: 1s,\n"
	      "     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 1, threads_per_core: 1}}\n", f);
	cr_assert_eq(fclose(f), 0);
	snprintf(args, sizeof(args), "run %s --kernel %s --cpu-cap 2 --reserve-timeout 2", suite,
		 g_kernel);
	r = start("r2", args);
	t_wait = await_log("r2", "host reservation: --cpu-cap 2: waiting up to 2 s", WAIT_UP_MS, 20);
	rc = wait_exit(r, WAIT_UP_MS);
	cr_expect_eq(rc, 3, "contention with the shell is an infrastructure error");
	cr_expect_geq(ktstr_now_ms() - t_wait, 1900, "it waited its --reserve-timeout first");
	file_of("r2", "err", err, sizeof(err));
	file_of("r2", "out", out, sizeof(out));
	snprintf(want, sizeof(want), "pid %d ", (int)sh);
	cr_expect(strstr(err, "host contention: --cpu-cap 2: still not free") && strstr(err, want),
		  "names the shell (pid %d) as the holder: %s", (int)sh, err);
	cr_expect_null(strstr(out, "PASS"), "%s", out);

	/* A run that needs one CPU gets the other: its worker and QEMU never
	 * share the shell's. */
	f = fopen(suite, "we");
	cr_assert_not_null(f);
	fputs("tests:\n  - {name: one, duration: 60s, timeout: 300s,\n"
	      "     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 1, threads_per_core: 1}}\n", f);
	cr_assert_eq(fclose(f), 0);
	snprintf(args, sizeof(args), "run %s --kernel %s --cpu-cap 1 --reserve-timeout 2", suite,
		 g_kernel);
	r = start("r1", args);
	worker_and_qemu(r, &ws, &qs);
	tasks_allowed(ws, l2, sizeof(l2));
	cr_expect(strcmp(l2, ls) && CPU_ISSET(atoi(l2), &g_pair) && !strchr(l2, ','),
		  "the run's worker is on %s, the shell's on %s", l2, ls);
	tasks_allowed(qs, entry, sizeof(entry));
	cr_expect_str_eq(entry, l2, "the run's QEMU on %s, its worker on %s", entry, l2);
	kill(r, SIGTERM);
	cr_expect_eq(wait_exit(r, 120000), 130);

	/* Stopped: the shell exits 130 and holds nothing after. */
	kill(sh, SIGTERM);
	cr_expect_eq(wait_exit(sh, 120000), 130);
	{
		char cmd[1200], *lo = NULL;

		snprintf(cmd, sizeof(cmd), "%s locks --json", g_orch);
		cr_assert_eq(vmtest_sh(cmd, 30000, &lo), 0);
		cr_expect(strstr(lo, "\"holders\":[]"), "%s", lo);
		free(lo);
	}
}

/* A performance-mode test in a run whose --cpu-cap shares every LLC the
 * test could have: refused at once, by name, not after --reserve-timeout
 * (the cap is the run's own, held until it ends). On two CPUs, 1 vCPU + 1
 * service CPU in whole LLCs can never be had beside a cap of 1. */
Test(host_reservation, a_performance_vm_its_own_cap_keeps_out_fails_at_once, .timeout = 300)
{
	char args[4096], suite[1200], out[1 << 14], err[1 << 14];
	pid_t r;
	uint64_t t_reserved;
	int rc;

	snprintf(suite, sizeof(suite), "%s/perf.yaml", g_tmp);
	FILE *f = fopen(suite, "we");

	cr_assert_not_null(f);
	fputs("tests:\n  - {name: fast, duration: 1s, performance_mode: true,\n"
	      "     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 1, threads_per_core: 1}}\n", f);
	cr_assert_eq(fclose(f), 0);
	snprintf(args, sizeof(args), "run %s --kernel %s --cpu-cap 1 --reserve-timeout 120", suite,
		 g_kernel);
	r = start("p", args);
	t_reserved = await_log("p", "--cpu-cap 1: holding CPU", WAIT_UP_MS, 20);
	rc = wait_exit(r, WAIT_UP_MS);
	fprintf(stderr, "host_reservation: cap held to the run's end: %llu ms\n",
		(unsigned long long)(ktstr_now_ms() - t_reserved));
	cr_expect_eq(rc, 3, "an infrastructure error");
	cr_expect_lt(ktstr_now_ms() - t_reserved, 30000, "no wait for the 120 s timeout");
	file_of("p", "out", out, sizeof(out));
	file_of("p", "err", err, sizeof(err));
	cr_expect(strstr(out, "INFRA"), "an infrastructure error in the report: %s", out);
	cr_expect(strstr(out, "in whole LLCs that no cap shares; this run's --cpu-cap 1 holds CPU"),
		  "the reason: %s\n%s", out, err);
	cr_expect_null(strstr(out, "host contention"), "not contention: %s", out);
	cr_expect_null(strstr(err, "waiting up to"), "nothing waited: %s", err);
}

/* Every reservation option is checked, none is taken and ignored, and an
 * unusable lock directory stops the run before its first VM. */
Test(host_reservation, options_and_lock_directory_are_checked, .timeout = 300)
{
	char cmd[8192], suite[1200], *out = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	static const struct {
		const char *args, *want;
		int rc;
	} cases[] = {
		{ "run SUITE --cpu-cap 0", "--cpu-cap needs a number of host CPUs, 1..1024", 2 },
		{ "run SUITE --cpu-cap two", "--cpu-cap takes a number", 2 },
		{ "run SUITE --cpu-cap 1025", "--cpu-cap takes a number 0..1024", 2 },
		{ "run SUITE --reserve-timeout 86401", "--reserve-timeout takes a number 0..86400",
		  2 },
		{ "run SUITE --reserve-timeout -1", "--reserve-timeout takes a number", 2 },
		{ "list SUITE --cpu-cap 1", "`list` reserves nothing", 2 },
		{ "list SUITE --reserve-timeout 5", "`list` reserves nothing", 2 },
		{ "shell --cpu-cap 0", "--cpu-cap needs a number of host CPUs, 1..1024", 2 },
		{ "shell --cpu-cap x", "--cpu-cap needs a number of host CPUs", 2 },
		{ "shell --reserve-timeout 86401", "--reserve-timeout takes 0..86400 seconds", 2 },
		{ "shell --reserve-timeout -1", "--reserve-timeout takes 0..86400 seconds", 2 },
		{ "locks --bogus", "usage:", 2 },
		{ "locks extra", "locks takes no argument but --json", 2 },
	};

	snprintf(suite, sizeof(suite), "%s/one.yaml", g_tmp);
	FILE *f = fopen(suite, "we");

	cr_assert_not_null(f);
	fputs("tests:\n  - {name: one, duration: 1s,\n"
	      "     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 1, threads_per_core: 1}}\n", f);
	cr_assert_eq(fclose(f), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char args[2048];
		const char *at = strstr(cases[i].args, "SUITE");
		int rc;

		if (at)
			snprintf(args, sizeof(args), "%.*s%s%s", (int)(at - cases[i].args),
				 cases[i].args, suite, at + 5);
		else
			snprintf(args, sizeof(args), "%s", cases[i].args);
		snprintf(cmd, sizeof(cmd), "%s %s --kernel %s 2>&1; echo rc=$?", g_orch, args,
			 g_kernel);
		if (!strncmp(args, "locks", 5))
			snprintf(cmd, sizeof(cmd), "%s %s 2>&1; echo rc=$?", g_orch, args);
		vmtest_sh(cmd, 60000, &out);
		cr_assert_not_null(out);
		rc = strstr(out, "rc=") ? atoi(strstr(out, "rc=") + 3) : -1;
		cr_expect_eq(rc, cases[i].rc, "%s: exit %d:\n%s", args, rc, out);
		cr_expect(strstr(out, cases[i].want), "%s: no \"%s\" in:\n%s", args, cases[i].want,
			  out);
		free(out);
		out = NULL;
	}
	/* More CPUs than the host has: a usage error before anything starts. */
	snprintf(cmd, sizeof(cmd), "%s run %s --kernel %s --cpu-cap %ld 2>&1", g_orch, suite,
		 g_kernel, cpus + 1);
	cr_expect_neq(vmtest_sh(cmd, 60000, &out), 0);
	snprintf(cmd, sizeof(cmd), "--cpu-cap %ld: the host has %ld CPUs", cpus + 1, cpus);
	cr_expect(strstr(out, cmd), "%s", out);
	free(out);
	out = NULL;
	/* A writable lock directory without the sticky bit: exit 3, the fix named. */
	cr_assert_eq(chmod(g_locks, 0777), 0);
	snprintf(cmd, sizeof(cmd), "%s run %s --kernel %s 2>&1; echo rc=$?", g_orch, suite,
		 g_kernel);
	vmtest_sh(cmd, 120000, &out);
	cr_expect(strstr(out, "rc=3"), "%s", out);
	cr_expect(strstr(out, "host reservation: lock directory ") && strstr(out, "not sticky") &&
		  strstr(out, "KTSTR_LOCK_DIR"), "%s", out);
	cr_expect_null(strstr(out, "PASS"), "%s", out);
	free(out);
	out = NULL;
	/* `locks` on a directory that does not exist: nobody holds anything. */
	snprintf(cmd, sizeof(cmd), "KTSTR_LOCK_DIR=%s/none %s locks --json", g_tmp, g_orch);
	cr_expect_eq(vmtest_sh(cmd, 30000, &out), 0, "%s", out);
	cr_expect(strstr(out, "\"holders\":[]"), "%s", out);
	free(out);
	out = NULL;
	snprintf(cmd, sizeof(cmd), "KTSTR_LOCK_DIR=relative %s locks 2>&1; echo rc=$?", g_orch);
	vmtest_sh(cmd, 30000, &out);
	cr_expect(strstr(out, "must be an absolute path") && strstr(out, "rc=2"), "%s", out);
	free(out);
}
