/* SHM ring: guest writer, host reader. Layout and rules in ktstr/ring.h.
 *
 * Ordering: the guest writes a message's bytes, then publishes write_ptr with
 * a release store; the host loads write_ptr with acquire before reading the
 * bytes. The host publishes read_ptr the same way after consuming. Both sides
 * may run on different CPUs of different address spaces (guest vCPU vs worker
 * thread), so plain stores would not be enough. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/ring.h"
#include "ktstr/util.h"

#define OFF_WRITE 16
#define OFF_READ 24
#define OFF_DROPS 32

static uint64_t load64(const struct ktstr_ring *r, unsigned off)
{
	return __atomic_load_n((const uint64_t *)(uintptr_t)(r->base + off), __ATOMIC_ACQUIRE);
}

static void store64(struct ktstr_ring *r, unsigned off, uint64_t v)
{
	__atomic_store_n((uint64_t *)(uintptr_t)(r->base + off), v, __ATOMIC_RELEASE);
}

static uint32_t load32(const struct ktstr_ring *r, unsigned off)
{
	return __atomic_load_n((const uint32_t *)(uintptr_t)(r->base + off), __ATOMIC_ACQUIRE);
}

int ring_format(void *region, size_t size)
{
	struct ktstr_ring_hdr h = { 0 };

	if (size <= KTSTR_RING_HDR_SIZE + KTSTR_RING_MSG_HDR_SIZE ||
	    size - KTSTR_RING_HDR_SIZE > KTSTR_RING_MAX_CAPACITY)
		return -EINVAL;
	h.magic = KTSTR_RING_MAGIC;
	h.version = KTSTR_RING_VERSION;
	h.capacity = (uint32_t)(size - KTSTR_RING_HDR_SIZE);
	/* Write the magic last so a reader never sees a half-formatted header
	 * that claims to be valid. */
	memcpy((uint8_t *)region + 4, (uint8_t *)&h + 4, sizeof(h) - 4);
	__atomic_store_n((uint32_t *)region, h.magic, __ATOMIC_RELEASE);
	return 0;
}

int ring_attach(struct ktstr_ring *r, void *region, size_t size)
{
	uint32_t cap;

	memset(r, 0, sizeof(*r));
	if (size <= KTSTR_RING_HDR_SIZE + KTSTR_RING_MSG_HDR_SIZE)
		return -EINVAL;
	r->base = region;
	r->size = size;
	if (load32(r, 0) != KTSTR_RING_MAGIC || load32(r, 4) != KTSTR_RING_VERSION)
		return -EPROTO;
	cap = load32(r, 8);
	if (cap == 0 || cap > KTSTR_RING_MAX_CAPACITY || (uint64_t)cap + KTSTR_RING_HDR_SIZE > size)
		return -EPROTO;
	r->capacity = cap;
	return 0;
}

/* Copy len bytes into the data area at logical position pos, wrapping. */
static void put_bytes(struct ktstr_ring *r, uint64_t pos, const void *src, uint32_t len)
{
	uint32_t off = (uint32_t)(pos % r->capacity);
	uint32_t first = len < r->capacity - off ? len : r->capacity - off;
	volatile uint8_t *data = r->base + KTSTR_RING_HDR_SIZE;

	memcpy((void *)(uintptr_t)(data + off), src, first);
	if (first < len)
		memcpy((void *)(uintptr_t)data, (const uint8_t *)src + first, len - first);
}

static void get_bytes(const struct ktstr_ring *r, uint64_t pos, void *dst, uint32_t len)
{
	uint32_t off = (uint32_t)(pos % r->capacity);
	uint32_t first = len < r->capacity - off ? len : r->capacity - off;
	const volatile uint8_t *data = r->base + KTSTR_RING_HDR_SIZE;

	memcpy(dst, (const void *)(uintptr_t)(data + off), first);
	if (first < len)
		memcpy((uint8_t *)dst + first, (const void *)(uintptr_t)data, len - first);
}

