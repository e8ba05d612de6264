/* A fake guest for the monitor's tests: a 256 MiB RAM buffer (calloc'd, so
 * untouched pages cost nothing) laid out the way the Debian kernels lay
 * themselves out, and GuestKernelLayouts built from the numbers the
 * orchestrator derives from those kernels (docs/monitor.md, "Measured on the
 * kernels here": 7.2.13 with sched_ext, 6.12.118 without). The layouts are
 * constructed here because unit-vmm-worker does not link the orchestrator;
 * tests/unit/orchestrator/test_kernel_layout.c checks the same numbers
 * against the images.
 *
 * Guest-physical map: the kernel image at its link address (phys_base 0),
 * so a kernel-image symbol lies at kva - 0xffffffff80000000; CPU n's per-CPU
 * area at 128 MiB + n MiB in the direct map; struct scx_sched at 100 MiB;
 * dynamic per-CPU memory (scx_sched_pcpu) 512 KiB into each area. */
#ifndef KTSTR_TEST_MONITOR_GUEST_H
#define KTSTR_TEST_MONITOR_GUEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "monitor/monitor.h"
#include "test_env.h"

#define FG_RAM (256ull << 20)
#define FG_PO_L4 0xffff888000000000ull
#define FG_PO_L5 0xff11000000000000ull
#define FG_AREA0 (128ull << 20)
#define FG_AREA (1ull << 20)
#define FG_SCHED_GPA (100ull << 20)
#define FG_PCPU_DYN 0x80000ull
#define FG_REL_72 "7.2.13+deb14-cloud-amd64"
#define FG_REL_612 "6.12.118+deb12-cloud-amd64"
#define FG_MS 1000000ull

struct fake_guest {
	uint8_t *ram;
	uint64_t len;
	uint32_t ncpu;
	uint64_t page_offset, pcpu_start;
	uint64_t fault_lo, fault_hi; /* reads touching [lo, hi) fail */
	unsigned long reads;
	bool image; /* the real kernel image is loaded: its own banner */
	char banner[96];
	/* the layout and what its pointers point at */
	Ktstr__GuestKernelLayout l;
	Ktstr__KernelField f[24];
	Ktstr__KernelEnumValue st[4];
	Ktstr__KernelEnumValue *stp[4];
	Ktstr__KernelField evf[13];
	Ktstr__ScxEventCounter ev[13];
	Ktstr__ScxEventCounter *evp[13];
};

static inline int fg_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake_guest *g = ctx;

	g->reads++;
	if (gpa >= g->len || len > g->len - gpa)
		return -EFAULT;
	if (g->fault_hi && gpa < g->fault_hi && gpa + len > g->fault_lo)
		return -EFAULT;
	memcpy(buf, g->ram + gpa, len);
	return 0;
}

static inline uint64_t fg_img(uint64_t kva)
{
	return kva - 0xffffffff80000000ull;
}

static inline void fg_put(struct fake_guest *g, uint64_t gpa, const void *v, size_t n)
{
	cr_assert(gpa + n <= g->len, "fake guest write at %#lx", (unsigned long)gpa);
	memcpy(g->ram + gpa, v, n);
}

static inline void fg_put64(struct fake_guest *g, uint64_t gpa, uint64_t v)
{
	fg_put(g, gpa, &v, 8);
}

static inline void fg_put32(struct fake_guest *g, uint64_t gpa, uint32_t v)
{
	fg_put(g, gpa, &v, 4);
}

static inline Ktstr__KernelField *fg_field(struct fake_guest *g, int i, uint32_t off, uint32_t size)
{
	ktstr__kernel_field__init(&g->f[i]);
	g->f[i].offset = off;
	g->f[i].size = size;
	return &g->f[i];
}

static inline void fg_common(struct fake_guest *g, uint32_t ncpu)
{
	memset(g, 0, sizeof(*g));
	g->ncpu = ncpu;
	g->len = FG_RAM;
	g->ram = calloc(1, FG_RAM);
	cr_assert(g->ram);
	ktstr__guest_kernel_layout__init(&g->l);
	g->l.has_banner = g->l.has_linux_banner = g->l.has_per_cpu_offset = 1;
	g->l.has_page_offset_base = g->l.has_phys_base = g->l.has_per_cpu_start = 1;
	g->l.has_nr_cpu_ids = g->l.has_runqueues = g->l.has_rq_size = g->l.has_hz = 1;
	g->l.hz = 250;
	g->l.banner.data = (uint8_t *)g->banner;
}

