/* The worker's host-side monitor, engine-independent core (docs/monitor.md,
 * "The sampler and its thresholds"). The engine owns guest RAM and the clock;
 * the monitor only reads guest-physical memory through the engine's callback
 * and judges what it read. Both engines drive it the same way, once per tick
 * (every MonitorSpec.interval_ms, 100 ms by default):
 *
 *     if (monitor_try_ready(m, now_ns) == 0)
 *             monitor_sample(m, now_ns, vcpu_cpu_ns);   (NULL when unknown)
 *     if (monitor_watchdog_target(m, timeout_ms, 0, &gpa, &val, &w) == 0)
 *             the engine writes val (w bytes, little endian) at gpa;
 *
 * and at the end fills VmResult from monitor_report_fill().
 *
 * THE THRESHOLDS, and why (the reference implementation's defaults, kept so
 * a verdict means the same thing in both):
 *  - imbalance: ratio = max(nr_running) / max(1, min(nr_running)) across the
 *    CPUs of one sample; a violation when ratio > 4.0. A scheduler that keeps
 *    work on some CPUs while others sit idle shows up here; 4.0 leaves room
 *    for the ordinary churn of wakeups and short tasks.
 *  - local DSQ depth: any CPU's scx_rq.local_dsq.nr > 50. A local DSQ is
 *    what a CPU will run next; fifty tasks queued behind one CPU is a
 *    dispatch that stopped balancing, not a burst.
 *  - rq clock stall: a CPU's rq->clock unchanged between two consecutive
 *    samples while it had runnable tasks (rq.nr_running > 0 in both) and its
 *    vCPU was actually run by the host in between (vcpu_cpu_ns advanced by
 *    at least half the time between the samples). The rq clock moves on
 *    every scheduler tick of a busy CPU, so a clock that does not move while
 *    the vCPU ran is a CPU whose scheduler stopped. An idle CPU (nr_running 0)
 *    is exempt: its tick may be stopped (NOHZ). A descheduled vCPU is exempt:
 *    the guest cannot tick while the host does not run it. Without
 *    vcpu_cpu_ns the two cannot be told apart from outside, so the check is
 *    conservative: only a clock stuck for stall_blind_samples (default 50,
 *    5 s at 100 ms) consecutive samples counts; a host rarely keeps a vCPU
 *    off its CPU that long, and sched_ext's own watchdog (4 s as ktstr sets
 *    it) would have acted by then on a real stall.
 *  - select_cpu_fallback and dispatch_keep_last rates (the sched_ext event
 *    counters, summed over CPUs, per second between two samples): > 200/s
 *    and > 100/s. High rates mean ops.select_cpu keeps failing or the
 *    scheduler keeps re-running the same task for lack of anything queued.
 *    Checked only when the counters are reachable.
 *  - every check must hold for sustained_samples consecutive samples (5,
 *    about 500 ms): one sample is a snapshot of a moving system, five in a
 *    row is a state.
 *  - warm-up: nothing is judged for warmup_ns (1 s) after the later of the
 *    monitor becoming ready and sched_ext becoming enabled: attaching a
 *    scheduler and starting a workload is a transient by design.
 *  - only while sched_ext is enabled (SCX_ENABLED): a kernel without
 *    sched_ext, or a run under EEVDF, is not judged (nothing of sched_ext
 *    to judge; the reference skips it too).
 *  - validity (the reference's rule): a sample with nr_running > 100000,
 *    a local DSQ deeper than 10000, rq->cpu not its CPU, or a read fault is
 *    implausible: the monitor is reading the wrong memory or a kernel still
 *    setting itself up. If any sample was implausible, or every rq clock
 *    ever read was the same value, the verdict is "not yet initialized",
 *    which passes: the data cannot carry a failure.
 *
 * Bounded memory: at most MONITOR_MAX_CPUS CPUs; the ring keeps the last
 * min(600, MONITOR_RING_CPU_RECORDS / nr_cpus) samples (at least 16), so it
 * never holds more than MONITOR_RING_CPU_RECORDS per-CPU records (about
 * 900 KiB); at most MONITOR_VIOLATIONS_MAX violations and MONITOR_NOTES_MAX
 * notes are kept, with counts of the rest.
 *
 * Ownership: struct monitor is the caller's (monitor_new / monitor_free). It
 * copies what it needs from the layout, which the caller may free after
 * monitor_new. Pointers in struct monitor_summary point into the monitor
 * and live as long as it does. Not thread-safe: one thread drives it. */
