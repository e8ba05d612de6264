/* The guest kernel's layout from its vmlinux (kernel_layout.h): reads the
 * image (bounded), finds the symbols and the BTF offsets the monitor needs,
 * checks that the symbols decode to a real linux_banner and agree with BTF,
 * and says what is missing. */
#include "kernel_layout.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "kernel_layout_priv.h"
#include "vmlinux_extract.h"

#define BANNER_PREFIX "Linux version "
#define BANNER_MAX 256

/* ---- the ELF image --------------------------------------------------------- */

int kl_image_open(struct kl_image *im, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	GElf_Ehdr eh;

	memset(im, 0, sizeof(*im));
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf initialisation failed");
		return -EINVAL;
	}
	im->data = data;
	im->len = len;
	/* libelf reads the caller's buffer in place and never writes it. */
	im->elf = elf_memory((char *)data, len);
	if (!im->elf || elf_kind(im->elf) != ELF_K_ELF || !gelf_getehdr(im->elf, &eh) ||
	    elf_getshdrstrndx(im->elf, &im->shstrndx)) {
		snprintf(err, errlen, "not an ELF vmlinux: %s", elf_errmsg(-1));
		kl_image_close(im);
		return -EINVAL;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		snprintf(err, errlen, "not an x86_64 vmlinux (machine %u): the monitor knows x86_64 only",
			 eh.e_machine);
		kl_image_close(im);
		return -EINVAL;
	}
	/* x86_64's kernel image is linked in its top 2 GiB. */
	im->kaddr_min = 0xffffffff80000000ull;
	return 0;
}

void kl_image_open_flat(struct kl_image *im, const uint8_t *data, size_t len, uint64_t vaddr,
			uint64_t kaddr_min)
{
	memset(im, 0, sizeof(*im));
	im->data = data;
	im->len = len;
	im->vaddr = vaddr;
	im->kaddr_min = kaddr_min;
}

void kl_image_close(struct kl_image *im)
{
	if (im->elf)
		elf_end(im->elf);
	im->elf = NULL;
}

static int section_of(const struct kl_image *im, Elf_Scn *scn, struct kl_section *out)
{
	GElf_Shdr sh;

	if (!gelf_getshdr(scn, &sh))
		return -EINVAL;
	out->name = elf_strptr(im->elf, im->shstrndx, sh.sh_name);
	out->addr = sh.sh_addr;
	out->size = sh.sh_size;
	out->type = sh.sh_type;
	out->scn = scn;
	out->bytes = NULL;
	if (sh.sh_type == SHT_NOBITS)
		return 0;
	if (sh.sh_offset > im->len || sh.sh_size > im->len - sh.sh_offset)
		return -EINVAL;
	out->bytes = im->data + sh.sh_offset;
	return 0;
}

int kl_section(const struct kl_image *im, const char *name, struct kl_section *out)
{
	Elf_Scn *scn = NULL;

	if (!im->elf)
		return -ENOENT;
	while ((scn = elf_nextscn(im->elf, scn))) {
		struct kl_section s;
		int ret = section_of(im, scn, &s);

		if (ret == -EINVAL && s.name && !strcmp(s.name, name))
			return -EINVAL;
		if (ret || !s.name || strcmp(s.name, name))
			continue;
		if (!s.bytes)
			return -ENOENT;
		*out = s;
		return 0;
	}
	return -ENOENT;
}

int kl_kallsyms_area(const struct kl_image *im, struct kl_section *out)
{
	if (im->elf)
		return kl_section(im, ".rodata", out);
	*out = (struct kl_section){ .name = "Image", .addr = im->vaddr, .bytes = im->data,
				    .size = im->len };
	return 0;
}

