/* One VM's admission (hostres.h): its guest RAM against what the host can
 * give, performance mode's whole LLCs, and the CPUs its worker is pinned
 * to. Decided under admit.lock, so two runs never admit against the same
 * view of the host. */
#include "hostres_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <ktstr/log.h>

struct vm_req {
	unsigned vcpus;
	bool perf;
	uint64_t mem_mib;
	struct hostres_vm *vm;
};

static int check_memory(struct hostres *h, const struct vm_req *q, char *why, size_t whylen)
{
	struct hostres_holder *hs = NULL;
	struct hostres_meminfo m;
	const char *path = h->o.meminfo ? h->o.meminfo : "/proc/meminfo";
	uint64_t declared = h->rec.mem_mib;
	size_t n = 0;
	int ret = hostres_meminfo_read(path, &m);

	if (ret) {
		snprintf(why, whylen, "cannot read MemTotal and MemAvailable from %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	/* Dead holders' records go here: this is the scan every VM makes. */
	ret = hostres_scan_holders(h->dirfd, h->holder_name, true, &hs, &n, why, whylen);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (hs[i].ok)
			declared += hs[i].rec.mem_mib;
	ret = hostres_mem_fits(&m, declared, q->mem_mib);
	if (ret == -ENOSPC)
		snprintf(why, whylen, "this VM needs %llu MiB of guest RAM; the host has %llu MiB "
				      "in all, less a margin of %d MiB: lower its memory_mb",
			 (unsigned long long)q->mem_mib, (unsigned long long)m.total_mib,
			 HOSTRES_MEM_MARGIN_MIB);
	else if (ret)
		hostres_why_mem(h, &m, hs, n, q->mem_mib, why, whylen);
	free(hs);
	return ret;
}

/* What this run holds until it ends: its cap's CPUs, their LLCs shared. */
static void own_view(const struct hostres *h, struct hostres_view *own)
{
	memset(own, 0, sizeof(*own));
	own->cpu_held = h->cap_cpus;
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++)
		if (cpuset_has(&h->cap_cpus, c))
			cpuset_add(&own->llc_shared, h->topo.llc_of[c]);
}

/* Whole LLCs for a performance-mode VM: the LLC locks and every online
 * CPU lock in them, exclusively. */
static int take_whole_llcs(struct hostres *h, const struct hostres_view *v,
			   const struct vm_req *q, char *why, size_t whylen)
{
	struct hostres_vm *vm = q->vm;
	struct cpuset_bits llcs;
	char name[HOSTRES_NAME_MAX];
	unsigned need = q->vcpus + 1;
	struct hostres_view own;
	int ret;

	own_view(h, &own);
	ret = hostres_place_whole_llcs(&h->topo, v, &own, need, &vm->cpus, &llcs);
	if (ret == -ENOSPC) {
		static const struct hostres_view nobody;
		struct cpuset_bits c2, l2;
		char list[1024] = "";

		if (h->o.cap && !hostres_place_whole_llcs(&h->topo, &nobody, NULL, need, &c2, &l2)) {
			/* Only our own cap is in the way, and it is ours until the run ends. */
			cpulist_format(&h->cap_cpus, list, sizeof(list));
			snprintf(why, whylen, "performance mode needs %u CPUs (%u vCPUs + 1 service "
					      "CPU) in whole LLCs that no cap shares; this run's "
					      "--cpu-cap %u holds CPU%s %s, and so shares %s, for the "
					      "whole run: run performance-mode tests without --cpu-cap "
					      "(or with a cap that leaves whole LLCs free)",
				 need, q->vcpus, h->o.cap, h->o.cap > 1 ? "s" : "", list,
				 h->topo.llc_known ? "their LLCs" : "those CPUs");
			return ret;
		}
		snprintf(why, whylen, "performance mode needs %u CPUs (%u vCPUs + 1 service CPU) in "
				      "whole LLCs; this process may use %u CPUs", need, q->vcpus,
			 cpuset_count(&h->topo.usable));
		return ret;
	}
	if (ret) {
		char lead[128];

		snprintf(lead, sizeof(lead), "performance mode needs %u CPUs in whole LLCs nobody "
					     "else uses", need);
		hostres_why_cpus(h, lead, why, whylen);
		return ret;
	}
	hostres_topo_llc_cpus(&h->topo, &llcs, &vm->held);
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS && !ret; c++) {
		if (cpuset_has(&llcs, c)) {
			hostres_llc_lock_name(c, name, sizeof(name));
			ret = hostres_take(h, name, LOCK_EX, &vm->fds, &vm->nfds, why, whylen);
		}
		if (!ret && cpuset_has(&vm->held, c)) {
			hostres_cpu_lock_name(c, name, sizeof(name));
			ret = hostres_take(h, name, LOCK_EX, &vm->fds, &vm->nfds, why, whylen);
		}
	}
	if (ret == -EBUSY)
		snprintf(why, whylen, "a lock was taken between the scan and the reservation");
	return ret;
}

/* An uncapped run's ordinary VM: the usable CPUs nobody holds (not a
 * cap's, not a performance-mode VM's LLC). A hint, not a lock: nothing
 * stops a later reservation from taking them. */
