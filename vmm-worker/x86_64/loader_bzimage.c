/* bzImage: the protected-mode part goes to 1 MiB and we enter its 64-bit
 * entry (+0x200) directly in long mode, skipping the real-mode setup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/le.h>

#include "bootparams.h"
#include "loader.h"

int x86_load_bzimage(int fd, const struct guest_ram *ram, uint64_t usable_end,
		     struct x86_kernel *k, char *err, size_t errlen)
{
	uint8_t h[1024];
	struct stat st;
	uint64_t pm_off, pm_size, pref, align, run_start, end;
	uint16_t version;
	uint8_t *dst;
	ssize_t n;

	memset(k, 0, sizeof(*k));
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "kernel image: fstat failed: %s", strerror(errno));
		return -errno;
	}
	n = pread(fd, h, sizeof(h), 0);
	if (n != (ssize_t)sizeof(h) || get_le32(h + BP_HEADER) != BP_HDRS_MAGIC) {
		snprintf(err, errlen, "kernel image is neither an ELF vmlinux nor a bzImage (no \"HdrS\" at 0x202); pass arch/x86/boot/bzImage or vmlinux");
		return -ENOEXEC;
	}
	version = get_le16(h + BP_VERSION);
	if (version < BP_MIN_VERSION || !(get_le16(h + BP_XLOADFLAGS) & BP_XLF_KERNEL_64)) {
		snprintf(err, errlen, "bzImage boot protocol %u.%02u without a 64-bit entry point; the KVM engine needs protocol >= 2.12 and XLF_KERNEL_64 (use the QEMU engine for this kernel)",
			 version >> 8, version & 0xff);
		return -ENOEXEC;
	}
	k->hdr_len = bp_setup_header_len(h, sizeof(h));
	if (k->hdr_len == 0 || k->hdr_len > sizeof(k->setup_hdr)) {
		snprintf(err, errlen, "bzImage setup header length %zu is implausible", k->hdr_len);
		return -ENOEXEC;
	}
	memcpy(k->setup_hdr, h + BP_HDR, k->hdr_len);
	pm_off = ((uint64_t)(h[BP_SETUP_SECTS] ? h[BP_SETUP_SECTS] : 4) + 1) * 512;
	if ((uint64_t)st.st_size <= pm_off) {
		snprintf(err, errlen, "bzImage is truncated: %lld bytes, setup alone needs %llu",
			 (long long)st.st_size, (unsigned long long)pm_off);
		return -ENOEXEC;
	}
	pm_size = (uint64_t)st.st_size - pm_off;
	k->init_size = get_le32(h + BP_INIT_SIZE);
	/* The decompressor runs at max(pref_address, aligned load address) and
	 * needs init_size bytes there before it reads the E820 map. */
	pref = get_le64(h + BP_PREF_ADDRESS);
	align = get_le32(h + BP_KERNEL_ALIGNMENT);
	run_start = align ? (X86_KERNEL_LOAD + align - 1) / align * align : X86_KERNEL_LOAD;
	if (pref > run_start)
		run_start = pref;
	end = run_start + k->init_size;
	if (X86_KERNEL_LOAD + pm_size > end)
		end = X86_KERNEL_LOAD + pm_size;
	if (end > usable_end || !(dst = guest_ptr(ram, X86_KERNEL_LOAD, pm_size))) {
		snprintf(err, errlen, "bzImage needs guest RAM up to 0x%llx to boot but usable RAM ends at 0x%llx; raise memory_mb",
			 (unsigned long long)end, (unsigned long long)usable_end);
		return -ENOMEM;
	}
	n = pread(fd, dst, pm_size, (off_t)pm_off);
	if (n != (ssize_t)pm_size) {
		snprintf(err, errlen, "bzImage: reading %llu bytes of kernel failed: %s",
			 (unsigned long long)pm_size, n < 0 ? strerror(errno) : "short read");
		return n < 0 ? -errno : -EIO;
	}
	k->kind = X86_KERNEL_BZIMAGE;
	k->entry = X86_KERNEL_LOAD + 0x200;
	k->end = end;
	return 0;
}
