/* Creating a monitor: the thresholds, the layout copied and checked once (so
 * the sampler can trust its own offsets), the bounded ring. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/log.h>

#include "monitor_priv.h"

void monitor_thresholds_default(struct monitor_thresholds *th)
{
	Ktstr__MonitorSpec d = KTSTR__MONITOR_SPEC__INIT;

	/* What the wire carries has one home, MonitorSpec's [default = ...]
	 * (proto/worker.proto); the rest is the monitor's own. */
	*th = (struct monitor_thresholds){
		.max_imbalance_ratio = d.max_imbalance_ratio,
		.max_local_dsq_depth = d.max_local_dsq_depth,
		.fail_on_stall = d.fail_on_stall,
		.max_fallback_rate = 200.0,
		.max_keep_last_rate = 100.0,
		.sustained_samples = d.sustained_samples,
		.warmup_ns = 1000000000ull,
		.stall_blind_samples = 50,
	};
}

void monitor_thresholds_from_spec(const Ktstr__MonitorSpec *spec, struct monitor_thresholds *th)
{
	monitor_thresholds_default(th);
	if (!spec)
		return;
	/* protobuf-c fills MonitorSpec's [default = ...] values when a field
	 * is unset: the same numbers as the defaults above. */
	th->max_imbalance_ratio = spec->max_imbalance_ratio;
	th->max_local_dsq_depth = spec->max_local_dsq_depth;
	th->fail_on_stall = spec->fail_on_stall;
	th->sustained_samples = spec->sustained_samples;
	if (th->stall_blind_samples < th->sustained_samples)
		th->stall_blind_samples = th->sustained_samples;
}

static int thresholds_ok(const struct monitor_thresholds *th)
{
	/* NaN compares false everywhere: !(x >= 0) catches it. */
	if (!(th->max_imbalance_ratio >= 0) || !(th->max_fallback_rate >= 0) ||
	    !(th->max_keep_last_rate >= 0) || isinf(th->max_imbalance_ratio))
		return 0;
	if (th->sustained_samples < 1 || th->sustained_samples > 10000)
		return 0;
	if (th->stall_blind_samples < th->sustained_samples || th->stall_blind_samples > 100000)
		return 0;
	return 1;
}

static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A field of `size` bytes at `off` inside a container of `cont` bytes. */
static int field_in(const Ktstr__KernelField *f, uint32_t size, uint32_t cont)
{
	return f && f->size == size && f->offset <= cont && size <= cont - f->offset;
}

static const char no_scx[] = "kernel without sched_ext";

/* The sched_ext part: all of it, or the monitor runs without sched_ext.
 * NULL when usable, no_scx for a kernel without it, else what is wrong. */
static const char *copy_scx(struct monitor_layout *o, const Ktstr__GuestKernelLayout *l)
{
	const Ktstr__KernelField *scx = l->rq_scx, *dsq = l->scx_rq_local_dsq;
	bool enabled = false;

	if (!scx && !l->has_scx_enable_state)
		return no_scx;
	if (!scx || scx->offset > o->rq_size || scx->size > o->rq_size - scx->offset)
		return "rq.scx missing or outside struct rq";
	if (!field_in(l->scx_rq_nr_running, 4, scx->size))
		return "scx_rq.nr_running missing or not a u32 inside scx_rq";
	if (!dsq || dsq->offset > scx->size || dsq->size > scx->size - dsq->offset ||
	    !field_in(l->scx_dsq_nr, 4, dsq->size))
		return "scx_rq.local_dsq.nr missing or not a u32 inside scx_rq";
	if (!l->has_scx_enable_state)
		return "sched_ext enable state symbol missing";
	for (size_t i = 0; i < l->n_scx_enable_states; i++) {
		const Ktstr__KernelEnumValue *e = l->scx_enable_states[i];

		if (e && e->name &&
		    (!strcmp(e->name, "SCX_ENABLED") || !strcmp(e->name, "SCX_OPS_ENABLED"))) {
			o->scx_enabled_value = e->value;
			enabled = true;
		}
	}
	if (!enabled)
		return "enum scx_enable_state has no SCX_ENABLED";
	o->scx_nr_running = scx->offset + l->scx_rq_nr_running->offset;
	o->scx_local_dsq_nr = scx->offset + dsq->offset + l->scx_dsq_nr->offset;
	if (field_in(l->scx_rq_flags, 4, scx->size)) {
		o->has_scx_flags = true;
		o->scx_flags = scx->offset + l->scx_rq_flags->offset;
	}
	o->scx_enable_state = l->scx_enable_state;
	o->scx_rq_off = scx->offset;
	o->scx_rq_size = scx->size;
	o->has_scx = true;
	return NULL;
}

