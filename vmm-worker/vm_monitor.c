#include "vm_monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ktstr/le.h>
#include <ktstr/log.h>
#include <ktstr/ring.h>

#include "guest.pb-c.h"
#include "monitor/monitor.h"

void vm_monitor_init(struct vm_monitor *vm)
{
	memset(vm, 0, sizeof(*vm));
	snprintf(vm->off, sizeof(vm->off), "no kernel layout in the VmSpec");
}

void vm_monitor_start(struct vm_monitor *vm, const Ktstr__VmSpec *spec, uint32_t nr_vcpus,
		      kaddr_read_fn read, vm_monitor_write_fn write, void *ctx,
		      uint64_t ram_limit)
{
	struct monitor_thresholds th;
	char err[256];
	int ret;

	vm_monitor_init(vm);
	if (!spec->kernel_layout) {
		snprintf(vm->off, sizeof(vm->off), "%s",
			 "the orchestrator sent no kernel layout (its log says why)");
		return;
	}
	monitor_thresholds_from_spec(spec->monitor, &th);
	ret = monitor_new(spec->kernel_layout, nr_vcpus, read, ctx, ram_limit, &th, &vm->m, err,
			  sizeof(err));
	if (ret) {
		vm->m = NULL;
		snprintf(vm->off, sizeof(vm->off), "%s", err[0] ? err : strerror(-ret));
		kwarn("monitor: off: %s", vm->off);
		return;
	}
	vm->off[0] = '\0';
	vm->write = write;
	vm->ctx = ctx;
	{
		/* An absent MonitorSpec means its defaults (proto/worker.proto). */
		Ktstr__MonitorSpec d = KTSTR__MONITOR_SPEC__INIT;
		const Ktstr__MonitorSpec *ms = spec->monitor ? spec->monitor : &d;

		vm->interval_ms = ms->interval_ms ? ms->interval_ms : d.interval_ms;
		vm->watchdog_ms = ms->watchdog_timeout_ms;
	}
	snprintf(vm->watchdog_note, sizeof(vm->watchdog_note), "%s",
		 vm->watchdog_ms ? "never lowered: no scheduler attached with a longer timeout"
				 : "off (watchdog_timeout 0)");
}

void vm_monitor_start_arm64(struct vm_monitor *vm, const Ktstr__VmSpec *spec, uint32_t nr_vcpus,
			    kaddr_read_fn read, vm_monitor_write_fn write, void *ctx,
			    uint64_t ram_base, uint64_t ram_limit, uint64_t image_pa)
{
	vm_monitor_start(vm, spec, nr_vcpus, read, write, ctx, ram_limit);
	if (!vm->m || !monitor_set_image_load(vm->m, ram_base, image_pa))
		return;
	vm_monitor_free(vm);
	snprintf(vm->off, sizeof(vm->off),
		 "the kernel layout is not an arm64 one, or the Image at %#llx is outside guest RAM",
		 (unsigned long long)image_pa);
	kwarn("monitor: off: %s", vm->off);
}

/* The monitor's only writes (monitor_watchdog_plan): sched_ext's watchdog
 * timeout, its interval and, until the kernel's work runs at the new
 * cadence, its check-in stamp. */
