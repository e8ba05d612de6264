/* SHM ring: guest writer, host reader. Layout and rules in ktstr/ring.h.
 *
 * Memory type: an arm64 guest maps the ring through /dev/mem from a
 * /reserved-memory no-map region, which the kernel maps as Device memory.
 * There an unaligned access faults, exclusives (LDXR/STXR) and LSE atomics
 * are not guaranteed to work, and glibc's memcpy/memset use unaligned
 * accesses and DC ZVA. So every access to the region in this file is a
 * naturally aligned plain load or store (acquire/release where ordering
 * matters), the bulk copies go through ring_copy_to_region /
 * ring_copy_from_region, and nothing here does a read-modify-write atomic.
 * The same code runs on x86_64 and on the host side: one copy routine that
 * the host's unit tests exercise is the one the arm64 guest runs, and the
 * cost (messages are kilobytes, word-wise copies) does not matter.
 *
 * Ordering: the guest writes a message's bytes, then publishes write_ptr with
 * a release store; the host loads write_ptr with acquire before reading the
 * bytes. The host publishes read_ptr the same way after consuming. Both sides
 * may run on different CPUs of different address spaces (guest vCPU vs worker
 * thread), so plain stores would not be enough. */
#include <errno.h>
#include <stdlib.h>

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

/* Unaligned 8-byte access to normal memory (the caller's buffer): the
 * compiler emits a plain load/store, never a library call, at any -O. */
typedef uint64_t __attribute__((aligned(1), may_alias)) u64_unaligned;

void ring_copy_to_region(volatile void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = dst;
	const uint8_t *s = src;

	/* Volatile accesses are never merged, widened, vectorised or turned
	 * into a memcpy call, so each one below is exactly one aligned access
	 * to the region. */
	for (; n && ((uintptr_t)d & 7); n--)
		*d++ = *s++;
	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(volatile uint64_t *)d = *(const u64_unaligned *)s;
	for (; n; n--)
		*d++ = *s++;
}

void ring_copy_from_region(void *dst, const volatile void *src, size_t n)
{
	uint8_t *d = dst;
	const volatile uint8_t *s = src;

	for (; n && ((uintptr_t)s & 7); n--)
		*d++ = *s++;
	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(u64_unaligned *)d = *(const volatile uint64_t *)s;
	for (; n; n--)
		*d++ = *s++;
}

int ring_format(void *region, size_t size)
{
	struct ktstr_ring_hdr h = { 0 };

	if ((uintptr_t)region & 7)
		return -EINVAL;
	if (size <= KTSTR_RING_HDR_SIZE + KTSTR_RING_MSG_HDR_SIZE ||
	    size - KTSTR_RING_HDR_SIZE > KTSTR_RING_MAX_CAPACITY)
		return -EINVAL;
	h.magic = KTSTR_RING_MAGIC;
	h.version = KTSTR_RING_VERSION;
	h.capacity = (uint32_t)(size - KTSTR_RING_HDR_SIZE);
	/* Write the magic last so a reader never sees a half-formatted header
	 * that claims to be valid. */
	ring_copy_to_region((uint8_t *)region + 4, (uint8_t *)&h + 4, sizeof(h) - 4);
	__atomic_store_n((uint32_t *)region, h.magic, __ATOMIC_RELEASE);
	return 0;
}

int ring_attach(struct ktstr_ring *r, void *region, size_t size)
{
	uint32_t cap;

	*r = (struct ktstr_ring){ 0 };
	/* The header's 64-bit pointers are loaded with acquire: such a load
	 * must be aligned (arm64 faults, x86 would split it). */
	if (size <= KTSTR_RING_HDR_SIZE + KTSTR_RING_MSG_HDR_SIZE || ((uintptr_t)region & 7))
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

	ring_copy_to_region(data + off, src, first);
	if (first < len)
		ring_copy_to_region(data, (const uint8_t *)src + first, len - first);
}

static void get_bytes(const struct ktstr_ring *r, uint64_t pos, void *dst, uint32_t len)
{
	uint32_t off = (uint32_t)(pos % r->capacity);
	uint32_t first = len < r->capacity - off ? len : r->capacity - off;
	const volatile uint8_t *data = r->base + KTSTR_RING_HDR_SIZE;

	ring_copy_from_region(dst, data + off, first);
	if (first < len)
		ring_copy_from_region((uint8_t *)dst + first, data, len - first);
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
		/* Load then store, not an atomic add: the guest is the only
		 * writer of drops, and Device memory has no RMW atomics. */
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
