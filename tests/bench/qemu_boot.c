/* bench-qemu_boot: boot-to-/init of the QEMU engine next to plain QEMU.
 * Each iteration runs one VM through the real ktstr-vmm-worker (QEMU engine,
 * orchestrator/worker_client.c) and one plain qemu-system-x86_64 (no
 * worker), alternating which goes first, so both see the same load on a
 * shared machine.
 *
 * Plain QEMU gets the same kernel, initrd and kernel command line the QEMU
 * engine builds (guest_cmdline_build from vmm-worker with the same VmSpec
 * values) and the same machine flags (vmm-worker/qemu/qemu_args.c):
 * -nodefaults, pc, TCG, -cpu max, the same -smp/-m, guest RAM on a shared
 * memfd, COM1 and COM2 on socketpairs, QEMU's -sandbox. What it leaves out
 * is exactly the worker's part: -S + QMP "cont" after confinement, the QMP
 * and cpu_reset-log plumbing, the SHM mapping, the worker's own setup.
 *
 * Figures per run: boot_to_init_us = QEMU exec -> the line
 * KTSTR_INIT_STARTED on COM2 (for the worker: VmResult.boot_to_init_us, which
 * the engine times over the same span), total_us = QEMU exec -> QEMU exited
 * (plain) / VmResult.total_us (worker: worker main() -> result); for the
 * worker also setup_us, main_cpu_us (worker main thread CPU at VmStarted:
 * fork -> QEMU exec'd), worker_cpu_us and worker_rss_kb as in bench-vm;
 * all_cpu_us = CPU of everything the run started (plain: QEMU; worker: the
 * worker and its QEMU), which other load on the machine disturbs far less
 * than the wall-clock figures.
 * Warm-up iterations are shown, not counted. Every wait is bounded.
 *
 *   bench-qemu_boot --kernel F --initrd F [--cmdline-extra S] [--memory-mb M]
 *                   [--cpus C] [--shm-kb K] [-n N] [--warmup W] [--timeout-ms T]
 *                   [--qemu PATH] [--worker PATH] [--log FILE] [--plain-only] */
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "bench.h"
#include "engine.h"
#include "qemu/qemu.h"

#define MARKER "KTSTR_INIT_STARTED"

/* CPU (us) of reaped children: around one run it is QEMU's CPU (plain) or
 * the worker's plus its QEMU's (the worker reaps QEMU, we reap the worker).
 * Less sensitive to other load on the machine than wall time. */
static uint64_t children_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru))
		return 0;
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

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
	/* QEMU holds its ends now: ours must go, or EOF (QEMU gone) never
	 * arrives. */
	close(keep[0]);
	close(keep[1]);
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

/* One plain QEMU boot with fresh sockets and RAM memfd (the worker creates
 * them per VM too). Returns 0 (o filled; o->saw_init/exited say how it went)
 * or -errno. */
