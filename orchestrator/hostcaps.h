/* What this host can run: CPUs, LLCs, and which engine boots a stock
 * kernel. Read from sysfs and /proc; never opens /dev/kvm for use.
 *
 * Hosts differ (docs/architecture.md, "Hosts"): a paravirtual host may show
 * no cache topology in sysfs at all, and /dev/kvm may be hardware KVM,
 * kvm_pvm or absent. What could not be learned is recorded as unknown, with
 * the reason, never guessed: an unknown LLC layout applies no LLC check. */
#ifndef KTSTR_ORCH_HOSTCAPS_H
#define KTSTR_ORCH_HOSTCAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.pb-c.h"

/* The cache level that is the LLC on this architecture: x86 hosts have an
 * L3; a host whose sysfs stops at L2 hides its L3 (paravirtual hosts do),
 * so its L2 must not be taken for the LLC. */
#if defined(__x86_64__) || defined(__i386__)
#define HOSTCAPS_LLC_MIN_LEVEL 3
#else
#define HOSTCAPS_LLC_MIN_LEVEL 2
#endif

struct host_caps {
	uint32_t cpus;		   /* online CPUs */
	uint32_t llcs;		   /* distinct last-level caches (0 when unknown) */
	uint32_t max_cpus_per_llc; /* 0 when unknown */
	bool llc_unknown;	   /* sysfs showed no LLC for some CPU: see llc_note */
	Ktstr__Engine engine;	   /* what auto resolves to on this host */
	bool emulated;		   /* QEMU TCG: vCPUs are not host CPUs */
	uint32_t max_vcpus;	   /* largest VM this host runs in reasonable time */
	char kvm_kind[32];	   /* ktstr_kvm_kind() (include/ktstr/hostkvm.h) */
	char llc_note[160];	   /* why the LLC layout is unknown; "" when known */
	/* The guest architecture the engine is checked for (preflight_engine:
	 * qemu-system-x86_64 or qemu-system-aarch64). Set by the caller after
	 * the probe; 0 = x86_64. */
	Ktstr__Arch guest_arch;
};

/* Probe the host. requested = the --engine choice (AUTO resolves here).
 * Never fails: what cannot be read is recorded as unknown. */
void hostcaps_probe(Ktstr__Engine requested, struct host_caps *hc);
/* The same below root ("" = the real host): root/sys/devices/system/cpu,
 * root/sys/module, root/dev/kvm and root/proc/cpuinfo. For tests. */
void hostcaps_probe_at(const char *root, Ktstr__Engine requested, struct host_caps *hc);
struct cpuset_bits;
/* Online CPUs under root ("" = the host) from sysfs; CPUs 0..n-1 from
 * sysconf where sysfs says nothing usable (1 CPU below a test root). */
void hostcaps_online_at(const char *root, struct cpuset_bits *online);
/* The sharing list of cpu's highest-level cache under root ("" = the host)
 * into *sh (left as found when the level is 0). Returns that level; 0 when
 * sysfs shows no cache for cpu. A level below HOSTCAPS_LLC_MIN_LEVEL is not
 * an LLC (the L3 is hidden). Shared with the host reservation's CPU->LLC
 * map (hostres_topo.c), so both read the LLC the same way. */
int hostcaps_cpu_llc(const char *root, uint32_t cpu, struct cpuset_bits *sh);
/* One line for `list` and `run`: what is known and what is not, e.g.
 * "2 CPUs, LLC layout unknown (no cache/index3 in sysfs for cpu0: LLC checks
 * not applied), engine qemu (TCG), kvm absent". */
void hostcaps_describe(const struct host_caps *hc, char *buf, size_t len);
/* The engine name used in reports ("kvm", "qemu", "auto"). */
const char *engine_name(Ktstr__Engine e);
/* Parse "auto|kvm|qemu"; -EINVAL otherwise. */
int engine_parse(const char *s, Ktstr__Engine *out);
/* The engine to probe for a guest of arch: a guest of another
 * architecture than the host's runs only under QEMU (TCG; the KVM engine
 * runs the host's own architecture), so AUTO becomes QEMU there and KVM is
 * refused: -EINVAL with err (docs/aarch64.md). Otherwise requested. */
int engine_for_arch(Ktstr__Engine requested, Ktstr__Arch arch, Ktstr__Engine *out, char *err,
		    size_t errlen);
/* run's, shell's and `kernel path`'s one way to the engine of a guest of
 * arch: engine_for_arch on *engine (the --engine choice; updated in place),
 * then hostcaps_probe into hc with hc->guest_arch set. So `kernel path`
 * picks the image (kernel_resolve_arch) for the engine a run would use.
 * Returns 0, or -EINVAL with err (engine_for_arch's refusal). */
int hostcaps_probe_guest(Ktstr__Engine *engine, Ktstr__Arch arch, struct host_caps *hc,
			 char *err, size_t errlen);

#endif
