/* ktstr-guest: PID 1 inside every ktstr VM. Order (docs/reference.md, "Guest
 * PID-1 order"; ktstr's own in docs/guest.md, "Lifecycle"): /dev, COM2
 * and KTSTR_INIT_STARTED first (the host times boot-to-init from it), then
 * the remaining mounts, the image-integrity sentinel, the spec, and either
 * shell mode or one test: scheduler, scenario, verdict, report, power off.
 * Every path ends in power_off(): PID 1 must never exit (that panics the
 * kernel and loses the report). */
#include <ktstr/guest_contract.h>
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "coverage.h"
#include "ctest.h"
#include "gtopo.h"
#include "mounts.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "reaper.h"
#include "report.h"
#include "result.h"
#include "scenario.h"
#include "scheduler.h"
#include "shell.h"
#include "spec.h"
#include "topocheck.h"

#define CG_ROOT "/sys/fs/cgroup"

static struct report g_rep;

static void __attribute__((noreturn)) power_off(void)
{
	report_drain(&g_rep);
	sync();
	reboot(RB_POWER_OFF);
	/* Only reached if the kernel refused; a PID 1 exit would panic, which
	 * with panic=-1 still ends the VM. */
	for (;;)
		pause();
}

/* True when cmdline has word as a whole space-separated token. */
static bool cmdline_has_word(const char *cmdline, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = cmdline; p && (p = strstr(p, word)); p += wl)
		if ((p == cmdline || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ' ' ||
						      p[wl] == '\n'))
			return true;
	return false;
}

static void apply_sysctls(const Ktstr__GuestSpec *g)
{
	for (size_t i = 0; i < g->n_sysctls; i++) {
		char path[512], key[256];
		const char *eq = strchr(g->sysctls[i], '=');
		size_t kl = (size_t)(eq - g->sysctls[i]);
		int ret;

		if (kl >= sizeof(key))
			continue;
		memcpy(key, g->sysctls[i], kl);
		key[kl] = '\0';
		for (char *p = key; *p; p++)
			if (*p == '.')
				*p = '/';
		snprintf(path, sizeof(path), "/proc/sys/%s", key);
		ret = write_file(path, eq + 1);
		if (ret)
			kwarn("sysctl %s: write %s: %s", g->sysctls[i], path, strerror(-ret));
	}
}

static void fill_env_facts(struct result *res, const struct gtopo *t)
{
	struct utsname u;

	if (uname(&u) == 0)
		result_str(&res->tr.kernel_release, u.release);
	if (t) {
		res->tr.has_guest_cpus = 1;
		res->tr.guest_cpus = cpuset_count(&t->online);
	}
}

static void __attribute__((noreturn)) finish(struct result *res, struct sched *s)
{
	char state[64];
	char *tail;
	int code;

	sched_stop(s);
	sched_read_sysfs(SCX_SYSFS "/state", state, sizeof(state));
	if (state[0])
		result_str(&res->tr.sched_ext_state, state);
	if (s->ops[0])
		result_str(&res->tr.sched_ext_ops, s->ops);
	tail = sched_log_tail(8192);
	if (tail) {
		if (!res->tr.scheduler_log_tail)
			result_str(&res->tr.scheduler_log_tail, tail);
		report_line(&g_rep, KTSTR_COM2_SCHED_START);
		write_full(STDOUT_FILENO, tail, strlen(tail));
		report_line(&g_rep, "\n" KTSTR_COM2_SCHED_END);
		free(tail);
	}
	report_result(&g_rep, &res->tr);
	if (s->death_seen) {
		/* Last: the host stops the VM when it sees SCHED_EXIT, so the
		 * result (ring and COM2) must already be out. */
		Ktstr__SchedExit x = KTSTR__SCHED_EXIT__INIT;

		if (s->died_reaped) {
			x.has_exit_status = 1;
			x.exit_status = WIFEXITED(s->exit_status) ? WEXITSTATUS(s->exit_status)
								  : -WTERMSIG(s->exit_status);
		}
		x.reason = res->tr.sched_exit_reason;
		x.log_tail = res->tr.scheduler_log_tail;
		x.has_elapsed_ms = 1;
		x.elapsed_ms = s->died_at_ms;
		report_drain(&g_rep);
		report_sched_exit(&g_rep, &x);
	}
	code = result_exit_code(res);
	report_exit(&g_rep, code);
	result_free(res);
	power_off();
}

