/* Everything the guest finds in memory at its first instruction: kernel,
 * initrd (base memfd mapped copy-on-write + suffix), command line, boot
 * params or PVH start_info, E820, ACPI, MP table, page tables, GDT and the
 * formatted SHM ring. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm_priv.h"
#include "ktstr/le.h"
#include "ktstr/log.h"
#include "x86_64/acpi.h"
#include "x86_64/bootparams.h"
#include "x86_64/e820.h"
#include "x86_64/layout.h"
#include "x86_64/mptable.h"
#include "x86_64/pagetables.h"
#include "x86_64/pvh.h"

#define PAGE 4096ull

static int fail(struct ktstr_error *err, int e, const char *what, const char *why, const char *hint)
{
	return kvm_err_set(err, e, what, why, hint);
}

/* Place the initrd: base image mapped MAP_PRIVATE|MAP_FIXED from its memfd
 * (concurrent VMs share its pages until a guest writes), suffix copied right
 * after it. */
static int load_initrd(struct kvm_engine *e, uint64_t *addr, uint64_t *size, struct ktstr_error *err)
{
	const Ktstr__VmSpec *spec = e->in->spec;
	uint64_t base = 0, suffix = spec->has_initrd_suffix ? spec->initrd_suffix.len : 0;
	uint64_t limit = x86_low_usable_end(&e->m);
	struct stat st;
	char why[256];
	uint8_t *dst;

	*addr = *size = 0;
	if (e->in->initrd_fd >= 0) {
		if (fstat(e->in->initrd_fd, &st) < 0)
			return fail(err, errno, "KVM engine: cannot stat the initramfs", strerror(errno), NULL);
		base = (uint64_t)st.st_size;
	}
	if (base + suffix == 0)
		return 0;
	if (e->kernel.kind == X86_KERNEL_BZIMAGE) {
		uint64_t max = get_le32(e->kernel.setup_hdr + (BP_INITRD_ADDR_MAX - BP_HDR));

		if (max && max + 1 < limit)
			limit = max + 1;
	}
	if (x86_initrd_place(&e->kernel, base + suffix, limit, addr)) {
		snprintf(why, sizeof(why), "initramfs of %llu bytes does not fit between the kernel end 0x%llx and 0x%llx",
			 (unsigned long long)(base + suffix), (unsigned long long)e->kernel.end,
			 (unsigned long long)limit);
		return fail(err, ENOMEM, "KVM engine: guest memory too small for the initramfs", why,
			    "raise memory_mb (floor: boot footprint + 256 MiB + SHM)");
	}
	dst = guest_ptr(&e->vm.ram, *addr, base + suffix);
	if (base) {
		/* On hugepage RAM (performance mode) copy instead: a 4 KiB file
		 * mapping cannot split a hugetlb mapping, and the point is that
		 * all guest RAM is on hugepages. */
		void *m = e->vm.huge ? MAP_FAILED
				     : mmap(dst, (base + PAGE - 1) & ~(PAGE - 1), PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_FIXED, e->in->initrd_fd, 0);

		if (m == MAP_FAILED) { /* not mappable (e.g. a pipe): copy it */
			ssize_t n = pread(e->in->initrd_fd, dst, base, 0);

			if (n != (ssize_t)base)
				return fail(err, n < 0 ? errno : EIO, "KVM engine: cannot read the initramfs",
					    n < 0 ? strerror(errno) : "short read", NULL);
		}
	}
	if (suffix)
		memcpy(dst + base, spec->initrd_suffix.data, suffix);
	*size = base + suffix;
	return 0;
}

