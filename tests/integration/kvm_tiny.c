/* The KVM engine end to end on this host's /dev/kvm, through the real,
 * confined ktstr-vmm-worker: ktstr-tiny-guests writes a tiny guest image
 * (see tests/tiny-guests), the orchestrator's worker client (worker_client.h)
 * spawns the worker and hands it the image as FD_KERNEL, and each test
 * asserts the outcome and what the host received (COM1, COM2, CPUID topology
 * as the guest saw it, the SHM ring message, fault details).
 *
 * Every scenario must end as before confinement existed and with
 * VmResult.sandboxed = true and the worker exiting 0: an exit path that needed
 * a syscall outside the WORKER_VCPU / WORKER_CTL policies would have killed
 * the worker (SIGSYS), which worker_client turns into an infra error.
 *
 * While a hanging guest runs, the test reads the worker's /proc files
 * (docs/security.md, "KVM engine"): every thread Seccomp 2, NoNewPrivs 1,
 * no capability; its own user namespace; fds exactly 0-2, the control
 * socket, the kernel image, the pre-opened /proc/self/status, the VM fd and
 * one fd per vCPU (no /dev/kvm). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "lib/vmtest.h"
#include "worker_client.h"

static char out[32768];
static size_t out_len;

/* ---- what the test reads from /proc while the guest runs ---------------- */

struct proc_look {
	bool done;
	char status[4096];	/* the worker's /proc/PID/status */
	char tasks[4096];	/* "tid Seccomp NoNewPrivs CapEff comm;" per thread */
	char fds[4096];		/* "N -> target\n" per fd */
	unsigned kernel_fds;	/* fds that are the kernel image (same inode) */
	bool own_userns;	/* /proc/PID/ns/user differs from ours */
};

struct seen {
	struct worker_outcome *out;
	struct proc_look look;
	bool want_look;
	bool stop_on_output;	/* send StopVm once the guest talks */
	volatile int stop;
	int started;		/* VmStarted events */
	struct stat kernel_st;
};

static void look(struct seen *s, pid_t worker)
{
	struct proc_look *l = &s->look;
	char path[128], buf[4096], a[32], b[32], c[32], comm[32];
	size_t used = 0;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)worker);
	vmtest_slurp(path, l->status, sizeof(l->status));
	snprintf(path, sizeof(path), "/proc/%d/task", (int)worker);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/status", (int)worker, de->d_name);
		vmtest_slurp(path, buf, sizeof(buf));
		vmtest_status_field(buf, "Seccomp", a, sizeof(a));
		vmtest_status_field(buf, "NoNewPrivs", b, sizeof(b));
		vmtest_status_field(buf, "CapEff", c, sizeof(c));
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/comm", (int)worker, de->d_name);
		vmtest_slurp(path, comm, sizeof(comm));
		comm[strcspn(comm, "\n")] = '\0';
		used += (size_t)snprintf(l->tasks + used, sizeof(l->tasks) - used, "%s %s %s %s %s;",
					 de->d_name, a, b, c, comm);
		if (used >= sizeof(l->tasks))
			break;
	}
	if (d)
		closedir(d);

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)worker);
	d = opendir(path);
	used = 0;
	while (d && (de = readdir(d))) {
		char link[160], target[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fd/%.32s", (int)worker, de->d_name);
		ssize_t t = readlink(link, target, sizeof(target) - 1);
		target[t > 0 ? t : 0] = '\0';
		/* The worker's root is an empty tmpfs: a path may read oddly
		 * from here, the inode does not. */
		if (stat(link, &st) == 0 && st.st_dev == s->kernel_st.st_dev &&
		    st.st_ino == s->kernel_st.st_ino) {
			l->kernel_fds++;
			snprintf(target, sizeof(target), "KERNEL");
		}
		used += (size_t)snprintf(l->fds + used, sizeof(l->fds) - used, "%s -> %s\n",
					 de->d_name, target);
		if (used >= sizeof(l->fds))
			break;
	}
	if (d)
		closedir(d);

	char mine[128], theirs[128];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)worker);
	ssize_t n1 = readlink("/proc/self/ns/user", mine, sizeof(mine) - 1);
	ssize_t n2 = readlink(path, theirs, sizeof(theirs) - 1);
	l->own_userns = n1 > 0 && n2 > 0 && (n1 != n2 || memcmp(mine, theirs, (size_t)n1) != 0);
	l->done = true;
}

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct seen *s = ctx;

	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_STARTED)
		s->started++;
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && s->stop_on_output)
		s->stop = 1;
	/* The first output proves the guest runs (and the worker confined
	 * itself before it did): look now, while it hangs. */
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && s->want_look && !s->look.done)
		look(s, (pid_t)s->out->worker_pid);
}

