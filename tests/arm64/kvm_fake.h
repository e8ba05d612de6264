/* A recording fake of the arm64 KVM engine's syscall door
 * (vmm-worker/aarch64/a64_sys.h), linked instead of a64_sys.c into
 * build/tests/arm64/kvm-cases (scripts/arm64-kvm-lane). It answers as arm64
 * KVM would and keeps every ioctl with a copy of what it was given, so the
 * cases check each value the engine hands to KVM. */
#ifndef KTSTR_KVM_FAKE_H
#define KTSTR_KVM_FAKE_H

#include <stdatomic.h>
#include <stdint.h>
#include <linux/kvm.h>

#define FAKE_KVM_FD 1000
#define FAKE_VM_FD 1001
#define FAKE_GIC_FD 1002
#define FAKE_VCPU_FD0 1100 /* vCPU i is FAKE_VCPU_FD0 + i */
#define FAKE_TARGET 5u	   /* KVM_ARM_TARGET_GENERIC_V8 */
#define FAKE_MAX_CALLS 4096u
#define FAKE_PC 0xffff800008012340ull /* what KVM_GET_ONE_REG of the PC answers */

struct fake_call {
	int fd;
	unsigned long req;
	uintptr_t arg;		/* the scalar argument (KVM_CREATE_VCPU, KVM_CREATE_VM) */
	union {
		struct kvm_userspace_memory_region mem;
		struct kvm_vcpu_init init;
		struct kvm_create_device dev;
		struct kvm_irq_level irq;
		struct {
			uint32_t group;
			uint64_t attr, val; /* val: what addr pointed at (0 when NULL) */
			int has_val;
		} attr;
		struct {
			uint64_t id, val;
		} reg;
	} u;
};

/* What the next KVM_RUN does: rc < 0 returns that error; else the exit
 * (reason, and for MMIO addr/len/write/data, for a system event type).
 * reason FAKE_STEP_RING is no exit but a step the guest takes first: the
 * next KVM_RUN writes one ring message (msg_type, payload[0..payload_len))
 * into the SHM ring the engine formatted at guest physical addr
 * (ring_size bytes), through the RAM the engine registered with
 * KVM_SET_USER_MEMORY_REGION, then goes on with the entry after it. */
#define FAKE_STEP_RING 0xfa4e0001u
/* reason FAKE_STEP_BOOTARGS: one 1-byte MMIO write exit at addr per byte of
 * the /chosen/bootargs the engine wrote into the device tree at vCPU 0's X0
 * (KVM_SET_ONE_REG), then a newline: the command line as the kernel would
 * read it. */
#define FAKE_STEP_BOOTARGS 0xfa4e0002u
#define FAKE_MAX_PAYLOAD 64u
struct fake_exit {
	int rc;
	uint32_t reason;
	uint64_t addr;
	uint32_t len, write;
	uint8_t data;
	uint32_t event;
	uint64_t ring_size;
	uint32_t msg_type, payload_len;
	uint8_t payload[FAKE_MAX_PAYLOAD];
};
#define FAKE_MAX_EXITS 512u
#define FAKE_MAX_VCPUS 16u
/* Per vCPU: its script, how long it is, the next entry. When a vCPU's script
 * is used up, KVM_RUN blocks as a powered-off or halted vCPU would: it
 * returns -EINTR once the engine sets immediate_exit (its kick), or
 * -ETIMEDOUT after 10 s (counted in fake_kick_timeouts) when nothing does. */
extern struct fake_exit fake_exits[FAKE_MAX_VCPUS][FAKE_MAX_EXITS];
extern unsigned fake_nexits[FAKE_MAX_VCPUS], fake_next_exit[FAKE_MAX_VCPUS];
extern atomic_uint fake_runs, fake_kick_timeouts;
/* Make every ioctl with request fail_req fail with -fail_errno (0 = none). */
extern unsigned long fake_fail_req;
extern int fake_fail_errno;

extern struct fake_call fake_calls[FAKE_MAX_CALLS];
extern unsigned fake_ncalls;
void fake_reset(void);

/* The scripts given at run time, for the real ktstr-vmm-worker linked with
 * this fake (scripts/arm64-kvm-worker-lane; docs/aarch64.md, "The arm64 KVM
 * engine through the worker (fake KVM)"): when $KTSTR_FAKE_KVM_SCRIPT names a
 * file, a64_open_kvm() loads it into fake_exits before the engine's first
 * ioctl; unset, nothing changes (kvm-cases fills fake_exits itself). At most
 * FAKE_SCRIPT_MAX bytes; one step a line; a line starting with "#" is a
 * comment:
 *
 *   <vcpu> mmio <addr> <byte>     a 1-byte MMIO write exit of byte at addr
 *   <vcpu> text <addr> <text>     one such exit per byte of text (the rest of
 *                                 the line; \n is a newline, \\ a backslash)
 *   <vcpu> bootargs <addr>        FAKE_STEP_BOOTARGS: the tree's command line
 *   <vcpu> ring <gpa> <size> <TYPE> <hex>  FAKE_STEP_RING: message TYPE (four
 *                                 characters, "EXIT") with the payload's bytes
 *   <vcpu> off | reset | crash    KVM_EXIT_SYSTEM_EVENT SHUTDOWN / RESET / CRASH
 *
 * Numbers in C notation (0x...). vcpu < FAKE_MAX_VCPUS, at most
 * FAKE_MAX_EXITS steps per vCPU. A vCPU whose script is used up (or never
 * had one) blocks in KVM_RUN until kicked, as above. A bad file makes
 * a64_open_kvm() fail with -EINVAL and print the line and the reason on
 * stderr (the worker's log). */
#define FAKE_SCRIPT_ENV "KTSTR_FAKE_KVM_SCRIPT"
#define FAKE_SCRIPT_MAX (64u << 10)
/* Parse script text into fake_exits/fake_nexits (reset first): 0, or
 * -EINVAL with err naming the line and why. */
int fake_parse_script(const char *text, char *err, size_t errlen);

#endif
