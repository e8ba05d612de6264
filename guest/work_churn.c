/* Work types that keep changing their own scheduling attributes, so the
 * scheduler sees a task's weight or class change under it many times a
 * second. A change the worker is not allowed to make is worked around and
 * recorded in the report's note (not a failure): outside the guest, as a
 * non-root user, negative nice values and RT policies need CAP_SYS_NICE. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "work_types.h"

/* NiceSweep (512 spins, nice -20..19, yield: docs/reference.md,
 * "Work-type defaults"): each iteration spins, sets the next nice value of
 * the sweep -20, -19, ..., 19, -20, ... and yields so the new weight takes
 * effect at once. Without CAP_SYS_NICE
 * the sweep is clamped to 0..19; such a task cannot lower its nice value
 * either unless RLIMIT_NICE allows it, so by default it climbs to 19 and
 * stays there (the setpriority calls keep failing, harmlessly). */
void work_run_nice_sweep(const struct work_cfg *c, volatile sig_atomic_t *stop, struct telem *t)
{
	int lo = -20, hi = 19, next = lo;

	/* Nothing to probe up front: the first refused negative value clamps
	 * the sweep, which is what an unprivileged run should do. */

	while (!*stop) {
		spin(c->spin_iters);
		if (setpriority(PRIO_PROCESS, 0, next)) {
			int e = errno;

			if ((e == EPERM || e == EACCES) && next < 0) {
				lo = 0;
				next = -1; /* the increment below starts at 0 */
				set_note(t->rep, "NiceSweep: negative nice not permitted (%s): "
					 "sweeping 0..19 only (upwards only unless RLIMIT_NICE "
					 "allows lowering)", strerror(e));
			} else {
				set_note(t->rep, "NiceSweep: setpriority(%d): %s; kept going at "
					 "the current nice value", next, strerror(e));
			}
		}
		sched_yield();
		checkpoint(t, c->spin_iters);
		next = next >= hi ? lo : next + 1;
	}
}

/* Whether this task may use CAP_SYS_NICE (raw capget: the guest is static
 * and takes no libcap). */
static int has_cap_sys_nice(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return 0;
	return !!(d[CAP_SYS_NICE / 32].effective & (1u << (CAP_SYS_NICE % 32)));
}

/* Without CAP_SYS_NICE a task may leave SCHED_IDLE only if RLIMIT_NICE
 * allows its nice value (kernel can_nice(): 20 - nice <= RLIMIT_NICE), and
 * use SCHED_FIFO/RR priority 1 only with RLIMIT_RTPRIO >= 1. */
static int rlimit_allows(int res, rlim_t need)
{
	struct rlimit rl;

	return !getrlimit(res, &rl) && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need);
}

/* PolicyChurn (spin_iters 1024, cycle OTHER, BATCH, IDLE (+FIFO/RR prio 1):
 * docs/reference.md, "Work-type defaults"): each iteration spins, then
 * switches to the next policy of the cycle. Under sched_ext the RT steps take the task out of
 * the BPF scheduler (the RT class runs it) and the next SCHED_OTHER puts it
 * back, so the scheduler sees the task leave and re-enter (ops.disable /
 * ops.enable) every cycle; OTHER, BATCH and IDLE stay with sched_ext when
 * it has switched all tasks. Steps the task may not take are left out up
 * front, and said so in the note: the RT ones without CAP_SYS_NICE or
 * RLIMIT_RTPRIO, and SCHED_IDLE when the task could not leave it again
 * (a worker stuck in SCHED_IDLE would no longer churn). */
void work_run_policy_churn(const struct work_cfg *c, volatile sig_atomic_t *stop,
			   struct telem *t)
{
	static const struct {
		int policy, prio;
		const char *name;
	} all[] = {
		{ SCHED_OTHER, 0, "SCHED_OTHER" }, { SCHED_BATCH, 0, "SCHED_BATCH" },
		{ SCHED_IDLE, 0, "SCHED_IDLE" },   { SCHED_FIFO, 1, "SCHED_FIFO" },
		{ SCHED_RR, 1, "SCHED_RR" },
	};
	int cap = has_cap_sys_nice();
	int rt_ok = cap || rlimit_allows(RLIMIT_RTPRIO, 1);
	int idle_ok = cap ||
		      rlimit_allows(RLIMIT_NICE, (rlim_t)(20 - getpriority(PRIO_PROCESS, 0)));
	unsigned cyc[5], n = 0, i = 0;

	for (unsigned k = 0; k < 5; k++)
		if ((all[k].policy != SCHED_IDLE || idle_ok) && (!all[k].prio || rt_ok))
			cyc[n++] = k;
	if (!rt_ok || !idle_ok)
		set_note(t->rep, "PolicyChurn: no CAP_SYS_NICE:%s%s not permitted, left out of "
			 "the cycle", rt_ok ? "" : " SCHED_FIFO/RR (RLIMIT_RTPRIO 0)",
			 idle_ok ? "" : " leaving SCHED_IDLE (RLIMIT_NICE)");
	while (!*stop) {
		struct sched_param sp = { .sched_priority = all[cyc[i]].prio };

		spin(c->spin_iters);
		if (sched_setscheduler(0, all[cyc[i]].policy, &sp))
			set_note(t->rep, "PolicyChurn: sched_setscheduler(%s): %s; kept going "
				 "under the current policy", all[cyc[i]].name, strerror(errno));
		checkpoint(t, c->spin_iters);
		i = (i + 1) % n;
	}
}
