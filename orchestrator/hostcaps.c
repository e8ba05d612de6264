#include "hostcaps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/cpulist.h>
#include <ktstr/topology.h>
#include <ktstr/util.h>

const char *engine_name(Ktstr__Engine e)
{
	switch (e) {
	case KTSTR__ENGINE__ENGINE_KVM:
		return "kvm";
	case KTSTR__ENGINE__ENGINE_QEMU:
		return "qemu";
	default:
		return "auto";
	}
}

int engine_parse(const char *s, Ktstr__Engine *out)
{
	if (!strcmp(s, "auto"))
		*out = KTSTR__ENGINE__ENGINE_AUTO;
	else if (!strcmp(s, "kvm"))
		*out = KTSTR__ENGINE__ENGINE_KVM;
	else if (!strcmp(s, "qemu"))
		*out = KTSTR__ENGINE__ENGINE_QEMU;
	else
		return -EINVAL;
	return 0;
}

/* Hardware virtualization = a vmx/svm CPU flag and a KVM that is not PVM
 * (kvm_pvm runs only PVM-enlightened guests: kernels-and-schedulers.md). */
static void probe_kvm(struct host_caps *hc)
{
	char *cpuinfo = NULL;
	size_t len;

	if (access("/dev/kvm", F_OK)) {
		snprintf(hc->kvm_kind, sizeof(hc->kvm_kind), "absent");
		return;
	}
	if (!access("/sys/module/kvm_pvm", F_OK)) {
		snprintf(hc->kvm_kind, sizeof(hc->kvm_kind), "kvm_pvm");
		return;
	}
	snprintf(hc->kvm_kind, sizeof(hc->kvm_kind), "absent");
	if (read_file("/proc/cpuinfo", &cpuinfo, &len, 64u << 20))
		return;
	if (strstr(cpuinfo, " vmx"))
		snprintf(hc->kvm_kind, sizeof(hc->kvm_kind), "hardware-vmx");
	else if (strstr(cpuinfo, " svm"))
		snprintf(hc->kvm_kind, sizeof(hc->kvm_kind), "hardware-svm");
	free(cpuinfo);
}

static void probe_llcs(struct host_caps *hc)
{
	struct cpuset_bits seen;
	uint32_t llcs = 0, maxper = 0;

	cpuset_clear_all(&seen);
	for (uint32_t cpu = 0; cpu < hc->cpus && cpu < KTSTR_TOPO_MAX_CPUS; cpu++) {
		char path[128], *text = NULL;
		size_t len;
		struct cpuset_bits sh;
		int idx;

		if (cpuset_has(&seen, cpu))
			continue;
		/* The highest cache index is the LLC (index3 on x86, often index2 elsewhere). */
		for (idx = 3; idx >= 0; idx--) {
			snprintf(path, sizeof(path),
				 "/sys/devices/system/cpu/cpu%u/cache/index%d/shared_cpu_list", cpu, idx);
			if (!read_file(path, &text, &len, 4096))
				break;
		}
		if (idx < 0 || cpulist_parse(text, &sh)) {
			free(text);
			cpuset_add(&seen, cpu);
			llcs++;
			if (maxper < 1)
				maxper = 1;
			continue;
		}
		free(text);
		for (uint32_t c = 0; c < CPUSET_WORDS * 64; c++)
			if (cpuset_has(&sh, c))
				cpuset_add(&seen, c);
		llcs++;
		if (cpuset_count(&sh) > maxper)
			maxper = cpuset_count(&sh);
	}
	hc->llcs = llcs ? llcs : 1;
	hc->max_cpus_per_llc = maxper ? maxper : hc->cpus;
}

void hostcaps_probe(Ktstr__Engine requested, struct host_caps *hc)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	const char *tcg_max = getenv("KTSTR_TCG_MAX_VCPUS");
	bool hw;

	memset(hc, 0, sizeof(*hc));
	hc->cpus = n > 0 ? (uint32_t)n : 1;
	probe_llcs(hc);
	probe_kvm(hc);
	hw = !strncmp(hc->kvm_kind, "hardware", 8);
	hc->engine = requested;
	if (requested == KTSTR__ENGINE__ENGINE_AUTO)
		hc->engine = hw ? KTSTR__ENGINE__ENGINE_KVM : KTSTR__ENGINE__ENGINE_QEMU;
	/* QEMU without hardware KVM is TCG: it emulates any topology, but
	 * every vCPU is a host thread, so cap the size at a few per host CPU
	 * (KTSTR_TCG_MAX_VCPUS overrides). */
	hc->emulated = hc->engine == KTSTR__ENGINE__ENGINE_QEMU && !hw;
	if (hc->emulated) {
		long v = tcg_max ? strtol(tcg_max, NULL, 10) : 0;

		hc->max_vcpus = v > 0 && v <= KTSTR_TOPO_MAX_CPUS ? (uint32_t)v : 4 * hc->cpus;
	} else {
		hc->max_vcpus = hc->cpus;
	}
}
