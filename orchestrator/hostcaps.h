/* What this host can run: CPUs, LLCs, and which engine boots a stock
 * kernel. Read from sysfs and /proc; never opens /dev/kvm for use. */
#ifndef KTSTR_ORCH_HOSTCAPS_H
#define KTSTR_ORCH_HOSTCAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "common.pb-c.h"

struct host_caps {
	uint32_t cpus;		   /* online CPUs */
	uint32_t llcs;		   /* distinct L3 (or last-level) caches */
	uint32_t max_cpus_per_llc;
	Ktstr__Engine engine;	   /* what auto resolves to on this host */
	bool emulated;		   /* QEMU TCG: vCPUs are not host CPUs */
	uint32_t max_vcpus;	   /* largest VM this host runs in reasonable time */
	char kvm_kind[32];	   /* "hardware-vmx", "hardware-svm", "kvm_pvm", "absent" */
};

/* Probe the host. requested = the --engine choice (AUTO resolves here).
 * Never fails: unknown values fall back to conservative guesses. */
void hostcaps_probe(Ktstr__Engine requested, struct host_caps *hc);
/* The engine name used in reports ("kvm", "qemu", "auto"). */
const char *engine_name(Ktstr__Engine e);
/* Parse "auto|kvm|qemu"; -EINVAL otherwise. */
int engine_parse(const char *s, Ktstr__Engine *out);

#endif
