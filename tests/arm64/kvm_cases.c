/* The arm64 KVM engine (vmm-worker/aarch64/) against the recording fake of
 * its syscall door (kvm_fake.c), built for aarch64 and run under
 * qemu-aarch64-static by scripts/arm64-kvm-lane. What it proves and what only
 * a real arm64 host with /dev/kvm can: docs/aarch64.md, "The arm64 KVM
 * engine". One "PASS name" / "FAIL name: why" line per check. Expected values
 * are written out here from the KVM API and the arm64 boot protocol, not taken
 * from the engine's own helpers. */
#include <errno.h>
#include <libfdt.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "aarch64/a64_machine.h"
#include "aarch64/a64_sys.h"
#include "kvm_fake.h"
#include "policy.h"
#include <sys/syscall.h>
#include "worker.pb-c.h"

static int failures;
static char why[1024];

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			snprintf(why, sizeof(why), __VA_ARGS__);                                   \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

static void report(const char *name, int rc)
{
	if (rc == 0) {
		printf("PASS arm64-kvm/%s\n", name);
	} else {
		printf("FAIL arm64-kvm/%s: %s\n", name, why);
		failures++;
	}
}

/* The VM every case uses: 2,2,2,1 (8 vCPUs, 2 nodes), 512 MiB, a 2 MiB ring
 * at the top, a 64 KiB Image with text_offset 0x80000, a 100000-byte
 * initrd. */
#define MEM (512ull << 20)
#define SHM_SIZE (2ull << 20)
#define SHM_BASE (0x40000000ull + MEM - SHM_SIZE)
#define KLEN (64u << 10)
#define ILEN 100000u
static uint8_t kernel[KLEN], initrd[ILEN];
static struct a64_vm vm;
static struct a64_boot boot;
static char err[300];
static uint8_t out_byte[2][64];
static unsigned out_len[2];

