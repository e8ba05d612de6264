/* What the host can enforce, so preflight can say what is missing before a
 * confined process fails closed on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <seccomp.h>

#include "sandbox.h"

/* First integer in a small /proc file, or -1 if absent/unreadable. */
static long read_proc_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool status_has(const char *key)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key))) {
			found = true;
			break;
		}
	fclose(f);
	return found;
}

static void add_missing(struct sandbox_host_support *s, const char *msg)
{
	size_t used = strlen(s->missing);

	snprintf(s->missing + used, sizeof(s->missing) - used, "%s%s", used ? "; " : "", msg);
}

void sandbox_host_probe(struct sandbox_host_support *s)
{
	long max_userns, unpriv_clone, apparmor;

	memset(s, 0, sizeof(*s));
	s->running_as_root = geteuid() == 0;
	/* "Seccomp:" appears in /proc/PID/status only with CONFIG_SECCOMP. */
	s->seccomp_filter = status_has("Seccomp:") && seccomp_api_get() >= 1;
	s->seccomp_tsync = seccomp_api_get() >= 2;
	s->seccomp_kill_process = seccomp_api_get() >= 3;
	if (!s->seccomp_filter)
		add_missing(s, "seccomp filters unavailable (kernel needs CONFIG_SECCOMP_FILTER)");
	else if (!s->seccomp_kill_process)
		add_missing(s, "SECCOMP_RET_KILL_PROCESS unavailable (need Linux >= 4.14, libseccomp >= 2.4)");

	max_userns = read_proc_long("/proc/sys/user/max_user_namespaces");
	unpriv_clone = read_proc_long("/proc/sys/kernel/unprivileged_userns_clone");
	apparmor = read_proc_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
	s->user_ns = max_userns > 0 && (s->running_as_root || unpriv_clone != 0) &&
		     (s->running_as_root || apparmor <= 0);
	if (max_userns <= 0)
		add_missing(s, "user namespaces disabled (sysctl user.max_user_namespaces=0 or "
			       "CONFIG_USER_NS off): set user.max_user_namespaces=15000");
	else if (!s->running_as_root && unpriv_clone == 0)
		add_missing(s, "unprivileged user namespaces disabled: sysctl "
			       "kernel.unprivileged_userns_clone=1");
	else if (!s->running_as_root && apparmor > 0)
		add_missing(s, "AppArmor restricts unprivileged user namespaces: sysctl "
			       "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile "
			       "for ktstr-vmm-worker");
}
