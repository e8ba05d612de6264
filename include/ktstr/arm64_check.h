/* What an arm64 guest can express, checked before any tree is built or VM
 * booted: by the orchestrator while it plans a suite (`run --arch arm64`, a
 * refused test is a suite error before any boot) and by the worker as part
 * of arm64_fdt_check (vmm-worker/arm64-guest/arm64_fdt.h), so both refuse
 * the same topologies with the same words. The limits are the guest memory
 * map's (vmm-worker/arm64-guest/arm64_layout.h); docs/aarch64.md lists
 * them. */
#ifndef KTSTR_ARM64_CHECK_H
#define KTSTR_ARM64_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/topology.h"

/* Whether a VM of topology t with mem_bytes of RAM and kernel command line
 * bootargs (NULL = not known yet) is expressible on an arm64 guest: the
 * topology is valid (topo_validate), vCPUs <= ARM64_MAX_VCPUS (the GICv3
 * redistributor region), RAM is a non-zero multiple of numa_nodes x 2 MiB
 * and ends below ARM64_DRAM_MAX, bootargs shorter than ARM64_CMDLINE_MAX.
 * 0, or -EINVAL with the reason (what, the limit, what to use) in err. */
int arm64_guest_check(const struct ktstr_topo *t, uint64_t mem_bytes, const char *bootargs,
		      char *err, size_t errlen);

/* Whether a named topology preset may run on an arm64 guest: presets not
 * marked arm64 (the SMT ones, as in the reference) are refused with the
 * reason. Explicit N,L,C,T topologies with threads are expressible (threadN
 * nodes in cpu-map) and pass arm64_guest_check. */
int arm64_preset_check(const struct ktstr_topo_preset *p, char *err, size_t errlen);

#endif
