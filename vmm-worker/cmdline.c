/* The engine-independent part of the guest kernel command line
 * (docs/reference.md, "Guest kernel command line"; adapted to both engines). Engine-specific words (pci=off where there is no
 * PCI bus, clocksource, virtio-mmio devices) come in through extra_engine. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/guest_contract.h>

#include "engine.h"

/* Why each word is here:
 *  console=ttyS0           kernel console on COM1 (the capture's console tail)
 *  panic=-1 reboot=k       a panic reboots at once; reboot goes through the
 *                          i8042 so the VM ends instead of spinning
 *  i8042.*                 skip probing absent AUX/MUX/PnP ports (slow under TCG)
 *  nokaslr                 host symbol math and stable addresses in reports
 *  mitigations=off         tests measure schedulers, not speculation fixes
 *  no_timer_check tsc=reliable  avoid timer/TSC checks that misfire on
 *                          overcommitted or emulated vCPUs
 *  random.trust_cpu=on     no boot stall waiting for entropy
 *  cryptomgr.notests       crypto self-tests cost seconds under TCG and can hit
 *                          a rare int3 Oops with multi-threaded TCG
 *  nomodules               the initramfs has no modules. (No lockdown= word:
 *                          "none" is not a value the kernel accepts, and
 *                          Debian's configs already default to no lockdown,
 *                          which /dev/mem needs.)
 *  iomem=relaxed           /dev/mem may map the SHM region (STRICT_DEVMEM)
 *  loglevel=1              quiet boot, but KERN_EMERG stays visible: with
 *                          loglevel=0 even "Kernel panic - not syncing" is
 *                          suppressed (console_verbose() keeps 0 at 0), and
 *                          the capture detects panics from COM1. Pass
 *                          loglevel=7 in cmdline_extra for a verbose console
 *                          (the kernel honours the last one).
 *  rdinit=/init            the initramfs' /init is PID 1
 *  sysctl.*                BPF for the scheduler, schedstats on (docs/reference.md) */
static const char base_words[] =
	"console=ttyS0 panic=-1 reboot=k "
	"i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd "
	"nokaslr mitigations=off no_timer_check tsc=reliable random.trust_cpu=on "
	"cryptomgr.notests nomodules iomem=relaxed loglevel=1 rdinit=/init "
	"sysctl.kernel.unprivileged_bpf_disabled=0 sysctl.kernel.sched_schedstats=1";

/* The arm64 guest (QEMU engine, docs/aarch64.md): the same ktstr words,
 * without the x86-only ones. console=ttyAMA0 is the PL011 (COM1); the
 * output port is the virtio console /dev/hvc0, which needs no word. No
 * reboot=k (PSCI resets and powers off), no i8042.* (no such controller),
 * no no_timer_check/tsc=reliable (the architected timer), and the ring is
 * reserved by the device tree's /reserved-memory, not by memmap=. */
static const char arm64_words[] =
	"console=" KTSTR_GUEST_CONSOLE_ARM64 " panic=-1 "
	"nokaslr mitigations=off random.trust_cpu=on "
	"cryptomgr.notests nomodules iomem=relaxed loglevel=1 rdinit=/init "
	"sysctl.kernel.unprivileged_bpf_disabled=0 sysctl.kernel.sched_schedstats=1";

/* The arm64 guest under the arm64 KVM engine (vmm-worker/aarch64/,
 * docs/aarch64.md "Per engine"): the arm64 words, but its UARTs are two
 * ns16550a, so the console is ttyS0 (COM1), and it has no virtio console:
 * the guest's output port is the second 16550, which the guest opens only
 * when told (an 8250 port without hardware opens too, so it cannot probe). */
static const char arm64_kvm_words[] =
	"console=ttyS0 " KTSTR_CMDLINE_OUTPUT_PORT "=ttyS1 panic=-1 "
	"nokaslr mitigations=off random.trust_cpu=on "
	"cryptomgr.notests nomodules iomem=relaxed loglevel=1 rdinit=/init "
	"sysctl.kernel.unprivileged_bpf_disabled=0 sysctl.kernel.sched_schedstats=1";

struct cl {
	char *buf;
	size_t len, pos;
	int err;
};

static void cl_add(struct cl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cl_add(struct cl *c, const char *fmt, ...)
{
	if (c->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->buf + c->pos, c->len - c->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= c->len - c->pos) {
		c->err = -ENOSPC;
		return;
	}
	c->pos += (size_t)n;
}

/* A command line word list may not carry control characters: the kernel
 * would see them and a newline could smuggle text into logs. */
static bool words_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Returns 0, -ENOSPC when the line does not fit in len (len includes the
 * NUL; the x86 kernel accepts 2048 bytes), or -EINVAL when cmdline_extra or
 * extra_engine carries control characters. */
static int cmdline_build(const char *base, const Ktstr__VmSpec *spec, uint64_t shm_base,
			 bool shm_via_memmap, const char *extra_engine, char *buf, size_t len)
{
	if (!buf || !len)
		return -ENOSPC;
	buf[0] = '\0';
	if ((spec->cmdline_extra && !words_ok(spec->cmdline_extra)) ||
	    (extra_engine && !words_ok(extra_engine)))
		return -EINVAL;

	struct cl c = { .buf = buf, .len = len };
	cl_add(&c, "%s", base);
	/* protobuf-c stores the declared default when the field is absent. */
	uint32_t shm = spec->shm_size;
	if (shm) {
		/* memmap=SIZE$BASE makes the kernel treat the region as reserved
		 * (QEMU's E820 has no hole there), so it is never used as RAM
		 * and /dev/mem may map it. */
		if (shm_via_memmap && spec->arch != KTSTR__ARCH__ARCH_ARM64)
			cl_add(&c, " memmap=0x%" PRIx32 "$0x%" PRIx64, shm, shm_base);
		/* The guest finds the ring from these (guest/shm.c). */
		cl_add(&c, " " KTSTR_CMDLINE_SHM_BASE "=0x%" PRIx64 " " KTSTR_CMDLINE_SHM_SIZE
			   "=0x%" PRIx32, shm_base, shm);
	}
	if (extra_engine && extra_engine[0])
		cl_add(&c, " %s", extra_engine);
	if (spec->cmdline_extra && spec->cmdline_extra[0])
		cl_add(&c, " %s", spec->cmdline_extra);
	if (c.err) {
		buf[0] = '\0';
		return c.err;
	}
	return 0;
}

int guest_cmdline_build(const Ktstr__VmSpec *spec, uint64_t shm_base, bool shm_via_memmap,
			const char *extra_engine, char *buf, size_t len)
{
	const char *base = spec->arch == KTSTR__ARCH__ARCH_ARM64 ? arm64_words : base_words;

	return cmdline_build(base, spec, shm_base, shm_via_memmap, extra_engine, buf, len);
}

int guest_cmdline_build_arm64_kvm(const Ktstr__VmSpec *spec, uint64_t shm_base,
				  const char *extra_engine, char *buf, size_t len)
{
	if (spec->arch != KTSTR__ARCH__ARCH_ARM64) {
		if (buf && len)
			buf[0] = '\0';
		return -EINVAL;
	}
	return cmdline_build(arm64_kvm_words, spec, shm_base, false, extra_engine, buf, len);
}
