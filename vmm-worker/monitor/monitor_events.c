/* The sched_ext event counters (struct scx_event_stats), summed over CPUs.
 * 6.15/6.16 keep them in a static per-CPU variable; 6.17+ in the root
 * scheduler's dynamic per-CPU struct scx_sched_pcpu, reached through the
 * scx_root pointer and its __percpu pcpu pointer, both read from the guest
 * each time (a scheduler that re-attaches gets a new scx_sched). Dynamic
 * per-CPU memory is in the direct map only while the first per-CPU chunk
 * lasts; beyond it kaddr walks the guest's page tables (init_top_pgt). When
 * neither reaches them the monitor says so once and goes on without them. */
#include <errno.h>
#include <string.h>

#include "monitor_priv.h"

/* The base the CPU's __per_cpu_offset is added to, and the counters' offset
 * from it. 0, -ENOENT (no scheduler attached) or -EFAULT/-ERANGE. */
static int counters_base(struct monitor *m, uint64_t *base, const char **why)
{
	uint64_t root, pcpu;
	int ret;

	if (m->l.ev_mode == MONITOR_EV_STATIC) {
		*base = m->l.event_stats_cpu;
		return 0;
	}
	ret = kaddr_read(&m->map, m->read, m->ctx, m->l.scx_root, &root, sizeof(root));
	if (ret) {
		*why = "scx_root not readable";
		return ret;
	}
	if (!root)
		return -ENOENT;
	/* scx_sched is kmalloc'd: the direct map, or nothing we can read. */
	if (root > UINT64_MAX - m->l.sched_pcpu_off) {
		*why = "scx_root points nowhere";
		return -EFAULT;
	}
	ret = kaddr_read(&m->map, m->read, m->ctx, root + m->l.sched_pcpu_off, &pcpu, sizeof(pcpu));
	if (ret) {
		*why = "scx_root points outside the direct map";
		return ret;
	}
	/* A __percpu pointer is an offset like a static per-CPU variable's:
	 * the kernel's own arithmetic, wrap included. */
	*base = pcpu + m->l.pcpu_event_stats_off;
	return 0;
}

int monitor_read_events(struct monitor *m, uint64_t *sums, struct monitor_cpu_sample *cpus)
{
	uint8_t buf[MONITOR_EVENT_STATS_MAX];
	const char *why = NULL;
	uint64_t base, kva;
	int ret;

	memset(sums, 0, m->l.nr_events * sizeof(*sums));
	ret = counters_base(m, &base, &why);
	for (uint32_t cpu = 0; !ret && cpu < m->nr_cpus; cpu++) {
		ret = kaddr_percpu(&m->map, m->read, m->ctx, m->l.per_cpu_offset, cpu, m->nr_cpus,
				   base, m->l.event_stats_size, &kva);
		if (!ret)
			ret = kaddr_read(&m->map, m->read, m->ctx, kva, buf, m->l.event_stats_size);
		if (ret) {
			why = m->l.arm64 ? "per-CPU counters not in the linear map, and the monitor "
					   "walks no arm64 page tables"
					 : "per-CPU counters neither in the direct map nor mapped by the "
					   "page tables";
			break;
		}
		for (uint32_t i = 0; i < m->l.nr_events; i++) {
			uint64_t v;

			memcpy(&v, buf + m->l.ev_off[i], sizeof(v));
			sums[i] += v; /* s64 counters: two's complement sum */
			if ((int32_t)i == m->l.ev_keep_last)
				cpus[cpu].keep_last = v;
		}
	}
	if (ret && ret != -ENOENT && !m->events_note_said) {
		m->events_note_said = true;
		monitor_note(m, "monitor: sched_ext event counters not reachable (%s): skipped",
			     why ? why : strerror(-ret));
	}
	return ret;
}