static void keep_watchdog(struct vm_monitor *vm)
{
	struct monitor_write w[MONITOR_WD_WRITES];
	size_t n = 0;
	uint8_t buf[8];
	int ret;

	if (!vm->watchdog_ms || !vm->write)
		return;
	ret = monitor_watchdog_plan(vm->m, vm->watchdog_ms, 0, &vm->wd, w, &n);
	if (ret == -ENOENT)
		snprintf(vm->watchdog_note, sizeof(vm->watchdog_note),
			 "the kernel's layout lacks the sched_ext watchdog's timeout, stamp or "
			 "jiffies: not lowered");
	if (ret)
		return;
	if (vm->wd.lowered && vm->watchdog_note[0]) {
		kinfo("monitor: sched_ext watchdog timeout lowered to %u ms", vm->watchdog_ms);
		vm->watchdog_note[0] = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		put_le64(buf, w[i].value);
		if (vm->write(vm->ctx, w[i].gpa, buf, sizeof(buf)))
			return;
		vm->watchdog_writes++;
	}
	if (vm->wd.forced && !vm->forced_said) {
		vm->forced_said = true;
		kinfo("monitor: a task waited past the watchdog timeout before the kernel's "
		      "first check: aged its check-in stamp so it ejects the scheduler now");
		snprintf(vm->watchdog_note, sizeof(vm->watchdog_note),
			 "a task waited past it before the kernel's first check: the kernel was "
			 "made to eject the scheduler at once");
	}
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vm_monitor_tick(struct vm_monitor *vm, uint64_t now_ns, const uint64_t *vcpu_cpu_ns)
{
	uint64_t c0, c1;

	if (!vm->m || now_ns < vm->next_ns)
		return;
	vm->next_ns = now_ns + (uint64_t)vm->interval_ms * 1000000ull;
	if (monitor_try_ready(vm->m, now_ns))
		return;
	c0 = thread_cpu_ns();
	monitor_sample(vm->m, now_ns, vcpu_cpu_ns);
	keep_watchdog(vm);
	c1 = thread_cpu_ns();
	if (c0 && c1 >= c0) {
		vm->cost_ticks++;
		vm->cost_ns += c1 - c0;
		if (c1 - c0 > vm->cost_max_ns)
			vm->cost_max_ns = c1 - c0;
	}
	if (!vm->dump_asked) {
		struct monitor_summary s;

		monitor_summarize(vm->m, &s);
		vm->dump_due = s.violations_total > 0;
	}
}

void vm_monitor_ring(struct vm_monitor *vm, uint32_t type, const uint8_t *payload, uint32_t len,
		     uint64_t now_ns)
{
	Ktstr__Stimulus *st;

	if (!vm->m || type != KTSTR_MSG_STIMULUS)
		return;
	/* The guest's bytes: protobuf-c bounds the decode (the message is
	 * already within the ring's size limit); a bad one marks nothing. */
	st = ktstr__stimulus__unpack(NULL, len, payload);
	if (!st)
		return;
	monitor_mark_phase(vm->m, now_ns, st->step_index, st->elapsed_ms);
	ktstr__stimulus__free_unpacked(st, NULL);
}

bool vm_monitor_take_dump_request(struct vm_monitor *vm)
{
	if (!vm->dump_due || vm->dump_asked)
		return false;
	vm->dump_asked = true;
	kinfo("monitor: asking the guest for a sched_ext debug dump (SysRq-D)");
	return true;
}

Ktstr__MonitorReport *vm_monitor_report(struct vm_monitor *vm, const char **off_why)
{
	Ktstr__MonitorReport *r = NULL;

	*off_why = NULL;
	if (!vm->m) {
		*off_why = vm->off;
		return NULL;
	}
	if (monitor_report_fill(vm->m, &r))
		return NULL;
	r->has_watchdog_timeout_ms = 1;
	r->watchdog_timeout_ms = vm->watchdog_ms;
	r->has_watchdog_writes = 1;
	r->watchdog_writes = vm->watchdog_writes;
	if (vm->watchdog_note[0])
		r->watchdog_note = strdup(vm->watchdog_note);
	r->has_debug_dump_requested = 1;
	r->debug_dump_requested = vm->dump_asked;
	r->has_cost_samples = r->has_cost_ns = r->has_cost_max_ns = r->has_interval_ms = 1;
	r->cost_samples = vm->cost_ticks;
	r->cost_ns = vm->cost_ns;
	r->cost_max_ns = vm->cost_max_ns;
	r->interval_ms = vm->interval_ms;
	return r;
}

void vm_monitor_free(struct vm_monitor *vm)
{
	if (vm->m)
		monitor_free(vm->m);
	vm->m = NULL;
}

int vm_ram_view_read(void *view, uint64_t gpa, void *buf, size_t len)
{
	const struct vm_ram_view *v = view;
	const void *p = v->lookup(v->ram, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int vm_ram_view_write(void *view, uint64_t gpa, const void *buf, size_t len)
{
	const struct vm_ram_view *v = view;
	void *p = v->lookup(v->ram, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}