/* ---- running one tiny guest through the worker ------------------------- */

static const char *outcome_name(Ktstr__Outcome o)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, o);
	return v ? v->name : "?";
}

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void put(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + out_len, sizeof(out) - out_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_len = out_len + (size_t)n < sizeof(out) ? out_len + (size_t)n : sizeof(out) - 1;
}

static void put_bytes(const char *key, const uint8_t *d, size_t n)
{
	put("%s=", key);
	for (size_t i = 0; i < n; i++)
		put("%c", d[i] == '\n' ? '|' : (d[i] >= 0x20 && d[i] < 0x7f) ? d[i] : '.');
	put("\n");
}

/* The worker's VmResult as "key=value" lines (the format the tests below
 * assert on; ktstr-tiny-guests run prints the same keys). */
static void describe(const struct worker_outcome *wo)
{
	const Ktstr__VmResult *r = wo->result;

	put("infra_error=%d\n", (int)wo->infra_error);
	put("outcome=%s\n", outcome_name(r->outcome));
	put("sandboxed=%d\n", r->has_sandboxed ? (int)r->sandboxed : -1);
	put("worker_exit=%d\n", wo->reaped && WIFEXITED(wo->worker_status)
					? WEXITSTATUS(wo->worker_status)
					: wo->reaped && WIFSIGNALED(wo->worker_status)
						? 128 + WTERMSIG(wo->worker_status)
						: -1);
	if (r->error)
		put("error_what=%s\nerror_why=%s\nerror_hint=%s\n", r->error->what,
		    r->error->why ? r->error->why : "", r->error->hint ? r->error->hint : "");
	if (r->has_kvm_exit_reason)
		put("kvm_exit_reason=%u\n", r->kvm_exit_reason);
	if (r->has_fault_rip)
		put("fault_rip=0x%llx\n", (unsigned long long)r->fault_rip);
	if (r->has_fault_insn) {
		put("fault_insn=");
		for (size_t i = 0; i < r->fault_insn.len; i++)
			put("%02x", r->fault_insn.data[i]);
		put("\n");
	}
	if (r->has_worker_rss_kb)
		put("worker_rss_kb=%llu\n", (unsigned long long)r->worker_rss_kb);
	if (r->has_console_tail)
		put_bytes("com1", r->console_tail.data, r->console_tail.len);
	if (r->has_guest_output)
		put_bytes("com2", r->guest_output.data, r->guest_output.len);
	for (size_t i = 0; i < r->n_ring; i++) {
		const char *name = ring_msg_name(r->ring[i]->type);
		put("ring%zu_type=%s\nring%zu_crc_ok=%d\n", i, name ? name : "?", i,
		    (int)r->ring[i]->crc_ok);
		put_bytes(i == 0 ? "ring0_payload" : "ringN_payload", r->ring[i]->payload.data,
			  r->ring[i]->payload.len);
	}
}

/* Run SCENARIO (as ktstr-tiny-guests names it) in format fmt with topology
 * "N,L,C,T" and a timeout; fills out[] and, with s->want_look, s->look. */
