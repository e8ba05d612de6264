/* ktstr-orch shell --exec: the command's output and exit status; the
 * interactive shell on a terminal: a stop signal puts the terminal back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* `ktstr-orch shell --topology 1,1,2,1 --kernel K [--include INC]
 * [--watchdog-timeout WD] --exec CMD`, on the test kernel. */
struct shell_cmd {
	char orch[1024], kernel[1024];
	char *argv[16];
};

static void shell_cmd_init(struct shell_cmd *c, const char *inc, const char *wd, const char *cmd)
{
	int n = 0;

	if (vmtest_bin("ktstr-orch", c->orch, sizeof(c->orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", c->kernel, sizeof(c->kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	c->argv[n++] = c->orch;
	c->argv[n++] = "shell";
	c->argv[n++] = "--topology";
	c->argv[n++] = "1,1,2,1";
	c->argv[n++] = "--kernel";
	c->argv[n++] = c->kernel;
	if (inc) {
		c->argv[n++] = "--include";
		c->argv[n++] = (char *)inc;
	}
	if (wd) {
		c->argv[n++] = "--watchdog-timeout";
		c->argv[n++] = (char *)wd;
	}
	c->argv[n++] = "--exec";
	c->argv[n++] = (char *)cmd;
	c->argv[n] = NULL;
}

static int exit_status(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* stdout and stderr together in *out. */
static int orch_shell(const char *exec_cmd, const char *extra, char **out)
{
	struct shell_cmd c;
	int status = 0;

	shell_cmd_init(&c, extra, NULL, exec_cmd);
	cr_assert_eq(vmtest_run(c.argv, 300 * 1000, out, &status), 0, "shell hung");
	return exit_status(status);
}

/* stdout in *out, stderr in *err. */
static int shell_io(const char *inc, const char *wd, const char *cmd, char **out, char **err)
{
	struct shell_cmd c;
	int status = 0;

	shell_cmd_init(&c, inc, wd, cmd);
	cr_assert_eq(vmtest_run_io(c.argv, NULL, 0, 300 * 1000, out, NULL, err, &status), 0,
		     "shell hung");
	cr_assert(*out && *err, "out of memory capturing ktstr-orch's output");
	return exit_status(status);
}

Test(orch_shell, exec_exit_status_becomes_ours, .timeout = 400)
{
	char *out = NULL;
	int rc = orch_shell("exit 7", NULL, &out);

	cr_assert_eq(rc, 7, "exit %d:\n%s", rc, out);
	free(out);
}

Test(orch_shell, exec_output_is_printed_and_includes_are_there, .timeout = 400)
{
	char *out = NULL;
	char inc[] = "/tmp/ktstr-include-XXXXXX";
	int fd = mkstemp(inc), rc;
	char cmd[256];

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "hello-from-host\n", 16), 16);
	/* mkstemp makes it 0600; started as root, ktstr-orch runs as nobody
	 * and its builder must read the include. */
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "cat /include-files/%s; nproc", strrchr(inc, '/') + 1);
	rc = orch_shell(cmd, inc, &out);
	unlink(inc);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "hello-from-host\n"), "%s", out);
	cr_assert(strstr(out, "\n2\n") || !strncmp(out, "2\n", 2), "two vCPUs:\n%s", out);
	free(out);
}

/* The relay is byte-exact: a CR is the command's own (COM2 is raw in exec
 * mode), a line that looks like the guest's status line is output unless it
 * is the very end, and a last line without a newline is neither lost nor
 * merged with the status. */
