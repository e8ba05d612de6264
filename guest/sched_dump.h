/* The sched_ext debug dump the host asks for when its monitor sees a
 * sustained violation (ring signal byte 'D', docs/monitor.md). SysRq-D
 * emits it through the sched_ext_dump tracepoint; PID 1 reads it from the
 * trace pipe and relays it on COM2, where the failure report shows it. */
#ifndef KTSTR_GUEST_SCHED_DUMP_H
#define KTSTR_GUEST_SCHED_DUMP_H

#include "report.h"

/* Bounds: the dump is the kernel's, so trusted, but a large machine's is
 * long: at most SCHED_DUMP_MAX_LINES lines, SCHED_DUMP_MAX_BYTES bytes,
 * read for at most SCHED_DUMP_WAIT_MS after the trigger. */
#define SCHED_DUMP_MAX_LINES 2000u
#define SCHED_DUMP_MAX_BYTES (256u << 10)
#define SCHED_DUMP_WAIT_MS 500u

/* Trigger SysRq-D and relay the dump, one COM2 line per dump line,
 * prefixed "sched_ext dump: ". Returns the lines relayed. */
unsigned sched_dump_relay(struct report *rep);

#endif