static void run_tiny_opts(const char *scenario, const char *fmt, const char *topo,
			  uint32_t timeout_ms, bool insecure, struct seen *s)
{
	char worker[PATH_MAX], tiny[PATH_MAX], dir[PATH_MAX], image[PATH_MAX + 16];
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	struct worker_outcome wo;
	char *log = NULL;
	int status = 0;

	out_len = 0;
	out[0] = '\0';
	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("/dev/kvm is not usable here");
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", worker, sizeof(worker)), 0,
		     "ktstr-vmm-worker is not built next to this test (make first)");
	cr_assert_eq(vmtest_bin("ktstr-tiny-guests", tiny, sizeof(tiny)), 0,
		     "ktstr-tiny-guests is not built next to this test (make first)");
	cr_assert_eq(vmtest_tmpdir(dir, sizeof(dir)), 0);
	snprintf(image, sizeof(image), "%s/tiny.img", dir);
	char *argv[] = { tiny, "image", (char *)scenario, (char *)fmt, image, NULL };
	int rc = vmtest_run(argv, 30000, &log, &status);
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		vmtest_rm_rf(dir);
		test_missing("tiny guests not built");
	}
	cr_assert(rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "ktstr-tiny-guests image %s %s failed:\n%s", scenario, fmt, log ? log : "");
	free(log);

	int kfd = open(image, O_RDONLY | O_CLOEXEC);
	cr_assert(kfd >= 0, "open %s: %s", image, strerror(errno));
	cr_assert_eq(fstat(kfd, &s->kernel_st), 0);
	cr_assert_eq(sscanf(topo, "%u,%u,%u,%u", &t.numa_nodes, &t.llcs, &t.cores_per_llc,
			    &t.threads_per_core), 4);
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	spec.topology = &t;
	spec.memory_mb = 128; /* the worker's minimum; tiny guests use 2 MiB */
	spec.timeout_ms = timeout_ms;
	spec.has_shm_size = true;
	spec.shm_size = 1u << 20;
	spec.has_stream_output = true;
	spec.stream_output = true; /* the first GuestOutput: the guest runs */
	spec.label = (char *)scenario;
	if (insecure) {
		spec.has_insecure_no_sandbox = true;
		spec.insecure_no_sandbox = true;
	}
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = -1, .stdin_fd = -1,
				  .stdout_fd = -1 };
	struct worker_client_opts o = { .worker_path = worker, .stderr_fd = -2,
					.grace_ms = 20000, .on_event = on_event, .ctx = s,
					.stop = &s->stop };
	s->out = &wo;
	cr_assert_eq(worker_run_vm(&spec, &fds, &o, &wo), 0);
	close(kfd);
	vmtest_rm_rf(dir);
	cr_assert_not_null(wo.result);
	describe(&wo);
	cr_log_info("%s %s %s:\n%s", scenario, fmt, topo, out);
	worker_outcome_free(&wo);
}

static void run_tiny(const char *scenario, const char *fmt, const char *topo, uint32_t timeout_ms)
{
	struct seen s = { 0 };
	run_tiny_opts(scenario, fmt, topo, timeout_ms, false, &s);
}

static void expect(const char *line)
{
	cr_expect(strstr(out, line) != NULL, "expected \"%s\" in:\n%s", line, out);
}

/* What every scenario does before its ending, and how every confined run
 * ends: sandboxed, the worker alive to the end (exit 0, no SIGSYS). */
static void expect_common(void)
{
	expect("infra_error=0\n");
	expect("sandboxed=1\n");
	expect("worker_exit=0\n");
	expect("com1=TINY: hello com1|");
	expect("com2=TINY: hello com2|");
	expect("TINY: ring written|");
	expect("ring0_type=EXIT\nring0_crc_ok=1\nring0_payload=tiny-ring-ok\n");
}

Test(kvm_tiny, poweroff_bzimage_reports_topology_and_ring, .timeout = 120)
{
	run_tiny("poweroff", "bzimage", "1,2,2,2", 10000);
	expect("outcome=OUTCOME_POWER_OFF\n");
	expect_common();
	/* 2 LLCs x 2 cores x 2 threads: SMT shift 1 (2 threads), core-level
	 * shift 2 (4 logical CPUs per LLC package), BSP APIC ID 0. */
	expect("cpuid 1.ebx=00040800 b0.eax=00000001 b0.ebx=00000002 b0.edx=00000000 b1.eax=00000002 b1.ebx=00000004");
}

Test(kvm_tiny, poweroff_pvh, .timeout = 120)
{
	run_tiny("poweroff", "pvh", "1,1,4,1", 10000);
	expect("outcome=OUTCOME_POWER_OFF\n");
	expect_common();
	expect("b0.eax=00000000 b0.ebx=00000001 b0.edx=00000000 b1.eax=00000002 b1.ebx=00000004");
}