static void out(void *ctx, unsigned port, uint8_t b)
{
	(void)ctx;
	if (port >= 1 && port <= 2 && out_len[port - 1] < sizeof(out_byte[0]))
		out_byte[port - 1][out_len[port - 1]++] = b;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int setup(void)
{
	put64(kernel + 8, 0x80000);	  /* text_offset */
	put64(kernel + 16, 1ull << 20);	  /* image_size */
	put64(kernel + 24, (1u << 1) | (1u << 3)); /* LE, 4 KiB pages, anywhere */
	memcpy(kernel + 56, "ARM\x64", 4);
	for (unsigned i = 64; i < KLEN; i++)
		kernel[i] = (uint8_t)(i * 7);
	for (unsigned i = 0; i < ILEN; i++)
		initrd[i] = (uint8_t)(i * 13 + 1);
	struct a64_machine_spec s = {
		.topo = { .numa_nodes = 2, .llcs = 2, .cores_per_llc = 2, .threads_per_core = 1 },
		.mem_bytes = MEM,
		.shm_base = SHM_BASE,
		.shm_size = SHM_SIZE,
		.kernel = kernel,
		.kernel_len = KLEN,
		.initrd = initrd,
		.initrd_len = ILEN,
		.bootargs = "console=ttyS0 panic=-1",
	};
	fake_reset();
	a64_vm_init(&vm);
	int rc = a64_machine_setup(&vm, &s, &boot, err, sizeof(err));
	if (rc)
		fprintf(stderr, "a64_machine_setup: %d: %s\n", rc, err);
	a64_uarts_init(&vm, out, NULL);
	return rc;
}

/* The placement the engine must choose (a64_boot.c's rule, restated): the
 * tree in the 2 MiB block below the ring's 2 MiB-bound slot, the initrd
 * page-aligned below it, the Image at DRAM + text_offset. */
#define EXP_FDT 0x5fc00000ull /* (SHM_BASE - 2 MiB) rounded down to 2 MiB */
#define EXP_INITRD ((EXP_FDT - ILEN) & ~0xfffull)
#define EXP_LOAD 0x40080000ull

static unsigned at;
static const struct fake_call *next_call(int fd, unsigned long req, const char *what)
{
	if (at >= fake_ncalls) {
		snprintf(why, sizeof(why), "call %u: expected %s, but the engine made only %u calls",
			 at, what, fake_ncalls);
		return NULL;
	}
	const struct fake_call *c = &fake_calls[at++];
	if (c->fd != fd || c->req != req) {
		snprintf(why, sizeof(why), "call %u: expected %s on fd %d, got request 0x%lx on fd %d",
			 at - 1, what, fd, c->req, c->fd);
		return NULL;
	}
	return c;
}
#define NEXT(c, fd, req)                                                                          \
	do {                                                                                       \
		if (!((c) = next_call((fd), (req), #req)))                                         \
			return -1;                                                                 \
	} while (0)

static int ioctl_sequence(void)
{
	const struct fake_call *c;
	at = 0;
	NEXT(c, FAKE_KVM_FD, KVM_GET_API_VERSION);
	NEXT(c, FAKE_KVM_FD, KVM_CREATE_VM);
	CHECK(c->arg == 0, "KVM_CREATE_VM machine type %lu, expected 0", (unsigned long)c->arg);
	NEXT(c, FAKE_KVM_FD, KVM_GET_VCPU_MMAP_SIZE);
	for (unsigned n = 0; n < 2; n++) {
		NEXT(c, FAKE_VM_FD, KVM_SET_USER_MEMORY_REGION);
		CHECK(c->u.mem.slot == n && c->u.mem.guest_phys_addr == 0x40000000ull + n * (256ull << 20) &&
			      c->u.mem.memory_size == 256ull << 20 && c->u.mem.flags == 0 &&
			      c->u.mem.userspace_addr == (uintptr_t)vm.node[n].host && vm.node[n].host,
		      "memory slot %u: gpa 0x%llx size 0x%llx flags %u host 0x%llx", c->u.mem.slot,
		      (unsigned long long)c->u.mem.guest_phys_addr,
		      (unsigned long long)c->u.mem.memory_size, c->u.mem.flags,
		      (unsigned long long)c->u.mem.userspace_addr);
	}
	NEXT(c, FAKE_VM_FD, KVM_ARM_PREFERRED_TARGET);
	for (unsigned i = 0; i < 8; i++) {
		NEXT(c, FAKE_VM_FD, KVM_CREATE_VCPU);
		CHECK(c->arg == i, "KVM_CREATE_VCPU id %lu, expected %u", (unsigned long)c->arg, i);
		NEXT(c, FAKE_VCPU_FD0 + (int)i, KVM_ARM_VCPU_INIT);
		/* bit 2 = PSCI 0.2, bit 0 = POWER_OFF (asm/kvm.h). */
		uint32_t want = i == 0 ? 0x4u : 0x5u;
		CHECK(c->u.init.target == FAKE_TARGET && c->u.init.features[0] == want,
		      "vCPU %u init: target %u features[0] 0x%x, expected %u 0x%x", i,
		      c->u.init.target, c->u.init.features[0], FAKE_TARGET, want);
		for (unsigned f = 1; f < 7; f++)
			CHECK(c->u.init.features[f] == 0, "vCPU %u features[%u] = 0x%x", i, f,
			      c->u.init.features[f]);
	}
	NEXT(c, FAKE_VM_FD, KVM_CREATE_DEVICE);
	CHECK(c->u.dev.type == 7 /* KVM_DEV_TYPE_ARM_VGIC_V3 */ && c->u.dev.flags == 0,
	      "KVM_CREATE_DEVICE type %u flags %u", c->u.dev.type, c->u.dev.flags);
	static const struct {
		uint32_t group;
		uint64_t attr, val;
		int has_val;
	} attrs[] = {
		{ 0 /* GRP_ADDR */, 2 /* V3 DIST */, 0x08000000, 1 },
		{ 0, 3 /* V3 REDIST */, 0x080a0000, 1 },
		{ 3 /* GRP_NR_IRQS */, 0, 96, 1 },
		{ 4 /* GRP_CTRL */, 0 /* CTRL_INIT */, 0, 0 },
	};
	for (unsigned k = 0; k < 4; k++) {
		NEXT(c, FAKE_GIC_FD, KVM_SET_DEVICE_ATTR);
		CHECK(c->u.attr.group == attrs[k].group && c->u.attr.attr == attrs[k].attr &&
			      c->u.attr.has_val == attrs[k].has_val && c->u.attr.val == attrs[k].val,
		      "GIC attr %u: group %u attr %llu value 0x%llx (given: %d)", k, c->u.attr.group,
		      (unsigned long long)c->u.attr.attr, (unsigned long long)c->u.attr.val,
		      c->u.attr.has_val);
	}
	/* Core register ids: KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	 * offset in struct kvm_regs / 4 (x0 at 0, pc at 256, pstate at 264). */
	static const struct {
		uint64_t id, val;
	} regs[] = {
		{ 0x6030000000100000ull, EXP_FDT }, { 0x6030000000100002ull, 0 },
		{ 0x6030000000100004ull, 0 },	    { 0x6030000000100006ull, 0 },
		{ 0x6030000000100042ull, 0x3c5 },   { 0x6030000000100040ull, EXP_LOAD },
	};
	for (unsigned k = 0; k < 6; k++) {
		NEXT(c, FAKE_VCPU_FD0, KVM_SET_ONE_REG);
		CHECK(c->u.reg.id == regs[k].id && c->u.reg.val == regs[k].val,
		      "ONE_REG %u: id 0x%llx = 0x%llx, expected 0x%llx = 0x%llx", k,
		      (unsigned long long)c->u.reg.id, (unsigned long long)c->u.reg.val,
		      (unsigned long long)regs[k].id, (unsigned long long)regs[k].val);
	}
	CHECK(at == fake_ncalls, "%u more KVM calls after the boot registers (first: request 0x%lx)",
	      fake_ncalls - at, fake_calls[at].req);
	return 0;
}

static int uart_node(const void *fdt, uint64_t base, uint32_t spi)
{
	int off = -1;
	int n = fdt_node_offset_by_compatible(fdt, -1, "ns16550a");
	for (; n >= 0; n = fdt_node_offset_by_compatible(fdt, n, "ns16550a")) {
		int len;
		const fdt64_t *reg = fdt_getprop(fdt, n, "reg", &len);
		if (reg && len == 16 && fdt64_to_cpu(reg[0]) == base)
			off = n;
	}
	CHECK(off >= 0, "no ns16550a node with reg 0x%llx", (unsigned long long)base);
	int len;
	const fdt32_t *p = fdt_getprop(fdt, off, "interrupts", &len);
	CHECK(p && len == 12 && fdt32_to_cpu(p[0]) == 0 && fdt32_to_cpu(p[1]) == spi &&
		      fdt32_to_cpu(p[2]) == 4,
	      "UART 0x%llx interrupts: not <0 %u 4> (SPI, level-high)", (unsigned long long)base, spi);
	/* The engine's registers are byte-spaced, 1-byte wide: Linux's
	 * defaults, so neither property may say otherwise. */
	CHECK(!fdt_getprop(fdt, off, "reg-shift", &len) && !fdt_getprop(fdt, off, "reg-io-width", &len),
	      "UART 0x%llx has reg-shift/reg-io-width, but the engine decodes byte registers",
	      (unsigned long long)base);
	return 0;
}

static int tree_in_guest_memory(void)
{
	const void *fdt = a64_gpa(&vm, EXP_FDT, 64);
	CHECK(fdt, "0x%llx is not guest RAM", (unsigned long long)EXP_FDT);
	CHECK(fdt_check_header(fdt) == 0, "no valid FDT header at 0x%llx", (unsigned long long)EXP_FDT);
	CHECK(fdt_totalsize(fdt) <= (2u << 20), "tree of %u bytes", fdt_totalsize(fdt));
	int n = 0;
	for (int o = fdt_node_offset_by_compatible(fdt, -1, "ns16550a"); o >= 0;
	     o = fdt_node_offset_by_compatible(fdt, o, "ns16550a"))
		n++;
	CHECK(n == 2, "%d ns16550a nodes, expected 2", n);
	CHECK(fdt_node_offset_by_compatible(fdt, -1, "arm,pl011") < 0, "a PL011 in the KVM tree");
	if (uart_node(fdt, 0x09000000, 1) || uart_node(fdt, 0x09001000, 2))
		return -1;
	int ch = fdt_path_offset(fdt, "/chosen"), len;
	const fdt64_t *is = fdt_getprop(fdt, ch, "linux,initrd-start", &len);
	const fdt64_t *ie = fdt_getprop(fdt, ch, "linux,initrd-end", &len);
	CHECK(is && ie && fdt64_to_cpu(*is) == EXP_INITRD && fdt64_to_cpu(*ie) == EXP_INITRD + ILEN,
	      "/chosen initrd range is not [0x%llx, +%u)", (unsigned long long)EXP_INITRD, ILEN);
	int rm = fdt_path_offset(fdt, "/reserved-memory"), shm = rm >= 0 ? fdt_first_subnode(fdt, rm) : -1;
	const fdt64_t *sr = shm >= 0 ? fdt_getprop(fdt, shm, "reg", &len) : NULL;
	CHECK(sr && len == 16 && fdt64_to_cpu(sr[0]) == SHM_BASE && fdt64_to_cpu(sr[1]) == SHM_SIZE,
	      "/reserved-memory does not hold the ring at 0x%llx", (unsigned long long)SHM_BASE);
	const uint32_t *magic = a64_gpa(&vm, SHM_BASE, 8);
	CHECK(magic && *magic == 0x53544D52u && vm.ring.base == (volatile uint8_t *)magic,
	      "no formatted ring (magic STMR) at 0x%llx, or the engine's view is elsewhere",
	      (unsigned long long)SHM_BASE);
	const char *m = fdt_getprop(fdt, fdt_path_offset(fdt, "/psci"), "method", &len);
	CHECK(m && strcmp(m, "hvc") == 0, "/psci method is not hvc");
	const uint8_t *k = a64_gpa(&vm, EXP_LOAD, KLEN), *i = a64_gpa(&vm, EXP_INITRD, ILEN);
	CHECK(k && memcmp(k, kernel, KLEN) == 0, "the Image is not at 0x%llx", (unsigned long long)EXP_LOAD);
	CHECK(i && memcmp(i, initrd, ILEN) == 0, "the initrd is not at 0x%llx",
	      (unsigned long long)EXP_INITRD);
	return 0;
}

/* One MMIO exit on vCPU 0. */
static enum a64_exit_result mmio(uint64_t addr, int write, uint32_t len, uint8_t v, uint8_t *rd)
{
	struct kvm_run *r = vm.run[0];
	r->exit_reason = KVM_EXIT_MMIO;
	r->mmio.phys_addr = addr;
	r->mmio.len = len;
	r->mmio.is_write = (uint8_t)write;
	memset(r->mmio.data, 0xaa, sizeof(r->mmio.data));
	r->mmio.data[0] = v;
	err[0] = 0;
	enum a64_exit_result x = a64_handle_exit(&vm, 0, err, sizeof(err));
	if (rd)
		*rd = r->mmio.data[0];
	return x;
}

static int thr_to_com2(void)
{
	out_len[0] = out_len[1] = 0;
	CHECK(mmio(0x09001000, 1, 1, 'Z', NULL) == A64_EXIT_CONTINUE, "THR write: %s", err);
	CHECK(out_len[1] == 1 && out_byte[1][0] == 'Z' && out_len[0] == 0,
	      "COM2 got %u bytes, COM1 %u (expected 'Z' on COM2 only)", out_len[1], out_len[0]);
	CHECK(mmio(0x09000000, 1, 1, 'a', NULL) == A64_EXIT_CONTINUE, "UART0 THR write: %s", err);
	CHECK(out_len[0] == 1 && out_byte[0][0] == 'a' && out_len[1] == 1, "UART0's byte not on COM1");
	return 0;
}

static int lsr_transmitter_empty(void)
{
	uint8_t v = 0;
	CHECK(mmio(0x09001005, 0, 1, 0, &v) == A64_EXIT_CONTINUE, "LSR read: %s", err);
	CHECK((v & 0x60) == 0x60, "LSR = 0x%02x: THRE|TEMT (0x60) not set", v);
	CHECK(vm.run[0]->mmio.data[1] == 0, "LSR read left 0x%02x in the upper bytes",
	      vm.run[0]->mmio.data[1]);
	return 0;
}

static int ier_raises_irq(void)
{
	/* Linux's 8250 driver sets MCR OUT2 on any port with an IRQ; the model
	 * gates the line with it, as a PC's 16550 does. */
	unsigned before = fake_ncalls;
	CHECK(mmio(0x09001004, 1, 1, 0x08 /* MCR OUT2 */, NULL) == A64_EXIT_CONTINUE, "MCR: %s", err);
	CHECK(fake_ncalls == before, "MCR OUT2 alone (IER 0) raised an interrupt");
	CHECK(mmio(0x09001001, 1, 1, 0x02 /* IER THRI */, NULL) == A64_EXIT_CONTINUE, "IER: %s", err);
	CHECK(fake_ncalls == before + 1, "%u KVM calls on IER = THRI, expected one KVM_IRQ_LINE",
	      fake_ncalls - before);
	const struct fake_call *c = &fake_calls[before];
	CHECK(c->fd == FAKE_VM_FD && c->req == KVM_IRQ_LINE &&
		      c->u.irq.irq == ((1u << 24) | 34u) && c->u.irq.level == 1,
	      "IRQ call: fd %d req 0x%lx irq 0x%x level %u, expected VM fd, SPI type << 24 | INTID 34, 1",
	      c->fd, c->req, c->u.irq.irq, c->u.irq.level);
	uint8_t iir = 0;
	CHECK(mmio(0x09001002, 0, 1, 0, &iir) == A64_EXIT_CONTINUE, "IIR: %s", err);
	CHECK((iir & 0x0f) == 0x02, "IIR = 0x%02x, expected THR empty (0x2)", iir);
	c = &fake_calls[fake_ncalls - 1];
	CHECK(fake_ncalls == before + 2 && c->req == KVM_IRQ_LINE && c->u.irq.level == 0,
	      "reading IIR did not lower the line");
	return 0;
}

static int input_reaches_the_guest(void)
{
	unsigned before;
	CHECK(a64_uart_input(&vm, 2, (const uint8_t *)"q", 1) == 1, "COM2 took no byte");
	uint8_t v = 0;
	CHECK(mmio(0x09001005, 0, 1, 0, &v) == A64_EXIT_CONTINUE && (v & 0x01), "LSR 0x%02x: no DR", v);
	CHECK(mmio(0x09001000, 0, 1, 0, &v) == A64_EXIT_CONTINUE && v == 'q', "RBR 0x%02x, expected 'q'", v);
	CHECK(mmio(0x09001005, 0, 1, 0, &v) == A64_EXIT_CONTINUE && !(v & 0x01), "LSR 0x%02x: DR after the read", v);
	/* With IER RDI the byte raises SPI 2. */
	CHECK(mmio(0x09001001, 1, 1, 0x01, NULL) == A64_EXIT_CONTINUE, "IER: %s", err);
	before = fake_ncalls;
	CHECK(a64_uart_input(&vm, 2, (const uint8_t *)"r", 1) == 1, "COM2 took no byte");
	const struct fake_call *c = &fake_calls[fake_ncalls - 1];
	CHECK(fake_ncalls > before && c->req == KVM_IRQ_LINE && c->u.irq.irq == ((1u << 24) | 34u) &&
		      c->u.irq.level == 1,
	      "input with IER RDI did not raise INTID 34");
	CHECK(a64_uart_input(&vm, 3, (const uint8_t *)"x", 1) == 0, "port 3 took a byte");
	return 0;
}

static int system_events(void)
{
	static const struct {
		uint32_t type;
		enum a64_exit_result r;
		int outcome;
	} ev[] = {
		{ KVM_SYSTEM_EVENT_SHUTDOWN, A64_EXIT_POWER_OFF, KTSTR__OUTCOME__OUTCOME_POWER_OFF },
		{ KVM_SYSTEM_EVENT_RESET, A64_EXIT_RESET, KTSTR__OUTCOME__OUTCOME_RESET },
		{ KVM_SYSTEM_EVENT_CRASH, A64_EXIT_PANIC, KTSTR__OUTCOME__OUTCOME_GUEST_PANIC },
	};
	for (unsigned k = 0; k < 3; k++) {
		vm.run[3]->exit_reason = KVM_EXIT_SYSTEM_EVENT;
		vm.run[3]->system_event.type = ev[k].type;
		enum a64_exit_result r = a64_handle_exit(&vm, 3, err, sizeof(err));
		CHECK(r == ev[k].r && a64_exit_outcome(r) == ev[k].outcome,
		      "system event %u -> result %d outcome %d, expected %d %d", ev[k].type, r,
		      a64_exit_outcome(r), ev[k].r, ev[k].outcome);
	}
	return 0;
}

static int unknown_mmio_is_an_error(void)
{
	CHECK(mmio(0x0a000000, 1, 4, 1, NULL) == A64_EXIT_ERROR, "MMIO at 0xa000000 not an error");
	CHECK(strstr(err, "0xa000000"), "the error does not name the address: %s", err);
	const struct fake_call *c = &fake_calls[fake_ncalls - 1];
	CHECK(c->req == KVM_GET_ONE_REG && c->fd == FAKE_VCPU_FD0 && c->u.reg.id == 0x6030000000100040ull &&
		      strstr(err, "PC 0xffff800008012340"),
	      "the error does not name the guest PC read with KVM_GET_ONE_REG: %s", err);
	CHECK(a64_exit_outcome(A64_EXIT_ERROR) == KTSTR__OUTCOME__OUTCOME_KVM_ERROR,
	      "an error is not OUTCOME_KVM_ERROR");
	CHECK(mmio(0x09001000, 1, 4, 1, NULL) == A64_EXIT_ERROR,
	      "a 4-byte write to UART1's byte registers was accepted");
	return 0;
}

/* The vCPU thread's seccomp table as the arm64 worker builds it
 * (sandbox/policy_worker_vcpu.c compiled for aarch64): exactly the ioctls a
 * confined arm64 vCPU thread makes, none of x86's. */
static int vcpu_seccomp_table(void)
{
	static const unsigned long want[] = { KVM_RUN, KVM_GET_ONE_REG, KVM_IRQ_LINE };
	const struct sandbox_policy *p = &sandbox_policy_worker_vcpu;
	unsigned found = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sandbox_rule *r = &p->rules[i];
		CHECK(r->nr == __NR_ioctl && r->nconds == 1 && r->conds[0].arg == 1,
		      "rule %zu (%s) is not an ioctl-number rule", i, r->name);
		unsigned long req = (unsigned long)r->conds[0].b;
		int ok = 0;
		for (unsigned k = 0; k < 3; k++)
			if (req == (uint32_t)want[k]) {
				ok = 1;
				found |= 1u << k;
			}
		CHECK(ok, "rule %zu allows ioctl 0x%lx (%s), which the arm64 vCPU thread never makes", i,
		      req, r->who);
	}
	CHECK(found == 7 && p->nrules == 3, "%zu rules; KVM_RUN/GET_ONE_REG/IRQ_LINE found: 0x%x",
	      p->nrules, found);
	return 0;
}

static int run_loop_power_off(void)
{
	static const struct fake_exit script[] = {
		{ .rc = -EINTR },
		{ .reason = KVM_EXIT_MMIO, .addr = 0x09001000, .len = 1, .write = 1, .data = 'h' },
		{ .reason = KVM_EXIT_MMIO, .addr = 0x09001000, .len = 1, .write = 1, .data = 'i' },
		{ .reason = KVM_EXIT_SYSTEM_EVENT, .event = KVM_SYSTEM_EVENT_SHUTDOWN },
	};
	memcpy(fake_exits[0], script, sizeof(script));
	fake_nexits[0] = 4;
	fake_next_exit[0] = 0;
	fake_runs = 0;
	out_len[0] = out_len[1] = 0;
	atomic_bool stop = false;
	enum a64_exit_result res = A64_EXIT_ERROR;
	int rc = a64_vcpu_loop(&vm, 0, &stop, &res, err, sizeof(err));
	CHECK(rc == 0 && res == A64_EXIT_POWER_OFF, "loop: rc %d result %d (%s)", rc, res, err);
	CHECK(fake_runs == 4, "%u KVM_RUNs, expected 4 (one kicked by EINTR)", fake_runs);
	CHECK(out_len[1] == 2 && memcmp(out_byte[1], "hi", 2) == 0, "COM2 got %u bytes", out_len[1]);
	return 0;
}

static int run_loop_stop_and_errors(void)
{
	atomic_bool stop = true;
	enum a64_exit_result res = A64_EXIT_ERROR;
	fake_nexits[1] = fake_next_exit[1] = 0;
	fake_runs = 0;
	int rc = a64_vcpu_loop(&vm, 1, &stop, &res, err, sizeof(err));
	CHECK(rc == 0 && res == A64_EXIT_CONTINUE && fake_runs == 0,
	      "a stopped vCPU ran: rc %d result %d, %u KVM_RUNs", rc, res, fake_runs);
	stop = false;
	fake_exits[1][0] = (struct fake_exit){ .rc = -EFAULT };
	fake_nexits[1] = 1;
	rc = a64_vcpu_loop(&vm, 1, &stop, &res, err, sizeof(err));
	CHECK(rc == -EFAULT && strstr(err, "KVM_RUN"), "KVM_RUN failing: rc %d, %s", rc, err);
	fake_exits[1][0] = (struct fake_exit){ .reason = KVM_EXIT_FAIL_ENTRY };
	fake_nexits[1] = 1;
	fake_next_exit[1] = 0;
	rc = a64_vcpu_loop(&vm, 1, &stop, &res, err, sizeof(err));
	CHECK(rc == 0 && res == A64_EXIT_ERROR && strstr(err, "exit reason 9"),
	      "FAIL_ENTRY: rc %d result %d, %s", rc, res, err);
	return 0;
}

/* All 8 vCPUs on threads: vCPU 5 writes to COM2 and powers off; the other
 * seven sit in KVM_RUN (the fake blocks them) until the engine kicks them. */
static int threads_end_on_power_off(void)
{
	for (unsigned i = 0; i < 8; i++) {
		fake_nexits[i] = fake_next_exit[i] = 0;
		vm.run[i]->immediate_exit = 0;
	}
	fake_exits[5][0] = (struct fake_exit){ .reason = KVM_EXIT_MMIO, .addr = 0x09001000,
					       .len = 1, .write = 1, .data = '!' };
	fake_exits[5][1] = (struct fake_exit){ .reason = KVM_EXIT_SYSTEM_EVENT,
					       .event = KVM_SYSTEM_EVENT_SHUTDOWN };
	fake_nexits[5] = 2;
	fake_kick_timeouts = 0;
	out_len[1] = 0;
	atomic_bool stop = false;
	struct a64_end end;
	int rc = a64_vm_run(&vm, &stop, &end);
	CHECK(rc == 0 && end.ended && end.res == A64_EXIT_POWER_OFF && end.cpu == 5,
	      "run: rc %d ended %d result %d cpu %u (%s)", rc, end.ended, end.res, end.cpu, end.err);
	CHECK(fake_kick_timeouts == 0, "%u vCPUs were never kicked out of KVM_RUN",
	      (unsigned)fake_kick_timeouts);
	CHECK(atomic_load(&stop) && out_len[1] == 1 && out_byte[1][0] == '!',
	      "stop %d, COM2 %u bytes", (int)atomic_load(&stop), out_len[1]);
	for (unsigned i = 0; i < 8; i++)
		vm.run[i]->immediate_exit = 0;
	return 0;
}

/* The fake's scripts given at run time (kvm_fake.h), as
 * scripts/arm64-kvm-worker-lane hands them to the worker: a64_open_kvm loads
 * $KTSTR_FAKE_KVM_SCRIPT, and the engine's run loop on vCPU 3 takes its
 * steps: text to COM2, an EXIT message into the ring a64_machine_setup
 * formatted, SYSTEM_OFF. A bad script is refused, naming its line (the
 * "kvm_fake:" lines on stderr are those refusals). */
struct ring_got {
	unsigned n;
	uint32_t type, len;
	uint8_t payload[8];
	bool crc_ok;
};

static int ring_got_cb(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len,
		       bool crc_ok)
{
	struct ring_got *g = ctx;
	g->n++;
	g->type = type;
	g->len = len;
	g->crc_ok = crc_ok;
	memcpy(g->payload, payload, len < sizeof(g->payload) ? len : sizeof(g->payload));
	return 0;
}

static int open_with_script(const char *text)
{
	char path[] = "/tmp/ktstr-kvm-fake-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	int rc = write_full(fd, text, strlen(text));
	close(fd);
	if (rc == 0) {
		setenv(FAKE_SCRIPT_ENV, path, 1);
		rc = a64_open_kvm();
		unsetenv(FAKE_SCRIPT_ENV);
	}
	unlink(path);
	return rc;
}

static int runtime_script(void)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "# vCPU 3 prints, leaves its exit code in the ring, powers off\n"
		 "\n"
		 "3 text 0x9001000 ok #1\\n\n"
		 "3 ring 0x%llx 0x%llx EXIT 2a000000\n"
		 "3 off\n",
		 (unsigned long long)SHM_BASE, (unsigned long long)SHM_SIZE);
	int rc = open_with_script(text);
	CHECK(rc == FAKE_KVM_FD && fake_nexits[3] == 8 && fake_nexits[0] == 0,
	      "a64_open_kvm with a script: %d, vCPU 3 has %u steps (want 8)", rc, fake_nexits[3]);
	out_len[1] = 0;
	atomic_bool stop = false;
	enum a64_exit_result res = A64_EXIT_ERROR;
	rc = a64_vcpu_loop(&vm, 3, &stop, &res, err, sizeof(err));
	CHECK(rc == 0 && res == A64_EXIT_POWER_OFF, "loop: rc %d result %d (%s)", rc, res, err);
	CHECK(out_len[1] == 6 && memcmp(out_byte[1], "ok #1\n", 6) == 0, "COM2 got %u bytes",
	      out_len[1]);
	struct ring_got g = { 0 };
	rc = ring_drain(&vm.ring, ring_got_cb, &g, true);
	CHECK(rc == 1 && g.type == KTSTR_MSG_EXIT && g.len == 4 && g.crc_ok && g.payload[0] == 42,
	      "ring: %d messages, type 0x%x, %u bytes, crc %d, first byte %u", rc, g.type, g.len,
	      g.crc_ok, g.payload[0]);
	/* The command line from the tree the engine wrote, as the kernel
	 * would read it. */
	rc = open_with_script("3 bootargs 0x9001000\n3 off\n");
	CHECK(rc == FAKE_KVM_FD, "bootargs script: %d", rc);
	out_len[1] = 0;
	rc = a64_vcpu_loop(&vm, 3, &stop, &res, err, sizeof(err));
	CHECK(rc == 0 && res == A64_EXIT_POWER_OFF, "bootargs loop: rc %d result %d (%s)", rc, res,
	      err);
	CHECK(out_len[1] == 23 && memcmp(out_byte[1], "console=ttyS0 panic=-1\n", 23) == 0,
	      "COM2 got %u bytes: '%.*s'", out_len[1], (int)out_len[1], (const char *)out_byte[1]);
	/* A ring step where no RAM is: KVM_RUN fails, the run loop says so. */
	rc = open_with_script("3 ring 0x20000000 0x100000 EXIT 2a000000\n");
	CHECK(rc == FAKE_KVM_FD, "script with an unmapped ring: %d", rc);
	rc = a64_vcpu_loop(&vm, 3, &stop, &res, err, sizeof(err));
	CHECK(rc == -EFAULT, "ring step outside RAM: rc %d (%s)", rc, err);
	static const char *const bad[] = {
		"3 text 0x9001000 a\\q\n", "16 off\n", "3 jump\n", "3 mmio 0x9001000 0x100\n",
		"3 ring 0x40000000 0x1000 EXITS 00\n", "3 ring 0x40000000 0x1000 EXIT 0g\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = open_with_script(bad[i]);
		CHECK(rc == -EINVAL, "bad script '%s' taken: %d", bad[i], rc);
	}
	char many[FAKE_MAX_EXITS + 64];
	memset(many, 'x', sizeof(many));
	memcpy(many, "0 text 0 ", 9);
	many[sizeof(many) - 1] = 0;
	rc = open_with_script(many);
	CHECK(rc == -EINVAL, "a script of more than %u steps taken: %d", FAKE_MAX_EXITS, rc);
	/* A comment one byte over the file bound: refused unread. */
	static char big[FAKE_SCRIPT_MAX + 2];
	memset(big, '#', FAKE_SCRIPT_MAX + 1);
	rc = open_with_script(big);
	CHECK(rc == -EFBIG, "a script of %u bytes taken: %d", FAKE_SCRIPT_MAX + 1, rc);
	big[FAKE_SCRIPT_MAX] = 0;
	rc = open_with_script(big);
	CHECK(rc == FAKE_KVM_FD, "a script of %u bytes refused: %d", FAKE_SCRIPT_MAX, rc);
	memset(fake_nexits, 0, sizeof(fake_nexits));
	memset(fake_next_exit, 0, sizeof(fake_next_exit));
	return 0;
}

/* A machine set up from spec s with fake_fail_req failing: the return and
 * the reason. */
static unsigned setup_calls; /* KVM calls the last try_setup made */
static int try_setup(const struct ktstr_topo *t, uint64_t mem, unsigned long fail_req, char *e,
		     size_t elen)
{
	struct a64_machine_spec s = {
		.topo = *t, .mem_bytes = mem, .kernel = kernel, .kernel_len = KLEN, .bootargs = "",
	};
	struct a64_vm v;
	struct a64_boot b;
	fake_reset();
	fake_fail_req = fail_req;
	fake_fail_errno = ENODEV;
	a64_vm_init(&v);
	e[0] = 0;
	int rc = a64_machine_setup(&v, &s, &b, e, elen);
	setup_calls = fake_ncalls;
	a64_vm_close(&v);
	fake_reset();
	return rc;
}

static int setup_refusals(void)
{
	char e[300];
	struct ktstr_topo big = { 1, 1, 124, 1 }, ok = { 1, 1, 2, 1 };
	int rc = try_setup(&big, 256ull << 20, 0, e, sizeof(e));
	/* Refused before KVM is asked anything. */
	CHECK(rc == -EINVAL && strstr(e, "124 vCPUs") && strstr(e, "123") && setup_calls == 0,
	      "124 vCPUs: %d %s (%u KVM calls)", rc, e, setup_calls);
	rc = try_setup(&(struct ktstr_topo){ 2, 2, 1, 1 }, 258ull << 20, 0, e, sizeof(e));
	CHECK(rc == -EINVAL && strstr(e, "does not split") && setup_calls == 0,
	      "258 MiB on 2 nodes: %d %s (%u KVM calls)", rc, e, setup_calls);
	rc = try_setup(&ok, 256ull << 20, 0, e, sizeof(e));
	CHECK(rc == 0, "1,1,2,1 with 256 MiB refused: %d %s", rc, e);
	static const struct {
		unsigned long req;
		const char *says;
	} fails[] = {
		{ KVM_CREATE_VM, "KVM_CREATE_VM" },
		{ KVM_SET_USER_MEMORY_REGION, "slot 0 at 0x40000000" },
		{ KVM_ARM_PREFERRED_TARGET, "KVM_ARM_PREFERRED_TARGET" },
		{ KVM_ARM_VCPU_INIT, "KVM_ARM_VCPU_INIT vCPU 0" },
		{ KVM_CREATE_DEVICE, "GICv3" },
		{ KVM_SET_DEVICE_ATTR, "distributor address" },
		{ KVM_SET_ONE_REG, "x0 =" },
	};
	for (unsigned k = 0; k < sizeof(fails) / sizeof(fails[0]); k++) {
		rc = try_setup(&ok, 256ull << 20, fails[k].req, e, sizeof(e));
		CHECK(rc == -ENODEV && strstr(e, fails[k].says) && strstr(e, strerror(ENODEV)),
		      "%s failing: rc %d, error \"%s\" does not say \"%s\"", fails[k].says, rc, e,
		      fails[k].says);
	}
	return 0;
}

int main(void)
{
	if (setup()) {
		printf("FAIL arm64-kvm/setup: a64_machine_setup: %s\n", err);
		return 1;
	}
	report("ioctl_sequence", ioctl_sequence());
	report("tree_in_guest_memory", tree_in_guest_memory());
	report("thr_reaches_com2", thr_to_com2());
	report("lsr_transmitter_empty", lsr_transmitter_empty());
	report("ier_raises_irq", ier_raises_irq());
	report("input_reaches_the_guest", input_reaches_the_guest());
	report("system_events", system_events());
	report("unknown_mmio_is_an_error", unknown_mmio_is_an_error());
	report("vcpu_seccomp_table", vcpu_seccomp_table());
	report("run_loop_power_off", run_loop_power_off());
	report("run_loop_stop_and_errors", run_loop_stop_and_errors());
	report("threads_end_on_power_off", threads_end_on_power_off());
	report("runtime_script", runtime_script());
	report("setup_refusals", setup_refusals());
	a64_vm_close(&vm);
	return failures ? 1 : 0;
}
