/* What a test that boots ktstr-guest without the worker reads back from the
 * SHM ring (common/ring.c's ring_drain callback): the last CRC-valid
 * TestResult, the exit code and counts of the other messages. Shared by
 * the x86_64 (guest_qemu.c) and arm64 (arm64_guest.c) guest tests. */
#ifndef KTSTR_TEST_RING_TALLY_H
#define KTSTR_TEST_RING_TALLY_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.pb-c.h"

struct ring_tally {
	Ktstr__TestResult *result; /* owned; the last CRC-valid TEST message */
	int have_exit, exit_code;
	unsigned messages, crc_bad, stimuli, scen_start, scen_end, sched_exit;
};

/* ring_drain's callback; ctx is a struct ring_tally. Always 0. */
int ring_tally_msg(void *ctx, uint32_t type, const uint8_t *p, uint32_t len, bool crc_ok);

/* Free the result (the tally itself is the caller's). */
void ring_tally_release(struct ring_tally *t);

#endif
