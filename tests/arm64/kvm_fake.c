/* The recording fake of a64_sys.h (kvm_fake.h). */
#include <errno.h>
#include <libfdt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "aarch64/a64_sys.h"
#include "kvm_fake.h"

struct fake_call fake_calls[FAKE_MAX_CALLS];
unsigned fake_ncalls;
struct fake_exit fake_exits[FAKE_MAX_VCPUS][FAKE_MAX_EXITS];
unsigned fake_nexits[FAKE_MAX_VCPUS], fake_next_exit[FAKE_MAX_VCPUS];
atomic_uint fake_runs, fake_kick_timeouts;
unsigned long fake_fail_req;
int fake_fail_errno;
/* The kvm_run mapping of each vCPU fd (a64_map_run), for KVM_RUN to fill. */
static struct kvm_run *run_of[256];
/* The RAM the engine registered, per slot: where a ring step writes. */
#define FAKE_MAX_SLOTS 64u
static struct kvm_userspace_memory_region slot_of[FAKE_MAX_SLOTS];
/* vCPU 0's X0 as the engine set it (KVM_SET_ONE_REG): the device tree's
 * guest address, for a bootargs step. */
#define FAKE_X0_ID (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		    KVM_REG_ARM_CORE_REG(regs.regs[0]))
static uint64_t boot_x0;
/* A bootargs step under way, per vCPU: the text (malloc'd) and how much of
 * it went out. */
static char *bootargs_of[FAKE_MAX_VCPUS];
static size_t bootargs_pos[FAKE_MAX_VCPUS];

void fake_reset(void)
{
	fake_ncalls = 0;
	memset(fake_calls, 0, sizeof(fake_calls));
	memset(fake_nexits, 0, sizeof(fake_nexits));
	memset(fake_next_exit, 0, sizeof(fake_next_exit));
	fake_runs = 0;
	fake_kick_timeouts = 0;
	fake_fail_req = 0;
	fake_fail_errno = 0;
	memset(slot_of, 0, sizeof(slot_of));
	boot_x0 = 0;
}

/* ---- the scripts given at run time (kvm_fake.h) ---------------------------- */

static int script_line(char *line, char *err, size_t errlen);

int fake_parse_script(const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text);
	unsigned n = 0;
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(fake_nexits, 0, sizeof(fake_nexits));
	memset(fake_next_exit, 0, sizeof(fake_next_exit));
	for (unsigned i = 0; i < FAKE_MAX_VCPUS; i++) {
		free(bootargs_of[i]);
		bootargs_of[i] = NULL;
		bootargs_pos[i] = 0;
	}
	for (char *p = copy, *nl; p && rc == 0; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		n++;
		rc = script_line(p, err, errlen);
		if (rc < 0) {
			size_t len = strlen(err);
			snprintf(err + len, errlen - len, " (line %u)", n);
		}
	}
	free(copy);
	return rc;
}

/* Append one step to vCPU cpu's script. */
static struct fake_exit *step(unsigned cpu, char *err, size_t errlen)
{
	if (fake_nexits[cpu] >= FAKE_MAX_EXITS) {
		snprintf(err, errlen, "vCPU %u: more than %u steps", cpu, FAKE_MAX_EXITS);
		return NULL;
	}
	struct fake_exit *x = &fake_exits[cpu][fake_nexits[cpu]++];
	memset(x, 0, sizeof(*x));
	return x;
}