static int plain_once(const char *qemu, const char *cmdline, unsigned memory_mb, unsigned cpus,
		      int kfd, int ifd, uint32_t timeout_ms, struct one *o)
{
	char a_smp[64], a_m[32], a_mem[160];
	int sp1[2], sp2[2], keep[5], memfd, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp1))
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp2)) {
		rc = -errno;
		close(sp1[0]), close(sp1[1]);
		return rc;
	}
	fcntl(sp1[0], F_SETFL, O_NONBLOCK);
	fcntl(sp2[0], F_SETFL, O_NONBLOCK);
	memfd = memfd_create("bench-guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)memory_mb << 20)) {
		rc = -errno;
		if (memfd >= 0)
			close(memfd);
		close(sp1[0]), close(sp1[1]), close(sp2[0]), close(sp2[1]);
		return rc;
	}
	/* fds as the worker passes them: 3 COM1, 4 COM2, 5 guest RAM memfd,
	 * 6 kernel, 7 initrd (QEMU opens /proc/self/fd/N). */
	keep[0] = sp1[1];
	keep[1] = sp2[1];
	keep[2] = memfd;
	keep[3] = kfd;
	keep[4] = ifd;
	snprintf(a_smp, sizeof(a_smp), "%u,sockets=1,cores=%u,threads=1", cpus, cpus);
	snprintf(a_m, sizeof(a_m), "%uM", memory_mb);
	snprintf(a_mem, sizeof(a_mem),
		 "memory-backend-file,id=m0,size=%uM,mem-path=/proc/self/fd/5,share=on", memory_mb);
	char *qa[] = { (char *)qemu, "-nodefaults", "-no-user-config", "-display", "none",
		       "-vga", "none", "-no-reboot", "-machine", "pc,memory-backend=m0",
		       "-accel", "tcg,thread=single", "-cpu", "max", "-smp", a_smp, "-m", a_m,
		       "-object", a_mem, "-kernel", "/proc/self/fd/6", "-initrd", "/proc/self/fd/7",
		       "-append", (char *)cmdline,
		       "-chardev", "socket,id=com1,fd=3", "-serial", "chardev:com1",
		       "-chardev", "socket,id=com2,fd=4", "-serial", "chardev:com2",
		       "-sandbox",
		       "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
		       NULL };

	rc = run_once(qemu, qa, keep, sp1[0], sp2[0], timeout_ms, o);
	close(memfd);
	close(sp1[0]);
	close(sp2[0]);
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
		{ "worker", required_argument, NULL, 'W' },
		{ "log", required_argument, NULL, 'l' },
		{ "plain-only", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel = NULL, *initrd = NULL, *extra = NULL, *log = NULL,
		   *qemu = "/usr/bin/qemu-system-x86_64";
	unsigned n = 10, warmup = 1, memory_mb = 256, cpus = 2, shm_kb = 1024,
		 timeout_ms = 60000;
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology topo = KTSTR__TOPOLOGY__INIT;
	char cmdline[2048], worker[PATH_MAX] = "";
	int kfd, ifd, opt, logfd = -1;
	bool plain_only = false;
	uint64_t *pb2i, *ptot, *wb2i, *wtot, *wsetup, *wmcpu, *wcpu, *wrss, *pccpu, *wccpu;
	size_t pgood = 0, wgood = 0, nmcpu = 0;
	struct bench_sample last;

	memset(&last, 0, sizeof(last));
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
		case 'W': snprintf(worker, sizeof(worker), "%s", optarg); break;
		case 'l': log = optarg; break;
		case 'P': plain_only = true; break;
		default: goto usage;
		}
	}
	if (!kernel || !initrd || !n || n > 1000 || !cpus || cpus > 64 || memory_mb < 128)
		goto usage;
	if (!plain_only && !worker[0] &&
	    bench_sibling_bin("ktstr-vmm-worker", worker, sizeof(worker))) {
		fprintf(stderr, "ktstr-vmm-worker not found beside this build (make first)\n");
		return 2;
	}
	if (log && (logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "open %s: %s\n", log, strerror(errno));
		return 2;
	}

	/* The spec the worker gets, and from it the command line the QEMU
	 * engine builds (same function, same values). */
	topo.numa_nodes = 1;
	topo.llcs = 1;
	topo.cores_per_llc = cpus;
	topo.threads_per_core = 1;
	spec.engine = KTSTR__ENGINE__ENGINE_QEMU;
	spec.topology = &topo;
	spec.memory_mb = memory_mb;
	spec.timeout_ms = timeout_ms;
	spec.has_shm_size = true;
	spec.shm_size = shm_kb * 1024;
	spec.cmdline_extra = (char *)extra;
	spec.label = "bench";
	kfd = open(kernel, O_RDONLY | O_CLOEXEC);
	ifd = open(initrd, O_RDONLY | O_CLOEXEC);
	{
		/* The engine's own placement: below the initrd QEMU loads. */
		uint64_t mem = (uint64_t)memory_mb << 20;
		uint32_t imax = 0;
		struct stat ist;
		uint64_t base = 0;

		if (spec.shm_size && kfd >= 0 && ifd >= 0 && fstat(ifd, &ist) == 0 &&
		    qemu_kernel_initrd_max(kfd, &imax) == 0)
			base = qemu_shm_place(mem, (uint64_t)ist.st_size, imax, spec.shm_size);
		if (guest_cmdline_build(&spec, base, base != 0, NULL, cmdline, sizeof(cmdline))) {
			fprintf(stderr, "guest_cmdline_build failed\n");
			return 2;
		}
	}
	if (kfd < 0 || ifd < 0) {
		fprintf(stderr, "open kernel/initrd: %s\n", strerror(errno));
		return 2;
	}
	pb2i = calloc(n, sizeof(uint64_t));
	ptot = calloc(n, sizeof(uint64_t));
	wb2i = calloc(n, sizeof(uint64_t));
	wtot = calloc(n, sizeof(uint64_t));
	wsetup = calloc(n, sizeof(uint64_t));
	wmcpu = calloc(n, sizeof(uint64_t));
	wcpu = calloc(n, sizeof(uint64_t));
	wrss = calloc(n, sizeof(uint64_t));
	pccpu = calloc(n, sizeof(uint64_t));
	wccpu = calloc(n, sizeof(uint64_t));
	if (!pb2i || !ptot || !wb2i || !wtot || !wsetup || !wmcpu || !wcpu || !wrss || !pccpu || !wccpu)
		return 2;
	printf("# %s, kernel %s, initrd %s, %u MB, %u vCPUs, %u iterations + %u warm-up\n", qemu,
	       kernel, initrd, memory_mb, cpus, n, warmup);
	printf("# -append \"%s\"\n", cmdline);
	printf("%-4s %-6s %-10s %10s %10s %10s %9s %9s %9s %8s\n", "it", "who", "result",
	       "b2init_us", "total_us", "all_cpu", "setup_us", "main_cpu", "wcpu_us", "rss_kb");
	for (unsigned i = 0; i < n + warmup; i++) {
		const char *tag = i < warmup ? "warm" : "";

		/* Alternate the order so slow drift (other load, page cache)
		 * hits both sides alike. */
		for (int k = 0; k < 2; k++) {
			bool do_plain = (k == 0) == (i % 2 == 0);

			if (do_plain) {
				struct one o;
				uint64_t c0 = children_cpu_us();
				int rc = plain_once(qemu, cmdline, memory_mb, cpus, kfd, ifd,
						    timeout_ms, &o);
				bool ok = rc == 0 && o.saw_init && o.exited;
				uint64_t cc = children_cpu_us() - c0;

				printf("%-4s %-6s %-10s %10llu %10llu %10llu%s\n", tag, "plain",
				       rc == -ETIMEDOUT ? "timeout" : rc < 0 ? strerror(-rc)
				       : o.saw_init ? "init" : "no-init",
				       (unsigned long long)o.b2i_us, (unsigned long long)o.total_us,
				       (unsigned long long)cc, ok ? "" : "  (not counted)");
				if (ok && i >= warmup) {
					pccpu[pgood] = cc;
					pb2i[pgood] = o.b2i_us;
					ptot[pgood++] = o.total_us;
				}
			} else if (!plain_only) {
				struct bench_sample m;
				uint64_t c0 = children_cpu_us();
				int rc = bench_worker_run(&spec, kernel, initrd, worker, logfd, &m);
				uint64_t cc = children_cpu_us() - c0;
				bool ok = !rc && !m.infra_error && m.boot_to_init_us &&
					  m.outcome == KTSTR__OUTCOME__OUTCOME_POWER_OFF;

				if (rc) {
					fprintf(stderr, "worker run: %s\n", strerror(-rc));
					return 2;
				}
				printf("%-4s %-6s %-10s %10llu %10llu %10llu %9llu %9llu %9llu %8llu%s\n",
				       tag, "worker", bench_outcome_name(m.outcome) + 8,
				       (unsigned long long)m.boot_to_init_us,
				       (unsigned long long)m.total_us, (unsigned long long)cc,
				       (unsigned long long)m.setup_us,
				       (unsigned long long)m.main_cpu_us,
				       (unsigned long long)m.worker_cpu_us,
				       (unsigned long long)m.rss_kb, ok ? "" : "  (not counted)");
				if (!ok && m.error[0])
					printf("     error: %s\n", m.error);
				if (ok && i >= warmup) {
					wccpu[wgood] = cc;
					wb2i[wgood] = m.boot_to_init_us;
					wtot[wgood] = m.total_us;
					wsetup[wgood] = m.setup_us;
					wcpu[wgood] = m.worker_cpu_us;
					wrss[wgood++] = m.rss_kb;
					if (m.have_cpu)
						wmcpu[nmcpu++] = m.main_cpu_us;
				}
				last = m;
			}
			fflush(stdout);
		}
	}
	if (!plain_only)
		printf("# worker %s: kvm_kind %s, engine_detail %s, sandboxed %s\n", worker,
		       last.kvm_kind, last.engine_detail, last.sandboxed);
	printf("counted plain=%zu/%u worker=%zu/%u\n", pgood, n, wgood, plain_only ? 0 : n);
	if (pgood) {
		printf("plain  ");
		bench_print_median("boot_to_init_us", pb2i, pgood);
		printf("plain  ");
		bench_print_median("total_us", ptot, pgood);
		printf("plain  ");
		bench_print_median("all_cpu_us", pccpu, pgood);
	}
	if (wgood) {
		printf("worker ");
		bench_print_median("boot_to_init_us", wb2i, wgood);
		printf("worker ");
		bench_print_median("total_us", wtot, wgood);
		printf("worker ");
		bench_print_median("all_cpu_us", wccpu, wgood);
		printf("worker ");
		bench_print_median("setup_us", wsetup, wgood);
		if (nmcpu) {
			printf("worker ");
			bench_print_median("main_cpu_us", wmcpu, nmcpu);
		}
		printf("worker ");
		bench_print_median("worker_cpu_us", wcpu, wgood);
		printf("worker ");
		bench_print_median("worker_rss_kb", wrss, wgood);
	}
	close(kfd);
	close(ifd);
	if (logfd >= 0)
		close(logfd);
	free(pb2i), free(ptot), free(wb2i), free(wtot), free(wsetup), free(wmcpu), free(wcpu),
		free(wrss), free(pccpu), free(wccpu);
	return pgood || wgood ? 0 : 1;
usage:
	fprintf(stderr,
		"usage: %s --kernel F --initrd F [--cmdline-extra S] [--memory-mb M] [--cpus C]\n"
		"       [--shm-kb K] [-n N] [--warmup W] [--timeout-ms T] [--qemu PATH]\n"
		"       [--worker PATH] [--log FILE] [--plain-only]\n",
		argv[0]);
	return 2;
}
