/* Scheduler lifecycle. Readiness is two facts: the process survives the
 * death poll (a loader that fails verification exits within it), and
 * sched_ext reports state "enabled" with root/ops naming it. A kernel without
 * sched_ext is told apart from a scheduler that failed to attach, because the
 * fix differs (another kernel vs. the scheduler). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/log.h"
#include "ktstr/spawn.h"
#include "ktstr/util.h"
#include "reaper.h"
#include "scheduler.h"

#define POLL_MS 50

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void sched_read_sysfs(const char *path, char *buf, size_t len)
{
	char *s = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (read_file(path, &s, &n, 4096))
		return;
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	snprintf(buf, len, "%s", s);
	free(s);
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

int sched_run_cmd(const char *cmd, int timeout_ms)
{
	const char *sh = exists("/bin/sh") ? "/bin/sh" : "/bin/busybox";
	char *argv_sh[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	char *argv_bb[] = { (char *)"busybox", (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	static char *env[] = { (char *)"PATH=/bin:/sbin:/usr/bin:/usr/sbin", NULL };
	struct spawn_opts o = { .env = env, .stdin_fd = -1, .stdout_fd = -2, .stderr_fd = -2 };
	pid_t pid;
	int st, ret;

	ret = ktstr_spawn(sh, strcmp(sh, "/bin/sh") ? argv_bb : argv_sh, &o, &pid);
	if (ret)
		return ret;
	ret = ktstr_wait_timeout(pid, &st, timeout_ms);
	if (ret == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		ktstr_wait_timeout(pid, &st, 1000);
		return -ETIMEDOUT;
	}
	if (ret)
		return ret;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Attached: enabled, and root/ops names the expected scheduler (prefix: the
 * kernel appends "_<flags>" suffixes to some names). */
static bool attached(struct sched *s)
{
	char state[64], ops[128];

	sched_read_sysfs(SCX_SYSFS "/state", state, sizeof(state));
	sched_read_sysfs(SCX_SYSFS "/root/ops", ops, sizeof(ops));
	if (strcmp(state, "enabled") || !ops[0])
		return false;
	if (s->spec->name && s->spec->name[0] &&
	    strncmp(ops, s->spec->name, strlen(s->spec->name)))
		return false;
	snprintf(s->ops, sizeof(s->ops), "%s", ops);
	return true;
}

static int start_binary(struct sched *s, struct sched_fail *f)
{
	const Ktstr__SchedulerSpec *sp = s->spec;
	char **argv = calloc(sp->n_args + 2, sizeof(char *));
	char **env = calloc(sp->n_env + 4, sizeof(char *));
	struct spawn_opts o = { .stdin_fd = -1 };
	size_t ne = 0;
	int logfd, ret;

	if (!argv || !env) {
		ret = -ENOMEM;
		goto out;
	}
	argv[0] = (char *)SCHED_BINARY;
	for (size_t i = 0; i < sp->n_args; i++)
		argv[i + 1] = sp->args[i];
	env[ne++] = (char *)"PATH=/bin:/sbin:/usr/bin:/usr/sbin";
	env[ne++] = (char *)"RUST_LOG=info,scx_utils::libbpf_logger=warn";
	for (size_t i = 0; i < sp->n_env; i++)
		env[ne++] = sp->env[i];
	logfd = open(SCHED_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		ret = -errno;
		snprintf(f->detail, sizeof(f->detail), "create %s: %s", SCHED_LOG,
			 strerror(-ret));
		f->status = KTSTR__TEST_RESULT__STATUS__SETUP_FAILED;
		goto out;
	}
	o.env = env;
	o.stdout_fd = logfd;
	o.stderr_fd = logfd;
	o.pdeathsig = SIGKILL;
	ret = ktstr_spawn(SCHED_BINARY, argv, &o, &s->pid);
	close(logfd);
	if (ret) {
		snprintf(f->detail, sizeof(f->detail),
			 "cannot start %s: %s%s", SCHED_BINARY, strerror(-ret),
			 ret == -ENOENT ? " (missing from the image, or a dynamic binary "
					  "whose libraries were not packed)"
					: "");
		f->status = KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED;
		goto out;
	}
	reaper_track(s->pid);
	s->started = true;
out:
	free(argv);
	free(env);
	return ret;
}

