/* What the worker learns from a running guest, independent of the engine:
 * COM1 tail, COM2 contents, markers seen on them, and ring messages. Engines
 * push bytes and ring messages in; main.c turns the capture into a VmResult.
 * Live events (GuestOutput when stream_output, RingMessage) are sent to the
 * orchestrator from here. Not thread-safe: engines call it from one thread
 * (or serialize). */
#ifndef KTSTR_WORKER_CAPTURE_H
#define KTSTR_WORKER_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker.pb-c.h"

/* Bounds on what a guest can make the worker hold, relay or spend time on
 * (docs/security.md, "Tenant inputs"). A message costs its payload plus the
 * ring's 16-byte header, so zero-length messages are not free.
 *
 * Kept for the VmResult: CAPTURE_KEEP_* of ordinary messages; beyond that
 * they are counted as host drops (and a host drop makes any pass
 * untrustworthy: orchestrator/verdict.c). PID 1's control messages
 * (TEST_RESULT, EXIT, SCHED_EXIT, CRASH) have a budget of their own, so no
 * amount of other traffic can displace them. */
#define CAPTURE_KEEP_BYTES (16u << 20)
#define CAPTURE_KEEP_MSGS 16384u
#define CAPTURE_CONTROL_MSGS 16u
#define CAPTURE_CONTROL_BYTES (4u << 20)
/* Live relays to the orchestrator (RingMessage events): a token bucket of
 * CAPTURE_LIVE_BURST messages refilled at CAPTURE_LIVE_PER_SEC; what does
 * not fit is kept for the result (within the budget) but not relayed. */
#define CAPTURE_LIVE_BURST 512u
#define CAPTURE_LIVE_PER_SEC 256u
/* A flood: more than this many messages, or bytes, drained in one VM. The
 * engine then stops the VM (OUTCOME_GUEST_FLOOD); draining stops at once. */
#define CAPTURE_FLOOD_MSGS 100000u
#define CAPTURE_FLOOD_BYTES (256ull << 20)
#define CAPTURE_FLOOD_HINT                                                                       \
	"something in the guest (the scheduler under test or its workload) wrote to the ring "  \
	"without bound; ktstr's own guest sends a few hundred messages per test"

struct vm_capture;

struct vm_capture *capture_new(const Ktstr__VmSpec *spec, int ctl_sock);
void capture_free(struct vm_capture *cap);

/* Bytes the guest wrote to COM1 / COM2. */
void capture_com1(struct vm_capture *cap, const uint8_t *data, size_t len);
void capture_com2(struct vm_capture *cap, const uint8_t *data, size_t len);
/* One ring message (payload copied). live = drained while the VM ran.
 * Returns non-zero once the guest flooded the ring: the drain stops there
 * (ring_msg_cb's contract) and the engine ends the VM. */
int capture_ring(struct vm_capture *cap, uint32_t type, const uint8_t *payload, uint32_t len,
		 bool crc_ok, bool live);
void capture_ring_stats(struct vm_capture *cap, uint64_t drops, uint32_t crc_errors);

/* True once the guest went past CAPTURE_FLOOD_*: the engine must stop the
 * VM with OUTCOME_GUEST_FLOOD; capture_flood_text says what happened. */
bool capture_flooded(const struct vm_capture *cap);
void capture_flood_text(const struct vm_capture *cap, char *buf, size_t len);

/* Markers (set by the scanners). */
bool capture_saw_panic(const struct vm_capture *cap);	     /* "Kernel panic - not syncing" on COM1 */
bool capture_saw_sched_exit(const struct vm_capture *cap);   /* SCHED_EXIT ring message */
uint64_t capture_init_started_us(const struct vm_capture *cap); /* KTSTR_INIT_STARTED, 0 = never */

/* Fill the capture-derived fields of a VmResult (console tail, guest output,
 * ring, exit code, kernel version, boot_to_init given engine_start_us). The
 * result keeps pointers into cap: free the result's fields before cap. */
void capture_fill_result(struct vm_capture *cap, uint64_t engine_start_us, Ktstr__VmResult *res);

/* Send VmStarted to the orchestrator (once; later calls are ignored). Engines
 * call it right after the guest starts; main.c sends it itself if the engine
 * did not (so the orchestrator always sees VmStarted before VmResult when a
 * guest ran). */
void capture_vm_started(struct vm_capture *cap, Ktstr__Engine engine, const char *detail,
			uint64_t setup_us, uint32_t engine_pid);
bool capture_started_sent(const struct vm_capture *cap);
/* Guest exit code seen so far (EXIT ring message wins over KTSTR_EXIT=N on
 * COM2); false if none. */
bool capture_exit_code(const struct vm_capture *cap, int32_t *code);
/* Interactive mode: COM2 bytes are also written to this fd (blocking writes,
 * errors logged once). -1 = none. The first KTSTR_COM2_SHELL_READY line is
 * left out of what the fd gets (it is a control line, not shell output). */
void capture_set_com2_mirror(struct vm_capture *cap, int fd);

/* Interactive shell handshake: true once the guest's KTSTR_COM2_SHELL_READY
 * line (ktstr/guest_contract.h) came on COM2. Bytes the host sends before
 * then can be discarded by the guest's UART/tty setup, so engines must not
 * read FD_STDIN until this says so. Accepted line endings: "\n" or "\r\n"
 * (the guest's ONLCR may already be on). Only the first such line at the
 * start of a line counts; later ones are shell output. */
bool capture_shell_ready(const struct vm_capture *cap);

#endif