#ifndef KTSTR_WORKER_MONITOR_H
#define KTSTR_WORKER_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/kaddr.h>

#include "monitor.pb-c.h"
#include "worker.pb-c.h"

#define MONITOR_MAX_CPUS 1024u
#define MONITOR_RING_SAMPLES 600u
#define MONITOR_RING_MIN_SAMPLES 16u
#define MONITOR_RING_CPU_RECORDS (600u * 64u)
#define MONITOR_MAX_EVENTS 32u
#define MONITOR_VIOLATIONS_MAX 8u
#define MONITOR_NOTES_MAX 8u
#define MONITOR_MSG_MAX 256u
/* monitor_try_ready gives up after this many failed attempts (10 min at
 * 100 ms: a TCG boot is slow, never that slow), so a guest whose kernel
 * never matches costs nothing after. */
#define MONITOR_READY_MAX_ATTEMPTS 6000u
/* Plausibility bounds (the reference's): beyond them the monitor is reading
 * something that is not a runqueue. */
#define MONITOR_PLAUSIBLE_NR_RUNNING 100000u
#define MONITOR_PLAUSIBLE_DSQ 10000u
/* In the report: at most this many CPUs' peaks (the rest counted). */
#define MONITOR_REPORT_CPUS_MAX 64u

struct monitor_thresholds {
	double max_imbalance_ratio;   /* 4.0; 0 = not checked */
	uint32_t max_local_dsq_depth; /* 50; 0 = not checked */
	bool fail_on_stall;	      /* true */
	double max_fallback_rate;     /* 200 per s; 0 = not checked */
	double max_keep_last_rate;    /* 100 per s; 0 = not checked */
	uint32_t sustained_samples;   /* 5 (1..10000) */
	uint64_t warmup_ns;	      /* 1 s */
	/* Stall samples needed when vcpu_cpu_ns is NULL (>= sustained). */
	uint32_t stall_blind_samples; /* 50 */
};

void monitor_thresholds_default(struct monitor_thresholds *th);
/* Defaults overlaid with the orchestrator's MonitorSpec (worker.proto); the
 * fields MonitorSpec lacks keep their defaults. */
void monitor_thresholds_from_spec(const Ktstr__MonitorSpec *spec, struct monitor_thresholds *th);

struct monitor;

/* Create a monitor for a VM of nr_vcpus vCPUs whose guest-physical RAM is
 * [0, ram_size) as far as read() knows (read returns -EFAULT for holes).
 * th NULL = defaults. Returns 0, -EINVAL (bad arguments or thresholds),
 * -ENODATA (the layout lacks what every sample needs: err says what) or
 * -ENOMEM. err (may be NULL) gets the reason on failure. */
int monitor_new(const Ktstr__GuestKernelLayout *layout, uint32_t nr_vcpus, kaddr_read_fn read,
		void *ctx, uint64_t ram_size, const struct monitor_thresholds *th,
		struct monitor **out, char *err, size_t errlen);
void monitor_free(struct monitor *m);
/* arm64 guests: guest RAM is [ram_base, the monitor_new ram_size) and the
 * engine loaded the kernel Image at image_pa (inside it); the kernel-image
 * mapping is translated with it. Call once after monitor_new, before the
 * first monitor_try_ready. -EINVAL for an x86_64 layout (whose kernel
 * finds its own phys_base) or an image_pa outside RAM. */
int monitor_set_image_load(struct monitor *m, uint64_t ram_base, uint64_t image_pa);

