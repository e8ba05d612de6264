/* ktstr-tiny-guests: run one tiny guest through the real KVM engine and
 * print what the host saw, one "key=value" per line (unconfined: a debugging
 * aid), or write a tiny guest image for tests/integration/kvm_tiny.c, which
 * runs it through the real, confined ktstr-vmm-worker.
 *
 *   ktstr-tiny-guests run SCENARIO [bzimage|pvh] [N,L,C,T] [timeout_ms]
 *   ktstr-tiny-guests image SCENARIO bzimage|pvh FILE   (write the image)
 *
 * SCENARIO: poweroff reset triple-fault hang unbacked emulation panic ioapic. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm-worker/capture.h"
#include "../../vmm-worker/engine.h"
#include "ktstr/log.h"
#include "ktstr/ring.h"
#include "ktstr/util.h"
#include "tiny.h"

static const char *const scenarios[] = { "poweroff", "reset", "triple-fault", "hang",
					 "unbacked", "emulation", "panic", "ioapic" };

static int scenario_id(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
		if (!strcmp(s, scenarios[i]))
			return (int)i;
	return -1;
}

static void print_bytes(const char *key, const uint8_t *d, size_t n)
{
	printf("%s=", key);
	for (size_t i = 0; i < n; i++)
		putchar(d[i] == '\n' ? '|' : (d[i] >= 0x20 && d[i] < 0x7f) ? d[i] : '.');
	putchar('\n');
}

static int run(int sc, enum tiny_format fmt, const char *topo, uint32_t timeout_ms)
{
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	Ktstr__VmResult res = KTSTR__VM_RESULT__INIT;
	volatile int stop = 0;
	struct vm_inputs in = { 0 };
	struct vm_capture *cap;
	struct vm_end end;
	int fd, r;

	if (sscanf(topo, "%u,%u,%u,%u", &t.numa_nodes, &t.llcs, &t.cores_per_llc,
		   &t.threads_per_core) != 4) {
		fprintf(stderr, "bad topology \"%s\": want N,L,C,T\n", topo);
		return 2;
	}
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	spec.topology = &t;
	spec.memory_mb = 64;
	spec.timeout_ms = timeout_ms;
	spec.shm_size = 1u << 20;
	spec.has_shm_size = true;
	/* A debugging aid that calls the engine in-process: confining this
	 * process (empty root, seccomp) would stop it printing its report.
	 * The confined path is tested through the real worker binary
	 * (tests/integration/kvm_tiny.c via `image`). */
	spec.has_insecure_no_sandbox = true;
	spec.insecure_no_sandbox = true;
	/* KTSTR_TINY_PERF=1: performance mode (unpinned; by hand only). */
	if (getenv("KTSTR_TINY_PERF") && !strcmp(getenv("KTSTR_TINY_PERF"), "1")) {
		spec.has_performance_mode = true;
		spec.performance_mode = true;
	}
	fd = tiny_image(fmt, (unsigned)sc, KTSTR_MSG_EXIT, "tiny-ring-ok");
	if (fd < 0) {
		fprintf(stderr, "tiny_image: %s\n", strerror(-fd));
		return 2;
	}
	cap = capture_new(&spec, -1);
	if (!cap) {
		close(fd);
		fprintf(stderr, "capture_new failed\n");
		return 2;
	}
	in = (struct vm_inputs){ .spec = &spec, .kernel_fd = fd, .initrd_fd = -1, .stdin_fd = -1,
				 .stdout_fd = -1, .ctl_sock = -1, .worker_start_us = ktstr_now_us(),
				 .stop_requested = &stop };
	r = kvm_engine_run(&in, cap, &end);
	printf("run_rc=%d\n", r);
	printf("outcome=%s\n", protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor,
								     end.outcome)->name);
	printf("error_what=%s\nerror_why=%s\n", end.error.what, end.error.why);
	printf("kvm_exit_reason=%u\nkvm_suberror=%u\n", end.kvm_exit_reason, end.kvm_suberror);
	if (end.has_fault) {
		printf("fault_rip=0x%llx\n", (unsigned long long)end.fault_rip);
		printf("fault_insn=");
		for (uint32_t i = 0; i < end.fault_insn_len; i++)
			printf("%02x", end.fault_insn[i]);
		putchar('\n');
	}
	if (end.perf.requested) {
		printf("perf: pinned=%d service_pinned=%d hugepages=%d mbind=%d rt=%d service_rt=%d "
		       "exits_disabled=0x%x realtime_hint=%d halt_poll_unset=%d\n",
		       end.perf.pinned, end.perf.service_pinned, end.perf.hugepages, end.perf.mbind,
		       end.perf.rt, end.perf.service_rt, end.perf.exits_disabled,
		       end.perf.realtime_hint, end.perf.halt_poll_unset);
		for (unsigned i = 0; i < end.perf.nnotes; i++)
			printf("perf_note=%s\n", end.perf.notes[i]);
	}
	printf("setup_us=%llu\nrun_us=%llu\n", (unsigned long long)end.setup_us,
	       (unsigned long long)(end.end_us - end.engine_start_us));
	capture_fill_result(cap, end.engine_start_us, &res);
	if (res.has_console_tail)
		print_bytes("com1", res.console_tail.data, res.console_tail.len);
	if (res.has_guest_output)
		print_bytes("com2", res.guest_output.data, res.guest_output.len);
	for (size_t i = 0; i < res.n_ring; i++) {
		const char *name = ring_msg_name(res.ring[i]->type);

		printf("ring%zu_type=%s\nring%zu_crc_ok=%d\n", i, name ? name : "?", i,
		       res.ring[i]->crc_ok);
		print_bytes(i == 0 ? "ring0_payload" : "ringN_payload", res.ring[i]->payload.data,
			    res.ring[i]->payload.len);
	}
	capture_free(cap);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	enum tiny_format fmt = TINY_BZIMAGE;
	int sc;

	klog_init("ktstr-tiny-guests");
	if (argc < 3 || (sc = scenario_id(argv[2])) < 0) {
		fprintf(stderr, "usage: %s run SCENARIO [bzimage|pvh] [N,L,C,T] [timeout_ms]\n"
				"       %s image SCENARIO bzimage|pvh FILE\n", argv[0], argv[0]);
		return 2;
	}
	if (argc > 3 && !strcmp(argv[3], "pvh"))
		fmt = TINY_PVH;
	if (!strcmp(argv[1], "image") && argc == 5) {
		int fd = tiny_image(fmt, (unsigned)sc, KTSTR_MSG_EXIT, "tiny-ring-ok");
		int out = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		char buf[65536];
		ssize_t n;

		if (fd < 0 || out < 0)
			return 1;
		lseek(fd, 0, SEEK_SET);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write_full(out, buf, (size_t)n))
				return 1;
		close(out);
		close(fd);
		return 0;
	}
	if (strcmp(argv[1], "run"))
		return 2;
	return run(sc, fmt, argc > 4 ? argv[4] : "1,1,2,2",
		   argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 0) : 10000);
}