int kvm_boot_setup(struct kvm_engine *e, struct ktstr_error *err)
{
	const struct guest_ram *ram = &e->vm.ram;
	struct e820_entry e820[X86_E820_MAX];
	uint64_t initrd = 0, initrd_size = 0, rsdp = 0;
	struct acpi_buf ab;
	uint64_t gdt[X86_GDT_ENTRIES];
	char why[512], cmdline[X86_CMDLINE_MAX];
	size_t n820, clen;
	int r;

	r = x86_load_kernel(e->in->kernel_fd, ram, x86_low_usable_end(&e->m), &e->kernel, why,
			    sizeof(why));
	if (r)
		return fail(err, -r, "KVM engine: cannot load the kernel", why,
			    "pass a bzImage (64-bit boot protocol) or a vmlinux with CONFIG_PVH");
	if ((r = load_initrd(e, &initrd, &initrd_size, err)))
		return r;

	r = guest_cmdline_build(e->in->spec, e->m.shm_base, false, NULL, cmdline, sizeof(cmdline));
	clen = strlen(cmdline);
	if (r || clen + 1 > X86_CMDLINE_MAX)
		return fail(err, ENOSPC, "KVM engine: kernel command line too long",
			    "it must fit 4096 bytes with the NUL", "shorten cmdline_extra");
	memcpy(guest_ptr(ram, X86_CMDLINE, clen + 1), cmdline, clen + 1);

	n820 = e820_build(&e->m, e820, X86_E820_MAX);
	ab = (struct acpi_buf){ guest_ptr(ram, X86_ACPI_START, X86_ACPI_END - X86_ACPI_START),
				X86_ACPI_START, X86_ACPI_END - X86_ACPI_START, 0 };
	if (acpi_build(&ab, &e->m, &rsdp))
		return fail(err, ENOSPC, "KVM engine: ACPI tables do not fit 0xE0000-0xFFFFF",
			    "the topology has too many CPUs or nodes", "use a smaller topology");
	if (mptable_write(guest_ptr(ram, X86_MPTABLE, X86_ACPI_START - X86_MPTABLE),
			  X86_ACPI_START - X86_MPTABLE, X86_MPTABLE, &e->m))
		return fail(err, ENOSPC, "KVM engine: MP table does not fit", "too many CPUs", NULL);

	x86_gdt_build(gdt, e->kernel.kind == X86_KERNEL_BZIMAGE);
	memcpy(guest_ptr(ram, X86_GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));
	memset(guest_ptr(ram, X86_IDT_ADDR, 8), 0, 8);
	if (e->kernel.kind == X86_KERNEL_BZIMAGE) {
		struct bp_inputs bi = {
			.setup_hdr = e->kernel.setup_hdr, .hdr_len = e->kernel.hdr_len,
			.cmdline_addr = X86_CMDLINE, .cmdline_len = (uint32_t)clen,
			.initrd_addr = initrd, .initrd_size = initrd_size, .rsdp_addr = rsdp,
			.e820 = e820, .n_e820 = n820,
		};

		x86_write_identity_map(guest_ptr(ram, X86_PML4, PAGE), guest_ptr(ram, X86_PDPT, PAGE),
				       guest_ptr(ram, X86_PD, PAGE));
		if (bp_write(guest_ptr(ram, X86_ZERO_PAGE, BP_SIZE), &bi))
			return fail(err, EINVAL, "KVM engine: cannot write boot_params",
				    "an address does not fit below 4 GiB", NULL);
	} else if (pvh_write(guest_ptr(ram, X86_PVH_START_INFO, PAGE), X86_PVH_START_INFO,
			     X86_CMDLINE, rsdp, initrd, initrd_size, e820, n820)) {
		return fail(err, ENOSPC, "KVM engine: PVH memory map does not fit one page", "too many entries", NULL);
	}

	if (e->m.shm_size) {
		void *shm = guest_ptr(ram, e->m.shm_base, e->m.shm_size);

		if ((r = ring_format(shm, e->m.shm_size)) || (r = ring_attach(&e->ring, shm, e->m.shm_size))) {
			snprintf(why, sizeof(why), "ring_format/attach of %u bytes at 0x%llx: %s", e->m.shm_size,
				 (unsigned long long)e->m.shm_base, strerror(-r));
			return fail(err, -r, "KVM engine: cannot set up the SHM ring", why, "check shm_size");
		}
		e->have_ring = true;
	}
	kdbg("KVM engine: kernel %s entry 0x%llx end 0x%llx, initrd 0x%llx+%llu, rsdp 0x%llx, shm 0x%llx+%u",
	     e->kernel.kind == X86_KERNEL_PVH ? "pvh" : "bzImage", (unsigned long long)e->kernel.entry,
	     (unsigned long long)e->kernel.end, (unsigned long long)initrd,
	     (unsigned long long)initrd_size, (unsigned long long)rsdp,
	     (unsigned long long)e->m.shm_base, e->m.shm_size);
	return 0;
}
