/* Performance mode helpers (perf.h). The decisions (pins, exit plan, node
 * map, hugepage sizing) are pure so unit tests cover them; the syscalls
 * they lead to are thin wrappers whose failures become notes. */
#include "perf.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ktstr/log.h"

#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#define PERF_MPOL_BIND 2 /* <linux/mempolicy.h> MPOL_BIND; no libnuma header needed */
#define PERF_MAX_NODES 1024

void perf_note(struct perf_report *p, bool warn, const char *fmt, ...)
{
	char buf[PERF_NOTE_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (warn)
		kwarn("performance mode: %s", buf);
	else
		kdbg("performance mode: %s", buf);
	if (p && p->nnotes < PERF_NOTES_MAX)
		snprintf(p->notes[p->nnotes++], PERF_NOTE_LEN, "%s", buf);
}

int perf_check_pins(const uint32_t *pins, size_t npins, uint32_t ncpus, bool has_service,
		    uint32_t service, char *why, size_t len)
{
	if (npins && npins != ncpus) {
		snprintf(why, len, "pin_cpus has %zu entries but the VM has %u vCPUs (one per vCPU, or none)",
			 npins, ncpus);
		return -EINVAL;
	}
	if (has_service && service >= CPU_SETSIZE) {
		snprintf(why, len, "service_cpu %u is not a possible host CPU (max %d)", service,
			 CPU_SETSIZE - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < npins; i++) {
		if (pins[i] >= CPU_SETSIZE) {
			snprintf(why, len, "pin_cpus[%zu] = %u is not a possible host CPU (max %d)", i,
				 pins[i], CPU_SETSIZE - 1);
			return -EINVAL;
		}
		if (has_service && pins[i] == service) {
			snprintf(why, len, "pin_cpus[%zu] = %u is also the service_cpu: the control "
				 "thread would compete with that vCPU", i, pins[i]);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (pins[j] == pins[i]) {
				snprintf(why, len, "pin_cpus[%zu] and pin_cpus[%zu] are both CPU %u: "
					 "two vCPUs would share a host CPU", j, i, pins[i]);
				return -EINVAL;
			}
	}
	return 0;
}

uint64_t perf_huge_round(uint64_t size)
{
	return (size + PERF_HUGEPAGE_SIZE - 1) & ~(PERF_HUGEPAGE_SIZE - 1);
}

uint64_t perf_hugepages_needed(uint64_t size)
{
	return perf_huge_round(size) / PERF_HUGEPAGE_SIZE;
}

void *perf_map_ram(uint64_t size, bool want_huge, bool *huge, uint64_t *map_size,
		   struct perf_report *p)
{
	void *m;

	*huge = false;
	if (want_huge) {
		/* No MAP_NORESERVE: the pool reservation is taken now, so an
		 * empty pool fails here and we can fall back cleanly. */
		m = mmap(NULL, perf_huge_round(size), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (m != MAP_FAILED) {
			*huge = true;
			*map_size = perf_huge_round(size);
			return m;
		}
		perf_note(p, true,
			  "no 2 MiB hugepages for %llu MiB of guest RAM (mmap MAP_HUGETLB: %s): "
			  "using normal pages; reserve them as root with "
			  "`echo %llu > /proc/sys/vm/nr_hugepages` (plus what other VMs use)",
			  (unsigned long long)(size >> 20), strerror(errno),
			  (unsigned long long)perf_hugepages_needed(size));
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		 0);
	if (m == MAP_FAILED)
		return NULL;
	*map_size = size;
	return m;
}

unsigned perf_exit_plan(int supported, uint32_t plan[2])
{
	unsigned n = 0;

	if (supported <= 0)
		return 0;
	if (supported & PERF_EXIT_PAUSE)
		plan[n++] = PERF_EXIT_PAUSE;
	if (supported & PERF_EXIT_HLT)
		plan[n++] = PERF_EXIT_HLT;
	return n;
}

void perf_node_map(const uint32_t *vcpu_node, uint32_t ncpus, const uint32_t *pins, size_t npins,
		   int (*cpu_node)(uint32_t cpu), uint32_t guest_nodes, int *out)
{
	for (uint32_t g = 0; g < guest_nodes; g++)
		out[g] = -1;
	if (npins < ncpus)
		return;
	for (uint32_t i = 0; i < ncpus; i++) {
		uint32_t g = vcpu_node[i];

		if (g < guest_nodes && out[g] < 0)
			out[g] = cpu_node(pins[i]);
	}
}

int perf_sysfs_cpu_node(uint32_t cpu)
{
	char path[96];

	for (int n = 0; n < PERF_MAX_NODES; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/node%d", cpu, n);
		if (access(path, F_OK) == 0)
			return n;
	}
	return -1;
}

int perf_sysfs_host_nodes(void)
{
	char path[64];
	int n = 0;

	while (n < PERF_MAX_NODES) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
		if (access(path, F_OK))
			break;
		n++;
	}
	return n ? n : 1;
}

int perf_mbind(void *addr, uint64_t len, int node)
{
	unsigned long mask[PERF_MAX_NODES / (8 * sizeof(unsigned long))] = { 0 };

	if (node < 0 || node >= PERF_MAX_NODES)
		return -EINVAL;
	mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
	if (syscall(SYS_mbind, addr, (unsigned long)len, PERF_MPOL_BIND, mask,
		    (unsigned long)PERF_MAX_NODES, 0) < 0)
		return -errno;
	return 0;
}

void perf_thread_apply(bool pin, uint32_t cpu, int prio, int *pin_err, int *rt_err)
{
	*pin_err = *rt_err = 0;
	if (pin) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		*pin_err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (prio > 0) {
		struct sched_param sp = { .sched_priority = prio };

		*rt_err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
}

const char *perf_rt_hint(int err)
{
	return err == EPERM ? "run the worker as root (CAP_SYS_NICE) or raise its real-time "
			      "limit (`ulimit -r 2`, or rtprio 2 in /etc/security/limits.conf)"
			    : "check the host's sched_rt_runtime_us and cgroup rt limits";
}

void perf_fill_result(const struct perf_report *r, Ktstr__PerfModeReport *out,
		      char *notes[PERF_NOTES_MAX])
{
	ktstr__perf_mode_report__init(out);
	out->has_pinned = out->has_service_pinned = out->has_hugepages = out->has_mbind = true;
	out->has_rt = out->has_service_rt = out->has_exits_disabled = true;
	out->has_realtime_hint = out->has_halt_poll_unset = true;
	out->pinned = r->pinned;
	out->service_pinned = r->service_pinned;
	out->hugepages = r->hugepages;
	out->mbind = r->mbind;
	out->rt = r->rt;
	out->service_rt = r->service_rt;
	out->exits_disabled = r->exits_disabled;
	out->realtime_hint = r->realtime_hint;
	out->halt_poll_unset = r->halt_poll_unset;
	for (unsigned i = 0; i < r->nnotes && i < PERF_NOTES_MAX; i++)
		notes[i] = (char *)r->notes[i];
	out->n_notes = r->nnotes < PERF_NOTES_MAX ? r->nnotes : PERF_NOTES_MAX;
	out->notes = out->n_notes ? notes : NULL;
}