const uint8_t *kl_kva_bytes(const struct kl_image *im, uint64_t kva, uint64_t len)
{
	Elf_Scn *scn = NULL;

	if (!im->elf) {
		if (kva >= im->vaddr && kva - im->vaddr < im->len && len <= im->len - (kva - im->vaddr))
			return im->data + (kva - im->vaddr);
		return NULL;
	}
	while ((scn = elf_nextscn(im->elf, scn))) {
		struct kl_section s;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || section_of(im, scn, &s) ||
		    !s.bytes)
			continue;
		if (kva >= s.addr && kva - s.addr < s.size && len <= s.size - (kva - s.addr))
			return s.bytes + (kva - s.addr);
	}
	return NULL;
}

/* ---- building the message ---------------------------------------------------- */

struct builder {
	Ktstr__GuestKernelLayout *l;
	int oom;
};

__attribute__((format(printf, 2, 3))) static void add_missing(struct builder *b,
							      const char *fmt, ...)
{
	char line[256], **nm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	nm = realloc(b->l->missing, (b->l->n_missing + 1) * sizeof(*nm));
	if (!nm) {
		b->oom = 1;
		return;
	}
	b->l->missing = nm;
	nm[b->l->n_missing] = strdup(line);
	if (!nm[b->l->n_missing])
		b->oom = 1;
	else
		b->l->n_missing++;
}

/* A BTF member as a KernelField (NULL, with a missing line, when absent). */
static Ktstr__KernelField *field(struct builder *b, const struct btf *btf, const char *st,
				 const char *member)
{
	Ktstr__KernelField *f;
	uint32_t off, size;
	char what[128];

	snprintf(what, sizeof(what), "%s.%s", st, member);
	if (!btf)
		return NULL;
	switch (kl_btf_member(btf, st, member, &off, &size)) {
	case 0:
		break;
	case -EINVAL:
		add_missing(b, "BTF field %s (a bitfield or of unknown size)", what);
		return NULL;
	default:
		add_missing(b, "BTF field %s", what);
		return NULL;
	}
	f = malloc(sizeof(*f));
	if (!f) {
		b->oom = 1;
		return NULL;
	}
	ktstr__kernel_field__init(f);
	f->offset = off;
	f->size = size;
	return f;
}

static int add_event(void *ctx, const char *name, uint32_t offset, uint32_t size)
{
	struct builder *b = ctx;
	Ktstr__GuestKernelLayout *l = b->l;
	Ktstr__ScxEventCounter *ev, **ne;

	ne = realloc(l->scx_events, (l->n_scx_events + 1) * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	l->scx_events = ne;
	ev = malloc(sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ktstr__scx_event_counter__init(ev);
	ev->field = malloc(sizeof(*ev->field));
	ev->name = strdup(name);
	if (!ev->field || !ev->name) {
		free(ev->field);
		free(ev->name);
		free(ev);
		return -ENOMEM;
	}
	ktstr__kernel_field__init(ev->field);
	ev->field->offset = offset;
	ev->field->size = size;
	ne[l->n_scx_events++] = ev;
	return 0;
}

static void enable_states(struct builder *b, const struct btf *btf)
{
	static const char *const names[][2] = {
		{ "scx_enable_state", "SCX_ENABLING" },	       { "scx_enable_state", "SCX_ENABLED" },
		{ "scx_enable_state", "SCX_DISABLING" },       { "scx_enable_state", "SCX_DISABLED" },
		{ "scx_ops_enable_state", "SCX_OPS_ENABLING" }, { "scx_ops_enable_state", "SCX_OPS_ENABLED" },
		{ "scx_ops_enable_state", "SCX_OPS_DISABLING" }, { "scx_ops_enable_state", "SCX_OPS_DISABLED" },
	};
	Ktstr__GuestKernelLayout *l = b->l;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		Ktstr__KernelEnumValue *ev, **ne;
		int64_t v;

		if (kl_btf_enum_value(btf, names[i][0], names[i][1], &v))
			continue;
		ne = realloc(l->scx_enable_states, (l->n_scx_enable_states + 1) * sizeof(*ne));
		if (!ne || !(ev = malloc(sizeof(*ev)))) {
			if (ne)
				l->scx_enable_states = ne;
			b->oom = 1;
			return;
		}
		l->scx_enable_states = ne;
		ktstr__kernel_enum_value__init(ev);
		ev->value = v;
		ev->name = strdup(names[i][1]);
		if (!ev->name) {
			free(ev);
			b->oom = 1;
			return;
		}
		ne[l->n_scx_enable_states++] = ev;
	}
	if (!l->n_scx_enable_states)
		add_missing(b, "BTF enum %s", "scx_enable_state (or scx_ops_enable_state)");
}

const char *kl_config_value(const char *cfg, const char *name)
{
	size_t nl = strlen(name);

	for (const char *at = cfg; (at = strstr(at, name)); at++)
		if ((at == cfg || at[-1] == '\n') && at[nl] == '=')
			return at + nl + 1;
	return NULL;
}

/* CONFIG_HZ from a config's text. Absent is fine: the worker then cannot
 * convert a watchdog timeout, and says so. */
static void hz_from(struct builder *b, const char *cfg)
{
	const char *v = kl_config_value(cfg, "CONFIG_HZ");
	unsigned long hz = v ? strtoul(v, NULL, 10) : 0;

	/* The kernel offers 100..1000; anything else is not a HZ. */
	if (hz >= 24 && hz <= 10000) {
		b->l->has_hz = 1;
		b->l->hz = (uint32_t)hz;
	}
}

/* CONFIG_HZ from the kernel's config beside the vmlinux ("config" in a
 * ktstr cache entry, ".config" in a build tree). */
static void config_hz(struct builder *b, const char *vmlinux_path)
{
	static const char *const names[] = { "config", ".config" };
	char *dup = strdup(vmlinux_path), *dir;

	if (!dup) {
		b->oom = 1;
		return;
	}
	dir = dirname(dup);
	for (size_t i = 0; i < 2; i++) {
		char p[4096], *cfg = NULL;
		size_t len;

		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, names[i]) >= sizeof(p) ||
		    read_file(p, &cfg, &len, KL_CONFIG_MAX))
			continue;
		hz_from(b, cfg);
		free(cfg);
		if (b->l->has_hz)
			break;
	}
	free(dup);
}

