/* The worker's confinement bookkeeping (docs/security.md, "ktstr-vmm-worker"):
 * which fds may stay open, entering the namespaces, loading the policy. Shared
 * by main.c and both engines; the policies themselves live in sandbox/. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

#include "worker_sandbox.h"

#define MAIN_MAX_FDS 16
static int main_fds[MAIN_MAX_FDS];
static size_t n_main_fds;
static bool confined;

void worker_sandbox_set_main_fds(const int *fds, size_t n)
{
	n_main_fds = 0;
	for (size_t i = 0; i < n && n_main_fds < MAIN_MAX_FDS; i++)
		if (fds[i] >= 0)
			main_fds[n_main_fds++] = fds[i];
}

bool worker_sandboxed(void)
{
	return confined;
}

/* main.c's fds followed by the engine's; returns the count. */
static size_t allowed_fds(const int *engine_fds, size_t n, int *out)
{
	size_t na = 0;
	for (size_t i = 0; i < n_main_fds; i++)
		out[na++] = main_fds[i];
	for (size_t i = 0; i < n; i++)
		if (engine_fds[i] >= 0)
			out[na++] = engine_fds[i];
	return na;
}

int worker_sandbox_fd_check(const int *engine_fds, size_t n, char *err, size_t len)
{
	int allowed[MAIN_MAX_FDS + WORKER_SB_MAX_FDS];
	if (n > WORKER_SB_MAX_FDS) {
		snprintf(err, len, "sandbox: %zu engine fds exceed the worker's limit of %d", n,
			 WORKER_SB_MAX_FDS);
		return -E2BIG;
	}
	size_t na = allowed_fds(engine_fds, n, allowed);
	return sandbox_fd_inventory_check(allowed, na, err, len);
}

int worker_sandbox_prepare(unsigned ns_flags, char *err, size_t len)
{
	unsigned entered = 0;
	int ret = sandbox_enter_namespaces(ns_flags, false, &entered, err, len);
	if (ret < 0)
		return ret;
	/* Dropped here, not only at confinement, so a child (QEMU) is exec'd
	 * with no capability and threads start without any (capabilities and
	 * no_new_privs are per thread, inherited at creation). The user
	 * namespace granted a full set inside it a moment ago: that is what is
	 * dropped. no_new_privs: no setuid or file capability can give one
	 * back through an exec. */
	ret = sandbox_drop_caps(NULL, 0);
	if (ret < 0) {
		snprintf(err, len, "sandbox: dropping capabilities before the guest starts failed: %s",
			 strerror(-ret));
		return ret;
	}
	ret = sandbox_no_new_privs();
	if (ret < 0) {
		snprintf(err, len, "sandbox: PR_SET_NO_NEW_PRIVS failed: %s (need Linux >= 3.5)",
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int worker_sandbox_confine(pid_t child_pid, const int *engine_fds, size_t n, unsigned policy_flags,
			   char *err, size_t len)
{
	int allowed[MAIN_MAX_FDS + WORKER_SB_MAX_FDS];
	struct sandbox_opts o;

	sandbox_opts_init(&o);
	if (engine_fds) {
		if (n > WORKER_SB_MAX_FDS) {
			snprintf(err, len, "sandbox: %zu engine fds exceed the worker's limit of %d",
				 n, WORKER_SB_MAX_FDS);
			return -E2BIG;
		}
		o.allowed_fds = allowed;
		o.n_allowed_fds = allowed_fds(engine_fds, n, allowed);
	}
	o.ns_flags = 0; /* entered by worker_sandbox_prepare() */
	o.policy_flags = policy_flags;
	o.child_pid = child_pid;
	int ret = sandbox_confine(SANDBOX_ROLE_WORKER_CTL, &o, err, len);
	if (ret == 0)
		confined = true;
	return ret;
}
