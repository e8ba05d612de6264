/* The arm64 parts of the guest kernel's layout (kernel_layout.h,
 * kernel_layout_from_arm64_entry): what the config says (VA_BITS, the
 * version), where the kernel image is linked, and the proof that it is
 * linked there.
 *
 * Why a formula: an arm64 Image is a flat binary without section headers,
 * and with PC-relative kallsyms (6.15+) every symbol is an offset from
 * where the tables sit, so the address the Image's first byte (_text) is
 * linked at must be known first. arch/arm64/include/asm/memory.h fixes it:
 * KIMAGE_VADDR = MODULES_END = _PAGE_END(VA_BITS_MIN) + MODULES_VSIZE,
 * _PAGE_END(v) = -(1 << (v - 1)), VA_BITS_MIN = min(VA_BITS, 48) (47
 * for 52-bit VAs with 16 KiB pages),
 * MODULES_VSIZE = 2 GiB from 6.5 (modules around the image), 128 MiB
 * before. Nothing here assumes it blindly: the Image relocates itself at
 * boot, and its relocations carry link addresses, which must lie in the
 * image as the formula places it. Two kinds: RELA (6.1; Elf64_Rela
 * records whose place and addend are link addresses, the places
 * themselves 0 in the file: --no-apply-dynamic-relocs), or RELR
 * (CONFIG_RELR, 7.x: a list of rising link addresses with bitmaps between,
 * and the places keep their link-time values as implicit addends). A
 * wrong formula is off by 1.875 GiB (the two MODULES_VSIZE) or more, far
 * more than an Image's size, so no such table fits it. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ktstr/le.h>
#include <ktstr/util.h>

#include "arm64-guest/arm64_image.h"
#include "kernel_layout.h"
#include "kernel_layout_priv.h"

/* A relocatable kernel has tens of thousands; fewer is not its table. */
#define RELOCS_MIN 64

int kl_arm64_config(const char *cfg, struct kl_arm64_config *out, char *err, size_t errlen)
{
	const char *v = kl_config_value(cfg, "CONFIG_ARM64_VA_BITS"), *hdr;
	char *end;
	unsigned long bits;

	memset(out, 0, sizeof(*out));
	if (!v) {
		snprintf(err, errlen,
			 "the config has no CONFIG_ARM64_VA_BITS: not an arm64 kernel's config");
		return -EINVAL;
	}
	bits = strtoul(v, &end, 10);
	/* The kernel offers 36, 39, 42, 47, 48 and 52. */
	if ((*end != '\n' && *end) ||
	    (bits != 36 && bits != 39 && bits != 42 && bits != 47 && bits != 48 && bits != 52)) {
		snprintf(err, errlen, "the config's CONFIG_ARM64_VA_BITS is not one arm64 has");
		return -EINVAL;
	}
	out->va_bits = (unsigned)bits;
	/* "# Linux/arm64 7.2.13 Kernel Configuration", the generated header. */
	hdr = strstr(cfg, "# Linux/arm64 ");
	if (!hdr || (hdr != cfg && hdr[-1] != '\n') ||
	    sscanf(hdr, "# Linux/arm64 %u.%u", &out->major, &out->minor) != 2 || out->major < 3 ||
	    out->major > 99) {
		snprintf(err, errlen,
			 "the config has no \"# Linux/arm64 X.Y\" header line, so the kernel version "
			 "(which places the kernel image) is unknown");
		return -EINVAL;
	}
	v = kl_config_value(cfg, "CONFIG_KALLSYMS_ALL");
	out->kallsyms_all = v && *v == 'y';
	v = kl_config_value(cfg, "CONFIG_ARM64_16K_PAGES");
	out->pages_16k = v && *v == 'y';
	return 0;
}

uint64_t kl_arm64_kimage_vaddr(const struct kl_arm64_config *c)
{
	unsigned va_min = c->va_bits <= 48 ? c->va_bits : c->pages_16k ? 47 : 48;
	uint64_t page_end = -(1ull << (va_min - 1));
	bool v65 = c->major > 6 || (c->major == 6 && c->minor >= 5);

	return page_end + (v65 ? 2ull << 30 : 128ull << 20);
}