static int num(const char *s, uint64_t max, uint64_t *v, const char *what, char *err,
	       size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long long x = s ? strtoull(s, &end, 0) : 0;
	if (!s || errno || end == s || *end || x > max) {
		snprintf(err, errlen, "%s '%s': a number up to 0x%llx", what, s ? s : "",
			 (unsigned long long)max);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static int script_line(char *line, char *err, size_t errlen)
{
	char *save = NULL;
	uint64_t cpu, addr, v;

	if (line[strspn(line, " \t")] == '#')
		return 0; /* a comment: text steps may hold '#' */
	char *tcpu = strtok_r(line, " \t", &save);
	if (!tcpu)
		return 0; /* empty or comment */
	char *op = strtok_r(NULL, " \t", &save);
	if (num(tcpu, FAKE_MAX_VCPUS - 1, &cpu, "vCPU", err, errlen) < 0)
		return -EINVAL;
	if (!op) {
		snprintf(err, errlen, "vCPU %llu: no step (mmio, text, bootargs, ring, off, reset, crash)",
			 (unsigned long long)cpu);
		return -EINVAL;
	}
	static const struct {
		const char *name;
		uint32_t event;
	} ev[] = { { "off", KVM_SYSTEM_EVENT_SHUTDOWN },
		   { "reset", KVM_SYSTEM_EVENT_RESET },
		   { "crash", KVM_SYSTEM_EVENT_CRASH } };
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		if (strcmp(op, ev[i].name))
			continue;
		struct fake_exit *x = step((unsigned)cpu, err, errlen);
		if (!x)
			return -EINVAL;
		x->reason = KVM_EXIT_SYSTEM_EVENT;
		x->event = ev[i].event;
		return 0;
	}
	if (!strcmp(op, "mmio")) {
		if (num(strtok_r(NULL, " \t", &save), UINT64_MAX, &addr, "address", err, errlen) < 0 ||
		    num(strtok_r(NULL, " \t", &save), 0xff, &v, "byte", err, errlen) < 0)
			return -EINVAL;
		struct fake_exit *x = step((unsigned)cpu, err, errlen);
		if (!x)
			return -EINVAL;
		*x = (struct fake_exit){ .reason = KVM_EXIT_MMIO, .addr = addr, .len = 1,
					 .write = 1, .data = (uint8_t)v };
		return 0;
	}
	if (!strcmp(op, "bootargs")) {
		if (num(strtok_r(NULL, " \t", &save), UINT64_MAX, &addr, "address", err, errlen) < 0)
			return -EINVAL;
		struct fake_exit *x = step((unsigned)cpu, err, errlen);
		if (!x)
			return -EINVAL;
		*x = (struct fake_exit){ .reason = FAKE_STEP_BOOTARGS, .addr = addr };
		return 0;
	}
	if (!strcmp(op, "text")) {
		if (num(strtok_r(NULL, " \t", &save), UINT64_MAX, &addr, "address", err, errlen) < 0)
			return -EINVAL;
		/* The rest of the line, as written (one separator skipped). */
		const char *t = save ? save : "";
		for (; *t; t++) {
			uint8_t b = (uint8_t)*t;
			if (*t == '\\') {
				if (t[1] == 'n')
					b = '\n';
				else if (t[1] == '\\')
					b = '\\';
				else {
					snprintf(err, errlen, "text: '\\%c': only \\n and \\\\",
						 t[1] ? t[1] : ' ');
					return -EINVAL;
				}
				t++;
			}
			struct fake_exit *x = step((unsigned)cpu, err, errlen);
			if (!x)
				return -EINVAL;
			*x = (struct fake_exit){ .reason = KVM_EXIT_MMIO, .addr = addr, .len = 1,
						 .write = 1, .data = b };
		}
		return 0;
	}
	if (!strcmp(op, "ring")) {
		uint64_t size;
		if (num(strtok_r(NULL, " \t", &save), UINT64_MAX, &addr, "ring address", err,
			errlen) < 0 ||
		    num(strtok_r(NULL, " \t", &save), KTSTR_RING_MAX_CAPACITY, &size, "ring size",
			err, errlen) < 0)
			return -EINVAL;
		const char *type = strtok_r(NULL, " \t", &save), *hex = strtok_r(NULL, " \t", &save);
		if (!type || strlen(type) != 4) {
			snprintf(err, errlen, "ring: message type '%s': four characters (EXIT)",
				 type ? type : "");
			return -EINVAL;
		}
		size_t hl = hex ? strlen(hex) : 0;
		if (hl % 2 || hl / 2 > FAKE_MAX_PAYLOAD) {
			snprintf(err, errlen, "ring: payload '%s': hex bytes, at most %u",
				 hex ? hex : "", FAKE_MAX_PAYLOAD);
			return -EINVAL;
		}
		struct fake_exit *x = step((unsigned)cpu, err, errlen);
		if (!x)
			return -EINVAL;
		x->reason = FAKE_STEP_RING;
		x->addr = addr;
		x->ring_size = size;
		x->msg_type = (uint32_t)(uint8_t)type[0] << 24 | (uint32_t)(uint8_t)type[1] << 16 |
			      (uint32_t)(uint8_t)type[2] << 8 | (uint8_t)type[3];
		for (size_t i = 0; i < hl / 2; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "ring: payload '%s': not hex", hex);
				return -EINVAL;
			}
			x->payload[i] = (uint8_t)(hi << 4 | lo);
		}
		x->payload_len = (uint32_t)(hl / 2);
		return 0;
	}
	snprintf(err, errlen, "vCPU %llu: unknown step '%s' (mmio, text, bootargs, ring, off, reset, crash)",
		 (unsigned long long)cpu, op);
	return -EINVAL;
}