Test(kvm_tiny, i8042_reset, .timeout = 120)
{
	run_tiny("reset", "bzimage", "1,1,1,1", 10000);
	expect("outcome=OUTCOME_RESET\n");
	expect_common();
}

Test(kvm_tiny, triple_fault, .timeout = 120)
{
	run_tiny("triple-fault", "pvh", "1,1,2,1", 10000);
	expect("outcome=OUTCOME_TRIPLE_FAULT\n");
	expect_common();
}

Test(kvm_tiny, watchdog_ends_a_hung_guest, .timeout = 120)
{
	run_tiny("hang", "bzimage", "1,1,2,1", 1500);
	expect("outcome=OUTCOME_TIMEOUT\n");
	expect_common();
}

Test(kvm_tiny, unbacked_memory_is_a_kvm_error_with_address, .timeout = 120)
{
	run_tiny("unbacked", "bzimage", "1,1,1,1", 10000);
	expect("outcome=OUTCOME_KVM_ERROR\n");
	expect("0x30000000");
	expect_common();
}

Test(kvm_tiny, panic_marker_ends_the_vm, .timeout = 120)
{
	run_tiny("panic", "pvh", "1,1,1,1", 10000);
	expect("outcome=OUTCOME_GUEST_PANIC\n");
	expect("Kernel panic - not syncing: tiny guest");
	expect("sandboxed=1\n");
	expect("worker_exit=0\n");
}

/* int3 in ring 0: kvm_pvm cannot emulate it (emulation failure with the
 * RIP and the bytes read back through the guest page tables, both from the
 * confined vCPU thread: KVM_GET_REGS/KVM_GET_SREGS and guest memory); hardware
 * KVM delivers it through the null IDT, which ends in a triple fault. */
Test(kvm_tiny, emulation_failure_reports_rip_and_bytes, .timeout = 120)
{
	run_tiny("emulation", "bzimage", "1,1,1,1", 10000);
	expect("sandboxed=1\n");
	expect("worker_exit=0\n");
	if (strstr(out, "OUTCOME_TRIPLE_FAULT"))
		return; /* hardware KVM */
	expect("outcome=OUTCOME_EMULATION_FAILURE\n");
	expect("fault_insn=cc");
	expect("fault_rip=0x100");
}

/* ---- split irqchip: x2APIC topologies and the user-space IOAPIC -------- */

/* The hex value after key in out[] (0 and a failed expectation if absent). */
static unsigned long hex_after(const char *key)
{
	const char *p = strstr(out, key);

	cr_expect_not_null(p, "expected \"%s\" in:\n%s", key, out);
	return p ? strtoul(p + strlen(key), NULL, 16) : 0;
}

/* The max-cpu preset 1,14,9,2 (252 vCPUs): APIC IDs pack as llc << 5 |
 * core << 1 | thread, up to 433, so the engine runs split irqchip with
 * X2APIC_API and our IOAPIC (vmm-worker/kvm/ioapic.c). The tiny guest runs on
 * the BSP only (the 251 APs wait for an INIT/SIPI that never comes) and,
 * confined like any guest: reads/writes the IOAPIC through MMIO, gets a
 * level-triggered COM1 interrupt delivered as an MSI (LAPIC IRR), clears
 * remote IRR through the EOI register, and checks the x2APIC tables. */
static void expect_split_irqchip_common(void)
{
	expect("outcome=OUTCOME_POWER_OFF\n");
	expect_common();
	/* BSP: APIC ID 0; SMT shift 1, core-level shift 5 (9 cores -> 4 bits). */
	expect("cpuid 1.ebx=00120800 b0.eax=00000001 b0.ebx=00000002 b0.edx=00000000 b1.eax=00000005 b1.ebx=00000012");
	expect("TINY: ioapic id=00000000 ver=00170020 id.written=05000000 arb=05000000|");
	/* All ones: writable bits only (delivery status/remote IRR/reserved 0),
	 * destination bits 49-63 (extended destination ID). */
	expect("rte10.ones=fffe0000:0001afff rte4=00008034|");
	/* x2APIC enabled (EXTD|EN|BSP), ID 0; the level interrupt reached the
	 * LAPIC (IRR bit 0x34) and set remote IRR; the EOI register cleared it. */
	expect("apic_base=fee00d00 x2apic_id=00000000 rte4.raised=0000c034 lapic.irr1=00100000 rte4.eoi=00008034|");
	cr_expect(hex_after("cpuid1.ecx=") & (1u << 21), "CPUID 1.ECX.x2APIC");
	cr_expect(hex_after("kvm.eax=") & (1u << 15), "KVM_FEATURE_MSI_EXT_DEST_ID");
	/* MADT: IDs <= 254 (LLCs 0-7: 144 CPUs) as type 0, the other 108 as
	 * type 9 x2APIC entries, the highest 433. */
	expect("madt.x2apic=0000006c madt.lapic=00000090 madt.max_x2apic_id=000001b1|");
}