int kl_reloc_value(const struct kl_image *im, uint64_t kva, uint64_t *val)
{
	/* Elf64_Rela { r_offset, r_info, r_addend }, 8-aligned in the file
	 * as in memory (the Image's file offset is its link offset). The
	 * first match: a place has one relocation. */
	if (im->elf)
		return -ENOENT;
	for (uint64_t o = 0; o + 24 <= im->len; o += 8)
		if (get_le64(im->data + o) == kva && get_le64(im->data + o + 8) == R_AARCH64_RELATIVE) {
			*val = get_le64(im->data + o + 16);
			return 0;
		}
	return -ENOENT;
}

/* RELA (.rela.dyn, Elf64_Rela of R_AARCH64_RELATIVE): records whose place
 * and target both lie in the image. */
static uint64_t rela_in_image(const uint8_t *d, size_t len, uint64_t va, uint64_t size)
{
	uint64_t n = 0;

	for (uint64_t o = 0; o + 24 <= len; o += 8) {
		uint64_t at = get_le64(d + o), addend = get_le64(d + o + 16);

		if (get_le64(d + o + 8) == R_AARCH64_RELATIVE && at - va < size && addend - va < size)
			n++;
	}
	return n;
}

/* RELR (CONFIG_RELR): u64 words, each an 8-aligned place (even) or a
 * bitmap of the places after it (odd). The longest run of words in which
 * the places rise and lie in the image: how many places. (An array of
 * pointers the RELR table relocates, holding link-time values, counts as
 * well: the same evidence.) */
static uint64_t relr_in_image(const uint8_t *d, size_t len, uint64_t va, uint64_t size)
{
	uint64_t best = 0, run = 0, last = 0;

	for (uint64_t o = 0; o + 8 <= len; o += 8) {
		uint64_t w = get_le64(d + o);

		if ((w & 1) && run) {
			continue;
		} else if (!(w & 7) && w - va < size && (!run || w > last)) {
			run++;
			last = w;
			if (run > best)
				best = run;
		} else {
			run = 0;
		}
	}
	return best;
}

int kl_arm64_link_check(const uint8_t *data, size_t len, uint64_t va, uint64_t size, char *err,
			size_t errlen)
{
	uint64_t n = rela_in_image(data, len, va, size);

	if (n >= RELOCS_MIN)
		return 0;
	n = relr_in_image(data, len, va, size);
	if (n >= RELOCS_MIN)
		return 0;
	snprintf(err, errlen,
		 "the Image's relocations do not place it at %#llx (KIMAGE_VADDR for this "
		 "version and VA_BITS): a kernel whose layout the formula does not describe (an "
		 "older or newer arch/arm64 memory.h), a config of another kernel, or one built "
		 "without CONFIG_RELOCATABLE",
		 (unsigned long long)va);
	return -EINVAL;
}

/* Does the banner's release ("7.2.13+deb14-cloud-arm64") name the
 * config's version? */
static bool release_matches(const char *release, const struct kl_arm64_config *c)
{
	unsigned major, minor;

	return sscanf(release, "%u.%u", &major, &minor) == 2 && major == c->major &&
	       minor == c->minor;
}

/* ---- the cache entry ---------------------------------------------------- */

/* dir/name into *buf (owned by the caller), at most max bytes: 0 or
 * -errno with err naming the file. */
static int entry_file(const char *dir, const char *name, size_t max, char **buf, size_t *len,
		      char *err, size_t errlen)
{
	char p[4096];
	struct stat st;
	int ret;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	/* Refuse an oversized file before reading it; read_file's own bound
	 * still holds for one that grows meanwhile. */
	ret = stat(p, &st) ? -errno : (uint64_t)st.st_size > max ? -EFBIG : 0;
	if (!ret)
		ret = read_file(p, buf, len, max);
	if (ret == -EFBIG)
		snprintf(err, errlen, "%s: larger than %zu MiB, refused", p, max >> 20);
	else if (ret)
		snprintf(err, errlen, "%s: %s", p, strerror(-ret));
	return ret;
}

