#include "hostcaps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/arch.h>
#include <ktstr/cpulist.h>
#include <ktstr/hostkvm.h>
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

int engine_for_arch(Ktstr__Engine requested, Ktstr__Arch arch, Ktstr__Engine *out, char *err,
		    size_t errlen)
{
	*out = requested;
	if (arch == ktstr_arch_host())
		return 0;
	if (requested == KTSTR__ENGINE__ENGINE_KVM) {
		snprintf(err, errlen,
			 "--engine kvm cannot run an %s guest on this %s host: KVM runs guests of "
			 "the host's own architecture; use --engine qemu (or auto), which emulates "
			 "%s with qemu-system-%s",
			 ktstr_arch_name(arch), ktstr_arch_name(ktstr_arch_host()),
			 ktstr_arch_name(arch),
			 arch == KTSTR__ARCH__ARCH_ARM64 ? "aarch64" : "x86_64");
		return -EINVAL;
	}
	*out = KTSTR__ENGINE__ENGINE_QEMU;
	return 0;
}

int hostcaps_probe_guest(Ktstr__Engine *engine, Ktstr__Arch arch, struct host_caps *hc,
			 char *err, size_t errlen)
{
	int ret = engine_for_arch(*engine, arch, engine, err, errlen);

	if (ret)
		return ret;
	hostcaps_probe(*engine, hc);
	hc->guest_arch = arch;
	return 0;
}

/* cache/index0..index9: more than any CPU has. */
#define HOST_CACHE_INDICES 10

int hostcaps_cpu_llc(const char *root, uint32_t cpu, struct cpuset_bits *sh)
{
	int best = 0;

	for (int idx = 0; idx < HOST_CACHE_INDICES; idx++) {
		char path[4096], *text = NULL;
		size_t len;
		long level;

		snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/cpu%u/cache/index%d/level",
			 root, cpu, idx);
		if (read_file(path, &text, &len, 64))
			continue;
		level = strtol(text, NULL, 10);
		free(text);
		text = NULL;
		if (level <= best)
			continue;
		snprintf(path, sizeof(path),
			 "%s/sys/devices/system/cpu/cpu%u/cache/index%d/shared_cpu_list", root, cpu, idx);
		if (read_file(path, &text, &len, 4096))
			continue;
		if (!cpulist_parse(text, sh) && cpuset_has(sh, cpu))
			best = (int)level;
		free(text);
	}
	return best;
}

static void probe_llcs(const char *root, const struct cpuset_bits *online, struct host_caps *hc)
{
	struct cpuset_bits seen;
	uint32_t llcs = 0, maxper = 0;

	cpuset_clear_all(&seen);
	for (uint32_t cpu = 0; cpu < CPUSET_WORDS * 64; cpu++) {
		struct cpuset_bits sh;
		int level;

		if (!cpuset_has(online, cpu) || cpuset_has(&seen, cpu))
			continue;
		cpuset_clear_all(&sh);
		level = hostcaps_cpu_llc(root, cpu, &sh);
		if (level < HOSTCAPS_LLC_MIN_LEVEL) {
			hc->llc_unknown = true;
			if (level)
				snprintf(hc->llc_note, sizeof(hc->llc_note),
					 "sysfs shows caches only up to L%d for cpu%u, no L%d", level,
					 cpu, HOSTCAPS_LLC_MIN_LEVEL);
			else
				snprintf(hc->llc_note, sizeof(hc->llc_note),
					 "no cache/index%d in sysfs for cpu%u", HOSTCAPS_LLC_MIN_LEVEL, cpu);
			hc->llcs = hc->max_cpus_per_llc = 0;
			return;
		}
		for (uint32_t c = 0; c < CPUSET_WORDS * 64; c++)
			if (cpuset_has(&sh, c) && cpuset_has(online, c))
				cpuset_add(&seen, c);
		llcs++;
		if (cpuset_count(&sh) > maxper)
			maxper = cpuset_count(&sh);
	}
	hc->llcs = llcs;
	hc->max_cpus_per_llc = maxper;
}

void hostcaps_online_at(const char *root, struct cpuset_bits *online)
{
	char path[4096], *text = NULL;
	size_t len;

	cpuset_clear_all(online);
	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/online", root);
	if (!read_file(path, &text, &len, 64 * 1024) && !cpulist_parse(text, online) &&
	    cpuset_count(online)) {
		free(text);
		return;
	}
	free(text);
	cpuset_clear_all(online);
	long n = root[0] ? 1 : sysconf(_SC_NPROCESSORS_ONLN);

	for (long c = 0; c < (n > 0 ? n : 1) && c < CPUSET_WORDS * 64; c++)
		cpuset_add(online, (unsigned)c);
}

static void probe_online(const char *root, struct cpuset_bits *online, struct host_caps *hc)
{
	hostcaps_online_at(root, online);
	hc->cpus = cpuset_count(online);
}

void hostcaps_probe_at(const char *root, Ktstr__Engine requested, struct host_caps *hc)
{
	const char *tcg_max = getenv("KTSTR_TCG_MAX_VCPUS");
	struct cpuset_bits online;
	bool hw;

	memset(hc, 0, sizeof(*hc));
	probe_online(root, &online, hc);
	probe_llcs(root, &online, hc);
	snprintf(hc->kvm_kind, sizeof(hc->kvm_kind), "%s", ktstr_kvm_kind_at(root));
	hw = ktstr_kvm_is_hardware(hc->kvm_kind);
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

void hostcaps_probe(Ktstr__Engine requested, struct host_caps *hc)
{
	hostcaps_probe_at("", requested, hc);
}

void hostcaps_describe(const struct host_caps *hc, char *buf, size_t len)
{
	char llc[256];

	if (hc->llc_unknown)
		snprintf(llc, sizeof(llc), "LLC layout unknown (%s: LLC checks not applied)",
			 hc->llc_note);
	else
		snprintf(llc, sizeof(llc), "%u LLCs", hc->llcs);
	snprintf(buf, len, "%u CPUs, %s, engine %s%s, kvm %s", hc->cpus, llc,
		 engine_name(hc->engine), hc->emulated ? " (TCG)" : "", hc->kvm_kind);
}