int a64_open_kvm(void)
{
	const char *path = getenv(FAKE_SCRIPT_ENV);
	char *text = NULL, err[256];
	int rc;

	if (!path)
		return FAKE_KVM_FD;
	rc = read_file(path, &text, NULL, FAKE_SCRIPT_MAX);
	if (rc < 0) {
		fprintf(stderr, "kvm_fake: %s=%s: %s (a script of at most %u bytes)\n",
			FAKE_SCRIPT_ENV, path, strerror(-rc), FAKE_SCRIPT_MAX);
		return rc;
	}
	rc = fake_parse_script(text, err, sizeof(err));
	free(text);
	if (rc < 0) {
		fprintf(stderr, "kvm_fake: %s=%s: %s\n", FAKE_SCRIPT_ENV, path, err);
		return rc;
	}
	return FAKE_KVM_FD;
}

/* The host address of guest range [gpa, gpa + len) when one registered
 * RAM slot holds all of it, else NULL. */
static void *guest_ptr(uint64_t gpa, uint64_t len)
{
	for (unsigned s = 0; s < FAKE_MAX_SLOTS; s++) {
		const struct kvm_userspace_memory_region *m = &slot_of[s];
		if (!m->memory_size || gpa < m->guest_phys_addr ||
		    gpa - m->guest_phys_addr > m->memory_size ||
		    len > m->memory_size - (gpa - m->guest_phys_addr))
			continue;
		return (void *)(uintptr_t)(m->userspace_addr + (gpa - m->guest_phys_addr));
	}
	return NULL;
}

/* A ring step: one message into the ring at guest physical x->addr. */
static int ring_step(const struct fake_exit *x)
{
	void *host = guest_ptr(x->addr, x->ring_size);
	if (!host) {
		fprintf(stderr,
			"kvm_fake: ring step at 0x%llx (%llu bytes): no registered RAM holds it\n",
			(unsigned long long)x->addr, (unsigned long long)x->ring_size);
		return -EFAULT;
	}
	struct ktstr_ring r;
	int rc = ring_attach(&r, host, x->ring_size);
	if (rc == 0)
		rc = ring_write(&r, x->msg_type, x->payload, x->payload_len);
	if (rc < 0)
		fprintf(stderr, "kvm_fake: ring step at 0x%llx (%llu bytes): %s\n",
			(unsigned long long)x->addr, (unsigned long long)x->ring_size, strerror(-rc));
	return rc;
}

/* A bootargs step's text: /chosen/bootargs of the device tree at vCPU 0's X0,
 * as the kernel would read it, and a newline; malloc'd, or NULL (why on
 * stderr). */
static char *tree_bootargs(void)
{
	const void *fdt = guest_ptr(boot_x0, sizeof(struct fdt_header));
	if (!fdt || fdt_check_header(fdt) != 0 || !guest_ptr(boot_x0, fdt_totalsize(fdt))) {
		fprintf(stderr, "kvm_fake: bootargs step: no device tree at X0 = 0x%llx\n",
			(unsigned long long)boot_x0);
		return NULL;
	}
	int node = fdt_path_offset(fdt, "/chosen"), len = 0;
	const char *p = node >= 0 ? fdt_getprop(fdt, node, "bootargs", &len) : NULL;
	if (!p || len < 1 || p[len - 1]) {
		fprintf(stderr, "kvm_fake: bootargs step: the tree has no /chosen/bootargs string\n");
		return NULL;
	}
	char *s = malloc((size_t)len + 1);
	if (!s)
		return NULL;
	memcpy(s, p, (size_t)len - 1);
	s[len - 1] = '\n';
	s[len] = '\0';
	return s;
}

/* A 1-byte MMIO write exit of b at addr into r. */
static void mmio_exit(struct kvm_run *r, uint64_t addr, uint8_t b)
{
	r->exit_reason = KVM_EXIT_MMIO;
	r->mmio.phys_addr = addr;
	r->mmio.len = 1;
	r->mmio.is_write = 1;
	memset(r->mmio.data, 0, sizeof(r->mmio.data));
	r->mmio.data[0] = b;
}