static void died_detail(struct sched *s, struct sched_fail *f, const char *when)
{
	if (WIFEXITED(s->exit_status))
		snprintf(f->detail, sizeof(f->detail), "scheduler exited with status %d %s",
			 WEXITSTATUS(s->exit_status), when);
	else
		snprintf(f->detail, sizeof(f->detail), "scheduler killed by signal %d %s",
			 WTERMSIG(s->exit_status), when);
	f->status = KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED;
}

static void not_attached_exit_detail(struct sched *s, struct sched_fail *f, uint64_t el)
{
	char state[64];

	sched_read_sysfs(SCX_SYSFS "/state", state, sizeof(state));
	if (WIFEXITED(s->exit_status))
		snprintf(f->detail, sizeof(f->detail),
			 "scheduler exited with status %d after %llu ms without attaching "
			 "(sched_ext state \"%.32s\"); its log (verifier output, if it failed to "
			 "load) is in the report",
			 WEXITSTATUS(s->exit_status), (unsigned long long)el, state);
	else
		snprintf(f->detail, sizeof(f->detail),
			 "scheduler killed by signal %d after %llu ms without attaching "
			 "(sched_ext state \"%.32s\"); its log is in the report",
			 WTERMSIG(s->exit_status), (unsigned long long)el, state);
	f->status = KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED;
}

int sched_start(struct sched *s, const Ktstr__SchedulerSpec *spec, struct sched_fail *f)
{
	uint64_t t0, death_ms, attach_ms;
	bool need_attach;

	memset(s, 0, sizeof(*s));
	memset(f, 0, sizeof(*f));
	s->spec = spec;
	if (!spec || spec->kind == KTSTR__SCHEDULER_SPEC__KIND__EEVDF)
		return 0;
	need_attach = spec->kind == KTSTR__SCHEDULER_SPEC__KIND__BINARY ||
		      (spec->name && spec->name[0]);
	if (need_attach && !exists(SCX_SYSFS "/state")) {
		snprintf(f->detail, sizeof(f->detail),
			 "sched_ext sysfs absent: the guest kernel has no CONFIG_SCHED_CLASS_EXT; "
			 "boot a kernel with sched_ext");
		f->status = KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED;
		return -1;
	}
	if (spec->kind == KTSTR__SCHEDULER_SPEC__KIND__KERNEL_BUILTIN) {
		for (size_t i = 0; i < spec->n_enable_cmds; i++) {
			int r = sched_run_cmd(spec->enable_cmds[i], 10000);

			if (r) {
				snprintf(f->detail, sizeof(f->detail),
					 "enable command \"%.120s\" failed: %s", spec->enable_cmds[i],
					 r < 0 ? strerror(-r) : "non-zero exit");
				f->status = KTSTR__TEST_RESULT__STATUS__SETUP_FAILED;
				return -1;
			}
		}
		s->started = true;
	} else if (start_binary(s, f)) {
		return -1;
	}
	if (!need_attach)
		return 0;

	death_ms = spec->death_poll_ms;
	/* The reference's 3 s (docs/reference.md, "Scheduler readiness")
	 * assumes KVM. Under QEMU TCG on shared cores the BPF verifier alone
	 * takes 1.5-5 s, so a host that did not choose gets a bound that a
	 * healthy scheduler meets with margin; a scheduler that never
	 * attaches still fails, only later. */
	attach_ms = spec->has_attach_timeout_ms ? spec->attach_timeout_ms
						: SCHED_ATTACH_TIMEOUT_UNSET_MS;
	t0 = ktstr_now_ms();
	for (;;) {
		uint64_t el = ktstr_now_ms() - t0;
		bool att;

		att = attached(s);
		if (s->pid && reaper_status(s->pid, &s->exit_status) == 1) {
			s->exited = true;
			s->pid = 0;
			if (att) {
				/* It got as far as sched_ext: an attached scheduler that
				 * died, not one that never came up. */
				died_detail(s, f, "during the startup death poll, after attaching");
				return -1;
			}
			/* Gone without ever being enabled (a verifier rejection, a
			 * bad option): it never attached. Its log, with the
			 * verifier output, travels in the result. */
			not_attached_exit_detail(s, f, el);
			return -1;
		}
		if (att && el >= death_ms)
			return 0;
		if (el >= death_ms + attach_ms) {
			char state[64], ops[128];

			/* Read both now: s->ops is only filled once attached, and
			 * printing it here showed "" for a scheduler that was in
			 * fact running under another (or a late) name. */
			sched_read_sysfs(SCX_SYSFS "/state", state, sizeof(state));
			sched_read_sysfs(SCX_SYSFS "/root/ops", ops, sizeof(ops));
			snprintf(f->detail, sizeof(f->detail),
				 "timeout: sched_ext state \"%.32s\", root/ops \"%.64s\" after %llu ms "
				 "(expected \"%.64s\"); the scheduler log shows how far it got",
				 state, ops, (unsigned long long)el,
				 spec->name && spec->name[0] ? spec->name : "any");
			f->status = KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED;
			return -1;
		}
		sleep_ms(POLL_MS);
	}
}

