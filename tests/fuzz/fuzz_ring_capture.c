/* libFuzzer target for the whole path a hostile guest's ring takes on the
 * host: the ring region (the input after a 1-byte header) is drained into
 * the worker's capture again and again (1 + header byte times, the read
 * pointer rewound each time, so counts reach the flood bound from a small
 * input), the capture becomes a VmResult, the VmResult crosses the wire
 * format and the orchestrator judges it. Invariants (abort on violation):
 * what is kept stays within the capture's budgets and the result frame cap;
 * a PASS never comes with repeated results, host drops or a flood. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/frame.h"
#include "ktstr/ring.h"
#include "capture.h"
#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int into_capture(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len,
			bool crc_ok)
{
	return capture_ring(ctx, type, payload, len, crc_ok, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__VmResult res = KTSTR__VM_RESULT__INIT, *back;
	struct ktstr_ring r;
	struct vm_capture *cap;
	struct verdict v;
	unsigned rounds;
	uint8_t *region, *wire;
	size_t n;

	if (size < 1 || size > (1u << 20))
		return 0;
	rounds = 1u + data[0];
	data++;
	size--;
	region = malloc(size ? size : 1);
	if (!region)
		abort();
	memcpy(region, data, size);
	cap = capture_new(&spec, -1);
	if (!cap)
		abort();
	if (ring_attach(&r, region, size) == 0) {
		uint64_t start = ((struct ktstr_ring_hdr *)region)->read_ptr;

		for (unsigned i = 0; i < rounds; i++) {
			((struct ktstr_ring_hdr *)region)->read_ptr = start;
			if (ring_drain(&r, into_capture, cap, true) < 0 || capture_flooded(cap))
				break;
		}
	}
	res.outcome = capture_flooded(cap) ? KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD
					   : KTSTR__OUTCOME__OUTCOME_POWER_OFF;
	res.engine = KTSTR__ENGINE__ENGINE_QEMU;
	capture_fill_result(cap, 0, &res);
	if (res.n_ring > CAPTURE_KEEP_MSGS + CAPTURE_CONTROL_MSGS)
		abort();
	n = ktstr__vm_result__get_packed_size(&res);
	if (n >= KTSTR_FRAME_CAP_RESULT)
		abort();
	wire = malloc(n ? n : 1);
	if (!wire)
		abort();
	ktstr__vm_result__pack(&res, wire);
	back = ktstr__vm_result__unpack(NULL, n, wire);
	if (!back)
		abort();
	if (verdict_from_result(back, NULL, &v) == 0) {
		if (v.kind == V_PASS && (back->ring_results > 1 || back->ring_host_drops ||
					 back->outcome == KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD))
			abort();
		verdict_free(&v);
	}
	protobuf_c_message_free_unpacked(&back->base, NULL);
	free(wire);
	capture_free(cap);
	free(region);
	return 0;
}