/* ---- the symbols ------------------------------------------------------------------ */

enum {
	S_BANNER,
	S_PCPU_OFFSET,
	S_PAGE_OFFSET_BASE,
	S_PHYS_BASE,
	S_PCPU_START,
	S_NR_CPU_IDS,
	S_RUNQUEUES,
	S_SCX_ENABLE,
	S_SCX_OPS_ENABLE,
	S_SCX_WATCHDOG,
	S_SCX_ROOT,
	S_SCX_EVENTS_CPU,
	S_SCX_WD_INTERVAL,
	S_SCX_WD_TIMESTAMP,
	S_JIFFIES,
	S_INIT_TOP_PGT,
	S_MEMSTART,
	S_COUNT
};

static const char *const sym_names[S_COUNT] = {
	[S_BANNER] = "linux_banner",
	[S_PCPU_OFFSET] = "__per_cpu_offset",
	[S_PAGE_OFFSET_BASE] = "page_offset_base",
	[S_PHYS_BASE] = "phys_base",
	[S_PCPU_START] = "__per_cpu_start",
	[S_NR_CPU_IDS] = "nr_cpu_ids",
	[S_RUNQUEUES] = "runqueues",
	[S_SCX_ENABLE] = "scx_enable_state_var",
	[S_SCX_OPS_ENABLE] = "scx_ops_enable_state_var",
	[S_SCX_WATCHDOG] = "scx_watchdog_timeout",
	[S_SCX_ROOT] = "scx_root",
	[S_SCX_EVENTS_CPU] = "event_stats_cpu",
	[S_SCX_WD_INTERVAL] = "scx_watchdog_interval",
	[S_SCX_WD_TIMESTAMP] = "scx_watchdog_timestamp",
	[S_JIFFIES] = "jiffies_64",
	[S_INIT_TOP_PGT] = "init_top_pgt",
	[S_MEMSTART] = "memstart_addr",
};

