/* Readiness: the guest kernel is readable once its image is in RAM where the
 * layout says (the banner self check), its direct map is known
 * (page_offset_base; arm64: memstart_addr) and every CPU's runqueue is found through
 * __per_cpu_offset and names itself (rq->cpu == CPU). Before that the guest
 * is RAM of zeros, a compressed kernel being unpacked, or a kernel that has
 * not set up its per-CPU areas yet: nothing is sampled, nothing fails. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ktstr/log.h>

#include "monitor_priv.h"

#define NOT_READY(...) snprintf(m->not_ready, sizeof(m->not_ready), __VA_ARGS__)

/* The lowest direct-map base the check accepts: the kernel half of the
 * 57-bit address space (5-level paging puts it at 0xff11000000000000). */
#define DIRECT_MAP_LOWEST 0xff00000000000000ull
#define PUD_SIZE (1ull << 30)
#define MEMSTART_ALIGN_MIN (2ull << 20)

static int check_banner(struct monitor *m, const struct kaddr_map *map)
{
	uint8_t got[MONITOR_BANNER_MAX];
	int ret;

	ret = kaddr_check_banner(map, m->read, m->ctx, m->l.linux_banner, m->l.banner,
				 m->l.banner_len);
	if (ret == -ESRCH) {
		/* Zeros: the kernel is still being unpacked (or not loaded);
		 * anything else is a different kernel or a moved one. */
		static const uint8_t zero[MONITOR_BANNER_MAX];

		if (!kaddr_read(map, m->read, m->ctx, m->l.linux_banner, got, m->l.banner_len) &&
		    !memcmp(got, zero, m->l.banner_len))
			NOT_READY("kernel image not in memory yet (linux_banner reads as zeros)");
		else
			NOT_READY("banner mismatch: wrong vmlinux or KASLR on");
	} else if (ret) {
		NOT_READY("linux_banner at %#llx not readable (%s)",
			  (unsigned long long)m->l.linux_banner, strerror(-ret));
	}
	return ret;
}

static int read_direct_map(struct monitor *m, struct kaddr_map *map)
{
	uint64_t po;
	int ret;

	ret = kaddr_read(map, m->read, m->ctx, m->l.page_offset_base, &po, sizeof(po));
	if (ret) {
		NOT_READY("page_offset_base not readable (%s)", strerror(-ret));
		return ret;
	}
	/* A direct-map base is PUD aligned in the kernel half and leaves room
	 * for all of RAM below the kernel image mapping. */
	if (po % PUD_SIZE || po < DIRECT_MAP_LOWEST || po >= KADDR_START_KERNEL_MAP ||
	    map->gpa_limit > KADDR_START_KERNEL_MAP - po) {
		NOT_READY("page_offset_base reads %#llx, not a direct-map base",
			  (unsigned long long)po);
		return -EINVAL;
	}
	map->page_offset = po;
	return 0;
}

/* How many CPUs the guest kernel has: the VM's vCPUs, fewer when the guest
 * runs with nr_cpus= (its nr_cpu_ids, once it has set it). */
static uint32_t guest_cpus(struct monitor *m, const struct kaddr_map *map)
{
	uint32_t ids;

	if (!m->l.nr_cpu_ids ||
	    kaddr_read(map, m->read, m->ctx, m->l.nr_cpu_ids, &ids, sizeof(ids)) || !ids ||
	    ids >= m->nr_vcpus)
		return m->nr_vcpus;
	return ids;
}

static int find_runqueues(struct monitor *m, const struct kaddr_map *map, uint32_t ncpu)
{
	for (uint32_t cpu = 0; cpu < ncpu; cpu++) {
		uint64_t kva, gpa;
		int32_t self;
		int ret;

		ret = kaddr_percpu(map, m->read, m->ctx, m->l.per_cpu_offset, cpu, ncpu,
				   m->l.runqueues, m->l.rq_size, &kva);
		if (!ret && kva == m->l.runqueues) {
			/* A zero offset: the kernel has not set up its
			 * per-CPU areas, and the address is the variable's
			 * link-time template (in the kernel image on 7.x and
			 * arm64; freed and poisoned after boot), whose rq->cpu
			 * is 0: for CPU 0 the self check alone would pass. */
			NOT_READY("cpu%u's __per_cpu_offset is 0: per-CPU areas not set up yet", cpu);
			return -EAGAIN;
		}
		if (!ret)
			ret = kaddr_to_gpa(map, kva, m->l.rq_size, &gpa);
		if (ret) {
			NOT_READY("cpu%u's __per_cpu_offset puts its runqueue outside RAM (%s)", cpu,
				  strerror(-ret));
			return ret;
		}
		ret = m->read(m->ctx, gpa + m->l.rq_cpu, &self, sizeof(self));
		if (ret) {
			NOT_READY("cpu%u's runqueue not readable (%s)", cpu, strerror(-ret));
			return ret;
		}
		if (self != (int32_t)cpu) {
			NOT_READY("rq->cpu of cpu%u reads %d: per-CPU areas not set up yet", cpu,
				  self);
			return -EAGAIN;
		}
		m->cs[cpu].rq_gpa = gpa;
		m->cs[cpu].rq_kva = kva;
	}
	return 0;
}