bool sched_died(struct sched *s)
{
	char state[64];

	if (!s->started || s->exited)
		return s->exited;
	if (s->pid && reaper_status(s->pid, &s->exit_status) == 1) {
		s->exited = true;
		s->pid = 0;
		return true;
	}
	if (s->ops[0]) {
		sched_read_sysfs(SCX_SYSFS "/state", state, sizeof(state));
		if (strcmp(state, "enabled")) {
			s->exited = true; /* ejected; the process may linger */
			return true;
		}
	}
	return false;
}

void sched_settle(struct sched *s, unsigned max_ms)
{
	uint64_t end = ktstr_now_ms() + max_ms;

	for (;;) {
		char state[64];
		bool proc_done;

		if (s->pid && reaper_status(s->pid, &s->exit_status) == 1) {
			s->exited = true;
			s->pid = 0;
		}
		proc_done = !s->pid;
		sched_read_sysfs(SCX_SYSFS "/state", state, sizeof(state));
		/* "disabling": the kernel has not yet logged why. */
		if (proc_done && strcmp(state, "disabling") && strcmp(state, "enabling"))
			return;
		if (ktstr_now_ms() >= end)
			return;
		sleep_ms(POLL_MS);
	}
}

static void append(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

int sched_klog_reason(const char *klog, char *buf, size_t len, int *stalled_pid)
{
	const char *start = klog, *line;
	size_t off = 0;
	int nlines = 0;

	buf[0] = '\0';
	*stalled_pid = 0;
	/* Only what followed the last enable: earlier lines are history. */
	for (line = klog; line && *line;) {
		const char *eol = strchr(line, '\n');
		const char *m = strstr(line, "sched_ext: BPF scheduler");

		if (m && (!eol || m < eol)) {
			const char *en = strstr(m, "\" enabled");

			if (en && (!eol || en < eol))
				start = eol ? eol + 1 : line + strlen(line);
		}
		line = eol ? eol + 1 : NULL;
	}
	for (line = start; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t l = eol ? (size_t)(eol - line) : strlen(line);
		const char *m = memmem(line, l, "sched_ext:", 10);

		if (m) {
			const char *fr = memmem(line, l, "] failed to run for ", 20);

			append(buf, len, &off, "%s%.*s", nlines++ ? "; " : "",
			       (int)(l - (size_t)(m - line)), m);
			/* "comm[pid] failed to run for Xs": the watchdog's stalled task. */
			if (fr && !*stalled_pid) {
				const char *b = fr;

				while (b > m && b[-1] >= '0' && b[-1] <= '9')
					b--;
				if (b > m && b[-1] == '[')
					*stalled_pid = atoi(b);
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return nlines;
}

/* The CPU a task last ran on: /proc/PID/stat field 39. -1 if unknown. */
static int task_cpu(int pid)
{
	char path[64], *s = NULL, *p;
	size_t n = 0;
	int cpu = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, &s, &n, 4096))
		return -1;
	p = strrchr(s, ')');
	/* Each step lands on the space before the next field: the first on
	 * field 3 (state), the 37th on field 39. */
	for (int field = 3; p && field <= 39; field++)
		p = strchr(p + 1, ' ');
	if (p)
		cpu = atoi(p + 1);
	free(s);
	return cpu;
}

/* The loader's own last word: tools/sched_ext's UEI_REPORT (and the scx
 * Rust schedulers) print "EXIT: reason (message)", the one place the
 * message of a non-error exit (scx_bpf_exit) is visible. */
static void loader_exit_line(char *buf, size_t len)
{
	char *s = NULL, *last = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (read_file(SCHED_LOG, &s, &n, 64u << 20))
		return;
	for (char *p = s; (p = strstr(p, "EXIT: ")); p++)
		if (p == s || p[-1] == '\n')
			last = p;
	if (last) {
		char *e = strchr(last, '\n');

		snprintf(buf, len, "%.*s", (int)(e ? e - last : (long)strlen(last)), last);
	}
	free(s);
}

void sched_exit_reason(char *buf, size_t len)
{
	char state[64], ops[128], exitl[512], klines[1536] = "";
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), pid = 0;
	size_t off = 0;

	sched_read_sysfs(SCX_SYSFS "/state", state, sizeof(state));
	sched_read_sysfs(SCX_SYSFS "/root/ops", ops, sizeof(ops));
	if (n > 0) {
		char *log = malloc((size_t)n + 1);
		int got = log ? klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, n) : -1;

		if (got > 0) {
			log[got] = '\0';
			sched_klog_reason(log, klines, sizeof(klines), &pid);
		}
		free(log);
	}
	append(buf, len, &off, "%s", klines[0] ? klines : "no sched_ext line in the kernel log");
	if (pid > 0) {
		int cpu = task_cpu(pid);

		if (cpu >= 0)
			append(buf, len, &off, " (stalled task %d is on cpu%d)", pid, cpu);
	}
	loader_exit_line(exitl, sizeof(exitl));
	if (exitl[0])
		append(buf, len, &off, "; scheduler printed \"%s\"", exitl);
	append(buf, len, &off, "; sched_ext state=%s ops=%s", state[0] ? state : "?",
	       ops[0] ? ops : "-");
}

char *sched_log_tail(size_t max)
{
	char *s = NULL, *out;
	size_t n = 0, start = 0;

	if (read_file(SCHED_LOG, &s, &n, 64u << 20) || !n) {
		free(s);
		return NULL;
	}
	if (n > max) {
		start = n - max;
		while (start < n && s[start - 1] != '\n')
			start++;
	}
	out = strdup(s + start);
	free(s);
	return out;
}

void sched_stop(struct sched *s)
{
	if (!s->started)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGINT);
		if (reaper_wait(s->pid, &s->exit_status, 2000) == -ETIMEDOUT) {
			kwarn("scheduler %d ignored SIGINT for 2 s; sending SIGKILL", (int)s->pid);
			kill(s->pid, SIGKILL);
			reaper_wait(s->pid, &s->exit_status, 1000);
		}
		s->pid = 0;
	}
	if (s->spec && s->spec->kind == KTSTR__SCHEDULER_SPEC__KIND__KERNEL_BUILTIN)
		for (size_t i = 0; i < s->spec->n_disable_cmds; i++)
			if (sched_run_cmd(s->spec->disable_cmds[i], 10000))
				kwarn("disable command \"%s\" failed", s->spec->disable_cmds[i]);
	s->started = false;
}