/* Try to make sense of guest memory: phys_base, page_offset_base (arm64:
 * the image load address and memstart_addr), the banner self check, then every CPU's __per_cpu_offset and rq->cpu == CPU. Returns
 * 0 once ready (and at once on every later call), -EAGAIN while the guest
 * kernel is not there yet (monitor_not_ready_reason says why), -ETIMEDOUT
 * after MONITOR_READY_MAX_ATTEMPTS failures. None of these fails a test. */
int monitor_try_ready(struct monitor *m, uint64_t now_ns);
bool monitor_ready(const struct monitor *m);
const char *monitor_not_ready_reason(const struct monitor *m);

/* Take one sample at now_ns (monotonic, ns). vcpu_cpu_ns: NULL, or per vCPU
 * the host CPU time its thread has used so far (nr_vcpus entries), for the
 * stall check. Returns 0 (sample stored, perhaps marked implausible) or
 * -EAGAIN before monitor_try_ready succeeded (nothing stored). */
int monitor_sample(struct monitor *m, uint64_t now_ns, const uint64_t *vcpu_cpu_ns);

/* One CPU in one sample. */
struct monitor_cpu_sample {
	uint64_t clock;		/* rq->clock, ns */
	uint32_t nr_running;	/* rq->nr_running */
	uint32_t scx_nr_running; /* rq->scx.nr_running (0 without sched_ext) */
	uint32_t local_dsq;	/* rq->scx.local_dsq.nr */
	uint32_t scx_flags;	/* rq->scx.flags */
	/* This CPU's own dispatch_keep_last counter (its per-CPU sched_ext
	 * event stats; 0 without them): the keep-last check charges a CPU
	 * only while it had other runnable tasks (monitor_eval.c). */
	uint64_t keep_last;
};

#define MONITOR_SAMPLE_IMPLAUSIBLE (1u << 0)
#define MONITOR_SAMPLE_SCX_ENABLED (1u << 1)
#define MONITOR_SAMPLE_EVALUATED (1u << 2) /* judged: enabled and past warm-up */
#define MONITOR_SAMPLE_EVENTS (1u << 3)	   /* events[] valid */

struct monitor_sample_hdr {
	uint64_t t_ns;	 /* since the monitor's start (first monitor_try_ready) */
	uint64_t seq;	 /* 0-based sample number */
	uint32_t flags;	 /* MONITOR_SAMPLE_* */
	int32_t enable_state; /* sched_ext enable state as read; -1 without */
};

/* The ring: samples kept (<= depth), its depth, and the i-th oldest kept
 * sample (0 <= i < len): its header, its nr_cpus CPU records and its event
 * sums (monitor_nr_events entries, valid with MONITOR_SAMPLE_EVENTS).
 * Pointers stay valid until the next monitor_sample. -ERANGE for bad i. */
uint32_t monitor_ring_len(const struct monitor *m);
uint32_t monitor_ring_depth(const struct monitor *m);
uint32_t monitor_nr_cpus(const struct monitor *m);
uint32_t monitor_nr_events(const struct monitor *m);
const char *monitor_event_name(const struct monitor *m, uint32_t i);
int monitor_ring_get(const struct monitor *m, uint32_t i, const struct monitor_sample_hdr **hdr,
		     const struct monitor_cpu_sample **cpus, const uint64_t **events);

enum monitor_verdict {
	MONITOR_VERDICT_NOT_READY = 1,	     /* never read the guest kernel: pass */
	MONITOR_VERDICT_SKIPPED = 2,	     /* nothing to judge (EEVDF, warm-up): pass */
	MONITOR_VERDICT_NOT_INITIALIZED = 3, /* validity rule: pass */
	MONITOR_VERDICT_PASS = 4,
	MONITOR_VERDICT_FAIL = 5,
};

enum monitor_check {
	MONITOR_CHECK_IMBALANCE = 1,
	MONITOR_CHECK_LOCAL_DSQ_DEPTH = 2,
	MONITOR_CHECK_RQ_CLOCK_STALL = 3,
	MONITOR_CHECK_FALLBACK_RATE = 4,
	MONITOR_CHECK_KEEP_LAST_RATE = 5,
	MONITOR_CHECK_TASK_STALL = 6,
};