/* Event counters: the s64 counters of struct scx_event_stats that lie in it. */
static void copy_events(struct monitor_layout *o, const Ktstr__GuestKernelLayout *l)
{
	o->ev_fallback = o->ev_keep_last = -1;
	if (!o->has_scx || !l->has_scx_event_stats_size || !l->scx_event_stats_size ||
	    l->scx_event_stats_size > MONITOR_EVENT_STATS_MAX)
		return;
	o->event_stats_size = l->scx_event_stats_size;
	for (size_t i = 0; i < l->n_scx_events && o->nr_events < MONITOR_MAX_EVENTS; i++) {
		const Ktstr__ScxEventCounter *e = l->scx_events[i];

		if (!e || !e->name || !field_in(e->field, 8, o->event_stats_size))
			continue;
		o->ev_off[o->nr_events] = e->field->offset;
		snprintf(o->ev_name[o->nr_events], MONITOR_EVENT_NAME_MAX, "%s", e->name);
		if (!strcmp(e->name, "SCX_EV_SELECT_CPU_FALLBACK"))
			o->ev_fallback = (int)o->nr_events;
		if (!strcmp(e->name, "SCX_EV_DISPATCH_KEEP_LAST"))
			o->ev_keep_last = (int)o->nr_events;
		o->nr_events++;
	}
	if (!o->nr_events)
		return;
	if (l->has_scx_event_stats_cpu && l->scx_event_stats_cpu) {
		o->ev_mode = MONITOR_EV_STATIC;
		o->event_stats_cpu = l->scx_event_stats_cpu;
	} else if (l->has_scx_root && l->scx_root && l->scx_sched_pcpu &&
		   l->scx_sched_pcpu->size == 8 && l->scx_sched_pcpu_event_stats &&
		   l->scx_sched_pcpu_event_stats->size >= o->event_stats_size) {
		o->ev_mode = MONITOR_EV_ROOT_PCPU;
		o->sched_pcpu_off = l->scx_sched_pcpu->offset;
		o->pcpu_event_stats_off = l->scx_sched_pcpu_event_stats->offset;
	}
	if (o->ev_mode == MONITOR_EV_NONE)
		o->nr_events = 0;
}

/* The runnable-task check: all of its fields, sched_ext, and jiffies (its
 * clock), or it is off. task_struct is far larger than any field offset
 * seen (about 10 KiB); 64 KiB bounds the offsets a hostile layout can name. */
static void copy_tasks(struct monitor_layout *o, const Ktstr__GuestKernelLayout *l)
{
	const Ktstr__KernelField *scx = l->task_scx;
	const uint32_t task_max = 64u << 10;

	if (!o->has_scx || !o->jiffies || !scx || scx->offset > task_max ||
	    scx->size > task_max - scx->offset)
		return;
	if (!field_in(l->scx_rq_runnable_list, 16, o->scx_rq_size) ||
	    !field_in(l->scx_entity_runnable_node, 16, scx->size) ||
	    !field_in(l->scx_entity_runnable_at, 8, scx->size) ||
	    !field_in(l->task_pid, 4, task_max) ||
	    !field_in(l->task_comm, MONITOR_COMM_LEN, task_max))
		return;
	o->rq_runnable_list = o->scx_rq_off + l->scx_rq_runnable_list->offset;
	o->task_node = scx->offset + l->scx_entity_runnable_node->offset;
	o->task_runnable_at = scx->offset + l->scx_entity_runnable_at->offset;
	o->task_pid = l->task_pid->offset;
	o->task_comm = l->task_comm->offset;
	o->has_tasks = true;
}

/* The largest arm64 kernel-image span accepted (Image headers say about
 * 40-60 MiB with BSS): a bound on what a hostile layout can claim. */
#define MONITOR_ARM64_IMAGE_MAX (1ull << 30)

/* arm64's mapping description (docs/monitor.md, "arm64 guests"): NULL when
 * usable, else what is wrong. */
