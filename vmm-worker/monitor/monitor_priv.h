/* The monitor's state, shared by its files (monitor_*.c) and nobody else. */
#ifndef KTSTR_WORKER_MONITOR_PRIV_H
#define KTSTR_WORKER_MONITOR_PRIV_H

#include "monitor.h"

#define MONITOR_BANNER_MAX 256u
#define MONITOR_EVENT_NAME_MAX 48u
/* Largest struct scx_event_stats read (13 counters, 104 bytes, on 7.2). */
#define MONITOR_EVENT_STATS_MAX 1024u

/* The layout, copied and checked at monitor_new: offsets are absolute within
 * struct rq (rq_scx folded in), every field has the size the reads assume. */
struct monitor_layout {
	uint64_t linux_banner, per_cpu_offset, page_offset_base, phys_base, runqueues;
	uint64_t init_top_pgt; /* 0 = absent: no page-table walk */
	/* arm64 guests (GuestKernelLayout.arch): page_offset_base, phys_base
	 * and init_top_pgt are unused, these describe the mapping instead. */
	bool arm64;
	uint64_t image_vaddr, image_size, memstart_addr;
	uint32_t va_bits;
	uint64_t nr_cpu_ids; /* 0 = absent */
	uint8_t banner[MONITOR_BANNER_MAX];
	uint32_t banner_len;
	uint32_t rq_size, rq_nr_running, rq_clock, rq_cpu;
	uint32_t hz;

	bool has_scx; /* every field below up to events */
	uint32_t scx_nr_running, scx_local_dsq_nr, scx_flags;
	uint32_t scx_rq_off, scx_rq_size; /* struct scx_rq within struct rq */
	bool has_scx_flags;
	uint64_t scx_enable_state;
	int64_t scx_enabled_value;

	/* Event counters: per-CPU static (6.15/6.16) or scx_root->pcpu (6.17+). */
	enum { MONITOR_EV_NONE, MONITOR_EV_STATIC, MONITOR_EV_ROOT_PCPU } ev_mode;
	uint64_t event_stats_cpu;
	uint32_t sched_pcpu_off, pcpu_event_stats_off, event_stats_size;
	uint32_t nr_events;
	uint32_t ev_off[MONITOR_MAX_EVENTS]; /* within struct scx_event_stats */
	char ev_name[MONITOR_MAX_EVENTS][MONITOR_EVENT_NAME_MAX];
	int ev_fallback, ev_keep_last; /* index or -1 */

	/* Watchdog override targets. */
	uint64_t scx_root; /* 0 = absent */
	bool has_sched_watchdog;
	uint32_t sched_watchdog_off;
	uint64_t scx_watchdog_timeout; /* 0 = absent */
	/* Its cadence (monitor_watchdog_plan): 0 = absent. */
	uint64_t wd_interval, wd_timestamp, jiffies;

	/* The runnable-task check (monitor_tasks.c): the list head within
	 * struct rq, and within task_struct its runnable_node, runnable_at,
	 * pid and comm. */
	bool has_tasks;
	uint32_t rq_runnable_list, task_node, task_runnable_at, task_pid, task_comm;
};

/* At most this many entries of one CPU's runnable list are walked per
 * sample: the list is in the order tasks became runnable, so the oldest is
 * at or near its head; a longer (or cyclic, or hostile) list costs no more. */
#define MONITOR_RUNNABLE_WALK_MAX 64u
#define MONITOR_COMM_LEN 16u

/* The oldest runnable task seen on one CPU. */
struct monitor_task {
	uint64_t kva;	       /* task_struct; 0 = none */
	uint64_t runnable_at;  /* jiffies */
	int32_t pid;
	char comm[MONITOR_COMM_LEN + 1]; /* printable ASCII only */
};

/* A check's run of consecutive bad samples. */
struct monitor_streak {
	uint32_t n;
	uint64_t start_seq, start_ns;
	bool reported; /* this run already produced a violation */
};

struct monitor_cpu_state {
	uint64_t rq_gpa; /* CPU's struct rq, whole object in RAM (ready) */
	uint64_t prev_clock, prev_vcpu_ns;
	uint64_t prev_keep_last; /* its keep_last at the last sample with events */
	uint32_t prev_nr_running;
	bool prev_vcpu_known;
	struct monitor_streak stall;	   /* confirmed by vCPU run time */
	struct monitor_streak stall_blind; /* vCPU run time unknown */
	uint64_t rq_kva;		   /* its struct rq: the list head's owner */
	/* The runnable-task check: the stale task seen in the last sample
	 * (kva 0: none), and the last one reported. */
	struct monitor_task suspect;
	uint64_t reported_kva, reported_at;
};

struct monitor {
	struct monitor_layout l;
	struct monitor_thresholds th;
	kaddr_read_fn read;
	void *ctx;
	uint32_t nr_vcpus; /* the VM's */
	uint32_t nr_cpus;  /* sampled: min(nr_vcpus, guest nr_cpu_ids) */

