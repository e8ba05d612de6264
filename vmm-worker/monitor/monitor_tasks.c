/* The runnable-task check (docs/monitor.md, "Runnable tasks"): sched_ext's
 * own watchdog rule, applied from outside. The kernel keeps, per CPU, the
 * list of its runnable sched_ext tasks in the order they became runnable
 * (scx_rq.runnable_list, each with scx.runnable_at in jiffies) and ejects
 * the scheduler when one has waited longer than the watchdog timeout. Its
 * check runs from delayed work whose first run after an attach comes at
 * half the scheduler's own timeout (15 s by default), however far the
 * monitor lowered the timeout since; this check sees the same lists every
 * sample, so a dropped task is named (and, through monitor_watchdog_plan,
 * acted on) within a sample of the timeout.
 *
 * Everything here is hostile guest memory: the walk follows at most
 * MONITOR_RUNNABLE_WALK_MAX pointers per CPU, each translated through the
 * direct map and read whole or not at all; a task is reported only when the
 * same task with the same runnable_at is the stale one in two consecutive
 * samples, so a list read while the guest changed it cannot report a task
 * that was never stuck. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor_priv.h"

/* A timeout or a wait beyond a day of jiffies (at HZ 1000) is not a
 * watchdog the kernel keeps: the words are not what the layout says. */
#define TASK_JIFFIES_MAX (86400ull * 1000ull)

static int read_kva(const struct monitor *m, uint64_t kva, void *buf, size_t len)
{
	return kaddr_read(&m->map, m->read, m->ctx, kva, buf, len);
}

static void task_name(const struct monitor *m, struct monitor_task *t)
{
	char comm[MONITOR_COMM_LEN];
	size_t i;

	t->pid = -1;
	snprintf(t->comm, sizeof(t->comm), "?");
	if (read_kva(m, t->kva + m->l.task_pid, &t->pid, sizeof(t->pid)))
		t->pid = -1;
	if (read_kva(m, t->kva + m->l.task_comm, comm, sizeof(comm)))
		return;
	/* The guest chose these bytes: printable ASCII or '?', NUL-ended. */
	for (i = 0; i < sizeof(comm) && comm[i]; i++)
		t->comm[i] = comm[i] >= 0x20 && comm[i] < 0x7f ? comm[i] : '?';
	if (i)
		t->comm[i] = '\0';
}

/* The oldest task on cpu's runnable list, or kva 0 when the list is empty.
 * -EFAULT when a pointer led outside guest RAM or the direct map. */
static int oldest_runnable(struct monitor *m, uint32_t cpu, struct monitor_task *t)
{
	const struct monitor_layout *l = &m->l;
	uint64_t head = m->cs[cpu].rq_kva + l->rq_runnable_list, node;

	memset(t, 0, sizeof(*t));
	if (m->read(m->ctx, m->cs[cpu].rq_gpa + l->rq_runnable_list, &node, sizeof(node)))
		return -EFAULT;
	for (uint32_t i = 0; i < MONITOR_RUNNABLE_WALK_MAX && node != head; i++) {
		uint64_t task, at;

		if (node < l->task_node)
			return -EFAULT;
		task = node - l->task_node;
		if (read_kva(m, task + l->task_runnable_at, &at, sizeof(at)))
			return -EFAULT;
		if (!t->kva || (int64_t)(at - t->runnable_at) < 0) {
			t->kva = task;
			t->runnable_at = at;
		}
		/* list_head.next is the node's first word. */
		if (read_kva(m, node, &node, sizeof(node)))
			return -EFAULT;
	}
	return 0;
}

/* The kernel's watchdog timeout now, in jiffies; 0 when unknown. */
static uint64_t kernel_timeout(const struct monitor *m)
{
	uint64_t gpa, v;

	if (monitor_watchdog_timeout_gpa(m, &gpa) || monitor_read_u64(m, gpa, &v))
		return 0;
	return v && v <= TASK_JIFFIES_MAX ? v : 0;
}

void monitor_check_tasks(struct monitor *m, const struct monitor_sample_hdr *h)
{
	const struct monitor_layout *l = &m->l;
	uint64_t jiffies, timeout;
	uint32_t hz = l->hz;

	m->task_stall_now = false;
	if (!l->has_tasks || !m->th.fail_on_stall)
		return;
	timeout = kernel_timeout(m);
	if (!timeout || read_kva(m, l->jiffies, &jiffies, sizeof(jiffies)))
		return;
	for (uint32_t c = 0; c < m->nr_cpus; c++) {
		struct monitor_cpu_state *cs = &m->cs[c];
		struct monitor_task t;
		uint64_t waited;

		if (oldest_runnable(m, c, &t)) {
			m->task_walk_faults++;
			memset(&cs->suspect, 0, sizeof(cs->suspect));
			continue;
		}
		waited = t.kva ? jiffies - t.runnable_at : 0;
		/* The kernel's rule: time_after(jiffies, runnable_at + timeout). */
		if (!t.kva || (int64_t)waited <= (int64_t)timeout || waited > TASK_JIFFIES_MAX) {
			memset(&cs->suspect, 0, sizeof(cs->suspect));
			continue;
		}
		if (cs->suspect.kva != t.kva || cs->suspect.runnable_at != t.runnable_at) {
			cs->suspect = t; /* seen once: confirmed by the next sample */
			continue;
		}
		m->task_stall_now = true;
		m->task_stall_jiffies = jiffies;
		if (cs->reported_kva == t.kva && cs->reported_at == t.runnable_at)
			continue;
		cs->reported_kva = t.kva;
		cs->reported_at = t.runnable_at;
		task_name(m, &t);
		{
			/* The window: the previous sample and this one. */
			struct monitor_streak s = { .n = 2, .start_seq = h->seq ? h->seq - 1 : 0,
						    .start_ns = m->has_prev ? m->prev_t_ns : h->t_ns };

			if (hz)
				monitor_violation(m, MONITOR_CHECK_TASK_STALL, &s, h,
						  "task %s[%d] on cpu%u runnable for %.1f s without "
						  "running (sched_ext watchdog timeout %.1f s)",
						  t.comm, t.pid, c, (double)waited / hz,
						  (double)timeout / hz);
			else
				monitor_violation(m, MONITOR_CHECK_TASK_STALL, &s, h,
						  "task %s[%d] on cpu%u runnable for %llu jiffies "
						  "without running (sched_ext watchdog timeout %llu "
						  "jiffies)",
						  t.comm, t.pid, c, (unsigned long long)waited,
						  (unsigned long long)timeout);
		}
	}
}
