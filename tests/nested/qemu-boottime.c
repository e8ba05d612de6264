/* qemu-boottime: start qemu-system-x86_64, time process start ->
 * KTSTR_INIT_STARTED on its second serial port, and print the result as
 * "KEY value" lines. It is the QEMU side of the nested rig's bench mode
 * (scripts/nested-rig, NESTED_BENCH=N): inside L1, where /dev/kvm is real KVM,
 * it times `qemu-system-x86_64 -enable-kvm` on the same L2 kernel and initrd
 * that ktstr-vmrun boots through the worker's KVM engine, so the two figures
 * measure the same interval:
 *
 *   KVM engine (VmResult.boot_to_init_us): engine start -> the marker on COM2
 *   this helper:                         fork of QEMU -> the marker on COM2
 *
 * Like the worker's capture (vmm-worker/capture.c, scan_partial), the marker
 * counts as soon as its bytes arrive, before its line ends. Linked static
 * because L1's initramfs has no libc of its own (QEMU brings its closure).
 *
 *   qemu-boottime [--timeout S] [--prefix P] -- QEMU [ARG...]
 *
 * The helper appends "-chardev socket,id=com1,fd=3 -serial chardev:com1
 * -chardev socket,id=com2,fd=4 -serial chardev:com2" (socketpairs, as
 * tests/bench/qemu_boot.c and the QEMU engine pass them), so the caller must
 * not give any -serial of its own. Output (each line behind the prefix,
 * default "QBOOT "):
 *   outcome POWER_OFF | EXIT_<status> | SIGNAL_<n> | TIMEOUT | NO_INIT
 *   boot_to_init_us N (only when the marker came) | total_us N | exit_status N
 *   com2 <line>   every COM2 line        com1 <line>   COM1 tail (4 KiB)
 *   end
 * Exit status: 0 when QEMU ran (whatever the outcome), 1 when it could not be
 * started, 2 for bad arguments. Every wait is bounded by --timeout (default
 * 150 s), after which QEMU's process group is killed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARKER "KTSTR_INIT_STARTED"
#define COM2_MAX (64 * 1024) /* whole COM2 output kept; l2-init writes ~1 KiB */
#define COM1_TAIL 4096	     /* console tail kept for failure reports */

static const char *prefix = "QBOOT ";

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct port {
	int fd;		/* our end of the socketpair, -1 after EOF */
	char *buf;	/* COM2: everything; COM1: a ring of the last COM1_TAIL bytes */
	size_t cap, len, head;
	bool ring;
};

static void port_add(struct port *p, const char *d, size_t n)
{
	if (!p->ring) {
		if (n > p->cap - p->len) /* COM2 beyond 64 KiB is not ours: drop it */
			n = p->cap - p->len;
		memcpy(p->buf + p->len, d, n);
		p->len += n;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		p->buf[p->head] = d[i];
		p->head = (p->head + 1) % p->cap;
		if (p->len < p->cap)
			p->len++;
	}
}

/* Read what is there; returns false at EOF or on an error (fd closed). */
static bool port_read(struct port *p)
{
	char tmp[4096];
	ssize_t n = read(p->fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		close(p->fd);
		p->fd = -1;
		return false;
	}
	port_add(p, tmp, (size_t)n);
	return true;
}

/* Each line with prefix+tag; non-printable bytes become '.' so a grep on the
 * output never trips over control characters (as ktstr-vmrun prints them). */
static void print_lines(const char *tag, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && buf[j] != '\n')
			j++;
		printf("%s%s ", prefix, tag);
		for (size_t k = i; k < j; k++) {
			unsigned char c = (unsigned char)buf[k];

			if (c == '\r')
				continue;
			putchar(c >= 0x20 && c < 0x7f ? c : '.');
		}
		putchar('\n');
		i = j + 1;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: qemu-boottime [--timeout SECONDS] [--prefix STRING] -- QEMU [ARG...]\n");
}

