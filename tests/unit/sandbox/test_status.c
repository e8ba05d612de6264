/* What an operator checks on a running worker: /proc/PID/status of a
 * confined process shows Seccomp: 2, NoNewPrivs: 1 and empty capability
 * sets; TSYNC confines threads that already exist; a per-thread policy
 * confines exactly its thread. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "child.h"

struct role_arg {
	enum sandbox_role role;
	unsigned policy_flags;
};

static void confined_then_pause(void *p)
{
	struct role_arg *a = p;
	struct sandbox_opts o;
	char err[512];

	sandbox_opts_init(&o);
	o.policy_flags = a->policy_flags;
	if (sandbox_confine(a->role, &o, err, sizeof(err)) < 0)
		_exit(CHILD_EXIT_CONFINE_FAILED);
	child_pause();
	_exit(CHILD_EXIT_OK);
}

static void check_status(enum sandbox_role role, unsigned flags)
{
	struct role_arg a = { role, flags };
	char status[8192], v[64], st[64];
	bool timed_out;
	int ws;

	ws = child_run_paused(confined_then_pause, &a, status, sizeof(status), &timed_out);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "%s: child %s", sandbox_role_name(role),
		  wait_text(ws, st, sizeof(st)));
	cr_expect_str_eq(status_field(status, "Seccomp", v, sizeof(v)), "2");
	cr_expect_str_eq(status_field(status, "NoNewPrivs", v, sizeof(v)), "1");
	cr_expect_str_eq(status_field(status, "CapEff", v, sizeof(v)), "0000000000000000");
	cr_expect_str_eq(status_field(status, "CapPrm", v, sizeof(v)), "0000000000000000");
	cr_expect_str_eq(status_field(status, "CapInh", v, sizeof(v)), "0000000000000000");
	cr_expect_str_eq(status_field(status, "CapAmb", v, sizeof(v)), "0000000000000000");
	/* The test runs as root with CAP_SETPCAP: the bounding set goes too. */
	if (geteuid() == 0)
		cr_expect_str_eq(status_field(status, "CapBnd", v, sizeof(v)), "0000000000000000");
}

Test(sandbox_status, worker_vcpu) { check_status(SANDBOX_ROLE_WORKER_VCPU, 0); }
Test(sandbox_status, worker_ctl) { check_status(SANDBOX_ROLE_WORKER_CTL, 0); }
Test(sandbox_status, builder_tsync) { check_status(SANDBOX_ROLE_BUILDER, SANDBOX_POLICY_TSYNC); }

/* A thread that exists before the policy is loaded. */
static pthread_barrier_t g_loaded;
static volatile int g_opened = -2;

static void *late_opener(void *unused)
{
	(void)unused;
	pthread_barrier_wait(&g_loaded); /* the main thread has loaded its policy */
	g_opened = (int)syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	return NULL;
}

static void thread_child(void *p)
{
	struct role_arg *a = p;
	struct sandbox_opts o;
	char err[512];
	pthread_t t;

	pthread_barrier_init(&g_loaded, NULL, 2);
	if (pthread_create(&t, NULL, late_opener, NULL))
		_exit(CHILD_EXIT_SETUP_FAILED);
	sandbox_opts_init(&o);
	o.policy_flags = a->policy_flags;
	if (sandbox_confine(SANDBOX_ROLE_WORKER_CTL, &o, err, sizeof(err)) < 0)
		_exit(CHILD_EXIT_CONFINE_FAILED);
	pthread_barrier_wait(&g_loaded);
	pthread_join(t, NULL);
	_exit(g_opened >= 0 ? 42 : CHILD_EXIT_OK);
}

Test(sandbox_status, tsync_confines_existing_threads)
{
	struct role_arg a = { SANDBOX_ROLE_WORKER_CTL, SANDBOX_POLICY_TSYNC };
	char st[64];
	bool timed_out;
	int ws = child_run(thread_child, &a, &timed_out);

	cr_expect(killed_by_sigsys(ws), "the other thread's open after a TSYNC load: child %s",
		  wait_text(ws, st, sizeof(st)));
}

/* Without TSYNC only the loading thread is confined: this is why every
 * worker thread (control and each vCPU) must load its own role. */
Test(sandbox_status, per_thread_policy_confines_only_its_thread)
{
	struct role_arg a = { SANDBOX_ROLE_WORKER_CTL, 0 };
	char st[64];
	bool timed_out;
	int ws = child_run(thread_child, &a, &timed_out);

	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 42,
		  "an unconfined sibling thread could open (exit 42): child %s",
		  wait_text(ws, st, sizeof(st)));
}
