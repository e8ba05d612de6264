/* Symbol addresses for the guest kernel's layout: from .symtab when the
 * vmlinux has one, else from the kernel's own kallsyms tables.
 *
 * Why kallsyms: the vmlinux inside a Debian bzImage (what `ktstr-orch
 * kernel fetch` caches) is stripped, and Debian's System.map is a
 * placeholder ("The real System.map is in the -dbg package"); an arm64
 * Image is not even ELF. The kernel still carries every symbol for
 * /proc/kallsyms, in tables that scripts/kallsyms.c writes into .rodata
 * (each label aligned to 4, or 8 on some versions). Current kernels:
 *
 *   kallsyms_num_syms     u32 N
 *   kallsyms_names        N names: length (1 byte, or 2 as ULEB128 when
 *                         > 127), then that many token numbers
 *   kallsyms_markers      u32[(N+255)/256]: offset in names of every 256th
 *   kallsyms_token_table  256 NUL-terminated strings
 *   kallsyms_token_index  u16[256]: offset of each token in the table
 *   kallsyms_offsets      s32[N] (see kallsyms_addr)
 *   [kallsyms_relative_base u64, kernels before 6.15]
 *
 * Older ones (6.1, whose stable series took kallsyms_seqs_of_names) put
 * kallsyms_offsets and kallsyms_relative_base before kallsyms_num_syms, and
 * kallsyms_seqs_of_names (u8[3][N]) between the markers and the token
 * table; both orders are recognised.
 *
 * Nothing names them in a stripped image, so they are found by structure:
 * a token index is 256 increasing u16 starting at 0 whose token table sits
 * right before it; the markers precede the table (or the seqs before it);
 * the names precede the markers, with num_syms before them; every marker
 * must then match the decoded names. The result is checked again by the
 * caller (linux_banner must read "Linux version", runqueues must agree with
 * BTF). All reads are bounded by the area searched (.rodata, or a flat
 * Image); all counts by KL_KALLSYMS_MAX_SYMS, the work by MARKER_STEPS_MAX. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/le.h>

#include "kernel_layout_priv.h"

#define KSYM_NAME_LEN 512   /* the kernel's own bound on a symbol name */
#define NAME_LEN_MAX 0x3fff /* two-byte ULEB128, scripts/kallsyms.c */
/* Time bound on a hostile .rodata: how many candidate tables get the full
 * (expensive) check before the search gives up. A real image has one. */
#define FULL_CHECKS_MAX 256
/* Time bound on looking for markers behind a kallsyms_seqs_of_names of
 * unknown length: u32 reads in all. A real search needs a few million. */
#define MARKER_STEPS_MAX (64u << 20)

static void record(struct kl_sym *syms, size_t n, const char *name, uint64_t addr)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(syms[i].name, name))
			continue;
		if (syms[i].found && syms[i].addr != addr)
			syms[i].ambiguous = true;
		syms[i].found = true;
		syms[i].addr = addr;
	}
}

static void finish(struct kl_sym *syms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (syms[i].ambiguous)
			syms[i].found = false;
}

