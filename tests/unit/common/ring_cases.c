/* See ring_cases.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/ring.h"
#include "ktstr/util.h"
#include "ring_cases.h"

#define ALIGNS 16u  /* pointer offsets 0..15 cover every 8-byte phase twice */
#define MAXLEN 72u  /* head + several words + tail, and the word-free lengths */
#define GUARD 16u
#define BUFLEN (GUARD + ALIGNS + MAXLEN + GUARD)

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131u + i * 29u + 7u);
}

/* The first differing offset of a and b, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

int ring_case_copy_to(char *why, size_t whylen)
{
	/* 8-aligned buffers, so an offset is the pointer's phase. */
	static uint8_t src[BUFLEN] __attribute__((aligned(8)));
	static uint8_t got[BUFLEN] __attribute__((aligned(8)));
	static uint8_t want[BUFLEN] __attribute__((aligned(8)));

	for (unsigned da = 0; da < ALIGNS; da++)
		for (unsigned sa = 0; sa < ALIGNS; sa++)
			for (unsigned n = 0; n <= MAXLEN; n++) {
				long d;

				fill(src, sizeof(src), da * 1000 + sa * 100 + n);
				fill(got, sizeof(got), 1 + n);
				memcpy(want, got, sizeof(want));
				memcpy(want + GUARD + da, src + GUARD + sa, n);
				ring_copy_to_region(got + GUARD + da, src + GUARD + sa, n);
				d = first_diff(got, want, sizeof(got));
				if (d >= 0) {
					snprintf(why, whylen,
						 "ring_copy_to_region(dst phase %u, src phase %u, %u bytes): "
						 "byte %ld of the region buffer is 0x%02x, memcpy gives 0x%02x",
						 da, sa, n, d - (long)(GUARD + da), got[d], want[d]);
					return -1;
				}
			}
	return 0;
}

int ring_case_copy_from(char *why, size_t whylen)
{
	static uint8_t region[BUFLEN] __attribute__((aligned(8)));
	static uint8_t got[BUFLEN] __attribute__((aligned(8)));
	static uint8_t want[BUFLEN] __attribute__((aligned(8)));

	for (unsigned sa = 0; sa < ALIGNS; sa++)
		for (unsigned da = 0; da < ALIGNS; da++)
			for (unsigned n = 0; n <= MAXLEN; n++) {
				long d;

				fill(region, sizeof(region), sa * 1000 + da * 100 + n);
				fill(got, sizeof(got), 2 + n);
				memcpy(want, got, sizeof(want));
				memcpy(want + GUARD + da, region + GUARD + sa, n);
				ring_copy_from_region(got + GUARD + da, region + GUARD + sa, n);
				d = first_diff(got, want, sizeof(got));
				if (d >= 0) {
					snprintf(why, whylen,
						 "ring_copy_from_region(region phase %u, dst phase %u, %u bytes): "
						 "byte %ld of the destination is 0x%02x, memcpy gives 0x%02x",
						 sa, da, n, d - (long)(GUARD + da), got[d], want[d]);
					return -1;
				}
			}
	return 0;
}

struct drained {
	int n;
	uint32_t type, len;
	bool crc_ok, same;
	const uint8_t *want;
};

static int on_msg(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len, bool crc_ok)
{
	struct drained *d = ctx;

	d->n++;
	d->type = type;
	d->len = len;
	d->crc_ok = crc_ok;
	d->same = !len || !memcmp(payload, d->want, len);
	return 0;
}

#define CAP_MIN 64u
#define CAP_MAX 71u

