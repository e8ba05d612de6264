#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/ring.h"
#include "ktstr/util.h"

struct seen {
	int n;
	uint32_t types[64];
	uint32_t lens[64];
	bool crc[64];
	uint8_t first[64];
};

static int collect(void *ctx, uint32_t type, const uint8_t *p, uint32_t len, bool crc_ok)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->types[s->n] = type;
		s->lens[s->n] = len;
		s->crc[s->n] = crc_ok;
		s->first[s->n] = len ? p[0] : 0;
	}
	s->n++;
	return 0;
}

static uint8_t region[40 + 256] __attribute__((aligned(8)));

Test(ring, format_attach_roundtrip)
{
	struct ktstr_ring r;
	struct ktstr_ring_hdr h;

	cr_assert_eq(ring_format(region, sizeof(region)), 0);
	memcpy(&h, region, sizeof(h));
	cr_assert_eq(h.magic, 0x53544D52u);
	cr_assert_eq(h.version, 1);
	cr_assert_eq(h.capacity, 256);
	cr_assert_eq(ring_attach(&r, region, sizeof(region)), 0);
	cr_assert_eq(r.capacity, 256);
}

Test(ring, rejects_bad_sizes_and_headers)
{
	struct ktstr_ring r;

	cr_assert_eq(ring_format(region, 40), -EINVAL);
	cr_assert_eq(ring_format(region, 56), -EINVAL);
	memset(region, 0, sizeof(region));
	cr_assert_eq(ring_attach(&r, region, sizeof(region)), -EPROTO);
	ring_format(region, sizeof(region));
	/* capacity larger than the mapping must be refused */
	((struct ktstr_ring_hdr *)region)->capacity = 4096;
	cr_assert_eq(ring_attach(&r, region, sizeof(region)), -EPROTO);
}

Test(ring, write_drain_with_wraparound)
{
	struct ktstr_ring r;
	uint8_t payload[100];
	struct seen s = { 0 };

	ring_format(region, sizeof(region));
	ring_attach(&r, region, sizeof(region));
	/* 116 bytes per message; over many rounds the data wraps the
	 * 256-byte area at every possible offset class. */
	for (int round = 0; round < 20; round++) {
		memset(payload, round, sizeof(payload));
		cr_assert_eq(ring_write(&r, KTSTR_MSG_STIMULUS, payload, sizeof(payload)), 0);
		cr_assert_eq(ring_write(&r, KTSTR_MSG_EXIT, payload, 4), 0);
		memset(&s, 0, sizeof(s));
		cr_assert_eq(ring_drain(&r, collect, &s, true), 2);
		cr_assert_eq(s.types[0], KTSTR_MSG_STIMULUS);
		cr_assert_eq(s.lens[0], 100);
		cr_assert(s.crc[0]);
		cr_assert_eq(s.first[0], round);
		cr_assert_eq(s.types[1], KTSTR_MSG_EXIT);
		cr_assert(s.crc[1]);
	}
	cr_assert_eq(ring_drops(&r), 0);
}

Test(ring, full_ring_counts_drops_and_recovers)
{
	struct ktstr_ring r;
	uint8_t payload[100] = { 0 };
	struct seen s = { 0 };

	ring_format(region, sizeof(region));
	ring_attach(&r, region, sizeof(region));
	cr_assert_eq(ring_write(&r, 1, payload, 100), 0);
	cr_assert_eq(ring_write(&r, 2, payload, 100), 0);
	cr_assert_eq(ring_write(&r, 3, payload, 100), -ENOSPC);
	cr_assert_eq(ring_drops(&r), 1);
	cr_assert_eq(ring_write(&r, 4, payload, 300), -EMSGSIZE);
	cr_assert_eq(ring_drain(&r, collect, &s, true), 2);
	cr_assert_eq(ring_write(&r, 5, payload, 100), 0);
}

Test(ring, inspect_without_commit_leaves_data)
{
	struct ktstr_ring r;
	struct seen s = { 0 };

	ring_format(region, sizeof(region));
	ring_attach(&r, region, sizeof(region));
	ring_write(&r, 7, "abc", 3);
	cr_assert_eq(ring_drain(&r, collect, &s, false), 1);
	cr_assert_eq(ring_drain(&r, collect, &s, false), 1);
	cr_assert_eq(ring_drain(&r, collect, &s, true), 1);
	cr_assert_eq(ring_drain(&r, collect, &s, true), 0);
}

Test(ring, corrupted_payload_fails_crc)
{
	struct ktstr_ring r;
	struct seen s = { 0 };

	ring_format(region, sizeof(region));
	ring_attach(&r, region, sizeof(region));
	ring_write(&r, KTSTR_MSG_TEST_RESULT, "hello", 5);
	region[40 + 16 + 1] ^= 0xff; /* flip a payload byte */
	cr_assert_eq(ring_drain(&r, collect, &s, true), 1);
	cr_assert_not(s.crc[0]);
}

Test(ring, hostile_header_is_rejected)
{
	struct ktstr_ring r;
	struct ktstr_ring_hdr *h = (struct ktstr_ring_hdr *)region;
	struct seen s = { 0 };

	ring_format(region, sizeof(region));
	ring_attach(&r, region, sizeof(region));
	h->write_ptr = 100000; /* more than capacity ahead of read */
	cr_assert_eq(ring_drain(&r, collect, &s, true), -EPROTO);
	h->write_ptr = 0;
	h->read_ptr = 10; /* read ahead of write */
	cr_assert_eq(ring_drain(&r, collect, &s, true), -EPROTO);
	/* a message claiming a length larger than the ring */
	ring_format(region, sizeof(region));
	ring_write(&r, 1, "x", 1);
	((uint32_t *)(region + 40))[1] = 0xfffffff0u;
	cr_assert_eq(ring_drain(&r, collect, &s, true), -EPROTO);
	cr_assert_eq(s.n, 0);
}

Test(ring, incomplete_message_is_not_delivered)
{
	struct ktstr_ring r;
	struct ktstr_ring_hdr *h = (struct ktstr_ring_hdr *)region;
	struct seen s = { 0 };

	ring_format(region, sizeof(region));
	ring_attach(&r, region, sizeof(region));
	ring_write(&r, 1, "0123456789", 10);
	h->write_ptr -= 3; /* as if the guest published early */
	cr_assert_eq(ring_drain(&r, collect, &s, true), 0);
}

Test(ring, slots_and_names)
{
	struct ktstr_ring r;

	ring_format(region, sizeof(region));
	ring_attach(&r, region, sizeof(region));
	ring_slot_set(&r, 14, KTSTR_SLOT0_SHUTDOWN);
	cr_assert_eq(region[14], 0xDD);
	cr_assert_eq(ring_slot_get(&r, 14), 0xDD);
	cr_assert_eq(ring_slot_get(&r, 3), 0); /* outside the slot bytes */
	cr_assert_str_eq(ring_msg_name(KTSTR_MSG_TEST_RESULT), "TEST");
	cr_assert_null(ring_msg_name(0x12345678));
}