struct monitor_violation {
	enum monitor_check check;
	uint64_t start_seq, end_seq; /* sample numbers of the window */
	uint64_t start_ns, end_ns;   /* since the monitor's start */
	char msg[MONITOR_MSG_MAX];
};

/* A scenario step and what was sampled while it lasted (the timeline).
 * phases[0] is the time before the first step (has_step false). */
#define MONITOR_PHASES_MAX 32u
struct monitor_phase {
	bool has_step;
	uint32_t step, guest_elapsed_ms;
	uint64_t start_ns; /* since the monitor's start */
	uint64_t samples, evaluated;
	double worst_imbalance;
	uint32_t max_nr_running, max_local_dsq;
	uint32_t violations;
};

/* The guest announced scenario step `step` (its STIMULUS, elapsed_ms into
 * the scenario by its clock), drained at now_ns: samples from now on count
 * toward it. Beyond MONITOR_PHASES_MAX the last phase keeps counting and
 * the rest are counted as omitted. */
void monitor_mark_phase(struct monitor *m, uint64_t now_ns, uint32_t step, uint32_t elapsed_ms);

/* Lanes (monitor_lanes.c): per CPU (the first MONITOR_REPORT_CPUS_MAX),
 * MONITOR_LANE_BUCKETS buckets of monitor time, each lane_bucket_ns wide:
 * MONITOR_LANE_BUCKET0_NS at first, doubled (neighbours folded) whenever a
 * sample falls past the last bucket. Fixed memory however long the run. */
#define MONITOR_LANE_BUCKETS 64u
#define MONITOR_LANE_BUCKET0_NS 250000000ull
struct monitor_lane_bucket {
	uint32_t max_nr_running;
	uint32_t stuck_samples;
};

struct monitor_cpu_peak {
	uint32_t max_nr_running;
	uint32_t max_local_dsq;
};

/* What the report needs. Peaks and the worst imbalance describe every
 * plausible sample (what was seen); violations come only from judged ones. */
struct monitor_summary {
	enum monitor_verdict verdict;
	char why[2 * MONITOR_MSG_MAX]; /* one line: the verdict and its reason */
	bool ready;
	uint64_t ready_ns;		/* since start, when ready */
	bool scx_seen_enabled;
	uint64_t scx_enabled_ns;	/* first time seen SCX_ENABLED */
	uint64_t samples, implausible, evaluated;
	char first_implausible[MONITOR_MSG_MAX]; /* "" when none */
	double worst_imbalance;
	uint32_t nr_cpus;
	const struct monitor_cpu_peak *peaks;	     /* nr_cpus entries (monitor's) */
	uint32_t nr_violations;			     /* kept, <= MONITOR_VIOLATIONS_MAX */
	uint64_t violations_total;
	const struct monitor_violation *violations; /* [0] is the first (monitor's) */
	uint32_t nr_events;			     /* counters as last read */
	bool events_valid;
	const uint64_t *events;
	uint32_t nr_notes;
	const char (*notes)[MONITOR_MSG_MAX];	     /* said once each (monitor's) */
	uint32_t nr_phases;			     /* >= 1 */
	uint32_t phases_omitted;
	const struct monitor_phase *phases;	     /* (monitor's) */
	/* [min(nr_cpus, MONITOR_REPORT_CPUS_MAX)][MONITOR_LANE_BUCKETS], the
	 * first lane_n buckets used (monitor's). */
	const struct monitor_lane_bucket (*lanes)[MONITOR_LANE_BUCKETS];
	uint32_t lane_n;
	uint64_t lane_bucket_ns;
	struct monitor_thresholds th;
};

void monitor_summarize(const struct monitor *m, struct monitor_summary *out);
const char *monitor_verdict_name(enum monitor_verdict v);
const char *monitor_check_name(enum monitor_check c);