Test(orch_shell, exec_output_is_verbatim_to_the_last_byte, .timeout = 400)
{
	static const char want[] = "a\r\nKTSTR_EXEC_EXIT=5\nKTSTR_EXIT=5\nno-newline";
	char orch[1024], kernel[1024];
	char *out = NULL, *err = NULL;
	size_t outlen = 0;
	int status = 0;

	if (vmtest_bin("ktstr-orch", orch, sizeof(orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", kernel, sizeof(kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	char *argv[] = { orch, "shell", "--topology", "1,1,1,1", "--kernel", kernel, "--exec",
			 "printf 'a\\r\\nKTSTR_EXEC_EXIT=5\\nKTSTR_EXIT=5\\nno-newline'; exit 6",
			 NULL };
	cr_assert_eq(vmtest_run_io(argv, NULL, 0, 300 * 1000, &out, &outlen, &err, &status), 0,
		     "shell hung");
	cr_assert(out && err, "out of memory capturing ktstr-orch's output");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 6,
		  "expected exit 6, got status 0x%x\n--- stderr ---\n%s", status, err);
	cr_expect(outlen == sizeof(want) - 1 && !memcmp(out, want, outlen),
		  "stdout is not the command's %zu bytes verbatim (got %zu):\n%s\n--- stderr "
		  "---\n%s",
		  sizeof(want) - 1, outlen, out, err);
	/* The shell VM is monitored (it had the kernel layout; without one
	 * the worker says "off: the orchestrator sent no kernel layout"),
	 * and the monitor's line goes to stderr, never into the output. */
	cr_expect(strstr(err, "\nktstr-orch shell: monitor: ") &&
			  !strstr(err, "ktstr-orch shell: monitor: off"),
		  "no monitor line, or the monitor was off:\n%s", err);
	free(out);
	free(err);
}

/* A scheduler attached by hand in the shell: the monitor judges it and
 * reports on the last line; it lowers the sched_ext watchdog only when
 * --watchdog-timeout asks (docs/shell.md says why), and says so. */
Test(orch_shell, monitor_judges_a_hand_attached_scheduler_and_lowers_the_watchdog_when_asked,
     .timeout = 600)
{
	static const char cmd[] = "/include-files/scx_simple >/dev/null 2>&1 & sleep 6; "
				  "cat /sys/kernel/sched_ext/state; kill %1; wait; exit 0";
	struct suite_env e;
	char inc[1200], *out = NULL, *err = NULL;
	int rc;

	suite_env_init(&e, true);
	snprintf(inc, sizeof(inc), "%s/bin/scx_simple", e.tmp);
	rc = shell_io(inc, "2", cmd, &out, &err);
	cr_expect_eq(rc, 0, "exit %d:\n%s\n--- stderr ---\n%s", rc, out, err);
	cr_expect(strstr(out, "enabled\n"), "scx_simple never attached:\n%s\n%s", out, err);
	cr_expect(strstr(err, "\nktstr-orch shell: monitor: ") &&
			  strstr(err, "; sched_ext watchdog lowered to 2000 ms\n"),
		  "--watchdog-timeout 2: no lowered watchdog on the monitor's line:\n%s", err);
	free(out);
	free(err);
	out = err = NULL;
	rc = shell_io(inc, NULL, cmd, &out, &err);
	cr_expect_eq(rc, 0, "exit %d:\n%s\n--- stderr ---\n%s", rc, out, err);
	cr_expect(strstr(out, "enabled\n"), "scx_simple never attached:\n%s\n%s", out, err);
	cr_expect(strstr(err, "; sched_ext watchdog: the kernel's own (--watchdog-timeout S "
			      "lowers it)\n") &&
			  !strstr(err, "lowered to"),
		  "without --watchdog-timeout the kernel's watchdog is left alone:\n%s", err);
	free(out);
	free(err);
	vmtest_rm_rf(e.tmp);
}

/* --watchdog-timeout is refused (exit 2, before any VM) where it could do
 * nothing: out of range, or on a kernel the monitor cannot read. */
Test(orch_shell, watchdog_timeout_without_a_monitor_is_a_usage_error, .timeout = 120)
{
	char orch[1024], junk[] = "/tmp/ktstr-notakernel-XXXXXX";
	char *out = NULL, *err = NULL;
	int fd = mkstemp(junk), status = 0;

	if (vmtest_bin("ktstr-orch", orch, sizeof(orch)))
		test_missing("ktstr-orch not built");
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "not a kernel\n", 13), 13);
	/* Started as root, ktstr-orch reads it as nobody once it drops root. */
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
	char *range[] = { orch, "shell", "--watchdog-timeout", "0", "--exec", "true", NULL };
	char *nolayout[] = { orch,   "shell",	   "--kernel", junk, "--watchdog-timeout", "2",
			     "--exec", "true", NULL };

	cr_assert_eq(vmtest_run_io(range, NULL, 0, 60000, &out, NULL, &err, &status), 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status 0x%x:\n%s", status, err);
	cr_expect(strstr(err, "--watchdog-timeout takes 1..3600 seconds, got '0'"), "%s", err);
	free(out);
	free(err);
	out = err = NULL;
	cr_assert_eq(vmtest_run_io(nolayout, NULL, 0, 60000, &out, NULL, &err, &status), 0);
	unlink(junk);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status 0x%x:\n%s", status, err);
	cr_expect(strstr(err, "monitor: off for kernel ") &&
			  strstr(err, "ktstr-orch shell: --watchdog-timeout: the host-side monitor, "
				      "which lowers the watchdog, is off for kernel "),
		  "%s", err);
	cr_expect(!strstr(err, "worker: running "), "a VM started:\n%s", err);
	free(out);
	free(err);
}

