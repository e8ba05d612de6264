/* Does the VM have the topology the host asked for (GuestSpec.topology)?
 * A VMM that mis-describes it (ACPI, CPUID, QEMU's -smp/-numa) or a kernel
 * that mis-reads it would otherwise make every topology-aware check of the
 * scheduler meaningless without anyone noticing, so the guest compares
 * before it runs anything and fails the test with both layouts. */
#ifndef KTSTR_GUEST_TOPOCHECK_H
#define KTSTR_GUEST_TOPOCHECK_H

#include <stddef.h>

#include "gtopo.h"
#include "ktstr/topology.h"

/* Compare what the guest sees with the model of what the host asked for:
 * the online CPUs always, and the cores (SMT siblings), LLC groups and NUMA
 * nodes wherever sysfs showed them (seen->*_seen; a kernel or CPU model
 * without cache/index3 or NUMA directories cannot be checked there, and the
 * model fixes nothing else, e.g. packages). Pure: reads nothing but its
 * arguments.
 * Returns 0 when they agree; -EPROTO when they differ, with a one-line
 * message in msg naming the layouts that differ and printing both layouts
 * whole ("asked {...}, seen {...}"); -EINVAL for an invalid asked topology;
 * -ENOMEM. msg is truncated (ending in "...") when msglen is too small. */
int gtopo_check(const struct ktstr_topo *asked, const struct gtopo *seen, char *msg,
		size_t msglen);

/* One layout as text: "cpus 0-7; cores [0-1] [2-3] ...; llcs [0-3] [4-7];
 * nodes [0-3] [4-7]", "not in sysfs" for what was not seen. Returns the
 * length it needed (snprintf's convention). */
int gtopo_format(const struct gtopo *t, char *buf, size_t len);

#endif