int ring_case_wrap(char *why, size_t whylen)
{
	static uint8_t region[KTSTR_RING_HDR_SIZE + CAP_MAX] __attribute__((aligned(8)));
	static uint8_t model[CAP_MAX];
	uint8_t msg[CAP_MAX], payload[CAP_MAX];

	for (uint32_t cap = CAP_MIN; cap <= CAP_MAX; cap++)
		for (uint32_t pos = 0; pos < cap; pos++)
			for (uint32_t len = 0; len + KTSTR_RING_MSG_HDR_SIZE <= cap; len++) {
				struct ktstr_ring_hdr *h = (struct ktstr_ring_hdr *)region;
				uint8_t *data = region + KTSTR_RING_HDR_SIZE;
				uint32_t type = 0x54455354u ^ (pos << 8) ^ len;
				uint32_t mh[4];
				struct ktstr_ring r;
				struct drained dr = { .want = payload };
				long d;
				int rc;

				if (ring_format(region, KTSTR_RING_HDR_SIZE + cap) ||
				    ring_attach(&r, region, KTSTR_RING_HDR_SIZE + cap)) {
					snprintf(why, whylen, "format/attach of capacity %u failed", cap);
					return -1;
				}
				/* An empty ring whose next message starts at pos. */
				h->write_ptr = h->read_ptr = pos;
				fill(data, cap, cap + pos);
				memcpy(model, data, cap);
				fill(payload, len, len * 3 + pos);
				mh[0] = type;
				mh[1] = len;
				mh[2] = ktstr_crc32(payload, len);
				mh[3] = 0;
				memcpy(msg, mh, sizeof(mh));
				memcpy(msg + sizeof(mh), payload, len);
				for (uint32_t i = 0; i < sizeof(mh) + len; i++)
					model[(pos + i) % cap] = msg[i];

				rc = ring_write(&r, type, payload, len);
				if (rc) {
					snprintf(why, whylen,
						 "ring_write(capacity %u, at %u, %u bytes) = %d, want 0",
						 cap, pos, len, rc);
					return -1;
				}
				d = first_diff(data, model, cap);
				if (d >= 0) {
					snprintf(why, whylen,
						 "ring_write(capacity %u, at %u, %u bytes): data byte %ld is "
						 "0x%02x, the wrapped message puts 0x%02x there",
						 cap, pos, len, d, data[d], model[d]);
					return -1;
				}
				if (h->write_ptr != (uint64_t)pos + sizeof(mh) + len || h->drops) {
					snprintf(why, whylen,
						 "ring_write(capacity %u, at %u, %u bytes): write_ptr %llu "
						 "drops %llu, want %llu and 0",
						 cap, pos, len, (unsigned long long)h->write_ptr,
						 (unsigned long long)h->drops,
						 (unsigned long long)(pos + sizeof(mh) + len));
					return -1;
				}
				rc = ring_drain(&r, on_msg, &dr, true);
				if (rc != 1 || dr.type != type || dr.len != len || !dr.crc_ok || !dr.same ||
				    h->read_ptr != h->write_ptr) {
					snprintf(why, whylen,
						 "ring_drain(capacity %u, at %u, %u bytes) = %d: type %s, "
						 "length %u, crc %s, bytes %s, read_ptr %s",
						 cap, pos, len, rc, dr.type == type ? "ok" : "wrong", dr.len,
						 dr.crc_ok ? "ok" : "bad", dr.same ? "equal" : "differ",
						 h->read_ptr == h->write_ptr ? "caught up" : "behind");
					return -1;
				}
			}
	return 0;
}

int ring_case_unaligned_region(char *why, size_t whylen)
{
	static uint8_t buf[KTSTR_RING_HDR_SIZE + 256 + 8] __attribute__((aligned(8)));
	struct ktstr_ring r;

	for (unsigned off = 1; off < 8; off++) {
		int f = ring_format(buf + off, sizeof(buf) - 8);
		int a;

		/* A valid header at the misaligned place: attach must refuse
		 * for the alignment, not for the content. */
		ring_format(buf + 8, sizeof(buf) - 8);
		memmove(buf + off, buf + 8, KTSTR_RING_HDR_SIZE);
		a = ring_attach(&r, buf + off, sizeof(buf) - 8);
		if (f != -EINVAL || a != -EINVAL) {
			snprintf(why, whylen,
				 "region at phase %u: ring_format = %d, ring_attach = %d, want -EINVAL "
				 "(%d) from both",
				 off, f, a, -EINVAL);
			return -1;
		}
	}
	if (ring_format(buf, sizeof(buf) - 8) || ring_attach(&r, buf, sizeof(buf) - 8)) {
		snprintf(why, whylen, "an 8-byte aligned region was refused");
		return -1;
	}
	return 0;
}

const struct ring_case ring_cases[] = {
	{ "ring_copy_to_region_matches_memcpy", ring_case_copy_to },
	{ "ring_copy_from_region_matches_memcpy", ring_case_copy_from },
	{ "ring_write_drain_at_every_wrap_point", ring_case_wrap },
	{ "ring_refuses_unaligned_region", ring_case_unaligned_region },
	{ NULL, NULL },
};