	/* readiness */
	bool ready, started;
	uint32_t attempts;
	uint64_t t0_ns, ready_ns;
	struct kaddr_map map;
	/* arm64: where the engine loaded the Image (monitor_set_image_load). */
	uint64_t image_pa;
	bool image_pa_known;
	uint64_t enable_state_gpa;
	char not_ready[MONITOR_MSG_MAX];

	/* ring: depth samples of (hdr, nr_vcpus cpu records, nr_events sums) */
	uint32_t depth, len, head; /* head: next slot */
	struct monitor_sample_hdr *hdrs;
	struct monitor_cpu_sample *cpus;
	uint64_t *events;
	uint64_t seq;

	/* evaluation */
	struct monitor_cpu_state *cs;
	bool scx_enabled_now, scx_seen_enabled;
	uint64_t scx_enabled_first_ns, enabled_since_ns;
	struct monitor_streak imbalance, dsq, fallback, keep_last;
	bool has_prev; /* the previous sample was plausible */
	uint64_t prev_t_ns;
	bool prev_events_valid;
	uint64_t prev_events_t_ns, prev_fallback;
	uint64_t implausible, evaluated;
	char first_implausible[MONITOR_MSG_MAX];
	bool clock_seen, clock_varied;
	uint64_t clock_first;
	double worst_imbalance;
	struct monitor_cpu_peak *peaks;
	struct monitor_violation violations[MONITOR_VIOLATIONS_MAX];
	uint32_t nr_violations;
	uint64_t violations_total;
	bool events_valid, events_note_said;
	uint64_t last_events[MONITOR_MAX_EVENTS];

	char notes[MONITOR_NOTES_MAX][MONITOR_MSG_MAX];
	uint32_t nr_notes;

	/* The runnable-task check: a task runnable beyond the kernel's
	 * watchdog timeout was confirmed in the latest sample (for
	 * monitor_watchdog_plan), with the guest's jiffies then. */
	bool task_stall_now;
	uint64_t task_stall_jiffies;
	uint64_t task_walk_faults; /* walks cut short by a bad pointer */

	/* The timeline (monitor_phases.c): phases[nr_phases - 1] is current. */
	struct monitor_phase phases[MONITOR_PHASES_MAX];
	uint32_t nr_phases, phases_omitted;

	/* The lanes (monitor_lanes.c); lane_bucket_ns 0 until the first
	 * sample. */
	struct monitor_lane_bucket lanes[MONITOR_REPORT_CPUS_MAX][MONITOR_LANE_BUCKETS];
	uint32_t lane_n;
	uint64_t lane_bucket_ns;
};

/* Count one plausible sample toward the lanes, before the stall state
 * moves to it (monitor_lanes.c): dt since the previous plausible sample
 * (0: none), vcpu_cpu_ns may be NULL. */
void monitor_lane_account(struct monitor *m, const struct monitor_sample_hdr *h,
			  const struct monitor_cpu_sample *cpus, const uint64_t *vcpu_cpu_ns,
			  uint64_t dt);

/* Count one stored sample, or a violation, toward the current phase
 * (monitor_phases.c). */
void monitor_phase_account(struct monitor *m, const struct monitor_sample_hdr *h,
			   const struct monitor_cpu_sample *cpus);
void monitor_phase_violation(struct monitor *m);

/* Say msg once: logged as a warning and kept for the report (bounded). */
void monitor_note(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Judge one stored sample (monitor_eval.c). vcpu_cpu_ns may be NULL. */
void monitor_eval_sample(struct monitor *m, struct monitor_sample_hdr *h,
			 const struct monitor_cpu_sample *cpus, const uint64_t *events,
			 const uint64_t *vcpu_cpu_ns);

/* Read the sched_ext event counters summed over CPUs into sums, and each
 * CPU's own dispatch_keep_last into cpus[c].keep_last (monitor_events.c).
 * 0, or -errno when they are not reachable now (then neither is valid). */
int monitor_read_events(struct monitor *m, uint64_t *sums, struct monitor_cpu_sample *cpus);

/* The runnable-task check for one plausible, sched_ext-enabled sample
 * (monitor_tasks.c): sched_ext's watchdog rule from outside. */
void monitor_check_tasks(struct monitor *m, const struct monitor_sample_hdr *h);

/* Where the kernel keeps its current watchdog timeout (jiffies), as a
 * guest-physical address: scx_root->watchdog_timeout or the static
 * (monitor_watchdog.c). 0, -EAGAIN (no scheduler attached), -ENOENT or
 * -EFAULT. */
int monitor_watchdog_timeout_gpa(const struct monitor *m, uint64_t *gpa);

/* Record a violation of check for the run s, ending at sample h
 * (monitor_eval.c). */
void monitor_violation(struct monitor *m, enum monitor_check check,
		       const struct monitor_streak *s, const struct monitor_sample_hdr *h,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A little-endian guest integer of width 4 or 8 at gpa. */
int monitor_read_u32(const struct monitor *m, uint64_t gpa, uint32_t *v);
int monitor_read_u64(const struct monitor *m, uint64_t gpa, uint64_t *v);

static inline double monitor_sec(uint64_t ns)
{
	return (double)ns / 1e9;
}

#endif