Test(kvm_tiny, split_irqchip_ioapic_on_the_252_cpu_preset_bzimage, .timeout = 180)
{
	run_tiny("ioapic", "bzimage", "1,14,9,2", 60000);
	expect_split_irqchip_common();
	/* 64-bit body: the interrupt taken twice (the one left pending above
	 * and a new one), the LAPIC EOI cleared remote IRR through
	 * KVM_EXIT_IOAPIC_EOI (needs the MSI routes the engine mirrors). */
	expect("TINY: irqs_taken=00000002 rte4.lapic_eoi=00008034|");
}

Test(kvm_tiny, split_irqchip_ioapic_on_the_252_cpu_preset_pvh, .timeout = 180)
{
	run_tiny("ioapic", "pvh", "1,14,9,2", 60000);
	expect_split_irqchip_common();
}

/* ---- the confinement itself, seen from outside ------------------------- */

Test(kvm_tiny, confined_in_every_thread_with_only_its_fds_while_the_guest_runs, .timeout = 120)
{
	/* 1,1,2,2: four vCPU threads besides the control thread. */
	struct seen s = { .want_look = true };
	run_tiny_opts("hang", "bzimage", "1,1,2,2", 3000, false, &s);
	expect("outcome=OUTCOME_TIMEOUT\n");
	expect_common();
	cr_assert(s.look.done, "the test never saw the guest run (no GuestOutput)");
	struct proc_look *l = &s.look;
	cr_log_info("worker threads (tid Seccomp NoNewPrivs CapEff comm): %s\nworker fds:\n%s",
		    l->tasks, l->fds);

	char v[64];
	vmtest_status_field(l->status, "Seccomp", v, sizeof(v));
	cr_expect_str_eq(v, "2", "Seccomp (2 = filter)");
	vmtest_status_field(l->status, "NoNewPrivs", v, sizeof(v));
	cr_expect_str_eq(v, "1", "NoNewPrivs");
	static const char *const caps[] = { "CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb" };
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		vmtest_status_field(l->status, caps[i], v, sizeof(v));
		cr_expect_str_eq(v, "0000000000000000", "%s", caps[i]);
	}
	/* Every thread, whatever it is: the control thread, the vCPU
	 * threads (named ktstr-vcpuN by the engine) and any task the kernel
	 * attaches to the VM's process (Linux >= 6.13 runs KVM's NX huge
	 * page recovery as a "kvm-nx-lpage-re" vhost task, which never
	 * returns to user space). */
	unsigned vcpu_threads = 0, threads = 0;
	for (const char *p = l->tasks; *p;) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char one[128];
		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		cr_expect(strstr(one, " 2 1 0000000000000000 "),
			  "thread not confined (tid Seccomp NoNewPrivs CapEff comm): %s", one);
		vcpu_threads += strstr(one, " ktstr-vcpu") != NULL;
		threads++;
		p += n + (e ? 1 : 0);
	}
	cr_expect_eq(vcpu_threads, 4, "one thread per vCPU: %s", l->tasks);
	cr_expect_geq(threads, 5, "control thread + 4 vCPU threads: %s", l->tasks);
	cr_expect(l->own_userns, "the worker is in the host's user namespace");

	/* Exactly the documented inventory: 0-2, fd 3 the control socket,
	 * the kernel, /proc/self/status, the VM and 4 vCPU fds. */
	unsigned stdio = 0, sockets = 0, statuses = 0, vms = 0, vcpus = 0, total = 0;
	bool fd3_socket = false;
	for (const char *p = l->fds; *p;) {
		char line[PATH_MAX + 32];
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] ? 1 : 0);
		char *arrow = strstr(line, " -> ");
		cr_assert_not_null(arrow, "bad fd line %s", line);
		*arrow = '\0';
		int fd = atoi(line);
		const char *t = arrow + 4;
		size_t tl = strlen(t);
		total++;
		if (fd <= 2)
			stdio++;
		else if (!strncmp(t, "socket:", 7)) {
			sockets++;
			fd3_socket |= fd == 3;
		} else if (!strcmp(t, "KERNEL"))
			;
		else if (!strcmp(t, "anon_inode:kvm-vm"))
			vms++;
		else if (!strncmp(t, "anon_inode:kvm-vcpu:", 20))
			vcpus++;
		else if (tl >= 7 && !strcmp(t + tl - 7, "/status"))
			statuses++;
		else
			cr_expect_fail("fd %d -> %s is not in the worker's documented inventory", fd, t);
	}
	cr_expect_eq(stdio, 3, "fds 0-2");
	cr_expect(fd3_socket && sockets == 1, "fd 3 is the control socket, the only socket");
	cr_expect_eq(l->kernel_fds, 1, "the kernel fd from RunVm");
	cr_expect_eq(statuses, 1, "the pre-opened /proc/self/status");
	cr_expect_eq(vms, 1, "the VM fd");
	cr_expect_eq(vcpus, 4, "one fd per vCPU");
	cr_expect_eq(total, 11, "nothing else is open (no /dev/kvm):\n%s", l->fds);
	cr_expect_null(strstr(l->fds, "/dev/kvm"), "/dev/kvm is closed after setup");
}