static void soft_affinity(struct hostres *h, const struct hostres_view *v, struct cpuset_bits *out)
{
	cpuset_clear_all(out);
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS; c++)
		if (cpuset_has(&h->topo.usable, c) && !cpuset_has(&v->cpu_held, c) &&
		    !cpuset_has(&v->llc_excl, h->topo.llc_of[c]))
			cpuset_add(out, c);
}

static void set_affinity(struct hostres_vm *vm, const struct cpuset_bits *cpus)
{
	CPU_ZERO(&vm->affinity);
	for (unsigned c = 0; c < HOSTRES_MAX_CPUS && c < CPU_SETSIZE; c++)
		if (cpuset_has(cpus, c))
			CPU_SET(c, &vm->affinity);
	vm->pinned = CPU_COUNT(&vm->affinity) > 0;
}

static int attempt_vm(struct hostres *h, void *arg, char *why, size_t whylen)
{
	const struct vm_req *q = arg;
	struct hostres_vm *vm = q->vm;
	struct hostres_view v;
	struct cpuset_bits soft;
	int ret = check_memory(h, q, why, whylen);

	if (ret)
		return ret;
	if (q->perf || !h->o.cap) {
		ret = hostres_scan_view(h->dirfd, &h->topo, &v, why, whylen);
		if (ret)
			return ret;
	}
	if (q->perf) {
		ret = take_whole_llcs(h, &v, q, why, whylen);
		if (ret) {
			hostres_drop(vm->fds, vm->nfds);
			vm->fds = NULL;
			vm->nfds = 0;
			return ret;
		}
		set_affinity(vm, &vm->cpus);
	} else if (h->o.cap) {
		set_affinity(vm, &h->cap_cpus);
	} else {
		soft_affinity(h, &v, &soft);
		set_affinity(vm, &soft);
		if (!vm->pinned && !h->warned_soft) {
			kwarn("host reservation: every CPU this run may use is reserved by others "
			      "(`ktstr-orch locks`); this uncapped run's VMs float over them; pass "
			      "--cpu-cap to wait for CPUs of its own");
			h->warned_soft = true;
		}
	}
	vm->mem_mib = q->mem_mib;
	h->rec.mem_mib += q->mem_mib;
	h->rec.vms++;
	for (unsigned w = 0; w < CPUSET_WORDS; w++)
		h->rec.cpus.w[w] |= vm->held.w[w];
	ret = hostres_write_record(h);
	if (ret) {
		snprintf(why, whylen, "cannot write the holder record %s/%s: %s", h->dir,
			 h->holder_name, strerror(-ret));
		h->rec.mem_mib -= q->mem_mib;
		h->rec.vms--;
		hostres_cpuset_del(&h->rec.cpus, &vm->held);
		hostres_drop(vm->fds, vm->nfds);
		memset(vm, 0, sizeof(*vm));
	}
	return ret;
}

int hostres_vm_acquire(struct hostres *h, unsigned vcpus, bool perf, uint64_t mem_mib,
		       volatile int *stop, struct hostres_vm *vm, char *err, size_t errlen)
{
	struct vm_req q = { .vcpus = vcpus, .perf = perf, .mem_mib = mem_mib, .vm = vm };
	char what[128];

	memset(vm, 0, sizeof(*vm));
	if (!vcpus || vcpus >= HOSTRES_MAX_CPUS || mem_mib > HOSTRES_MEM_MIB_MAX) {
		snprintf(err, errlen, "a VM of %u vCPUs and %llu MiB is out of range", vcpus,
			 (unsigned long long)mem_mib);
		return -EINVAL;
	}
	if (h->holder_fd < 0) {
		snprintf(err, errlen, "host reservation used before hostres_register");
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "a VM of %u vCPUs%s and %llu MiB", vcpus,
		 perf ? " in performance mode" : "", (unsigned long long)mem_mib);
	return hostres_wait(h, attempt_vm, &q, stop, what, err, errlen);
}

void hostres_vm_release(struct hostres *h, struct hostres_vm *vm)
{
	char err[512];
	int locked;

	pthread_mutex_lock(&h->mu);
	/* Under admit.lock so no reader sees the record half rewritten; past
	 * its bound the record is rewritten all the same (one pwrite). */
	locked = !hostres_admit_lock(h, err, sizeof(err));
	if (!locked)
		kwarn("host reservation: %s", err);
	hostres_drop(vm->fds, vm->nfds);
	h->rec.mem_mib -= vm->mem_mib <= h->rec.mem_mib ? vm->mem_mib : h->rec.mem_mib;
	h->rec.vms -= h->rec.vms ? 1 : 0;
	hostres_cpuset_del(&h->rec.cpus, &vm->held);
	if (hostres_write_record(h))
		kwarn("host reservation: cannot rewrite the holder record %s/%s: other runs "
		      "count this VM's memory until this run ends", h->dir, h->holder_name);
	if (locked)
		flock(h->admit_fd, LOCK_UN);
	pthread_mutex_unlock(&h->mu);
	memset(vm, 0, sizeof(*vm));
}