static int find_symbols(struct builder *b, const struct kl_image *im, struct kl_sym *syms,
			char *err, size_t errlen)
{
	char e1[256], e2[256];
	int ret;

	for (int i = 0; i < S_COUNT; i++)
		syms[i] = (struct kl_sym){ .name = sym_names[i] };
	ret = kl_syms_from_symtab(im, syms, S_COUNT, e1, sizeof(e1));
	if (!ret) {
		b->l->symbol_source = strdup("symtab");
		return b->l->symbol_source ? 0 : -ENOMEM;
	}
	if (ret != -ENOENT) {
		snprintf(err, errlen, "%s", e1);
		return ret;
	}
	ret = kl_syms_from_kallsyms(im, syms, S_COUNT, e2, sizeof(e2));
	if (!ret) {
		b->l->symbol_source = strdup("kallsyms");
		return b->l->symbol_source ? 0 : -ENOMEM;
	}
	snprintf(err, errlen,
		 "no kernel symbols: %s, and %s; use an unstripped vmlinux (a kernel built from "
		 "source, or Debian's linux-image-*-dbg package) or a kernel with CONFIG_KALLSYMS=y",
		 e1, e2);
	return ret == -ENOENT ? -ENODATA : ret;
}

/* linux_banner must be where the symbols say, in the image's own bytes:
 * the proof that the symbol tables were read right. */
static int check_banner(struct builder *b, const struct kl_image *im, uint64_t kva, char *err,
			size_t errlen)
{
	const uint8_t *p = kl_kva_bytes(im, kva, sizeof(BANNER_PREFIX) - 1);
	Ktstr__GuestKernelLayout *l = b->l;
	size_t n = 0, rl;
	const char *rel;

	if (!p || memcmp(p, BANNER_PREFIX, sizeof(BANNER_PREFIX) - 1)) {
		snprintf(err, errlen,
			 "linux_banner at %#llx does not read \"Linux version\": the %s symbol table "
			 "does not fit this image",
			 (unsigned long long)kva, l->symbol_source);
		return -EINVAL;
	}
	while (n < BANNER_MAX && kl_kva_bytes(im, kva + n, 1) && p[n] && p[n] != '\n')
		n++;
	l->banner.data = malloc(n);
	if (!l->banner.data)
		return -ENOMEM;
	memcpy(l->banner.data, p, n);
	l->banner.len = n;
	l->has_banner = 1;
	rel = (const char *)p + sizeof(BANNER_PREFIX) - 1;
	rl = strcspn(rel, " \n");
	if (rl > n - (sizeof(BANNER_PREFIX) - 1))
		rl = n - (sizeof(BANNER_PREFIX) - 1);
	l->release = strndup(rel, rl);
	return l->release ? 0 : -ENOMEM;
}

/* The per-CPU runqueues' address twice over: from the symbols and from
 * BTF's .data..percpu section plus the section's link address (the ELF's
 * section header, or __per_cpu_start in a flat Image). They must agree;
 * when the symbols lack it, BTF's stands. */
static int check_runqueues(const struct kl_image *im, const struct btf *btf, struct kl_sym *syms,
			   char *err, size_t errlen)
{
	struct kl_sym *rq = &syms[S_RUNQUEUES];
	struct kl_section pcpu;
	uint32_t off;

	if (!btf || kl_btf_percpu_var(btf, "runqueues", &off))
		return 0;
	if (!im->elf && syms[S_PCPU_START].found)
		pcpu.addr = syms[S_PCPU_START].addr;
	else if (kl_section(im, ".data..percpu", &pcpu))
		return 0;
	if (!rq->found) {
		rq->found = true;
		rq->addr = pcpu.addr + off;
		return 0;
	}
	if (rq->addr != pcpu.addr + off) {
		snprintf(err, errlen,
			 "symbols put runqueues at %#llx, BTF at %#llx: the symbol table does not fit "
			 "this image",
			 (unsigned long long)rq->addr, (unsigned long long)(pcpu.addr + off));
		return -EINVAL;
	}
	return 0;
}