/* sid 7.2.13: per-CPU section linked in the kernel image, sched_ext, the
 * watchdog timeout in scx_root, 13 event counters in scx_sched_pcpu. */
static inline void fg_init_72(struct fake_guest *g, uint32_t ncpu)
{
	static const char *const names[13] = {
		"SCX_EV_SELECT_CPU_FALLBACK", "SCX_EV_DISPATCH_LOCAL_DSQ_OFFLINE",
		"SCX_EV_DISPATCH_KEEP_LAST", "SCX_EV_ENQ_SKIP_EXITING",
		"SCX_EV_ENQ_SKIP_MIGRATION_DISABLED", "SCX_EV_REENQ_IMMED",
		"SCX_EV_REENQ_LOCAL_REPEAT", "SCX_EV_REFILL_SLICE_DFL", "SCX_EV_BYPASS_DURATION",
		"SCX_EV_BYPASS_DISPATCH", "SCX_EV_BYPASS_ACTIVATE", "SCX_EV_INSERT_NOT_OWNED",
		"SCX_EV_SUB_BYPASS_DISPATCH",
	};
	static const char *const states[4] = { "SCX_ENABLING", "SCX_ENABLED", "SCX_DISABLING",
					       "SCX_DISABLED" };

	fg_common(g, ncpu);
	snprintf(g->banner, sizeof(g->banner), "Linux version " FG_REL_72 " (");
	g->l.banner.len = strlen(g->banner);
	g->l.release = (char *)FG_REL_72;
	g->page_offset = FG_PO_L5;
	g->l.linux_banner = 0xffffffff82589580ull;
	g->l.per_cpu_offset = 0xffffffff82a960e0ull;
	g->l.page_offset_base = 0xffffffff82a856a8ull;
	g->l.phys_base = 0xffffffff83232010ull;
	g->l.per_cpu_start = g->pcpu_start = 0xffffffff83da5000ull;
	g->l.nr_cpu_ids = 0xffffffff83553fd0ull;
	g->l.runqueues = 0xffffffff83dd7100ull;
	g->l.has_scx_enable_state = g->l.has_scx_root = g->l.has_scx_event_stats_size = 1;
	g->l.scx_enable_state = 0xffffffff8327cb90ull;
	g->l.scx_root = 0xffffffff83e4afd0ull;
	g->l.rq_size = 4480;
	g->l.rq_nr_running = fg_field(g, 0, 0, 4);
	g->l.rq_clock = fg_field(g, 1, 3728, 8);
	g->l.rq_clock_task = fg_field(g, 2, 3712, 8);
	g->l.rq_cpu = fg_field(g, 3, 3880, 4);
	g->l.rq_scx = fg_field(g, 4, 2552, 384);
	g->l.scx_rq_nr_running = fg_field(g, 5, 144, 4);
	g->l.scx_rq_local_dsq = fg_field(g, 6, 0, 104);
	g->l.scx_rq_flags = fg_field(g, 7, 156, 4);
	g->l.scx_dsq_nr = fg_field(g, 8, 40, 4);
	g->l.scx_sched_watchdog_timeout = fg_field(g, 9, 840, 8);
	g->l.scx_sched_pcpu = fg_field(g, 10, 688, 8);
	g->l.scx_sched_pcpu_event_stats = fg_field(g, 11, 16, 104);
	g->l.scx_event_stats_size = 104;
	for (int i = 0; i < 4; i++) {
		ktstr__kernel_enum_value__init(&g->st[i]);
		g->st[i].name = (char *)states[i];
		g->st[i].value = i;
		g->stp[i] = &g->st[i];
	}
	g->l.n_scx_enable_states = 4;
	g->l.scx_enable_states = g->stp;
	for (int i = 0; i < 13; i++) {
		ktstr__kernel_field__init(&g->evf[i]);
		g->evf[i].offset = 8 * i;
		g->evf[i].size = 8;
		ktstr__scx_event_counter__init(&g->ev[i]);
		g->ev[i].name = (char *)names[i];
		g->ev[i].field = &g->evf[i];
		g->evp[i] = &g->ev[i];
	}
	g->l.n_scx_events = 13;
	g->l.scx_events = g->evp;
}