int kernel_layout_from_arm64_entry(const char *dir, Ktstr__GuestKernelLayout **out, char *err,
				   size_t errlen)
{
	char *img = NULL, *cfg = NULL, *btfbuf = NULL, why[512];
	size_t len, cfglen, btflen;
	struct arm64_image_info info;
	struct kl_arm64_config c;
	struct kl_image im;
	struct btf *btf = NULL;
	Ktstr__GuestKernelLayout *l = NULL;
	uint64_t va;
	int ret;

	*out = NULL;
	ret = entry_file(dir, "Image", KERNEL_LAYOUT_ARM64_IMAGE_MAX, &img, &len, err, errlen);
	if (ret)
		return ret;
	ret = arm64_image_parse(img, len, len, &info, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s/Image: %s", dir, why);
		ret = -EINVAL;
		goto out;
	}
	/* The file is the image's first bytes; its BSS follows in memory. */
	if (info.legacy || len > info.image_size) {
		snprintf(err, errlen, "%s/Image: %zu bytes but an image_size of %llu%s", dir, len,
			 (unsigned long long)info.image_size,
			 info.legacy ? " (a pre-3.17 header)" : "");
		ret = -EINVAL;
		goto out;
	}
	ret = entry_file(dir, "config", KL_CONFIG_MAX, &cfg, &cfglen, err, errlen);
	if (ret)
		goto out;
	ret = kl_arm64_config(cfg, &c, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s/config: %s", dir, why);
		goto out;
	}
	va = kl_arm64_kimage_vaddr(&c);
	ret = kl_arm64_link_check((const uint8_t *)img, len, va, info.image_size, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s/Image: %s", dir, why);
		goto out;
	}
	ret = entry_file(dir, "vmlinux.btf", KL_BTF_MAX, &btfbuf, &btflen, err, errlen);
	if (ret && ret != -ENOENT)
		goto out;
	if (!ret) {
		/* btf__new copies and validates the blob; libbpf would print
		 * its complaints on stderr, ours say it. */
		libbpf_set_print(NULL);
		btf = btf__new(btfbuf, (__u32)btflen);
		if (!btf) {
			snprintf(err, errlen, "%s/vmlinux.btf is damaged (libbpf: %s)", dir,
				 strerror(errno));
			ret = -EINVAL;
			goto out;
		}
	}

	l = malloc(sizeof(*l));
	if (!l) {
		ret = -ENOMEM;
		goto out;
	}
	ktstr__guest_kernel_layout__init(l);
	l->has_arch = 1;
	l->arch = KTSTR__ARCH__ARCH_ARM64;
	l->has_image_vaddr = 1;
	l->image_vaddr = va;
	l->has_image_size = 1;
	l->image_size = info.image_size;
	l->has_va_bits = 1;
	l->va_bits = c.va_bits;
	/* kallsyms_relative_base, where there is one, is a kernel-image
	 * address: never below the image. */
	kl_image_open_flat(&im, (const uint8_t *)img, len, va, va);
	ret = kl_derive(l, &im, btf, NULL, cfg, err, errlen);
	kl_image_close(&im);
	if (!ret && l->release && !release_matches(l->release, &c)) {
		snprintf(err, errlen,
			 "%s: the banner says release %s, the config %u.%u: they are not one kernel",
			 dir, l->release, c.major, c.minor);
		ret = -EINVAL;
	}
	if (ret && ret != -ENODATA) {
		ktstr__guest_kernel_layout__free_unpacked(l, NULL);
		l = NULL;
	}
	*out = l;
out:
	btf__free(btf);
	free(btfbuf);
	free(cfg);
	free(img);
	return ret;
}