#define SET_SYM(b, syms, idx, fld)                      \
	do {                                            \
		if ((syms)[idx].found) {                \
			(b)->l->has_##fld = 1;          \
			(b)->l->fld = (syms)[idx].addr; \
		}                                       \
	} while (0)

static void sched_ext_parts(struct builder *b, const struct btf *btf, const struct kl_sym *syms)
{
	Ktstr__GuestKernelLayout *l = b->l;
	uint32_t size;

	if (!btf || kl_btf_struct_size(btf, "scx_rq", &size)) {
		add_missing(b, "%s", "sched_ext (BTF has no struct scx_rq: CONFIG_SCHED_CLASS_EXT is off)");
		return;
	}
	l->rq_scx = field(b, btf, "rq", "scx");
	l->scx_rq_nr_running = field(b, btf, "scx_rq", "nr_running");
	l->scx_rq_local_dsq = field(b, btf, "scx_rq", "local_dsq");
	l->scx_rq_flags = field(b, btf, "scx_rq", "flags");
	l->scx_dsq_nr = field(b, btf, "scx_dispatch_q", "nr");
	if (syms[S_SCX_ENABLE].found) {
		l->has_scx_enable_state = 1;
		l->scx_enable_state = syms[S_SCX_ENABLE].addr;
	} else if (syms[S_SCX_OPS_ENABLE].found) {
		l->has_scx_enable_state = 1;
		l->scx_enable_state = syms[S_SCX_OPS_ENABLE].addr;
	} else {
		add_missing(b, "symbol %s", "scx_enable_state_var (or scx_ops_enable_state_var)");
	}
	enable_states(b, btf);
	/* The runnable-task check: the lists sched_ext's watchdog walks. */
	l->scx_rq_runnable_list = field(b, btf, "scx_rq", "runnable_list");
	l->task_scx = field(b, btf, "task_struct", "scx");
	l->scx_entity_runnable_node = field(b, btf, "sched_ext_entity", "runnable_node");
	l->scx_entity_runnable_at = field(b, btf, "sched_ext_entity", "runnable_at");
	l->task_pid = field(b, btf, "task_struct", "pid");
	l->task_comm = field(b, btf, "task_struct", "comm");

	/* The watchdog timeout: a static before the per-root scheduler, a
	 * field of *scx_root after. */
	SET_SYM(b, syms, S_SCX_WATCHDOG, scx_watchdog_timeout);
	SET_SYM(b, syms, S_SCX_ROOT, scx_root);
	SET_SYM(b, syms, S_SCX_WD_INTERVAL, scx_watchdog_interval);
	SET_SYM(b, syms, S_SCX_WD_TIMESTAMP, scx_watchdog_timestamp);
	SET_SYM(b, syms, S_JIFFIES, jiffies);
	if (!l->has_scx_watchdog_timestamp || !l->has_jiffies)
		add_missing(b, "%s", "the sched_ext watchdog's check-in stamp or jiffies_64: its "
				     "timeout is not lowered (it would eject healthy schedulers)");
	if (!kl_btf_struct_size(btf, "scx_sched", &size)) {
		l->scx_sched_watchdog_timeout = field(b, btf, "scx_sched", "watchdog_timeout");
		if (!l->has_scx_root)
			add_missing(b, "symbol %s", "scx_root");
	}
	if (!l->has_scx_watchdog_timeout && !(l->has_scx_root && l->scx_sched_watchdog_timeout))
		add_missing(b, "%s", "sched_ext watchdog timeout (neither scx_watchdog_timeout nor "
				     "scx_root->watchdog_timeout)");

	/* Event counters (6.15+): a per-CPU variable first, then per root. */
	if (kl_btf_struct_size(btf, "scx_event_stats", &size)) {
		add_missing(b, "%s", "sched_ext event counters (no struct scx_event_stats: before 6.15)");
		return;
	}
	l->has_scx_event_stats_size = 1;
	l->scx_event_stats_size = size;
	if (kl_btf_each_member(btf, "scx_event_stats", add_event, b))
		b->oom = 1;
	SET_SYM(b, syms, S_SCX_EVENTS_CPU, scx_event_stats_cpu);
	if (!l->has_scx_event_stats_cpu) {
		if (!kl_btf_struct_size(btf, "scx_sched_pcpu", &size)) {
			l->scx_sched_pcpu = field(b, btf, "scx_sched", "pcpu");
			l->scx_sched_pcpu_event_stats = field(b, btf, "scx_sched_pcpu", "event_stats");
		} else {
			add_missing(b, "%s", "sched_ext event counters' location (neither event_stats_cpu "
					     "nor struct scx_sched_pcpu)");
		}
	}
}

