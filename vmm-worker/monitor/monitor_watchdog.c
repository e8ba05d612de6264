/* Where the sched_ext watchdog timeout lives, for the engine's one write
 * (monitor.h, monitor_watchdog_target). The kernel arms its watchdog from
 * this value: a scheduler that stalls is ejected after timeout_ms instead of
 * the kernel's default 30 s, so a test fails fast with the kernel's own
 * "runnable task stall" message. The value is recomputed every call: a
 * scheduler that re-attaches gets a new struct scx_sched (and the kernel
 * writes its own timeout into it), and scx_root is hostile memory. */
#include <errno.h>

#include "monitor_priv.h"

int monitor_watchdog_timeout_gpa(const struct monitor *m, uint64_t *gpa)
{
	const struct monitor_layout *l = &m->l;
	uint64_t kva;
	int32_t st;
	int ret;

	if (!l->has_scx || (!l->scx_root && !l->scx_watchdog_timeout))
		return -ENOENT;
	if (l->scx_root && !l->has_sched_watchdog && !l->scx_watchdog_timeout)
		return -ENOENT;
	if (!m->ready)
		return -EAGAIN;
	/* Only once attached: before, the kernel overwrites it on enable (and
	 * on 6.16+ there is no scx_sched to write into). */
	ret = m->read(m->ctx, m->enable_state_gpa, &st, sizeof(st));
	if (ret)
		return ret;
	if (st != l->scx_enabled_value)
		return -EAGAIN;
	if (l->scx_root && l->has_sched_watchdog) {
		uint64_t root;

		ret = kaddr_read(&m->map, m->read, m->ctx, l->scx_root, &root, sizeof(root));
		if (ret)
			return ret;
		if (!root)
			return -EAGAIN;
		/* kmalloc'd: the direct (linear) map only. A pointer elsewhere
		 * (image, vmalloc, garbage) is refused, not followed. */
		if (kaddr_linear_to_gpa(&m->map, root, 1, gpa) ||
		    root > UINT64_MAX - l->sched_watchdog_off)
			return -EFAULT;
		kva = root + l->sched_watchdog_off;
		return kaddr_linear_to_gpa(&m->map, kva, 8, gpa) ? -EFAULT : 0;
	}
	kva = l->scx_watchdog_timeout;
	return kaddr_to_gpa(&m->map, kva, 8, gpa) ? -EFAULT : 0;
}

int monitor_watchdog_target(const struct monitor *m, uint32_t timeout_ms, uint32_t hz,
			    uint64_t *gpa, uint64_t *value, size_t *width)
{
	uint64_t jiffies;
	int ret;

	if (!timeout_ms)
		return -EINVAL;
	if (!hz)
		hz = m->l.hz;
	if (!hz)
		return -EINVAL;
	ret = monitor_watchdog_timeout_gpa(m, gpa);
	if (ret)
		return ret;
	/* jiffies = ms * HZ / 1000, rounded up: never shorter than asked, and
	 * never 0 (which the kernel would take as "fire at once"). */
	jiffies = ((uint64_t)timeout_ms * hz + 999) / 1000;
	*value = jiffies ? jiffies : 1;
	*width = 8;
	return 0;
}

static int read_kvar(const struct monitor *m, uint64_t kva, uint64_t *val, uint64_t *gpa)
{
	int ret = kaddr_to_gpa(&m->map, kva, 8, gpa);

	return ret ? -EFAULT : m->read(m->ctx, *gpa, val, 8);
}

int monitor_watchdog_plan(const struct monitor *m, uint32_t timeout_ms, uint32_t hz,
			  struct monitor_wd_state *st, struct monitor_write *w, size_t *n)
{
	const struct monitor_layout *l = &m->l;
	uint64_t t_gpa, val, cur, jif, jif_gpa, ts, ts_gpa, iv, iv_gpa = 0, old_iv;
	size_t width;
	int ret;

	*n = 0;
	ret = monitor_watchdog_target(m, timeout_ms, hz, &t_gpa, &val, &width);
	if (ret == -EAGAIN)
		st->window = false; /* detached: a new attach starts over */
	if (ret)
		return ret;
	if (!l->wd_timestamp || !l->jiffies)
		return -ENOENT;
	if ((ret = m->read(m->ctx, t_gpa, &cur, 8)) ||
	    (ret = read_kvar(m, l->jiffies, &jif, &jif_gpa)) ||
	    (ret = read_kvar(m, l->wd_timestamp, &ts, &ts_gpa)))
		return ret;
	if (cur > val) {
		/* (Re)attached with a longer timeout: lower it, and cover the
		 * kernel's work until it runs at the new cadence. */
		old_iv = cur / 2;
		if (l->wd_interval && (ret = read_kvar(m, l->wd_interval, &iv, &iv_gpa)) == 0 &&
		    iv > old_iv)
			old_iv = iv;
		if (ret)
			return ret;
		w[(*n)++] = (struct monitor_write){ t_gpa, val };
		if (iv_gpa && iv > (val / 2 ? val / 2 : 1))
			w[(*n)++] = (struct monitor_write){ iv_gpa, val / 2 ? val / 2 : 1 };
		st->window = true;
		st->until = jif + old_iv + val;
		st->lowered++;
	} else if (st->window && (ts != st->stamp || (int64_t)(jif - st->until) > 0)) {
		st->window = false; /* the kernel checked in itself, or must have */
	}
	if (st->window && m->task_stall_now) {
		/* A task has waited past the timeout (monitor_check_tasks, two
		 * samples) while the kernel's own check is still up to the old
		 * interval away: age the check-in stamp by a timeout, so the
		 * next guest tick ejects the scheduler (SCX_EXIT_ERROR_STALL,
		 * "runnable task stall") now rather than then. */
		w[(*n)++] = (struct monitor_write){ ts_gpa, jif - val - 1 };
		st->window = false;
		st->forced++;
		return 0;
	}
	if (st->window) {
		w[(*n)++] = (struct monitor_write){ ts_gpa, jif };
		st->stamp = jif;
	}
	return 0;
}