/* bookworm 6.12.118: zero-based per-CPU area, no sched_ext. */
static inline void fg_init_612(struct fake_guest *g, uint32_t ncpu)
{
	fg_common(g, ncpu);
	snprintf(g->banner, sizeof(g->banner), "Linux version " FG_REL_612 " (");
	g->l.banner.len = strlen(g->banner);
	g->l.release = (char *)FG_REL_612;
	g->page_offset = FG_PO_L4;
	g->l.linux_banner = 0xffffffff821532e0ull;
	g->l.per_cpu_offset = 0xffffffff82565e20ull;
	g->l.page_offset_base = 0xffffffff825555a8ull;
	g->l.phys_base = 0xffffffff82c2c010ull;
	g->l.per_cpu_start = g->pcpu_start = 0;
	g->l.nr_cpu_ids = 0xffffffff82e69080ull;
	g->l.runqueues = 0x35e80;
	g->l.rq_size = 3456;
	g->l.rq_nr_running = fg_field(g, 0, 4, 4);
	g->l.rq_clock = fg_field(g, 1, 2736, 8);
	g->l.rq_clock_task = fg_field(g, 2, 2752, 8);
	g->l.rq_cpu = fg_field(g, 3, 2920, 4);
}

static inline uint64_t fg_rq(const struct fake_guest *g, uint32_t cpu)
{
	return FG_AREA0 + cpu * FG_AREA + (g->l.runqueues - g->pcpu_start);
}

/* What the kernel does by the time the scheduler runs: image in place
 * (its banner), the direct-map base, nr_cpu_ids, __per_cpu_offset[] and
 * every rq->cpu. */
static inline void fg_boot(struct fake_guest *g)
{
	if (!g->image)
		fg_put(g, fg_img(g->l.linux_banner), g->banner, strlen(g->banner));
	fg_put64(g, fg_img(g->l.page_offset_base), g->page_offset);
	fg_put32(g, fg_img(g->l.nr_cpu_ids), g->ncpu);
	for (uint32_t n = 0; n < g->ncpu; n++) {
		/* setup_per_cpu_areas: __per_cpu_offset[n] = area - __per_cpu_start. */
		fg_put64(g, fg_img(g->l.per_cpu_offset) + 8 * n,
			 g->page_offset + FG_AREA0 + n * FG_AREA - g->pcpu_start);
		fg_put32(g, fg_rq(g, n) + g->l.rq_cpu->offset, n);
	}
}

static inline void fg_cpu(struct fake_guest *g, uint32_t cpu, uint32_t nr_running, uint64_t clock,
		   uint32_t local_dsq)
{
	uint64_t rq = fg_rq(g, cpu);

	fg_put32(g, rq + g->l.rq_nr_running->offset, nr_running);
	fg_put64(g, rq + g->l.rq_clock->offset, clock);
	if (g->l.rq_scx) {
		fg_put32(g, rq + g->l.rq_scx->offset + g->l.scx_rq_nr_running->offset, nr_running);
		fg_put32(g, rq + g->l.rq_scx->offset + g->l.scx_rq_local_dsq->offset +
				    g->l.scx_dsq_nr->offset,
			 local_dsq);
	}
}

static inline void fg_enable(struct fake_guest *g, uint32_t state)
{
	fg_put32(g, fg_img(g->l.scx_enable_state), state);
}

/* A scheduler attached: scx_root -> struct scx_sched, its pcpu pointer a
 * dynamic per-CPU offset that lands FG_PCPU_DYN into each CPU's area. */
static inline void fg_attach(struct fake_guest *g)
{
	fg_put64(g, fg_img(g->l.scx_root), g->page_offset + FG_SCHED_GPA);
	fg_put64(g, FG_SCHED_GPA + g->l.scx_sched_pcpu->offset, g->pcpu_start + FG_PCPU_DYN);
}

static inline void fg_event(struct fake_guest *g, uint32_t cpu, uint32_t idx, uint64_t v)
{
	fg_put64(g, FG_AREA0 + cpu * FG_AREA + FG_PCPU_DYN + g->l.scx_sched_pcpu_event_stats->offset +
			    8 * idx,
		 v);
}

/* ---- the runnable-task check: 7.2's task fields and runnable lists ---- */

#define FG_TASK_GPA (110ull << 20) /* task n at FG_TASK_GPA + n * FG_TASK_SIZE */
#define FG_TASK_SIZE (16ull << 10)
#define FG_JIFFIES_KVA 0xffffffff83e4b010ull

