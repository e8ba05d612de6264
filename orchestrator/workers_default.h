/* The default of --workers: how many test VMs this host runs at once when
 * nobody said. One home: `run` uses it and `list` shows it. */
#ifndef KTSTR_ORCH_WORKERS_DEFAULT_H
#define KTSTR_ORCH_WORKERS_DEFAULT_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "suite.h"

#define WORKERS_MAX 256 /* --workers' bound */

struct workers_host {
	uint32_t usable_cpus; /* CPUs this process may run on (affinity) */
	uint64_t avail_mib;   /* MemAvailable; 0 = unknown (no memory bound) */
};

/* This process's usable CPUs and MemAvailable (/proc/meminfo). Never
 * fails: what cannot be read is 1 CPU / unknown memory. */
void workers_host_probe(struct workers_host *h);
/* min(usable CPUs / vCPUs of the largest kept VM, (MemAvailable - margin) /
 * RAM of the largest kept VM, kept tests, WORKERS_MAX), at least 1; why
 * gets the arithmetic in words. The runner still waits for memory before
 * each VM (hostres_mem.h): this only sets how many may try at once. */
unsigned workers_default(const struct suite *s, const struct plan *p, const struct workers_host *h,
			 char *why, size_t whylen);

#endif