/* ---- interactive shell on a terminal: a stop signal restores it --------
 *
 * ktstr-orch shell (no --exec) runs on a pty whose termios the test set to
 * something no default produces. The test waits for a phase, sends a stop
 * signal and checks that ktstr-orch exits 130 (orchestrator/stop.h, as
 * `run` does) with the terminal exactly as it found it, whatever it had
 * done to it in between. */

enum pty_phase {
	PHASE_STARTED, /* main() armed the stop watcher: the signals are blocked */
	PHASE_RAW,     /* the terminal is raw (ICANON and ECHO off): the VM is booting */
	PHASE_ANSWERED, /* the guest shell ran a command typed on the terminal */
};

struct pty_run {
	bool reached;	       /* the phase came before the deadline */
	bool raw_at_signal;    /* the terminal was raw when the signal was sent */
	bool exited;	       /* ktstr-orch ended within the deadline */
	int status;	       /* its wait status */
	struct termios before; /* what the test set */
	struct termios after;  /* what the terminal was once ktstr-orch ended */
	char out[1 << 16];     /* everything it wrote to the terminal (head) */
	size_t outlen;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read what is there on the pty master within ms; keeps the head of the
 * output (the checks look for early lines and for the command's answer). */
static void pty_drain(int master, struct pty_run *r, int ms)
{
	struct pollfd pfd = { .fd = master, .events = POLLIN };
	char buf[4096];

	while (poll(&pfd, 1, ms) > 0) {
		ssize_t n = read(master, buf, sizeof(buf));
		size_t room = sizeof(r->out) - 1 - r->outlen;

		if (n <= 0)
			return;
		if ((size_t)n > room)
			n = (ssize_t)room;
		memcpy(r->out + r->outlen, buf, (size_t)n);
		r->outlen += (size_t)n;
		r->out[r->outlen] = '\0';
		ms = 0;
	}
}

static bool tty_is_raw(int fd)
{
	struct termios t;

	return !tcgetattr(fd, &t) && !(t.c_lflag & (ICANON | ECHO));
}

/* Has pid blocked sig, i.e. has ktstr-orch's main() run stop_init()? */
static bool sig_blocked(pid_t pid, int sig)
{
	char path[64], status[4096], val[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	vmtest_slurp(path, status, sizeof(status));
	vmtest_status_field(status, "SigBlk", val, sizeof(val));
	return val[0] && (strtoull(val, NULL, 16) >> (sig - 1)) & 1;
}

static bool phase_reached(pid_t pid, int slave, enum pty_phase phase, const struct pty_run *r)
{
	switch (phase) {
	case PHASE_STARTED:
		return sig_blocked(pid, SIGTERM);
	case PHASE_RAW:
		return tty_is_raw(slave);
	case PHASE_ANSWERED:
		/* The typed line echoes as "$((6*7))"; only the shell's
		 * answer has 42. */
		return strstr(r->out, "ktstr-pty-42") != NULL;
	}
	return false;
}

/* Start `ktstr-orch shell` on a fresh pty, wait for phase (at most
 * phase_s seconds), send sig, wait for the end (at most exit_s) and record
 * what happened. Never leaves the process behind. */
static void pty_shell_run(int sig, enum pty_phase phase, int phase_s, int exit_s,
			  struct pty_run *r)
{
	char orch[1024], kernel[1024], slave_path[128];
	int master, slave;
	bool typed = false;
	double deadline;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (vmtest_bin("ktstr-orch", orch, sizeof(orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", kernel, sizeof(kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(master >= 0, "posix_openpt: %s", strerror(errno));
	cr_assert(!grantpt(master) && !unlockpt(master) &&
		  !ptsname_r(master, slave_path, sizeof(slave_path)));
	slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(slave >= 0, "open %s: %s", slave_path, strerror(errno));
	/* A cooked terminal, but one no default produces: restoring "some
	 * sane mode" instead of the terminal's own would show. */
	cr_assert_eq(tcgetattr(slave, &r->before), 0);
	r->before.c_cc[VERASE] = 0x08;
	r->before.c_cc[VKILL] = 0x0b;
	r->before.c_iflag &= ~(tcflag_t)IXON;
	r->before.c_lflag |= ICANON | ECHO | ISIG;
	cr_assert_eq(tcsetattr(slave, TCSANOW, &r->before), 0);
	cr_assert_eq(tcgetattr(slave, &r->before), 0);

	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char *argv[] = { orch, "shell", "--topology", "1,1,1,1", "--kernel", kernel, NULL };
		sigset_t none;
		int tty;

		/* As from a login shell: its own session, the pty as the
		 * controlling terminal and fds 0-2, no signal blocked. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		tty = open(slave_path, O_RDWR);
		if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) < 0)
			_exit(125);
		dup2(tty, 0);
		dup2(tty, 1);
		dup2(tty, 2);
		execv(orch, argv);
		_exit(127);
	}

	deadline = now_s() + phase_s;
	while (!r->reached && now_s() < deadline) {
		pty_drain(master, r, 20);
		if (waitpid(pid, &r->status, WNOHANG) == pid) {
			r->exited = true;
			break;
		}
		if (phase == PHASE_ANSWERED && !typed && tty_is_raw(slave)) {
			/* Held by the worker until the guest shell is ready
			 * (KTSTR_SHELL_READY), then run by it. */
			static const char line[] = "echo ktstr-pty-$((6*7))\n";

			/* No assert here: it would leave the VM running. */
			typed = write(master, line, sizeof(line) - 1) == (ssize_t)sizeof(line) - 1;
		}
		r->reached = phase_reached(pid, slave, phase, r);
	}
	if (!r->exited && r->reached) {
		r->raw_at_signal = tty_is_raw(slave);
		kill(pid, sig);
		deadline = now_s() + exit_s;
		while (!r->exited && now_s() < deadline) {
			pty_drain(master, r, 20);
			r->exited = waitpid(pid, &r->status, WNOHANG) == pid;
		}
	}
	if (!r->exited) {
		/* Its session is its process group: the worker and QEMU go too. */
		kill(-pid, SIGKILL);
		waitpid(pid, &r->status, 0);
	}
	pty_drain(master, r, 0);
	tcgetattr(slave, &r->after);
	close(slave);
	close(master);
}

static void expect_restored(const struct pty_run *r)
{
	const struct termios *a = &r->before, *b = &r->after;

	cr_expect_eq(b->c_iflag, a->c_iflag, "c_iflag 0%o, was 0%o", b->c_iflag, a->c_iflag);
	cr_expect_eq(b->c_oflag, a->c_oflag, "c_oflag 0%o, was 0%o", b->c_oflag, a->c_oflag);
	cr_expect_eq(b->c_cflag, a->c_cflag, "c_cflag 0%o, was 0%o", b->c_cflag, a->c_cflag);
	cr_expect_eq(b->c_lflag, a->c_lflag, "c_lflag 0%o, was 0%o", b->c_lflag, a->c_lflag);
	cr_expect(!memcmp(b->c_cc, a->c_cc, sizeof(a->c_cc)), "c_cc differs");
	cr_expect_eq(cfgetispeed(b), cfgetispeed(a));
	cr_expect_eq(cfgetospeed(b), cfgetospeed(a));
}

static void expect_interrupted(const struct pty_run *r, int sig)
{
	cr_assert(r->exited, "ktstr-orch did not end after %s; output:\n%s", strsignal(sig),
		  r->out);
	cr_expect(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 130,
		  "%s: expected exit 130, got wait status 0x%x; output:\n%s", strsignal(sig),
		  r->status, r->out);
	expect_restored(r);
}

/* The main case: a VM running, its shell live, the terminal raw. */
Test(orch_shell, sigterm_with_the_shell_live_restores_the_terminal, .timeout = 420)
{
	static struct pty_run r;

	pty_shell_run(SIGTERM, PHASE_ANSWERED, 300, 60, &r);
	cr_assert(r.reached, "the guest shell never answered on the terminal (exited: %d, "
			     "status 0x%x); output:\n%s",
		  r.exited, r.status, r.out);
	cr_assert(r.raw_at_signal, "the terminal was not raw while the shell ran");
	expect_interrupted(&r, SIGTERM);
}

/* A hangup while the VM still boots (the terminal already raw). */
Test(orch_shell, sighup_while_booting_restores_the_terminal, .timeout = 300)
{
	static struct pty_run r;

	pty_shell_run(SIGHUP, PHASE_RAW, 180, 60, &r);
	cr_assert(r.reached, "the terminal never went raw (exited: %d, status 0x%x); "
			     "output:\n%s",
		  r.exited, r.status, r.out);
	expect_interrupted(&r, SIGHUP);
}

/* ^C as soon as ktstr-orch runs: it stops before any VM starts (the
 * kernel is found and the image built first: long enough). */
Test(orch_shell, sigint_before_the_vm_exits_130_without_one, .timeout = 120)
{
	static struct pty_run r;

	pty_shell_run(SIGINT, PHASE_STARTED, 30, 60, &r);
	cr_assert(r.reached, "ktstr-orch never blocked the stop signals (exited: %d, status "
			     "0x%x); output:\n%s",
		  r.exited, r.status, r.out);
	expect_interrupted(&r, SIGINT);
	cr_expect(strstr(r.out, "stopped before the VM started"), "output:\n%s", r.out);
}
