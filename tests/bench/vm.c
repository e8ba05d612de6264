/* bench-vm: run N VMs one after another through the real ktstr-vmm-worker
 * (orchestrator/worker_client.c, exactly the path `ktstr-orch run` takes)
 * and print what each VmResult says about the host side:
 *
 *   setup_us         VmResult.setup_us: worker main() -> first KVM_RUN (KVM
 *                    engine) or -> QEMU exec'd (QEMU engine), wall clock
 *   start_cpu_us     CPU the worker process had used when its VmStarted
 *                    arrived (sum of /proc/PID/task/ * /schedstat, so it
 *                    counts from fork, through exec and ld.so, not only from
 *                    main()); main_cpu_us is the main thread alone, which is
 *                    where setup runs (vCPU threads only run the guest)
 *   worker_cpu_us    VmResult.worker_cpu_us: the worker's CPU for the whole
 *                    VM (CLOCK_PROCESS_CPUTIME_ID just before the result)
 *   rss_kb           VmResult.worker_rss_kb: VmRSS - RssShmem at the end
 *   boot_to_init_us  VmResult.boot_to_init_us (QEMU/probe init)
 *   total_us         VmResult.total_us
 *
 * Prints one line per run, then "median ..." lines over the runs that ended
 * with the expected outcome. Warm-up runs (default 1: first exec of the
 * worker/QEMU, cold page cache) are printed but not counted. Exit 0 when at
 * least one run counted, 1 otherwise: the figures are never asserted.
 *
 *   bench-vm --engine kvm|qemu --kernel F [--initrd F] [--cmdline-extra S]
 *            [--memory-mb M] [--topology N,L,C,T] [--shm-kb K] [-n N]
 *            [--warmup W] [--timeout-ms T] [--expect OUTCOME] [--worker P]
 *            [--log FILE] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "bench.h"

static int outcome_by_name(const char *s, Ktstr__Outcome *o)
{
	char full[64];
	const ProtobufCEnumValue *v;

	snprintf(full, sizeof(full), "OUTCOME_%s", s);
	for (char *p = full; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	v = protobuf_c_enum_descriptor_get_value_by_name(&ktstr__outcome__descriptor, full);
	if (!v)
		return -EINVAL;
	*o = (Ktstr__Outcome)v->value;
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --engine kvm|qemu --kernel F [--initrd F] [--cmdline-extra S]\n"
		"       [--memory-mb M] [--topology N,L,C,T] [--shm-kb K] [-n N] [--warmup W]\n"
		"       [--timeout-ms T] [--expect OUTCOME] [--worker PATH] [--log FILE]\n",
		argv0);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline-extra", required_argument, NULL, 'c' },
		{ "memory-mb", required_argument, NULL, 'm' },
		{ "topology", required_argument, NULL, 't' },
		{ "shm-kb", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "expect", required_argument, NULL, 'x' },
		{ "worker", required_argument, NULL, 'W' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *log = NULL;
	Ktstr__Outcome expect = KTSTR__OUTCOME__OUTCOME_POWER_OFF;
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology topo = KTSTR__TOPOLOGY__INIT;
	char worker[PATH_MAX] = "";
	unsigned n = 10, warmup = 1, memory_mb = 256, shm_kb = 1024, timeout_ms = 60000;
	uint64_t *setup, *scpu, *mcpu, *wcpu, *rss, *b2i, *tot, *cwall;
	size_t good = 0, nb2i = 0, ncpu = 0;
	int opt, logfd = -1;
	struct bench_sample last;

	topo.numa_nodes = 1;
	topo.llcs = 1;
	topo.cores_per_llc = 2;
	topo.threads_per_core = 1;
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	while ((opt = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (!strcmp(optarg, "kvm"))
				spec.engine = KTSTR__ENGINE__ENGINE_KVM;
			else if (!strcmp(optarg, "qemu"))
				spec.engine = KTSTR__ENGINE__ENGINE_QEMU;
			else
				return usage(argv[0]), 2;
			break;
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'c': cmdline = optarg; break;
		case 'm': memory_mb = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't':
			if (sscanf(optarg, "%u,%u,%u,%u", &topo.numa_nodes, &topo.llcs,
				   &topo.cores_per_llc, &topo.threads_per_core) != 4)
				return usage(argv[0]), 2;
			break;
		case 's': shm_kb = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': warmup = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'T': timeout_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'x':
			if (outcome_by_name(optarg, &expect))
				return fprintf(stderr, "unknown outcome %s\n", optarg), 2;
			break;
		case 'W': snprintf(worker, sizeof(worker), "%s", optarg); break;
		case 'l': log = optarg; break;
		default: return usage(argv[0]), 2;
		}
	}
	if (!kernel || !n || n > 1000)
		return usage(argv[0]), 2;
	if (!worker[0] && bench_sibling_bin("ktstr-vmm-worker", worker, sizeof(worker))) {
		fprintf(stderr, "ktstr-vmm-worker not found beside this build (make first)\n");
		return 2;
	}
	if (log && (logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "open %s: %s\n", log, strerror(errno));
		return 2;
	}
	spec.topology = &topo;
	spec.memory_mb = memory_mb;
	spec.timeout_ms = timeout_ms;
	spec.has_shm_size = true;
	spec.shm_size = shm_kb * 1024;
	spec.cmdline_extra = (char *)cmdline;
	spec.label = "bench";
	memset(&last, 0, sizeof(last));

	setup = calloc(n, sizeof(uint64_t));
	scpu = calloc(n, sizeof(uint64_t));
	mcpu = calloc(n, sizeof(uint64_t));
	wcpu = calloc(n, sizeof(uint64_t));
	rss = calloc(n, sizeof(uint64_t));
	b2i = calloc(n, sizeof(uint64_t));
	tot = calloc(n, sizeof(uint64_t));
	cwall = calloc(n, sizeof(uint64_t));
	if (!setup || !scpu || !mcpu || !wcpu || !rss || !b2i || !tot || !cwall)
		return fprintf(stderr, "out of memory\n"), 2;

	printf("# %s engine, kernel %s, initrd %s, %u MB, topology %u,%u,%u,%u, %u runs + %u warm-up\n",
	       spec.engine == KTSTR__ENGINE__ENGINE_KVM ? "KVM" : "QEMU", kernel,
	       initrd ? initrd : "(none)", memory_mb, topo.numa_nodes, topo.llcs,
	       topo.cores_per_llc, topo.threads_per_core, n, warmup);
	printf("%-4s %-26s %9s %9s %9s %9s %9s %9s %9s %9s\n", "run", "outcome", "setup_us",
	       "startcpu", "main_cpu", "wcpu_us", "rss_kb", "b2init_us", "total_us", "cwall_us");
	for (unsigned i = 0; i < n + warmup; i++) {
		struct bench_sample m;
		bool ok, counted;
		int rc = bench_worker_run(&spec, kernel, initrd, worker, logfd, &m);

		if (rc) {
			fprintf(stderr, "run %u: %s\n", i, strerror(-rc));
			return 2;
		}
		ok = !m.infra_error && m.outcome == expect;
		counted = ok && i >= warmup;
		printf("%-4s %-26s %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu%s\n",
		       i < warmup ? "warm" : "", bench_outcome_name(m.outcome),
		       (unsigned long long)m.setup_us, (unsigned long long)m.start_cpu_us,
		       (unsigned long long)m.main_cpu_us, (unsigned long long)m.worker_cpu_us,
		       (unsigned long long)m.rss_kb, (unsigned long long)m.boot_to_init_us,
		       (unsigned long long)m.total_us, (unsigned long long)m.client_start_us,
		       ok ? "" : "  (not counted)");
		if (!ok && m.error[0])
			printf("     error: %s\n", m.error);
		fflush(stdout);
		if (counted) {
			setup[good] = m.setup_us;
			wcpu[good] = m.worker_cpu_us;
			rss[good] = m.rss_kb;
			tot[good] = m.total_us;
			cwall[good] = m.client_start_us;
			if (m.have_cpu) {
				scpu[ncpu] = m.start_cpu_us;
				mcpu[ncpu++] = m.main_cpu_us;
			}
			if (m.boot_to_init_us)
				b2i[nb2i++] = m.boot_to_init_us;
			good++;
		}
		last = m;
	}
	printf("# worker %s: kvm_kind %s, engine_detail %s, sandboxed %s\n", worker,
	       last.kvm_kind, last.engine_detail, last.sandboxed);
	printf("counted=%zu/%u\n", good, n);
	if (good) {
		bench_print_median("setup_us", setup, good);
		if (ncpu) {
			bench_print_median("start_cpu_us", scpu, ncpu);
			bench_print_median("main_cpu_us", mcpu, ncpu);
		}
		bench_print_median("worker_cpu_us", wcpu, good);
		bench_print_median("worker_rss_kb", rss, good);
		if (nb2i)
			bench_print_median("boot_to_init_us", b2i, nb2i);
		bench_print_median("total_us", tot, good);
		bench_print_median("client_start_us", cwall, good);
	}
	if (logfd >= 0)
		close(logfd);
	free(setup), free(scpu), free(mcpu), free(wcpu), free(rss), free(b2i), free(tot), free(cwall);
	return good ? 0 : 1;
}