int main(int argc, char **argv)
{
	static char a_com1[] = "socket,id=com1,fd=3", a_com2[] = "socket,id=com2,fd=4";
	static char a_ser1[] = "chardev:com1", a_ser2[] = "chardev:com2";
	static char a_chardev[] = "-chardev", a_serial[] = "-serial";
	unsigned long timeout_s = 150;
	int i, sp1[2], sp2[2], status = 0;
	bool exited = false, timed_out = false;
	uint64_t t0, deadline, init_us = 0, end_us;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout_s = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--prefix") && i + 1 < argc) {
			prefix = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			fprintf(stderr, "qemu-boottime: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc || timeout_s == 0 || timeout_s > 3600) {
		usage(stderr);
		fprintf(stderr, "qemu-boottime: the QEMU command follows '--'; --timeout must be 1..3600 s\n");
		return 2;
	}

	/* QEMU's argv: the caller's, then our two serial ports, then NULL. */
	int nq = argc - i;
	char **qa = calloc((size_t)nq + 9, sizeof(*qa));
	if (!qa) {
		fprintf(stderr, "qemu-boottime: out of memory building QEMU's argv\n");
		return 1;
	}
	memcpy(qa, argv + i, (size_t)nq * sizeof(*qa));
	qa[nq++] = a_chardev, qa[nq++] = a_com1, qa[nq++] = a_serial, qa[nq++] = a_ser1;
	qa[nq++] = a_chardev, qa[nq++] = a_com2, qa[nq++] = a_serial, qa[nq++] = a_ser2;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp1) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2)) {
		fprintf(stderr, "qemu-boottime: socketpair for the serial ports failed: %s; check RLIMIT_NOFILE\n",
			strerror(errno));
		return 1;
	}
	struct port com1 = { .fd = sp1[0], .cap = COM1_TAIL, .ring = true };
	struct port com2 = { .fd = sp2[0], .cap = COM2_MAX };
	com1.buf = malloc(com1.cap);
	com2.buf = malloc(com2.cap);
	if (!com1.buf || !com2.buf) {
		fprintf(stderr, "qemu-boottime: out of memory for the serial buffers\n");
		return 1;
	}
	fcntl(com1.fd, F_SETFL, O_NONBLOCK);
	fcntl(com2.fd, F_SETFL, O_NONBLOCK);
	fflush(stdout);

	/* The clock starts before fork, like the KVM engine's before its first
	 * guest instruction: QEMU's exec, ld.so, firmware load and machine
	 * setup are part of QEMU's boot. */
	t0 = now_us();
	deadline = t0 + (uint64_t)timeout_s * 1000000u;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "qemu-boottime: fork failed: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0); /* one kill ends QEMU and anything it started */
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(sp1[1], 3) < 0 || dup2(sp2[1], 4) < 0) {
			fprintf(stderr, "qemu-boottime: setting up QEMU's fds failed: %s\n", strerror(errno));
			_exit(126);
		}
		/* dup2 clears FD_CLOEXEC on 3 and 4; everything else stays closed. */
		execvp(qa[0], qa);
		fprintf(stderr, "qemu-boottime: cannot exec %s: %s; check the path and its libraries\n", qa[0],
			strerror(errno));
		_exit(127);
	}
	close(sp1[1]);
	close(sp2[1]);

	/* Read both ports until QEMU has exited and both are at EOF, or the
	 * deadline passes. The 100 ms poll slice bounds how late an exit is
	 * noticed (waitpid has no timeout of its own). */
	size_t scanned = 0;
	while (!exited || com1.fd >= 0 || com2.fd >= 0) {
		uint64_t now = now_us();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd pf[2] = { { .fd = com1.fd, .events = POLLIN }, { .fd = com2.fd, .events = POLLIN } };
		uint64_t left_ms = (deadline - now) / 1000 + 1;
		int r = poll(pf, 2, left_ms < 100 ? (int)left_ms : 100);

		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "qemu-boottime: poll failed: %s\n", strerror(errno));
			timed_out = true;
			break;
		}
		if (com2.fd >= 0 && pf[1].revents)
			port_read(&com2);
		if (com1.fd >= 0 && pf[0].revents)
			port_read(&com1);
		if (!init_us && com2.len > scanned) {
			/* Search from just before the new bytes so a marker split
			 * across reads is still found. */
			size_t from = scanned > sizeof(MARKER) ? scanned - sizeof(MARKER) : 0;

			if (memmem(com2.buf + from, com2.len - from, MARKER, sizeof(MARKER) - 1))
				init_us = now_us() - t0;
			scanned = com2.len;
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
	}
	if (!exited) {
		/* Deadline: end QEMU's group, then reap it (SIGKILL cannot be
		 * ignored, so this wait ends). */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	end_us = now_us() - t0;
	if (com1.fd >= 0)
		close(com1.fd);
	if (com2.fd >= 0)
		close(com2.fd);

	const char *outcome;
	char obuf[32];
	if (timed_out)
		outcome = "TIMEOUT";
	else if (WIFSIGNALED(status))
		snprintf(obuf, sizeof(obuf), "SIGNAL_%d", WTERMSIG(status)), outcome = obuf;
	else if (WEXITSTATUS(status) != 0)
		snprintf(obuf, sizeof(obuf), "EXIT_%d", WEXITSTATUS(status)), outcome = obuf;
	else if (!init_us)
		outcome = "NO_INIT";
	else
		outcome = "POWER_OFF"; /* -no-reboot: the guest's ACPI S5 ends QEMU with 0 */
	printf("%soutcome %s\n", prefix, outcome);
	if (init_us)
		printf("%sboot_to_init_us %llu\n", prefix, (unsigned long long)init_us);
	printf("%stotal_us %llu\n", prefix, (unsigned long long)end_us);
	printf("%sexit_status %d\n", prefix, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	print_lines("com2", com2.buf, com2.len);
	/* Unroll the COM1 ring (oldest byte first) and drop a cut first line. */
	char *tail = malloc(com1.len + 1);
	if (tail) {
		size_t start = com1.len < com1.cap ? 0 : com1.head, skip = 0;

		for (size_t k = 0; k < com1.len; k++)
			tail[k] = com1.buf[(start + k) % com1.cap];
		if (com1.len == com1.cap)
			while (skip < com1.len && tail[skip++] != '\n')
				;
		print_lines("com1", tail + skip, com1.len - skip);
		free(tail);
	}
	printf("%send\n", prefix);
	return 0;
}