static const char *copy_arm64(struct monitor_layout *o, const Ktstr__GuestKernelLayout *l)
{
	uint64_t lin, end;

	if (!l->has_image_vaddr || !l->has_image_size || !l->has_va_bits || !l->has_memstart_addr)
		return "image_vaddr, image_size, va_bits or memstart_addr missing";
	if (kaddr_arm64_linear(l->va_bits, &lin, &end))
		return "va_bits is not a VA size Linux configures (36..52)";
	if (!l->image_size || l->image_size > MONITOR_ARM64_IMAGE_MAX)
		return "image_size is 0 or above 1 GiB";
	/* The image lies above the linear map (modules, then KIMAGE_VADDR)
	 * and does not wrap; _text is page aligned. */
	if (l->image_vaddr % 4096 || l->image_vaddr < end ||
	    l->image_size - 1 > UINT64_MAX - l->image_vaddr)
		return "image_vaddr is not a page-aligned address above the linear map";
	if (l->memstart_addr < l->image_vaddr || l->memstart_addr % 8 ||
	    l->memstart_addr - l->image_vaddr > l->image_size - 8)
		return "memstart_addr is not an aligned s64 inside the kernel image";
	o->image_vaddr = l->image_vaddr;
	o->image_size = l->image_size;
	o->va_bits = l->va_bits;
	o->memstart_addr = l->memstart_addr;
	return NULL;
}

static int copy_layout(struct monitor *m, const Ktstr__GuestKernelLayout *l, char *err,
		       size_t errlen)
{
	struct monitor_layout *o = &m->l;
	const char *why;

	o->arm64 = l->has_arch && l->arch == KTSTR__ARCH__ARCH_ARM64;
	if (l->has_arch && !o->arm64 && l->arch != KTSTR__ARCH__ARCH_X86_64) {
		say(err, errlen, "monitor: the layout's arch %d is neither x86_64 nor arm64",
		    (int)l->arch);
		return -EINVAL;
	}
	if (!l->has_linux_banner || !l->has_banner || !l->banner.len || !l->has_per_cpu_offset ||
	    !l->has_runqueues ||
	    (!o->arm64 && (!l->has_page_offset_base || !l->has_phys_base))) {
		say(err, errlen, "monitor: the layout lacks a symbol every sample needs "
				 "(linux_banner, __per_cpu_offset, runqueues%s)",
		    o->arm64 ? "" : ", page_offset_base, phys_base");
		return -ENODATA;
	}
	why = o->arm64 ? copy_arm64(o, l) : NULL;
	if (why) {
		say(err, errlen, "monitor: arm64 layout unusable: %s", why);
		return -ENODATA;
	}
	if (!l->has_rq_size || !l->rq_size || l->rq_size > KADDR_READ_MAX ||
	    !field_in(l->rq_nr_running, 4, l->rq_size) || !field_in(l->rq_clock, 8, l->rq_size) ||
	    !field_in(l->rq_cpu, 4, l->rq_size)) {
		say(err, errlen, "monitor: the layout lacks struct rq's nr_running (u32), clock (u64) "
				 "or cpu (int), or they do not lie inside struct rq");
		return -ENODATA;
	}
	o->linux_banner = l->linux_banner;
	o->banner_len = l->banner.len < MONITOR_BANNER_MAX ? (uint32_t)l->banner.len : MONITOR_BANNER_MAX;
	memcpy(o->banner, l->banner.data, o->banner_len);
	o->per_cpu_offset = l->per_cpu_offset;
	o->page_offset_base = o->arm64 ? 0 : l->page_offset_base;
	o->phys_base = o->arm64 ? 0 : l->phys_base;
	o->runqueues = l->runqueues;
	o->init_top_pgt = l->has_init_top_pgt && !o->arm64 ? l->init_top_pgt : 0;
	o->nr_cpu_ids = l->has_nr_cpu_ids ? l->nr_cpu_ids : 0;
	o->rq_size = l->rq_size;
	o->rq_nr_running = l->rq_nr_running->offset;
	o->rq_clock = l->rq_clock->offset;
	o->rq_cpu = l->rq_cpu->offset;
	o->hz = l->has_hz ? l->hz : 0;
	why = copy_scx(o, l);
	if (why && why != no_scx)
		/* A sched_ext kernel whose layout is incomplete: say so; a
		 * kernel without it is ordinary and the summary says that. */
		monitor_note(m, "monitor: sched_ext fields unusable (%s): sched_ext not sampled", why);
	copy_events(o, l);
	if (o->has_scx && l->has_scx_root && l->scx_root) {
		o->scx_root = l->scx_root;
		if (field_in(l->scx_sched_watchdog_timeout, 8, UINT32_MAX)) {
			o->has_sched_watchdog = true;
			o->sched_watchdog_off = l->scx_sched_watchdog_timeout->offset;
		}
	}
	if (o->has_scx && l->has_scx_watchdog_timeout && l->scx_watchdog_timeout)
		o->scx_watchdog_timeout = l->scx_watchdog_timeout;
	o->wd_interval = l->has_scx_watchdog_interval ? l->scx_watchdog_interval : 0;
	o->wd_timestamp = l->has_scx_watchdog_timestamp ? l->scx_watchdog_timestamp : 0;
	o->jiffies = l->has_jiffies ? l->jiffies : 0;
	copy_tasks(o, l);
	return 0;
}

