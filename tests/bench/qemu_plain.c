/* bench-qemu-plain: the peer of the QEMU engine's boot-to-/init figure.
 * Runs plain qemu-system-x86_64 (no ktstr-vmm-worker) N times with the same
 * kernel, initrd and kernel command line the QEMU engine would use
 * (guest_cmdline_build from vmm-worker with the same VmSpec values) and the
 * same machine flags (vmm-worker/engine_qemu_args.c): -nodefaults, pc,
 * TCG, -cpu max, the same -smp/-m, guest RAM on a shared memfd, COM1 and
 * COM2 on socketpairs, QEMU's -sandbox. What it leaves out is exactly the
 * worker's part: -S + QMP "cont" after confinement, the fd plumbing for QMP
 * and the cpu_reset log, the SHM mapping.
 *
 * Measures, per run: boot_to_init_us = exec of QEMU -> the line
 * KTSTR_INIT_STARTED on COM2 (the QEMU engine times the same span: from its
 * QEMU exec to that line), and total_us = exec -> QEMU exited (the probe
 * init powers off). Prints one line per run and medians; warm-up runs are
 * shown but not counted. Every wait is bounded by --timeout-ms.
 *
 *   bench-qemu-plain --kernel F --initrd F [--cmdline-extra S] [--memory-mb M]
 *                    [--cpus C] [--shm-kb K] [-n N] [--warmup W] [--timeout-ms T]
 *                    [--qemu PATH] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "bench.h"
#include "engine.h"

#define MARKER "KTSTR_INIT_STARTED"

struct one {
	uint64_t b2i_us, total_us;
	bool saw_init, exited;
	int status;
};

/* Drain fd into a bounded tail buffer; returns bytes read, 0 on EOF, -1 on
 * EAGAIN/error. */
static ssize_t drain(int fd, char *tail, size_t cap, size_t *len)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EAGAIN ? -1 : n;
	if (tail) {
		/* Keep the last cap-1 bytes: the marker may straddle reads. */
		if ((size_t)n >= cap - 1) {
			memcpy(tail, buf + n - (cap - 1), cap - 1);
			*len = cap - 1;
		} else {
			if (*len + (size_t)n > cap - 1) {
				size_t drop = *len + (size_t)n - (cap - 1);

				memmove(tail, tail + drop, *len - drop);
				*len -= drop;
			}
			memcpy(tail + *len, buf, (size_t)n);
			*len += (size_t)n;
		}
		tail[*len] = '\0';
	}
	return n;
}