/* What the host asked for against what sysfs shows, before the scheduler
 * starts: on a VM with another topology every result would be meaningless.
 * A mismatch is SETUP_FAILED with both layouts, also printed on COM2. */
static void check_topology(const Ktstr__GuestSpec *g, const struct gtopo *t, struct result *res)
{
	static char msg[65536];
	struct ktstr_topo asked;
	int ret;

	if (!g->topology)
		return; /* an older host: nothing to compare with */
	asked.numa_nodes = g->topology->numa_nodes;
	asked.llcs = g->topology->llcs;
	asked.cores_per_llc = g->topology->cores_per_llc;
	asked.threads_per_core = g->topology->threads_per_core;
	ret = gtopo_check(&asked, t, msg, sizeof(msg));
	if (!ret)
		return;
	if (ret == -ENOMEM)
		snprintf(msg, sizeof(msg), "topology check: out of memory");
	/* -EINVAL leaves topo_validate's message: the spec's topology is bad.
	 * Written whole, not with report_line (1 KiB lines): both layouts of a
	 * large VM are longer. stdout is COM2, as for the scheduler log. */
	if (ret == -EPROTO)
		write_full(STDOUT_FILENO, "TOPOLOGY_MISMATCH: ", 19);
	write_full(STDOUT_FILENO, msg, strlen(msg));
	write_full(STDOUT_FILENO, "\n", 1);
	result_set_detail(res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, msg);
}

static void __attribute__((noreturn)) run_test(Ktstr__GuestSpec *g)
{
	static struct gtopo topo;
	struct result res;
	struct sched sched = { 0 };
	struct sched_fail f;
	const char *parent = "/ktstr";
	char err[512], cg_parent[512];
	int ret;

	result_init(&res, g->test_name ? g->test_name : (g->scenario ? g->scenario->name : ""));
	ret = gtopo_read("/sys", &topo, err, sizeof(err));
	fill_env_facts(&res, ret ? NULL : &topo);
	if (ret) {
		result_set(&res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "%s", err);
		finish(&res, &sched);
	}
	check_topology(g, &topo, &res);
	if (res.tr.status != KTSTR__TEST_RESULT__STATUS__PASSED)
		finish(&res, &sched);
	if (g->scheduler && g->scheduler->cgroup_parent)
		parent = g->scheduler->cgroup_parent;
	snprintf(cg_parent, sizeof(cg_parent), "%s%s", CG_ROOT, parent);
	ret = cg_setup_parent(CG_ROOT, parent, err, sizeof(err));
	if (ret) {
		result_set(&res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "%s", err);
		finish(&res, &sched);
	}
	if (sched_start(&sched, g->scheduler, &f)) {
		char *tail = sched_log_tail(4096);

		if (f.status == KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED)
			report_line(&g_rep, KTSTR_COM2_SCHED_DIED);
		else if (f.status == KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED)
			report_line(&g_rep, KTSTR_COM2_SCHED_NOT_ATTACHED ": %s", f.detail);
		result_set(&res, f.status, "%s", f.detail);
		result_str(&res.tr.scheduler_log_tail, tail);
		free(tail);
		finish(&res, &sched);
	}
	if (g_rep.have_ring)
		ring_slot_set(&g_rep.shm.ring, 15, KTSTR_SLOT1_SCHED_LOADED);
	report_line(&g_rep, KTSTR_COM2_PAYLOAD_STARTING);
	{
		struct scenario_env env = {
			.rep = &g_rep,
			.sched = &sched,
			.topo = &topo,
			.cg_parent = cg_parent,
			.asserts = g->asserts,
			.payloads = g->payloads,
			.npayloads = g->n_payloads,
		};

		/* A C test's body is the scenario's one payload run; its own
		 * result is taken after it (guest/ctest.c). */
		bool cov = g->c_test && g->c_test->has_coverage && g->c_test->coverage;

		if (g->c_test)
			ctest_prepare();
		/* The payload inherits PID 1's environment (payload.c). */
		if (cov)
			coverage_env(1);
		scenario_run(&env, g->scenario, &res);
		if (cov) {
			coverage_env(0);
			coverage_send(&g_rep);
		}
		if (g->c_test)
			ctest_merge(g->c_test, &res);
	}
	finish(&res, &sched);
}