/* pahole on 7.2.13: scx_rq.runnable_list 104, task_struct.scx 776
 * (sched_ext_entity: runnable_node 136, runnable_at 152), pid 2808, comm
 * 3344; and jiffies_64 somewhere in the image. */
static inline void fg_tasks_layout(struct fake_guest *g)
{
	g->l.scx_rq_runnable_list = fg_field(g, 12, 104, 16);
	g->l.task_scx = fg_field(g, 13, 776, 224);
	g->l.scx_entity_runnable_node = fg_field(g, 14, 136, 16);
	g->l.scx_entity_runnable_at = fg_field(g, 15, 152, 8);
	g->l.task_pid = fg_field(g, 16, 2808, 4);
	g->l.task_comm = fg_field(g, 17, 3344, 16);
	g->l.has_jiffies = 1;
	g->l.jiffies = FG_JIFFIES_KVA;
}

static inline uint64_t fg_task_gpa(uint32_t n)
{
	return FG_TASK_GPA + n * FG_TASK_SIZE;
}

/* Task n's runnable_node as the kernel's list pointers hold it. */
static inline uint64_t fg_task_node_kva(const struct fake_guest *g, uint32_t n)
{
	return g->page_offset + fg_task_gpa(n) + 776 + 136;
}

static inline uint64_t fg_list_head_kva(const struct fake_guest *g, uint32_t cpu)
{
	return g->page_offset + fg_rq(g, cpu) + 2552 + 104;
}

static inline void fg_task(struct fake_guest *g, uint32_t n, int32_t pid, const char *comm,
			   uint64_t runnable_at)
{
	char c[16] = { 0 };

	memcpy(c, comm, strnlen(comm, sizeof(c)));
	fg_put32(g, fg_task_gpa(n) + 2808, (uint32_t)pid);
	fg_put(g, fg_task_gpa(n) + 3344, c, sizeof(c));
	fg_put64(g, fg_task_gpa(n) + 776 + 152, runnable_at);
}

/* cpu's runnable list: tasks[0..nr) in that order (nr 0: empty). */
static inline void fg_runnable(struct fake_guest *g, uint32_t cpu, const uint32_t *tasks,
			       uint32_t nr)
{
	uint64_t head = fg_list_head_kva(g, cpu), prev = head;

	for (uint32_t i = 0; i < nr; i++) {
		uint64_t node = fg_task_node_kva(g, tasks[i]);

		fg_put64(g, prev - g->page_offset, node); /* prev->next */
		fg_put64(g, node - g->page_offset + 8, prev);
		prev = node;
	}
	fg_put64(g, prev - g->page_offset, head);
	fg_put64(g, head - g->page_offset + 8, prev);
}

static inline void fg_jiffies(struct fake_guest *g, uint64_t j)
{
	fg_put64(g, fg_img(FG_JIFFIES_KVA), j);
}

static inline void fg_free(struct fake_guest *g)
{
	free(g->ram);
	g->ram = NULL;
}

/* The real image: every PT_LOAD segment at its physical address, the way
 * the kernel sits in RAM once unpacked. False when the file is not there. */
static inline bool fg_load_image(struct fake_guest *g, const char *kind)
{
	char path[4096], *buf;
	size_t len, nph;
	Elf *elf;

	if (!test_env_kernel(kind, path, sizeof(path)))
		return false;
	cr_assert_eq(read_file(path, &buf, &len, 1u << 30), 0, "read %s", path);
	elf_version(EV_CURRENT);
	elf = elf_memory(buf, len);
	cr_assert(elf);
	cr_assert_eq(elf_getphdrnum(elf, &nph), 0);
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		cr_assert(gelf_getphdr(elf, (int)i, &ph));
		if (ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		cr_assert(ph.p_paddr + ph.p_filesz <= FG_SCHED_GPA && ph.p_offset + ph.p_filesz <= len);
		memcpy(g->ram + ph.p_paddr, buf + ph.p_offset, ph.p_filesz);
	}
	elf_end(elf);
	free(buf);
	g->image = true;
	return true;
}

static inline struct monitor *fg_monitor(struct fake_guest *g, const struct monitor_thresholds *th)
{
	struct monitor *m = NULL;
	char err[256] = "";

	cr_assert_eq(monitor_new(&g->l, g->ncpu, fg_read, g, g->len, th, &m, err, sizeof(err)), 0,
		     "%s", err);
	return m;
}

#endif
