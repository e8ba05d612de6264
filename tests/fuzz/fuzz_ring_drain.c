/* libFuzzer target for the host side of the SHM ring: the input is the
 * whole ring region as a hostile guest could leave it. Attach must reject
 * or accept it without reading outside the region, and drain must deliver
 * only payloads inside it (the callback touches every byte so ASan sees any
 * overrun), in both inspection and committing mode. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int touch_payload(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len, bool crc_ok)
{
	uint64_t *sum = ctx;

	(void)crc_ok;
	*sum += type;
	for (uint32_t i = 0; i < len; i++)
		*sum += payload[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktstr_ring r;
	uint64_t sum = 0;
	uint8_t *region;

	if (size > (1u << 20))
		return 0;
	/* an exact-size heap copy: ASan flags any byte read past the end */
	region = malloc(size ? size : 1);
	if (!region)
		abort();
	memcpy(region, data, size);
	if (ring_attach(&r, region, size) == 0) {
		int n1 = ring_drain(&r, touch_payload, &sum, false);
		int n2 = ring_drain(&r, touch_payload, &sum, true);

		/* inspection leaves the ring untouched: a commit drain of the
		 * same region sees the same messages */
		if (n1 >= 0 && n2 >= 0 && n1 != n2)
			abort();
		(void)ring_drops(&r);
	}
	free(region);
	return 0;
}