int monitor_new(const Ktstr__GuestKernelLayout *layout, uint32_t nr_vcpus, kaddr_read_fn read,
		void *ctx, uint64_t ram_size, const struct monitor_thresholds *th,
		struct monitor **out, char *err, size_t errlen)
{
	struct monitor *m;
	int ret;

	*out = NULL;
	if (!layout || !read || !nr_vcpus || nr_vcpus > MONITOR_MAX_CPUS || !ram_size) {
		say(err, errlen, "monitor: bad arguments (%u vCPUs: 1..%u supported)", nr_vcpus,
		    MONITOR_MAX_CPUS);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto err_nomem;
	if (th)
		m->th = *th;
	else
		monitor_thresholds_default(&m->th);
	if (!thresholds_ok(&m->th)) {
		say(err, errlen, "monitor: thresholds out of range");
		ret = -EINVAL;
		goto err_free;
	}
	m->read = read;
	m->ctx = ctx;
	m->nr_vcpus = m->nr_cpus = nr_vcpus;
	m->map.gpa_limit = ram_size;
	ret = copy_layout(m, layout, err, errlen);
	if (ret)
		goto err_free;
	/* The ring: never more than MONITOR_RING_CPU_RECORDS CPU records. */
	m->depth = MONITOR_RING_CPU_RECORDS / nr_vcpus;
	if (m->depth > MONITOR_RING_SAMPLES)
		m->depth = MONITOR_RING_SAMPLES;
	if (m->depth < MONITOR_RING_MIN_SAMPLES)
		m->depth = MONITOR_RING_MIN_SAMPLES;
	m->hdrs = calloc(m->depth, sizeof(*m->hdrs));
	m->cpus = calloc((size_t)m->depth * nr_vcpus, sizeof(*m->cpus));
	m->events = calloc((size_t)m->depth * MONITOR_MAX_EVENTS, sizeof(*m->events));
	m->cs = calloc(nr_vcpus, sizeof(*m->cs));
	m->peaks = calloc(nr_vcpus, sizeof(*m->peaks));
	if (!m->hdrs || !m->cpus || !m->events || !m->cs || !m->peaks)
		goto err_nomem_free;
	snprintf(m->not_ready, sizeof(m->not_ready), "no attempt yet");
	m->nr_phases = 1; /* before the first step (calloc'd: empty) */
	*out = m;
	return 0;

err_nomem_free:
	monitor_free(m);
err_nomem:
	say(err, errlen, "monitor: out of memory");
	return -ENOMEM;
err_free:
	free(m);
	return ret;
}

int monitor_set_image_load(struct monitor *m, uint64_t ram_base, uint64_t image_pa)
{
	if (!m->l.arm64 || ram_base >= m->map.gpa_limit || image_pa < ram_base ||
	    image_pa >= m->map.gpa_limit)
		return -EINVAL;
	m->map.gpa_base = ram_base;
	m->image_pa = image_pa;
	m->image_pa_known = true;
	return 0;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	free(m->hdrs);
	free(m->cpus);
	free(m->events);
	free(m->cs);
	free(m->peaks);
	free(m);
}

void monitor_note(struct monitor *m, const char *fmt, ...)
{
	char buf[MONITOR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kwarn("%s", buf);
	if (m->nr_notes < MONITOR_NOTES_MAX)
		memcpy(m->notes[m->nr_notes++], buf, sizeof(buf));
}

int monitor_read_u32(const struct monitor *m, uint64_t gpa, uint32_t *v)
{
	/* Guest and host are both little endian (x86_64 and arm64 hosts;
	 * x86_64 and arm64 guests, arm64_image_parse refusing a big-endian
	 * Image): native order is the guest's. */
	return m->read(m->ctx, gpa, v, sizeof(*v));
}

int monitor_read_u64(const struct monitor *m, uint64_t gpa, uint64_t *v)
{
	return m->read(m->ctx, gpa, v, sizeof(*v));
}

bool monitor_ready(const struct monitor *m)
{
	return m->ready;
}

const char *monitor_not_ready_reason(const struct monitor *m)
{
	return m->ready ? "" : m->not_ready;
}

uint32_t monitor_nr_cpus(const struct monitor *m)
{
	return m->nr_cpus;
}

uint32_t monitor_nr_events(const struct monitor *m)
{
	return m->l.nr_events;
}

const char *monitor_event_name(const struct monitor *m, uint32_t i)
{
	return i < m->l.nr_events ? m->l.ev_name[i] : NULL;
}
