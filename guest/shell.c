/* Shell mode. exec_cmd output goes straight to COM2 (the child inherits fds
 * 1 and 2); the interactive shell gets COM2 as its controlling terminal so
 * job control and ^C work. Both are bounded only by the host watchdog, which
 * is the contract for shells. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ktstr/guest_contract.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "reaper.h"
#include "shell.h"

static void install_busybox(void)
{
	struct stat st;
	pid_t p;

	if (stat("/bin/busybox", &st))
		return;
	p = fork();
	if (p == 0) {
		execl("/bin/busybox", "busybox", "--install", "-s", "/bin", (char *)NULL);
		_exit(127);
	}
	if (p > 0) {
		reaper_track(p);
		reaper_wait(p, NULL, 10000);
	}
}

static const char *shell_path(void)
{
	struct stat st;

	return stat("/bin/sh", &st) == 0 ? "/bin/sh" : "/bin/busybox";
}

/* The interactive shell was a session leader with COM2 as its controlling
 * tty: its exit hung the tty up, and every fd open on it, ours included,
 * now fails writes with EIO, so KTSTR_EXIT=N would never reach the host
 * (which passes the shell's status on). A fresh open gets a live file;
 * report_open_com2 also makes it raw again and fds 1/2 again. */
static void reopen_com2(struct report *rep)
{
	const char *dev = rep->com2_dev;
	int old = rep->com2_fd, ret;

	if (old < 0 || !dev)
		return;
	rep->com2_fd = -1;
	ret = report_open_com2(rep, dev);
	close(old);
	if (ret)
		kerr("reopen %s after the shell's hangup: %s; its exit status reaches the "
		     "host only through the SHM ring, if any",
		     dev, strerror(-ret));
}

int shell_run(struct report *rep, const char *exec_cmd)
{
	const char *sh;
	pid_t p;
	int st = 0;

	install_busybox();
	sh = shell_path();
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
	setenv("HOME", "/tmp", 1);
	if (!getenv("TERM"))
		setenv("TERM", getenv("KTSTR_TERM") ? getenv("KTSTR_TERM") : "vt100", 1);
	p = fork();
	if (p < 0) {
		kerr("fork shell: %s", strerror(errno));
		return 127;
	}
	if (p == 0) {
		signal(SIGCHLD, SIG_DFL);
		if (exec_cmd) {
			execl(sh, "sh", "-c", exec_cmd, (char *)NULL);
		} else {
			struct termios t;

			/* New session with COM2 as controlling tty, cooked mode
			 * back on for a human. */
			setsid();
			if (rep->com2_fd >= 0) {
				ioctl(rep->com2_fd, TIOCSCTTY, 0);
				if (tcgetattr(rep->com2_fd, &t) == 0) {
					t.c_oflag |= OPOST | ONLCR;
					t.c_lflag |= ECHO | ICANON | ISIG | ECHOE;
					tcsetattr(rep->com2_fd, TCSANOW, &t);
				}
				dup2(rep->com2_fd, 0);
				dup2(rep->com2_fd, 1);
				dup2(rep->com2_fd, 2);
				/* Terminal set up: tell the host it may send input
				 * now. Bytes it sent earlier could be dropped by
				 * the UART/tty setup, so the worker holds stdin
				 * back until this exact line (and strips it from
				 * what the user sees; vmm-worker/capture.h). Input
				 * arriving before sh reads waits in the tty. */
				write_full(rep->com2_fd, KTSTR_COM2_SHELL_READY "\n",
					   sizeof(KTSTR_COM2_SHELL_READY));
			}
			execl(sh, "sh", "-l", (char *)NULL);
		}
		fprintf(stderr, "exec %s: %s\n", sh, strerror(errno));
		_exit(127);
	}
	reaper_track(p);
	/* No bound here by design: a shell lasts as long as its user; the
	 * host watchdog bounds the VM. */
	while (reaper_wait(p, &st, 1000) == -ETIMEDOUT)
		;
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (!exec_cmd)
		reopen_com2(rep);
	/* The leading newline ends a last output line that lacks one, so the
	 * status is always a line of its own; the host drops that newline
	 * again (orchestrator/shell_exec.c), keeping the output verbatim. */
	if (exec_cmd)
		report_line(rep, "\n" KTSTR_COM2_EXEC_EXIT "%d", st);
	return st;
}