/* x86_64: phys_base, the banner, the direct map, the page tables. */
static int map_x86(struct monitor *m, struct kaddr_map *map)
{
	uint64_t pb;
	int ret;

	/* phys_base is read where it lies when the kernel runs at its link
	 * address (what both engines do); the banner check then proves the
	 * value, whatever it was. */
	ret = kaddr_read(map, m->read, m->ctx, m->l.phys_base, &pb, sizeof(pb));
	if (ret) {
		NOT_READY("phys_base not readable (%s)", strerror(-ret));
		return ret;
	}
	if (pb % 4096) {
		NOT_READY("phys_base reads %#llx, not page aligned", (unsigned long long)pb);
		return -EINVAL;
	}
	map->phys_base = pb;
	ret = check_banner(m, map);
	if (!ret)
		ret = read_direct_map(m, map);
	if (ret)
		return ret;
	/* The kernel's own page tables, for what is not linearly mapped
	 * (vmalloc'd per-CPU chunks): a kernel-image table, page aligned. */
	if (m->l.init_top_pgt && m->l.init_top_pgt % 4096 == 0 &&
	    !kaddr_to_gpa(map, m->l.init_top_pgt, 4096, &map->pgd_gpa))
		map->levels = kaddr_levels_for(map->page_offset);
	return 0;
}

/* arm64: the Image where the engine loaded it (the banner proves it), then
 * the linear map from memstart_addr, which the kernel sets early in boot
 * (arm64_memblock_init); its static value is -1. No page tables: what is
 * not linearly mapped stays unread. */
static int map_arm64(struct monitor *m, struct kaddr_map *map)
{
	uint64_t ms, lin, end;
	int ret;

	if (!m->image_pa_known) {
		NOT_READY("the engine did not say where it loaded the arm64 Image");
		return -ENOENT;
	}
	kaddr_map_arm64(map, m->l.image_vaddr, m->l.image_size, m->image_pa, m->l.va_bits,
			m->map.gpa_base, m->map.gpa_limit);
	ret = check_banner(m, map);
	if (ret)
		return ret;
	ret = kaddr_read(map, m->read, m->ctx, m->l.memstart_addr, &ms, sizeof(ms));
	if (ret) {
		NOT_READY("memstart_addr not readable (%s)", strerror(-ret));
		return ret;
	}
	if (ms == KADDR_MEMSTART_UNSET) {
		NOT_READY("memstart_addr not set yet (-1): the kernel has not found its RAM");
		return -EAGAIN;
	}
	/* The kernel rounds memstart down to ARM64_MEMSTART_ALIGN (128 MiB
	 * or more: SECTION_SIZE_BITS); 2 MiB is a weaker bound no kernel's
	 * value fails. It maps all of RAM linearly from there: both ends of
	 * RAM must land in [PAGE_OFFSET, PAGE_END) (unsigned distances, as
	 * memstart is below zero for a 52-bit kernel on a 48-bit CPU). */
	kaddr_arm64_linear(m->l.va_bits, &lin, &end); /* va_bits checked at monitor_new */
	if (ms % MEMSTART_ALIGN_MIN || map->gpa_base - ms >= end - lin || map->gpa_limit - 1 - ms >= end - lin) {
		NOT_READY("memstart_addr reads %#llx, not a base that maps guest RAM",
			  (unsigned long long)ms);
		return -EINVAL;
	}
	map->memstart = ms;
	return 0;
}

static int attempt(struct monitor *m, uint64_t now_ns)
{
	struct kaddr_map map = { .gpa_limit = m->map.gpa_limit };
	uint32_t ncpu;
	int ret;

	ret = m->l.arm64 ? map_arm64(m, &map) : map_x86(m, &map);
	if (ret)
		return ret;
	ncpu = guest_cpus(m, &map);
	ret = find_runqueues(m, &map, ncpu);
	if (ret)
		return ret;
	if (m->l.has_scx && kaddr_to_gpa(&map, m->l.scx_enable_state, 4, &m->enable_state_gpa)) {
		/* A kernel-image symbol outside RAM: the layout, not the boot. */
		monitor_note(m, "monitor: sched_ext enable state at %#llx is outside RAM: sched_ext "
				"not sampled", (unsigned long long)m->l.scx_enable_state);
		m->l.has_scx = false;
		m->l.nr_events = 0;
	}
	if (ncpu < m->nr_vcpus)
		monitor_note(m, "monitor: the guest kernel uses %u of %u vCPUs (nr_cpu_ids): sampling %u",
			     ncpu, m->nr_vcpus, ncpu);
	m->nr_cpus = ncpu;
	m->map = map;
	m->ready = true;
	m->ready_ns = now_ns - m->t0_ns;
	return 0;
}

int monitor_try_ready(struct monitor *m, uint64_t now_ns)
{
	int ret;

	if (m->ready)
		return 0;
	if (!m->started) {
		m->started = true;
		m->t0_ns = now_ns;
	}
	if (now_ns < m->t0_ns)
		now_ns = m->t0_ns; /* a clock that went back: never negative times */
	if (m->attempts >= MONITOR_READY_MAX_ATTEMPTS)
		return -ETIMEDOUT;
	m->attempts++;
	ret = attempt(m, now_ns);
	if (!ret) {
		kinfo("monitor: guest kernel readable after %u attempt(s), %.1f s", m->attempts,
		      monitor_sec(m->ready_ns));
		return 0;
	}
	if (m->attempts == MONITOR_READY_MAX_ATTEMPTS) {
		monitor_note(m, "monitor: not yet initialized after %u attempts (%s): stopped trying",
			     m->attempts, m->not_ready);
		return -ETIMEDOUT;
	}
	return -EAGAIN;
}
