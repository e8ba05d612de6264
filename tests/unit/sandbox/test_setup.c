/* The steps before the filter: fd inventory, namespaces, root -> user drop,
 * host support detection. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "child.h"

#define EXIT_WRONG 50

/* Start the child from a known fd table: only 0, 1, 2 (criterion's runner
 * keeps its own pipes open in the test process). */
static void only_stdio(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
		_exit(CHILD_EXIT_SETUP_FAILED);
}

static void inventory_child(void *unused)
{
	const int allowed[] = { 0, 1, 2 };
	char err[1024];
	int leak;

	(void)unused;
	only_stdio();
	if (sandbox_fd_inventory_check(allowed, 3, err, sizeof(err)) != 0)
		_exit(EXIT_WRONG); /* clean table must pass */
	leak = open("/etc/hostname", O_RDONLY); /* a leaked fd, as a buggy parent would leave */
	if (leak < 0)
		leak = open("/dev/null", O_RDONLY);
	if (sandbox_fd_inventory_check(allowed, 3, err, sizeof(err)) != -EBADFD)
		_exit(EXIT_WRONG + 1);
	/* the message names the fd and what it is */
	char want[32];
	snprintf(want, sizeof(want), "fd %d -> /", leak);
	if (!strstr(err, want))
		_exit(EXIT_WRONG + 2);
	/* declared, it is fine */
	const int with_leak[] = { 0, 1, 2, leak };
	if (sandbox_fd_inventory_check(with_leak, 4, err, sizeof(err)) != 0)
		_exit(EXIT_WRONG + 3);
	_exit(CHILD_EXIT_OK);
}

Test(sandbox_setup, fd_inventory_catches_a_leaked_fd)
{
	char st[64];
	bool timed_out;
	int ws = child_run(inventory_child, NULL, &timed_out);

	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child %s", wait_text(ws, st, sizeof(st)));
}

static void confine_leak_child(void *unused)
{
	const int allowed[] = { 0, 1, 2 };
	struct sandbox_opts o;
	char err[1024];

	(void)unused;
	only_stdio();
	if (open("/dev/null", O_RDONLY) < 0)
		_exit(CHILD_EXIT_SETUP_FAILED);
	sandbox_opts_init(&o);
	o.allowed_fds = allowed;
	o.n_allowed_fds = 3;
	/* fails closed: no filter loaded, error returned */
	_exit(sandbox_confine(SANDBOX_ROLE_WORKER_CTL, &o, err, sizeof(err)) == -EBADFD &&
			      strstr(err, "/dev/null")
		      ? CHILD_EXIT_OK
		      : EXIT_WRONG);
}

Test(sandbox_setup, confine_refuses_to_start_with_a_leaked_fd)
{
	char st[64];
	bool timed_out;
	int ws = child_run(confine_leak_child, NULL, &timed_out);

	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child %s", wait_text(ws, st, sizeof(st)));
}

static void cloexec_child(void *unused)
{
	char err[256];
	int fd, fl;

	(void)unused;
	fd = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
	if (fd < 0 || sandbox_fds_cloexec(err, sizeof(err)) < 0)
		_exit(CHILD_EXIT_SETUP_FAILED);
	fl = fcntl(fd, F_GETFD);
	_exit(fl >= 0 && (fl & FD_CLOEXEC) ? CHILD_EXIT_OK : EXIT_WRONG);
}

Test(sandbox_setup, fds_cloexec_marks_every_fd)
{
	char st[64];
	bool timed_out;
	int ws = child_run(cloexec_child, NULL, &timed_out);

	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child %s", wait_text(ws, st, sizeof(st)));
}