int ring_write(struct ktstr_ring *r, uint32_t type, const void *payload, uint32_t len)
{
	uint64_t w = load64(r, OFF_WRITE), rd = load64(r, OFF_READ);
	uint64_t need = (uint64_t)KTSTR_RING_MSG_HDR_SIZE + len;
	uint32_t hdr[4];

	if (need > r->capacity)
		return -EMSGSIZE;
	/* A host that wrote a read_ptr ahead of write_ptr is broken; treat the
	 * ring as full rather than overwrite unread data. */
	if (rd > w || need > r->capacity - (w - rd)) {
		store64(r, OFF_DROPS, load64(r, OFF_DROPS) + 1);
		return -ENOSPC;
	}
	hdr[0] = type;
	hdr[1] = len;
	hdr[2] = ktstr_crc32(payload, len);
	hdr[3] = 0;
	put_bytes(r, w, hdr, sizeof(hdr));
	if (len)
		put_bytes(r, w + sizeof(hdr), payload, len);
	store64(r, OFF_WRITE, w + need);
	return 0;
}

int ring_drain(struct ktstr_ring *r, ring_msg_cb cb, void *ctx, bool commit)
{
	uint64_t w = load64(r, OFF_WRITE), rd = load64(r, OFF_READ);
	int delivered = 0;

	if (rd > w || w - rd > r->capacity)
		return -EPROTO;
	while (w - rd >= KTSTR_RING_MSG_HDR_SIZE) {
		uint32_t hdr[4];
		uint8_t *payload;
		bool crc_ok;
		int stop;

		get_bytes(r, rd, hdr, sizeof(hdr));
		/* Values copied out of guest memory once; validate the copy. */
		if (hdr[1] > r->capacity - KTSTR_RING_MSG_HDR_SIZE)
			return -EPROTO;
		if (w - rd < (uint64_t)KTSTR_RING_MSG_HDR_SIZE + hdr[1])
			break; /* incomplete: the guest has not published it */
		payload = malloc(hdr[1] ? hdr[1] : 1);
		if (!payload)
			return -ENOMEM;
		get_bytes(r, rd + KTSTR_RING_MSG_HDR_SIZE, payload, hdr[1]);
		crc_ok = ktstr_crc32(payload, hdr[1]) == hdr[2];
		stop = cb ? cb(ctx, hdr[0], payload, hdr[1], crc_ok) : 0;
		free(payload);
		rd += KTSTR_RING_MSG_HDR_SIZE + hdr[1];
		if (commit)
			store64(r, OFF_READ, rd);
		delivered++;
		if (stop)
			break;
	}
	return delivered;
}

uint8_t ring_slot_get(const struct ktstr_ring *r, unsigned offset)
{
	if (offset < 12 || offset > 15)
		return 0;
	return __atomic_load_n((const uint8_t *)(uintptr_t)(r->base + offset), __ATOMIC_ACQUIRE);
}

void ring_slot_set(struct ktstr_ring *r, unsigned offset, uint8_t v)
{
	if (offset < 12 || offset > 15)
		return;
	__atomic_store_n((uint8_t *)(uintptr_t)(r->base + offset), v, __ATOMIC_RELEASE);
}

uint64_t ring_drops(const struct ktstr_ring *r)
{
	return load64(r, OFF_DROPS);
}

const char *ring_msg_name(uint32_t type)
{
	switch (type) {
	case KTSTR_MSG_STIMULUS: return "STIM";
	case KTSTR_MSG_SCENARIO_START: return "SCST";
	case KTSTR_MSG_SCENARIO_END: return "SCEN";
	case KTSTR_MSG_EXIT: return "EXIT";
	case KTSTR_MSG_TEST_RESULT: return "TEST";
	case KTSTR_MSG_SCHED_EXIT: return "SCDX";
	case KTSTR_MSG_CRASH: return "CRSH";
	case KTSTR_MSG_PAYLOAD_METRICS: return "PMET";
	case KTSTR_MSG_RAW_PAYLOAD_OUTPUT: return "RAWO";
	case KTSTR_MSG_PROFRAW: return "PRAW";
	}
	return NULL;
}