/* The ELF vmlinux's part: its .BTF, then the common derivation. */
static int derive(struct builder *b, const char *path, const uint8_t *data, size_t len, char *err,
		  size_t errlen)
{
	struct kl_section sec;
	struct kl_image im;
	struct btf *btf = NULL;
	int ret;

	ret = kl_image_open(&im, data, len, err, errlen);
	if (ret)
		return ret;

	ret = kl_section(&im, ".BTF", &sec);
	if (ret == -EINVAL) {
		snprintf(err, errlen, ".BTF section lies outside the file");
		goto out;
	}
	if (!ret && sec.size <= KL_BTF_MAX) {
		/* btf__new copies and validates the blob (types, strings,
		 * offsets); a damaged one is NULL with errno. */
		btf = btf__new(sec.bytes, (__u32)sec.size);
		if (!btf) {
			snprintf(err, errlen, ".BTF section is damaged (libbpf: %s)", strerror(errno));
			ret = -EINVAL;
			goto out;
		}
	}
	ret = kl_derive(b->l, &im, btf, path, NULL, err, errlen);
out:
	btf__free(btf);
	kl_image_close(&im);
	return ret;
}

int kl_derive(Ktstr__GuestKernelLayout *layout, const struct kl_image *imp, const struct btf *btf,
	      const char *path, const char *cfg, char *err, size_t errlen)
{
	struct builder bb = { .l = layout }, *b = &bb;
	Ktstr__GuestKernelLayout *l = b->l;
	const struct kl_image *im = imp;
	bool arm64 = l->has_arch && l->arch == KTSTR__ARCH__ARCH_ARM64;
	struct kl_sym syms[S_COUNT];
	int ret, essential_missing = 0;
	uint32_t size;

	if (cfg)
		hz_from(b, cfg);
	else if (path)
		config_hz(b, path);
	ret = find_symbols(b, im, syms, err, errlen);
	if (ret)
		return ret;
	if (!syms[S_BANNER].found) {
		const char *all = cfg ? kl_config_value(cfg, "CONFIG_KALLSYMS_ALL") : NULL;

		if (arm64 && cfg && (!all || *all != 'y'))
			snprintf(err, errlen,
				 "no linux_banner symbol: this kernel's kallsyms holds code symbols "
				 "only (CONFIG_KALLSYMS_ALL is not set), so neither the banner nor "
				 "the runqueues, per-CPU offsets or memstart_addr can be found; use a "
				 "kernel built with CONFIG_KALLSYMS_ALL=y (Debian's from 6.12 on)");
		else
			snprintf(err, errlen, "no linux_banner symbol (%s): cannot check the symbols",
				 l->symbol_source);
		/* The rest is unchecked without the banner: only what is
		 * absent is said, nothing found is set. */
		for (int i = 0; i < S_COUNT; i++) {
			bool need = i == S_BANNER || i == S_PCPU_OFFSET || i == S_RUNQUEUES ||
				    i == (arm64 ? S_MEMSTART : S_PAGE_OFFSET_BASE);

			if (need && !syms[i].found)
				add_missing(b, "symbol %s", sym_names[i]);
		}
		return b->oom ? -ENOMEM : -ENODATA;
	}
	ret = check_banner(b, im, syms[S_BANNER].addr, err, errlen);
	if (ret)
		return ret;
	ret = check_runqueues(im, btf, syms, err, errlen);
	if (ret)
		return ret;

	SET_SYM(b, syms, S_BANNER, linux_banner);
	SET_SYM(b, syms, S_PCPU_OFFSET, per_cpu_offset);
	SET_SYM(b, syms, S_PCPU_START, per_cpu_start);
	SET_SYM(b, syms, S_NR_CPU_IDS, nr_cpu_ids);
	SET_SYM(b, syms, S_RUNQUEUES, runqueues);
	for (int i = S_PCPU_OFFSET; i <= S_RUNQUEUES; i++)
		if (!syms[i].found && (!arm64 || (i != S_PAGE_OFFSET_BASE && i != S_PHYS_BASE)))
			add_missing(b, "symbol %s%s", sym_names[i],
				    syms[i].ambiguous ? " (ambiguous)" : "");
	essential_missing = !syms[S_PCPU_OFFSET].found || !syms[S_RUNQUEUES].found;
	if (arm64) {
		/* The linear map's physical base: the worker's only way from a
		 * per-CPU address to guest memory. */
		SET_SYM(b, syms, S_MEMSTART, memstart_addr);
		if (!syms[S_MEMSTART].found)
			add_missing(b, "symbol memstart_addr%s",
				    syms[S_MEMSTART].ambiguous ? " (ambiguous)" : "");
		essential_missing |= !syms[S_MEMSTART].found;
	} else {
		SET_SYM(b, syms, S_PAGE_OFFSET_BASE, page_offset_base);
		SET_SYM(b, syms, S_PHYS_BASE, phys_base);
		essential_missing |= !syms[S_PAGE_OFFSET_BASE].found;
		SET_SYM(b, syms, S_INIT_TOP_PGT, init_top_pgt);
		if (!syms[S_INIT_TOP_PGT].found)
			add_missing(b, "%s", "symbol init_top_pgt: nothing outside the linear maps is "
					     "read (vmalloc'd per-CPU event counters)");
	}

	if (!btf) {
		add_missing(b, "%s", arm64 ? "BTF (no vmlinux.btf in the cache entry): build the "
					     "kernel with CONFIG_DEBUG_INFO_BTF=y"
					   : "BTF (.BTF section): build the kernel with "
					     "CONFIG_DEBUG_INFO_BTF=y");
		essential_missing = 1;
	} else {
		if (!kl_btf_struct_size(btf, "rq", &size)) {
			l->has_rq_size = 1;
			l->rq_size = size;
		}
		l->rq_nr_running = field(b, btf, "rq", "nr_running");
		l->rq_clock = field(b, btf, "rq", "clock");
		l->rq_clock_task = field(b, btf, "rq", "clock_task");
		l->rq_cpu = field(b, btf, "rq", "cpu");
		essential_missing |= !l->has_rq_size || !l->rq_nr_running || !l->rq_clock;
	}
	sched_ext_parts(b, btf, syms);
	if (b->oom)
		return -ENOMEM;
	if (essential_missing) {
		size_t at = 0;

		at += (size_t)snprintf(err, errlen, "the monitor cannot run on this kernel: missing");
		for (size_t i = 0; i < l->n_missing && at < errlen; i++)
			at += (size_t)snprintf(err + at, errlen - at, "%s %s", i ? ";" : "",
					       l->missing[i]);
		return -ENODATA;
	}
	return 0;
}