static int run_once(const char *qemu, char *const argv[], const int keep[5], int com1, int com2,
		    uint32_t timeout_ms, struct one *o)
{
	struct spawn_opts so = { .keep = keep, .nkeep = 5, .env = NULL, .stdin_fd = -1,
				 .stdout_fd = -1, .stderr_fd = -1, .new_pgrp = 1,
				 .pdeathsig = SIGKILL };
	char tail[256];
	size_t tlen = 0;
	bool open1 = true, open2 = true;
	uint64_t t0, deadline;
	pid_t pid;
	int rc;

	memset(o, 0, sizeof(*o));
	tail[0] = '\0';
	t0 = ktstr_now_us();
	rc = ktstr_spawn(qemu, argv, &so, &pid);
	if (rc < 0)
		return rc;
	deadline = ktstr_now_ms() + timeout_ms;
	while (open1 || open2) {
		struct pollfd p[2] = { { .fd = open1 ? com1 : -1, .events = POLLIN },
				       { .fd = open2 ? com2 : -1, .events = POLLIN } };
		uint64_t now = ktstr_now_ms();

		if (now >= deadline)
			break;
		if (poll(p, 2, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
		if (p[0].revents && drain(com1, NULL, 0, NULL) == 0)
			open1 = false;
		if (p[1].revents) {
			if (drain(com2, tail, sizeof(tail), &tlen) == 0)
				open2 = false;
			if (!o->saw_init && strstr(tail, MARKER)) {
				o->saw_init = true;
				o->b2i_us = ktstr_now_us() - t0;
			}
		}
	}
	/* Both sockets at EOF: QEMU is exiting. Reap it within what is left
	 * of the deadline (at least 2 s), kill it otherwise. */
	{
		uint64_t now = ktstr_now_ms();
		int left = now < deadline ? (int)(deadline - now) : 0;

		rc = ktstr_wait_timeout(pid, &o->status, left < 2000 ? 2000 : left);
	}
	if (rc == -ETIMEDOUT) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		ktstr_wait_timeout(pid, &o->status, 5000);
		return -ETIMEDOUT;
	}
	o->exited = rc == 0;
	o->total_us = ktstr_now_us() - t0;
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline-extra", required_argument, NULL, 'c' },
		{ "memory-mb", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "shm-kb", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "qemu", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel = NULL, *initrd = NULL, *extra = NULL,
		   *qemu = "/usr/bin/qemu-system-x86_64";
	unsigned n = 10, warmup = 1, memory_mb = 256, cpus = 2, shm_kb = 1024,
		 timeout_ms = 60000;
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	char cmdline[2048], a_smp[64], a_m[32], a_mem[160], a_k[64], a_i[64];
	int sp1[2], sp2[2], memfd, kfd, ifd, opt;
	uint64_t *b2i, *tot;
	size_t good = 0;

	while ((opt = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		switch (opt) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'c': extra = optarg; break;
		case 'm': memory_mb = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'C': cpus = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': shm_kb = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': warmup = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'T': timeout_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': qemu = optarg; break;
		default: goto usage;
		}
	}
	if (!kernel || !initrd || !n || n > 1000 || !cpus || memory_mb < 128)
		goto usage;

	/* The command line the QEMU engine builds for this spec. */
	spec.memory_mb = memory_mb;
	spec.has_shm_size = true;
	spec.shm_size = shm_kb * 1024;
	spec.cmdline_extra = (char *)extra;
	{
		uint64_t mem = (uint64_t)memory_mb << 20;
		uint64_t base = spec.shm_size
				? guest_shm_base(mem - GUEST_QEMU_FW_RESERVE, spec.shm_size) : 0;

		if (guest_cmdline_build(&spec, base, spec.shm_size != 0, NULL, cmdline,
					sizeof(cmdline))) {
			fprintf(stderr, "guest_cmdline_build failed\n");
			return 2;
		}
	}

	/* fds QEMU gets, as the worker passes them: 3 COM1, 4 COM2, 5 guest
	 * RAM memfd, 6 kernel, 7 initrd (opened through /proc/self/fd/N). */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp1) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2)) {
		perror("socketpair");
		return 2;
	}
	fcntl(sp1[0], F_SETFL, O_NONBLOCK);
	fcntl(sp2[0], F_SETFL, O_NONBLOCK);
	kfd = open(kernel, O_RDONLY | O_CLOEXEC);
	ifd = open(initrd, O_RDONLY | O_CLOEXEC);
	if (kfd < 0 || ifd < 0) {
		fprintf(stderr, "open kernel/initrd: %s\n", strerror(errno));
		return 2;
	}
	snprintf(a_smp, sizeof(a_smp), "%u,sockets=1,cores=%u,threads=1", cpus, cpus);
	snprintf(a_m, sizeof(a_m), "%uM", memory_mb);
	snprintf(a_k, sizeof(a_k), "/proc/self/fd/6");
	snprintf(a_i, sizeof(a_i), "/proc/self/fd/7");

	b2i = calloc(n, sizeof(uint64_t));
	tot = calloc(n, sizeof(uint64_t));
	if (!b2i || !tot)
		return 2;
	printf("# plain %s, kernel %s, initrd %s, %u MB, %u vCPUs, %u runs + %u warm-up\n", qemu,
	       kernel, initrd, memory_mb, cpus, n, warmup);
	printf("# -append \"%s\"\n", cmdline);
	printf("%-4s %-10s %12s %12s\n", "run", "result", "b2init_us", "total_us");
	for (unsigned i = 0; i < n + warmup; i++) {
		struct one o;
		int keep[5];
		int rc;

		/* A fresh RAM memfd per run, as the worker creates one per VM. */
		memfd = memfd_create("bench-guest-ram", MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, (off_t)memory_mb << 20)) {
			perror("memfd");
			return 2;
		}
		keep[0] = sp1[1];
		keep[1] = sp2[1];
		keep[2] = memfd;
		keep[3] = kfd;
		keep[4] = ifd;
		snprintf(a_mem, sizeof(a_mem),
			 "memory-backend-file,id=m0,size=%uM,mem-path=/proc/self/fd/5,share=on",
			 memory_mb);
		char *qa[] = { (char *)qemu, "-nodefaults", "-no-user-config", "-display", "none",
			       "-vga", "none", "-no-reboot", "-machine", "pc,memory-backend=m0",
			       "-accel", "tcg", "-cpu", "max", "-smp", a_smp, "-m", a_m,
			       "-object", a_mem, "-kernel", a_k, "-initrd", a_i, "-append", cmdline,
			       "-chardev", "socket,id=com1,fd=3", "-serial", "chardev:com1",
			       "-chardev", "socket,id=com2,fd=4", "-serial", "chardev:com2",
			       "-sandbox",
			       "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
			       NULL };

		rc = run_once(qemu, qa, keep, sp1[0], sp2[0], timeout_ms, &o);
		close(memfd);
		/* The sockets survive the run (QEMU's ends are ours again):
		 * recreate them so the next run starts without stale bytes. */
		close(sp1[0]), close(sp1[1]), close(sp2[0]), close(sp2[1]);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp1) ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2))
			return 2;
		fcntl(sp1[0], F_SETFL, O_NONBLOCK);
		fcntl(sp2[0], F_SETFL, O_NONBLOCK);
		bool ok = rc == 0 && o.saw_init && o.exited;
		printf("%-4s %-10s %12llu %12llu%s\n", i < warmup ? "warm" : "",
		       rc == -ETIMEDOUT ? "timeout" : rc < 0 ? "error" : o.saw_init ? "init" : "no-init",
		       (unsigned long long)o.b2i_us, (unsigned long long)o.total_us,
		       ok ? "" : "  (not counted)");
		fflush(stdout);
		if (ok && i >= warmup) {
			b2i[good] = o.b2i_us;
			tot[good++] = o.total_us;
		}
	}
	printf("counted=%zu/%u\n", good, n);
	if (good) {
		printf("median %-16s %10llu  (min %llu, max %llu, n=%zu)\n", "boot_to_init_us",
		       (unsigned long long)bench_median(b2i, good),
		       (unsigned long long)bench_min(b2i, good),
		       (unsigned long long)bench_max(b2i, good), good);
		printf("median %-16s %10llu  (min %llu, max %llu, n=%zu)\n", "total_us",
		       (unsigned long long)bench_median(tot, good),
		       (unsigned long long)bench_min(tot, good),
		       (unsigned long long)bench_max(tot, good), good);
	}
	free(b2i);
	free(tot);
	return good ? 0 : 1;
usage:
	fprintf(stderr,
		"usage: %s --kernel F --initrd F [--cmdline-extra S] [--memory-mb M] [--cpus C]\n"
		"       [--shm-kb K] [-n N] [--warmup W] [--timeout-ms T] [--qemu PATH]\n",
		argv[0]);
	return 2;
}