int a64_ioctl(int fd, unsigned long req, void *arg)
{
	if (fake_ncalls >= FAKE_MAX_CALLS)
		return -E2BIG;
	struct fake_call *c = &fake_calls[fake_ncalls++];
	c->fd = fd;
	c->req = req;
	c->arg = (uintptr_t)arg;
	if (fake_fail_req && req == fake_fail_req)
		return -fake_fail_errno;
	switch (req) {
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CREATE_VM:
		return FAKE_VM_FD;
	case KVM_GET_VCPU_MMAP_SIZE:
		return 3 * 4096;
	case KVM_SET_USER_MEMORY_REGION:
		c->u.mem = *(struct kvm_userspace_memory_region *)arg;
		if (c->u.mem.slot < FAKE_MAX_SLOTS)
			slot_of[c->u.mem.slot] = c->u.mem;
		return 0;
	case KVM_ARM_PREFERRED_TARGET: {
		struct kvm_vcpu_init *i = arg;
		memset(i, 0, sizeof(*i));
		i->target = FAKE_TARGET;
		return 0;
	}
	case KVM_CREATE_VCPU:
		return FAKE_VCPU_FD0 + (int)(uintptr_t)arg;
	case KVM_ARM_VCPU_INIT:
		c->u.init = *(struct kvm_vcpu_init *)arg;
		return 0;
	case KVM_CREATE_DEVICE: {
		struct kvm_create_device *d = arg;
		c->u.dev = *d;
		d->fd = FAKE_GIC_FD;
		return 0;
	}
	case KVM_SET_DEVICE_ATTR: {
		struct kvm_device_attr *a = arg;
		c->u.attr.group = a->group;
		c->u.attr.attr = a->attr;
		c->u.attr.has_val = a->addr != 0;
		if (a->addr)
			/* NR_IRQS is a u32, the addresses u64. */
			c->u.attr.val = a->group == KVM_DEV_ARM_VGIC_GRP_NR_IRQS
						? *(uint32_t *)(uintptr_t)a->addr
						: *(uint64_t *)(uintptr_t)a->addr;
		return 0;
	}
	case KVM_SET_ONE_REG: {
		struct kvm_one_reg *r = arg;
		c->u.reg.id = r->id;
		c->u.reg.val = *(uint64_t *)(uintptr_t)r->addr;
		if (fd == FAKE_VCPU_FD0 && r->id == FAKE_X0_ID)
			boot_x0 = c->u.reg.val;
		return 0;
	}
	case KVM_GET_ONE_REG: {
		struct kvm_one_reg *r = arg;
		c->u.reg.id = r->id;
		*(uint64_t *)(uintptr_t)r->addr = FAKE_PC;
		return 0;
	}
	case KVM_IRQ_LINE:
		c->u.irq = *(struct kvm_irq_level *)arg;
		return 0;
	default:
		return -ENOTTY;
	}
}

int a64_run(int vcpu_fd)
{
	unsigned i = (unsigned)(vcpu_fd - FAKE_VCPU_FD0);
	fake_runs++;
	if (i >= FAKE_MAX_VCPUS || !run_of[i])
		return -EBADF;
	struct kvm_run *r = run_of[i];
	if (fake_next_exit[i] >= fake_nexits[i]) {
		/* Blocked in the guest until kicked (bounded). */
		for (unsigned ms = 0; ms < 10000; ms++) {
			if (__atomic_load_n(&r->immediate_exit, __ATOMIC_ACQUIRE))
				return -EINTR;
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
		fake_kick_timeouts++;
		return -ETIMEDOUT;
	}
	const struct fake_exit *x = &fake_exits[i][fake_next_exit[i]];
	if (x->reason == FAKE_STEP_BOOTARGS) {
		/* One exit per byte; the step is done after the last. */
		if (!bootargs_of[i] && !(bootargs_of[i] = tree_bootargs()))
			return -EPROTO;
		if (bootargs_of[i][bootargs_pos[i]]) {
			mmio_exit(r, x->addr, (uint8_t)bootargs_of[i][bootargs_pos[i]++]);
			return 0;
		}
		free(bootargs_of[i]);
		bootargs_of[i] = NULL;
		bootargs_pos[i] = 0;
		fake_next_exit[i]++;
		return a64_run(vcpu_fd);
	}
	fake_next_exit[i]++;
	if (x->reason == FAKE_STEP_RING) {
		/* The guest's step before its next exit; a failure is KVM_RUN's
		 * (the engine reports it), and the message is not there. */
		int rc = ring_step(x);
		return rc < 0 ? rc : a64_run(vcpu_fd);
	}
	if (x->rc < 0)
		return x->rc;
	r->exit_reason = x->reason;
	if (x->reason == KVM_EXIT_MMIO) {
		r->mmio.phys_addr = x->addr;
		r->mmio.len = x->len;
		r->mmio.is_write = (uint8_t)x->write;
		memset(r->mmio.data, 0, sizeof(r->mmio.data));
		r->mmio.data[0] = x->data;
	} else if (x->reason == KVM_EXIT_SYSTEM_EVENT) {
		r->system_event.type = x->event;
	}
	return 0;
}

void *a64_map_run(int vcpu_fd, size_t size)
{
	void *p = calloc(1, size);
	unsigned i = (unsigned)(vcpu_fd - FAKE_VCPU_FD0);
	if (i < 256)
		run_of[i] = p;
	return p;
}

void a64_unmap_run(void *run, size_t size)
{
	(void)size;
	for (unsigned i = 0; i < 256; i++)
		if (run_of[i] == run)
			run_of[i] = NULL;
	free(run);
}