int kl_syms_from_symtab(const struct kl_image *im, struct kl_sym *syms, size_t n, char *err,
			size_t errlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	size_t count;

	if (!im->elf) {
		snprintf(err, errlen, "no .symtab (a flat Image)");
		return -ENOENT;
	}
	while ((scn = elf_nextscn(im->elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	if (!scn) {
		snprintf(err, errlen, "no .symtab (a stripped vmlinux)");
		return -ENOENT;
	}
	if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_offset > im->len ||
	    sh.sh_size > im->len - sh.sh_offset) {
		snprintf(err, errlen, ".symtab lies outside the file or has a foreign entry size");
		return -EINVAL;
	}
	count = sh.sh_size / sh.sh_entsize;
	if (count > 16u << 20) {
		snprintf(err, errlen, ".symtab claims %zu symbols (more than 16M)", count);
		return -EINVAL;
	}
	d = elf_getdata(scn, NULL);
	if (!d) {
		snprintf(err, errlen, ".symtab unreadable: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	for (size_t i = 1; i < count; i++) {
		GElf_Sym s;
		const char *name;
		int type;

		if (!gelf_getsym(d, (int)i, &s))
			break;
		type = GELF_ST_TYPE(s.st_info);
		if (s.st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE)
			continue;
		/* elf_strptr checks the offset against the string table. */
		name = elf_strptr(im->elf, sh.sh_link, s.st_name);
		if (name && *name)
			record(syms, n, name, s.st_value);
	}
	finish(syms, n);
	return 0;
}

/* ---- kallsyms ---------------------------------------------------------- */

struct ks {
	const uint8_t *ro; /* .rodata bytes */
	uint64_t size, va;
	uint64_t tok_tab, tok_idx; /* offsets into ro */
	uint64_t markers;
	uint32_t nmarkers;
	uint64_t seqs_gap; /* bytes from the markers' end to the token table */
	uint64_t names, names_end, num_syms_at;
	uint32_t nsyms;
	uint64_t offsets;
	bool base_relative, abs_percpu;
	uint64_t base, base_min;
	uint64_t base_at; /* offset of kallsyms_relative_base, when base_relative */
	uint64_t steps;	  /* marker reads so far, against MARKER_STEPS_MAX */
};

static bool find_markers(struct ks *k);

/* Is ro[p..p+512) shaped like a token index: 256 u16 from 0, each token
 * 1..KSYM_NAME_LEN-1 characters long? (Cheap: tried at every position.) */
static bool token_index_at(const struct ks *k, uint64_t p)
{
	const uint8_t *ro = k->ro;

	if (get_le16(ro + p) != 0)
		return false;
	for (int i = 1; i < 256; i++) {
		unsigned a = get_le16(ro + p + 2 * (i - 1)), b = get_le16(ro + p + 2 * i);

		if (b <= a + 1 || b - a > KSYM_NAME_LEN)
			return false;
	}
	return true;
}

/* Does the token table that index p describes sit right before it? */
static bool token_table_before(struct ks *k, uint64_t p)
{
	const uint8_t *ro = k->ro;
	uint64_t end, start, t;
	unsigned z = 0;

	/* Terminator of the last token plus at most 7 bytes of alignment. */
	while (z < 8 && z < p && ro[p - 1 - z] == 0)
		z++;
	if (z == 0 || z == 8 || z >= p)
		return false;
	end = p - z; /* one past the last token's last character */
	start = end;
	while (start > 0 && ro[start - 1] != 0 && end - start < KSYM_NAME_LEN)
		start--;
	if (start == 0 || ro[start - 1] != 0 || start < get_le16(ro + p + 510))
		return false;
	t = start - get_le16(ro + p + 510);
	if ((k->va + t) % 4)
		return false;
	for (int i = 0; i < 255; i++) {
		uint64_t s = t + get_le16(ro + p + 2 * i), e = t + get_le16(ro + p + 2 * (i + 1)) - 1;

		if (ro[e] != 0 || memchr(ro + s, 0, e - s))
			return false;
	}
	k->tok_tab = t;
	k->tok_idx = p;
	return true;
}

static bool find_token_tables(struct ks *k)
{
	unsigned full = 0;

	for (uint64_t p = (4 - k->va % 4) % 4; p + 512 <= k->size; p += 4) {
		if (!token_index_at(k, p))
			continue;
		if (++full > FULL_CHECKS_MAX)
			return false;
		if (token_table_before(k, p) && find_markers(k))
			return true;
	}
	return false;
}

/* Markers ending at end (or 4 bytes of padding before it), starting with
 * a 0; each step covers 256 names of 2..0x4001 bytes. */
static bool find_markers_at(struct ks *k, uint64_t end)
{
	uint64_t q = end;
	uint32_t later = UINT32_MAX, count = 0;

	if (q < 8)
		return false;
	if (get_le32(k->ro + q - 4) == 0 && get_le32(k->ro + q - 8) != 0)
		q -= 4;
	end = q;
	while (q >= 4) {
		uint32_t v = get_le32(k->ro + q - 4);

		if (++k->steps > MARKER_STEPS_MAX)
			return false;
		if (later != UINT32_MAX &&
		    (v >= later || later - v < 256u * 2 || later - v > 256u * (NAME_LEN_MAX + 2)))
			return false;
		q -= 4;
		later = v;
		if (++count > KL_KALLSYMS_MAX_SYMS / 256)
			return false;
		if (v == 0)
			break;
	}
	if (later != 0 || count < 2)
		return false;
	k->markers = q;
	k->nmarkers = (uint32_t)((end - q) / 4);
	return true;
}

/* The markers right before the token table, or before a
 * kallsyms_seqs_of_names of 3 bytes per symbol (plus < 8 of alignment):
 * markers whose count allows the gap. */
static bool find_markers(struct ks *k)
{
	uint64_t t = k->tok_tab, lo;

	k->seqs_gap = 0;
	if (find_markers_at(k, t))
		return true;
	lo = t > 3ull * KL_KALLSYMS_MAX_SYMS + 8 ? t - 3ull * KL_KALLSYMS_MAX_SYMS - 8 : 8;
	for (uint64_t end = (t - 8) & ~3ull; end >= lo && k->steps <= MARKER_STEPS_MAX; end -= 4) {
		uint64_t gap = t - end;

		/* The last marker is never 0; a gap too small for even 256
		 * symbols' seqs cannot be one. */
		if (gap < 3 * 256 || get_le32(k->ro + end - 4) == 0 || !find_markers_at(k, end))
			continue;
		if (gap >= 3ull * 256 * (k->nmarkers - 1) + 3 && gap < 3ull * 256 * k->nmarkers + 8) {
			k->seqs_gap = gap;
			return true;
		}
	}
	return false;
}

/* Walk cnt names from pos (bounded by lim); the end or 0 when they do not fit. */
static uint64_t walk_names(const struct ks *k, uint64_t pos, uint64_t cnt, uint64_t lim)
{
	while (cnt--) {
		unsigned len;

		if (pos >= lim)
			return 0;
		len = k->ro[pos];
		if (len & 0x80) {
			if (pos + 1 >= lim)
				return 0;
			len = (len & 0x7f) | (unsigned)k->ro[pos + 1] << 7;
			pos += 2;
		} else {
			pos++;
		}
		if (!len || len > lim - pos)
			return 0;
		pos += len;
	}
	return pos;
}

/* Every marker must match the names as decoded from s. */
static bool markers_match(const struct ks *k, uint64_t s, uint32_t n)
{
	uint64_t pos = s;

	for (uint32_t g = 0; g < k->nmarkers; g++) {
		uint32_t cnt = g + 1 < k->nmarkers ? 256 : n - 256 * g;

		if (pos - s != get_le32(k->ro + k->markers + 4 * g))
			return false;
		pos = walk_names(k, pos, cnt, k->markers);
		if (!pos)
			return false;
	}
	return k->markers - pos < 8;
}

static bool find_names(struct ks *k)
{
	uint64_t m = k->markers, last = get_le32(k->ro + m + 4 * (k->nmarkers - 1));
	uint64_t lo, s;
	unsigned full = 0;

	if (m < last + 2 + 8)
		return false;
	s = m - last - 2;
	s -= (k->va + s) % 4;
	lo = m - last > 256ull * (NAME_LEN_MAX + 2) + 8 ? m - last - 256ull * (NAME_LEN_MAX + 2) : 8;
	for (; s >= lo; s -= 4) {
		for (int slot = 4; slot <= 8; slot += 4) {
			uint32_t n = get_le32(k->ro + s - slot);
			uint64_t end;

			if (n <= 256 * (k->nmarkers - 1) || n > 256 * k->nmarkers)
				continue;
			end = walk_names(k, s + last, n - 256 * (k->nmarkers - 1), m);
			if (!end || m - end >= 8)
				continue;
			if (++full > FULL_CHECKS_MAX)
				return false;
			if (k->seqs_gap && (k->seqs_gap < 3ull * n || k->seqs_gap - 3ull * n >= 8))
				continue;
			if (!markers_match(k, s, n))
				continue;
			k->num_syms_at = s - slot;
			k->names = s;
			k->names_end = end;
			k->nsyms = n;
			return true;
		}
	}
	return false;
}

/* The older order: kallsyms_offsets then kallsyms_relative_base (8
 * aligned) right before kallsyms_num_syms. Base-relative offsets there are
 * sorted and the first is 0 (the base is the lowest symbol's address),
 * which no other data before num_syms is. */
static bool find_offsets_before(struct ks *k)
{
	for (uint64_t gap = 8; gap <= 16; gap += 4) {
		uint64_t rb = k->num_syms_at - gap, o;
		int32_t prev = 0;
		uint32_t i;

		if (k->num_syms_at < gap || (k->va + rb) % 8)
			continue;
		for (uint64_t pad = 0; pad <= 4; pad += 4) {
			if (rb < pad + (uint64_t)k->nsyms * 4)
				continue;
			o = rb - pad - (uint64_t)k->nsyms * 4;
			for (i = 0; i < k->nsyms; i++) {
				int32_t v = (int32_t)get_le32(k->ro + o + 4 * (uint64_t)i);

				if (v < prev || (i == 0 && v != 0))
					break;
				prev = v;
			}
			if (i < k->nsyms)
				continue;
			k->offsets = o;
			k->base_relative = true;
			k->base_at = rb;
			k->base = get_le64(k->ro + rb);
			return true;
		}
	}
	return false;
}

/* The offsets follow the token index; what follows them says how they
 * encode addresses: a kallsyms_relative_base (a kernel-image address)
 * before 6.15, else nothing of the kind (PC-relative offsets). */
static bool find_offsets(struct ks *k)
{
	uint64_t o = k->tok_idx + 512, r;

	if (find_offsets_before(k))
		return true;
	if (o > k->size || (uint64_t)k->nsyms * 4 > k->size - o)
		return false;
	k->offsets = o;
	r = o + (uint64_t)k->nsyms * 4;
	for (int align = 4; align <= 8; align += 4) {
		uint64_t ra = r + (align - (k->va + r) % align) % align;

		if (ra + 8 <= k->size && get_le64(k->ro + ra) >= k->base_min) {
			k->base_relative = true;
			k->base_at = ra;
			k->base = get_le64(k->ro + ra);
			break;
		}
	}
	/* CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP before 6.15): per-CPU
	 * symbols are absolute non-negative values, the rest negative
	 * offsets from the base; without it every offset is non-negative. */
	for (uint32_t i = 0; k->base_relative && i < k->nsyms; i++)
		if ((int32_t)get_le32(k->ro + o + 4 * i) < 0) {
			k->abs_percpu = true;
			break;
		}
	return true;
}

static uint64_t kallsyms_addr(const struct ks *k, uint32_t i)
{
	int32_t off = (int32_t)get_le32(k->ro + k->offsets + 4 * (uint64_t)i);

	if (!k->base_relative)
		return k->va + k->offsets + 4 * (uint64_t)i + (uint64_t)(int64_t)off;
	if (!k->abs_percpu)
		return k->base + (uint32_t)off;
	if (off >= 0)
		return (uint64_t)off;
	return k->base - 1 - (uint64_t)(int64_t)off;
}

/* Expand name i (at *pos) into buf; false when it does not fit. */
static bool expand_name(const struct ks *k, uint64_t *pos, char *buf, size_t cap)
{
	unsigned len = k->ro[*pos];
	size_t out = 0;

	if (len & 0x80) {
		len = (len & 0x7f) | (unsigned)k->ro[*pos + 1] << 7;
		*pos += 2;
	} else {
		*pos += 1;
	}
	for (unsigned j = 0; j < len; j++) {
		const char *tok = (const char *)k->ro + k->tok_tab + get_le16(k->ro + k->tok_idx + 2 * k->ro[*pos + j]);
		size_t tl = strlen(tok); /* the token table was checked: NUL-terminated */

		if (tl >= cap - out)
			return false;
		memcpy(buf + out, tok, tl);
		out += tl;
	}
	buf[out] = 0;
	*pos += len;
	return true;
}

int kl_syms_from_kallsyms(const struct kl_image *im, struct kl_sym *syms, size_t n, char *err,
			  size_t errlen)
{
	struct kl_section ro;
	struct ks k = { 0 };
	uint64_t pos;
	char name[KSYM_NAME_LEN + 1];

	if (kl_kallsyms_area(im, &ro)) {
		snprintf(err, errlen, "no .rodata to hold kallsyms tables");
		return -ENOENT;
	}
	k.ro = ro.bytes;
	k.size = ro.size;
	k.va = ro.addr;
	k.base_min = im->kaddr_min;
	if (!find_token_tables(&k)) {
		snprintf(err, errlen,
			 "no kallsyms tables recognised in %s (CONFIG_KALLSYMS off, or a layout "
			 "this reader does not know)", im->elf ? ".rodata" : "the Image");
		return -ENOENT;
	}
	if (!find_names(&k) || !find_offsets(&k)) {
		snprintf(err, errlen, "kallsyms tables in %s do not hold together",
			 im->elf ? ".rodata" : "the Image");
		return -EINVAL;
	}
	/* A relocatable image linked without applying its relocations
	 * (arm64) holds 0 there; the relocation naming the slot says what the
	 * kernel puts in it, and proves the image's link address. */
	if (k.base_relative && k.base < im->kaddr_min &&
	    kl_reloc_value(im, k.va + k.base_at, &k.base)) {
		snprintf(err, errlen,
			 "kallsyms_relative_base at %#llx holds %#llx, not a kernel address, and no "
			 "relocation names that slot: the image is not linked where assumed",
			 (unsigned long long)(k.va + k.base_at), (unsigned long long)k.base);
		return -EINVAL;
	}
	pos = k.names;
	for (uint32_t i = 0; i < k.nsyms; i++) {
		/* walk_names proved every name fits before the markers. */
		if (!expand_name(&k, &pos, name, sizeof(name))) {
			snprintf(err, errlen, "kallsyms name %u longer than %d bytes", i, KSYM_NAME_LEN);
			return -EINVAL;
		}
		/* name[0] is the type letter (t, D, B, ...). */
		if (name[0] && name[1])
			record(syms, n, name + 1, kallsyms_addr(&k, i));
	}
	finish(syms, n);
	return 0;
}