int main(int argc, char **argv)
{
	Ktstr__GuestSpec *g = NULL;
	const char *out_dev;
	bool out_refused;
	char err[512];
	struct stat st;
	int ret;

	(void)argc;
	(void)argv;
	klog_init("ktstr-guest");
	report_init(&g_rep);
	mounts_dev();
	out_dev = report_output_dev(getenv(KTSTR_CMDLINE_OUTPUT_PORT), &out_refused);
	if ((ret = report_open_com2(&g_rep, out_dev)))
		kerr("open %s: %s; reporting only through the SHM ring", out_dev, strerror(-ret));
	if (out_refused)
		kerr(KTSTR_CMDLINE_OUTPUT_PORT "=%.64s names no output port (ttyS1, hvc0); "
		     "opened %s", getenv(KTSTR_CMDLINE_OUTPUT_PORT), out_dev);
	ret = spec_load(SPEC_PATH, &g, err, sizeof(err));
	if (ret || g->mode != KTSTR__GUEST_SPEC__MODE__MODE_SHELL)
		report_line(&g_rep, KTSTR_COM2_INIT_STARTED);
	mounts_rest();
	{
		char *cmdline = NULL;
		size_t len;

		read_file("/proc/cmdline", &cmdline, &len, 65536);
		/* ktstr.ring=off on the kernel command line (a suite's kargs)
		 * does what GuestSpec.ring_disabled does, for suites: the
		 * COM2-only reporting path must be testable end to end. The
		 * kernel ignores unknown dotted parameters. */
		if ((!g || !g->ring_disabled) && !cmdline_has_word(cmdline, KTSTR_CMDLINE_RING_OFF))
			report_open_ring(&g_rep, cmdline ? cmdline : "");
		else if (!g || g->mode != KTSTR__GUEST_SPEC__MODE__MODE_SHELL)
			/* Not in shell mode: there COM2-only is the norm and
			 * COM2 is the command's stdout, which must stay the
			 * command's own bytes (ktstr-orch shell --exec). */
			kinfo("SHM ring disabled (%s): reporting through COM2 only",
			      g && g->ring_disabled ? "spec" : KTSTR_CMDLINE_RING_OFF);
		free(cmdline);
	}
	if (stat(KTSTR_INITRD_OK_PATH, &st)) {
		struct result res;

		result_init(&res, g && g->test_name ? g->test_name : "");
		result_set(&res, KTSTR__TEST_RESULT__STATUS__TRUNCATED_IMAGE,
			   "FATAL: initramfs extraction incomplete (%s missing): the guest ran "
			   "out of memory while unpacking, or the image is truncated; raise the "
			   "VM memory",
			   KTSTR_INITRD_OK_PATH);
		report_line(&g_rep, "%s", res.tr.detail);
		report_result(&g_rep, &res.tr);
		report_exit(&g_rep, 1);
		result_free(&res);
		power_off();
	}
	if (ret) {
		struct result res;

		result_init(&res, "");
		result_set(&res, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "%s", err);
		report_crash(&g_rep, err);
		report_result(&g_rep, &res.tr);
		report_exit(&g_rep, 1);
		result_free(&res);
		power_off();
	}
	write_file("/proc/sys/kernel/bpf_stats_enabled", "1");
	apply_sysctls(g);
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
	setenv("KTSTR_GUEST_INIT", "1", 1);
	if (g->mode == KTSTR__GUEST_SPEC__MODE__MODE_SHELL) {
		int code = shell_run(&g_rep, g->exec_cmd);

		report_exit(&g_rep, code);
		power_off();
	}
	run_test(g);
}
