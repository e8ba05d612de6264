/* The host as the host-wide CPU reservation sees it (docs/farms.md): the
 * CPUs this process may hand out and the LLC of every online CPU.
 *
 * An LLC is named by the lowest CPU that shares it, so every ktstr-orch on
 * the host names it alike without talking to the others. A host whose
 * sysfs shows no LLC (hostcaps.h: paravirtual hosts hide their L3) has an
 * unknown layout; then each CPU counts as its own LLC: reservations stay
 * CPU-granular, and performance mode's "whole LLC" is one CPU, which no
 * co-tenant shares, though the hidden cache may be shared after all. */
#ifndef KTSTR_ORCH_HOSTRES_TOPO_H
#define KTSTR_ORCH_HOSTRES_TOPO_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include <ktstr/cpulist.h>

#define HOSTRES_MAX_CPUS (CPUSET_WORDS * 64)

struct hostres_topo {
	struct cpuset_bits online; /* every online CPU: an LLC's lock covers these */
	struct cpuset_bits usable; /* online CPUs this process may run on */
	uint16_t llc_of[HOSTRES_MAX_CPUS]; /* online CPU -> its LLC id */
	bool llc_known;		   /* false: each CPU is its own LLC */
	char llc_note[160];	   /* why the layout is unknown; "" when known */
};

/* Probe below root ("" = the host): online CPUs and their LLCs from sysfs,
 * usable = online within *affinity (NULL: this thread's affinity). */
void hostres_topo_probe_at(const char *root, const cpu_set_t *affinity, struct hostres_topo *t);
/* The online CPUs of the LLCs in llcs (a set of LLC ids) into *out. */
void hostres_topo_llc_cpus(const struct hostres_topo *t, const struct cpuset_bits *llcs,
			   struct cpuset_bits *out);
/* A host of ncpus CPUs (all usable) in LLCs of per_llc consecutive CPUs;
 * per_llc 0 = layout unknown. For tests and for reasoning in docs. */
void hostres_topo_uniform(struct hostres_topo *t, unsigned ncpus, unsigned per_llc);

#endif