/* ---- finding and reading the image -------------------------------------------------- */

static bool is_bzimage(const uint8_t *d, size_t len)
{
	return len > 0x210 && !memcmp(d + 0x202, "HdrS", 4);
}

static int read_image(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	/* Refuse an oversized file before reading it; read_file's own bound
	 * still holds for one that grows meanwhile. */
	ret = stat(path, &st) ? -errno : (uint64_t)st.st_size > KERNEL_LAYOUT_FILE_MAX ? -EFBIG : 0;
	if (!ret)
		ret = read_file(path, buf, len, KERNEL_LAYOUT_FILE_MAX);

	if (ret == -EFBIG)
		snprintf(err, errlen, "%s: larger than 1 GiB, refused as a kernel image", path);
	else if (ret)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

int kernel_layout_from_vmlinux(const char *path, Ktstr__GuestKernelLayout **out, char *err,
			       size_t errlen)
{
	char p[4096], *buf = NULL;
	uint8_t *extracted = NULL;
	const uint8_t *img;
	struct builder b = { 0 };
	struct stat st;
	size_t len;
	int ret;

	*out = NULL;
	if ((size_t)snprintf(p, sizeof(p), "%s", path) >= sizeof(p))
		return -ENAMETOOLONG;
	if (!stat(path, &st) && S_ISDIR(st.st_mode) &&
	    (size_t)snprintf(p, sizeof(p), "%s/vmlinux", path) >= sizeof(p))
		return -ENAMETOOLONG;
	ret = read_image(p, &buf, &len, err, errlen);
	if (ret)
		return ret;
	img = (const uint8_t *)buf;
	if (is_bzimage(img, len)) {
		/* A bzImage carries a stripped vmlinux: the cache keeps one
		 * beside it; otherwise decompress our own. */
		char sib[4096], *dup = strdup(p);

		if (!dup) {
			ret = -ENOMEM;
			goto err_buf;
		}
		ret = (size_t)snprintf(sib, sizeof(sib), "%s/vmlinux", dirname(dup)) >= sizeof(sib);
		free(dup);
		if (!ret && !access(sib, R_OK)) {
			free(buf);
			buf = NULL;
			ret = read_image(sib, &buf, &len, err, errlen);
			if (ret)
				return ret;
			snprintf(p, sizeof(p), "%s", sib);
			img = (const uint8_t *)buf;
		} else {
			ret = bzimage_extract_vmlinux(img, len, &extracted, &len, err, errlen);
			if (ret)
				goto err_buf;
			img = extracted;
		}
	} else if (len < 4 || memcmp(img, "\x7f" "ELF", 4)) {
		snprintf(err, errlen, "%s: neither an ELF vmlinux nor a bzImage", p);
		ret = -EINVAL;
		goto err_buf;
	}

	b.l = malloc(sizeof(*b.l));
	if (!b.l) {
		ret = -ENOMEM;
		goto err_buf;
	}
	ktstr__guest_kernel_layout__init(b.l);
	/* libbpf would print its own parse complaints on stderr; ours say it. */
	libbpf_set_print(NULL);
	ret = derive(&b, p, img, len, err, errlen);
	if (ret && ret != -ENODATA)
		goto err_msg;
	*out = b.l;
	free(extracted);
	free(buf);
	return ret;

err_msg:
	ktstr__guest_kernel_layout__free_unpacked(b.l, NULL);
err_buf:
	free(extracted);
	free(buf);
	return ret;
}

/* ---- for a run or a shell -------------------------------------------------- */

Ktstr__GuestKernelLayout *kernel_layout_for_monitor(const char *image, Ktstr__Arch arch)
{
	Ktstr__GuestKernelLayout *l = NULL;
	char why[1024];
	int ret;

	if (arch == KTSTR__ARCH__ARCH_ARM64) {
		/* An arm64 entry: the Image's directory holds config and BTF. */
		char *dup = strdup(image);
		struct stat st;

		if (!dup)
			return NULL;
		ret = kernel_layout_from_arm64_entry(!stat(image, &st) && S_ISDIR(st.st_mode) ? image
											  : dirname(dup),
						     &l, why, sizeof(why));
		free(dup);
	} else {
		ret = kernel_layout_from_vmlinux(image, &l, why, sizeof(why));
	}
	if (ret) {
		if (l)
			ktstr__guest_kernel_layout__free_unpacked(l, NULL);
		kwarn("monitor: off for kernel %s: %s", image, why);
		return NULL;
	}
	if (l->n_missing)
		kinfo("monitor: on; kernel %s lacks %s%s", image, l->missing[0],
		      l->n_missing > 1 ? " and more (docs/monitor.md)" : "");
	else
		kinfo("monitor: on for kernel %s", image);
	return l;
}