Test(kvm_tiny, insecure_no_sandbox_runs_unconfined_and_says_so, .timeout = 120)
{
	struct seen s = { .want_look = true };
	run_tiny_opts("hang", "bzimage", "1,1,1,1", 1500, true, &s);
	expect("outcome=OUTCOME_TIMEOUT\n");
	expect("sandboxed=0\n");
	expect("worker_exit=0\n");
	cr_assert(s.look.done, "the test never saw the guest run");
	char v[32];
	vmtest_status_field(s.look.status, "Seccomp", v, sizeof(v));
	cr_expect_str_eq(v, "0", "no filter in insecure mode");
	cr_expect(!s.look.own_userns, "no namespaces in insecure mode");
}

/* StopVm reaches the confined control thread on the control socket
 * (recvmsg/poll under WORKER_CTL) and ends the VM as STOPPED. */
Test(kvm_tiny, stop_request_ends_a_confined_vm, .timeout = 120)
{
	struct seen s = { .stop_on_output = true };
	run_tiny_opts("hang", "pvh", "1,1,2,1", 30000, false, &s);
	expect("outcome=OUTCOME_STOPPED\n");
	expect_common();
}

/* A host that refuses user namespaces, simulated for the worker only: this
 * test process (criterion runs each test in its own) makes unshare(2) fail
 * with EPERM, and the worker inherits the filter. The KVM engine must refuse
 * to run the guest (ENGINE_ERROR naming the step and the opt-out), and the
 * opt-out must run it unconfined and say so. */
Test(kvm_tiny, no_user_namespace_fails_closed_unless_opted_out, .timeout = 120)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	cr_assert_not_null(ctx);
	cr_assert_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0), 0);
	cr_assert_eq(seccomp_load(ctx), 0, "loading the test's deny-unshare filter");
	seccomp_release(ctx);

	struct seen s = { 0 };
	run_tiny_opts("poweroff", "bzimage", "1,1,1,1", 10000, false, &s);
	expect("infra_error=0\n");
	expect("outcome=OUTCOME_ENGINE_ERROR\n");
	expect("error_what=confine ktstr-vmm-worker before the guest runs\n");
	expect("user namespace");
	expect("insecure_no_sandbox");
	expect("sandboxed=0\n");
	expect("worker_exit=0\n");
	cr_expect_null(strstr(out, "com1=TINY"), "no guest instruction ran:\n%s", out);

	struct seen s2 = { 0 };
	run_tiny_opts("poweroff", "bzimage", "1,1,1,1", 10000, true, &s2);
	expect("outcome=OUTCOME_POWER_OFF\n");
	expect("sandboxed=0\n");
	expect("com1=TINY: hello com1|");
}