/* readlink of /proc/self/ns/<ns> */
static void ns_id(const char *ns, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	n = readlink(path, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

static const char *const ns_names[] = { "user", "mnt", "net", "ipc", "uts" };

struct ns_arg {
	char before[5][64];
	unsigned flags;
};

static void ns_child(void *p)
{
	struct ns_arg *a = p;
	unsigned entered = 0;
	char err[512], now[64];

	if (sandbox_enter_namespaces(a->flags, false, &entered, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		_exit(CHILD_EXIT_CONFINE_FAILED);
	}
	if (entered != a->flags)
		_exit(EXIT_WRONG);
	if (a->flags & SANDBOX_NS_EMPTY_ROOT) {
		DIR *d;

		/* no host path resolves any more */
		if (access("/etc/passwd", F_OK) == 0 || errno != ENOENT)
			_exit(EXIT_WRONG + 1);
		d = opendir("/");
		if (!d)
			_exit(EXIT_WRONG + 2);
		for (struct dirent *de; (de = readdir(d));)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				_exit(EXIT_WRONG + 3);
		closedir(d);
		/* and the root is read-only */
		if (mkdir("/x", 0700) == 0)
			_exit(EXIT_WRONG + 4);
		_exit(CHILD_EXIT_OK);
	}
	for (size_t i = 0; i < 5; i++) {
		ns_id(ns_names[i], now, sizeof(now));
		if (!strcmp(now, a->before[i]))
			_exit(EXIT_WRONG + 10 + (int)i); /* still in the host's namespace */
	}
	/* identity is preserved: uid maps to itself */
	if (geteuid() != 0 && getuid() == 65534)
		_exit(EXIT_WRONG + 20);
	_exit(CHILD_EXIT_OK);
}

Test(sandbox_setup, namespaces_are_entered)
{
	struct sandbox_host_support hs;
	struct ns_arg a;
	char st[64];
	bool timed_out;
	int ws;

	sandbox_host_probe(&hs);
	if (!hs.user_ns)
		cr_skip_test("user namespaces unavailable: %s", hs.missing);
	for (size_t i = 0; i < 5; i++)
		ns_id(ns_names[i], a.before[i], sizeof(a.before[i]));
	a.flags = SANDBOX_NS_DEFAULT;
	ws = child_run(ns_child, &a, &timed_out);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child %s", wait_text(ws, st, sizeof(st)));
	a.flags = SANDBOX_NS_DEFAULT | SANDBOX_NS_EMPTY_ROOT;
	ws = child_run(ns_child, &a, &timed_out);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "empty root: child %s",
		  wait_text(ws, st, sizeof(st)));
}

/* The full worker sequence as an unprivileged user: drop root, then user
 * namespace + the rest + empty root + caps + nnp + the vCPU policy, then
 * show the status an operator would check. */
static void unpriv_worker_child(void *unused)
{
	struct sandbox_opts o;
	unsigned entered = 0;
	char err[1024];

	(void)unused;
	if (sandbox_drop_to_user("nobody", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		_exit(CHILD_EXIT_SETUP_FAILED);
	}
	sandbox_opts_init(&o);
	o.ns_flags = SANDBOX_NS_DEFAULT | SANDBOX_NS_EMPTY_ROOT;
	o.ns_entered = &entered;
	if (sandbox_confine(SANDBOX_ROLE_WORKER_CTL, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		_exit(CHILD_EXIT_CONFINE_FAILED);
	}
	child_pause();
	_exit(entered == o.ns_flags ? CHILD_EXIT_OK : EXIT_WRONG);
}

Test(sandbox_setup, unprivileged_worker_full_sequence)
{
	struct passwd *pw = getpwnam("nobody");
	struct sandbox_host_support hs;
	char status[8192], v[64], st[64];
	bool timed_out;
	int ws;

	if (geteuid() != 0 || !pw)
		cr_skip_test("needs root and a 'nobody' user to drop to");
	sandbox_host_probe(&hs);
	if (!hs.user_ns)
		cr_skip_test("user namespaces unavailable: %s", hs.missing);
	ws = child_run_paused(unpriv_worker_child, NULL, status, sizeof(status), &timed_out);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child %s", wait_text(ws, st, sizeof(st)));
	cr_expect_str_eq(status_field(status, "Seccomp", v, sizeof(v)), "2");
	cr_expect_str_eq(status_field(status, "NoNewPrivs", v, sizeof(v)), "1");
	cr_expect_str_eq(status_field(status, "CapEff", v, sizeof(v)), "0000000000000000");
	cr_expect_str_eq(status_field(status, "CapBnd", v, sizeof(v)), "0000000000000000");
	char uidline[64];
	snprintf(uidline, sizeof(uidline), "%u\t%u\t%u\t%u", (unsigned)pw->pw_uid, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	cr_expect_str_eq(status_field(status, "Uid", v, sizeof(v)), uidline);
}

static void drop_child(void *unused)
{
	char err[512];

	(void)unused;
	if (sandbox_drop_to_user("nobody", err, sizeof(err)) < 0)
		_exit(CHILD_EXIT_SETUP_FAILED);
	/* no way back, no capabilities */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() == 0 || geteuid() == 0)
		_exit(EXIT_WRONG);
	if (sandbox_drop_to_user("no-such-user-ktstr", err, sizeof(err)) != 0)
		_exit(EXIT_WRONG + 1); /* not root any more: a no-op */
	_exit(CHILD_EXIT_OK);
}

Test(sandbox_setup, drop_to_user_is_irreversible)
{
	char st[64], err[256];
	bool timed_out;
	int ws;

	if (geteuid() != 0 || !getpwnam("nobody"))
		cr_skip_test("needs root and a 'nobody' user");
	ws = child_run(drop_child, NULL, &timed_out);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child %s", wait_text(ws, st, sizeof(st)));
	/* unknown user: clear error, nothing changed (checked in this process) */
	cr_expect_eq(sandbox_drop_to_user("no-such-user-ktstr", err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "no-such-user-ktstr") != NULL, "%s", err);
	cr_expect_eq(geteuid(), 0);
}

/* A non-root user that /etc/group lists as a member of some group other
 * than its primary one, or NULL. */
static const char *user_with_supplementary_group(gid_t *extra)
{
	static char name[256];
	struct group *g;

	setgrent();
	while ((g = getgrent())) {
		for (char **m = g->gr_mem; m && *m; m++) {
			struct passwd *pw = getpwnam(*m);

			if (pw && pw->pw_uid != 0 && pw->pw_gid != g->gr_gid) {
				snprintf(name, sizeof(name), "%s", *m);
				*extra = g->gr_gid;
				endgrent();
				return name;
			}
		}
	}
	endgrent();
	return NULL;
}

static gid_t g_extra;

static void groups_child(void *arg)
{
	gid_t groups[256];
	char err[512];
	int n;

	if (sandbox_drop_to_user(arg, err, sizeof(err)) < 0)
		_exit(CHILD_EXIT_SETUP_FAILED);
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == 0)
			_exit(EXIT_WRONG); /* root's groups must never survive */
	for (int i = 0; i < n; i++)
		if (groups[i] == g_extra)
			_exit(CHILD_EXIT_OK);
	_exit(EXIT_WRONG + 1);
}

/* `kvm` membership is how /dev/kvm is usually granted: the drop keeps the
 * user's own supplementary groups (and none of root's). */
Test(sandbox_setup, drop_to_user_keeps_the_users_groups)
{
	const char *user;
	char st[64];
	bool timed_out;
	int ws;

	if (geteuid() != 0)
		cr_skip_test("needs root to drop to another user");
	user = user_with_supplementary_group(&g_extra);
	if (!user)
		cr_skip_test("no non-root user with a supplementary group in /etc/group");
	ws = child_run(groups_child, (void *)user, &timed_out);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "drop to %s (extra gid %u): child %s",
		  user, (unsigned)g_extra, wait_text(ws, st, sizeof(st)));
}

Test(sandbox_setup, host_probe_reports_this_host)
{
	struct sandbox_host_support hs;

	sandbox_host_probe(&hs);
	/* this project's test hosts run Linux >= 4.14 with seccomp */
	cr_expect(hs.seccomp_filter, "seccomp: %s", hs.missing);
	cr_expect(hs.seccomp_kill_process, "kill_process: %s", hs.missing);
	cr_expect_eq(hs.running_as_root, geteuid() == 0);
	if (hs.seccomp_filter && hs.seccomp_kill_process && hs.user_ns)
		cr_expect_str_eq(hs.missing, "");
}

Test(sandbox_setup, bad_inputs_are_refused)
{
	char err[256];
	const cap_value_t bad = 9999;

	cr_expect_eq(sandbox_load_policy((enum sandbox_role)99, 0, NULL, err, sizeof(err)), -EINVAL);
	cr_expect_eq(sandbox_confine((enum sandbox_role)99, NULL, err, sizeof(err)), -EINVAL);
	cr_expect_eq(sandbox_drop_caps(&bad, 1), -EINVAL);
	cr_expect_eq(sandbox_enter_namespaces(SANDBOX_NS_EMPTY_ROOT, false, NULL, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(sandbox_role_name(SANDBOX_ROLE_WORKER_VCPU), "worker-vcpu");
}