/* The summary as a MonitorReport (proto/monitor.proto), bounded: at most
 * MONITOR_REPORT_CPUS_MAX CPUs' peaks, MONITOR_VIOLATIONS_MAX violations,
 * MONITOR_MAX_EVENTS counters, MONITOR_NOTES_MAX notes. Everything is
 * malloc'd: the caller frees it with ktstr__monitor_report__free_unpacked(r,
 * NULL). 0 or -ENOMEM (nothing to free then). */
int monitor_report_fill(const struct monitor *m, Ktstr__MonitorReport **out);

/* The sched_ext watchdog override (the monitor's one write, made by the
 * engine): where to write timeout_ms as jiffies so a stalled scheduler is
 * ejected after timeout_ms rather than the kernel's 30 s. hz 0 = the
 * layout's CONFIG_HZ. Only while the enable state reads SCX_ENABLED: the
 * kernel sets its own timeout when a scheduler attaches, so the engine calls
 * this every tick and writes each time it returns 0. On 6.16+ the target is
 * scx_root->watchdog_timeout (scx_root read now and checked to lie in RAM);
 * before, the static scx_watchdog_timeout. Fills *gpa (inside RAM, the whole
 * *width bytes), *value (jiffies, >= 1) and *width (8). Returns 0,
 * -EAGAIN (not ready, sched_ext not enabled, or scx_root NULL), -ENOENT
 * (the layout has neither target), -EINVAL (timeout_ms 0, no HZ), -EFAULT
 * (scx_root points outside RAM or the direct map) or the read's -errno.
 * Writes nothing. */
int monitor_watchdog_target(const struct monitor *m, uint32_t timeout_ms, uint32_t hz,
			    uint64_t *gpa, uint64_t *value, size_t *width);

/* The writes that keep sched_ext's watchdog at timeout_ms, one tick's worth
 * (docs/monitor.md, "The watchdog override"). The kernel re-arms its
 * watchdog work with the interval it computed at attach (half of the
 * scheduler's own timeout, 15 s by default) and ejects the scheduler from
 * the tick when that work has not checked in for a timeout: lowering the
 * timeout alone would eject every healthy scheduler. So, only ever
 * lowering (a scheduler's own shorter timeout stands):
 *   1. the timeout (monitor_watchdog_target's write);
 *   2. the interval, to half of it, where the kernel keeps one (7.x), so
 *      the work re-arms at the new cadence after its next run;
 *   3. the check-in stamp, to the guest's jiffies, every tick until the
 *      kernel's own work has run once (the stamp changes under us) or must
 *      have (the old interval passed): after that the kernel checks in on
 *      its own, at the new cadence;
 *   4. inside that window, when the runnable-task check (monitor_sample)
 *      confirmed a task waiting past the timeout: the stamp, aged by a
 *      timeout instead, so the kernel's tick ejects the scheduler at once
 *      ("runnable task stall"), as its own check would have had it run;
 *      the window ends there (st->forced counts it).
 * st carries the window between ticks (zero it when the VM starts). Fills
 * w[0..*n) (at most MONITOR_WD_WRITES, each 8 bytes). Returns 0 (perhaps
 * nothing to write), -EAGAIN (not attached yet), -ENOENT (the layout lacks
 * the timeout, the stamp or jiffies: nothing is lowered), or a read's
 * -errno. Writes nothing itself. */
#define MONITOR_WD_WRITES 3
struct monitor_write {
	uint64_t gpa, value;
};
struct monitor_wd_state {
	bool window;		/* refreshing the check-in stamp */
	uint64_t stamp, until;	/* what we last wrote; when the old work has surely run */
	uint64_t lowered;	/* times the timeout was lowered (attaches seen) */
	uint64_t forced;	/* times a stalled task made us age the stamp */
};
int monitor_watchdog_plan(const struct monitor *m, uint32_t timeout_ms, uint32_t hz,
			  struct monitor_wd_state *st, struct monitor_write *w, size_t *n);

#endif
