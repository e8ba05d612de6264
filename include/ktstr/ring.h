/* The SHM ring: the guest's primary channel to the host. It lives in the top
 * shm_size bytes of guest RAM (an E820 hole / memmap= reservation the guest
 * maps through /dev/mem). Layout is fixed (native-endian, x86_64 and aarch64
 * are both little-endian):
 *
 *   header (40 bytes)                      message (16-byte header + payload)
 *   0  u32 magic  "STMR"                   0  u32 type
 *   4  u32 version 1                       4  u32 length of payload
 *   8  u32 capacity = size - 40            8  u32 crc32 (zlib) of payload
 *   12 u8 dump_req  13 u8 stall_req        12 u32 pad = 0
 *   14 u8 slot0 (host->guest)
 *   15 u8 slot1 (guest->host)
 *   16 u64 write_ptr (monotonic, guest)
 *   24 u64 read_ptr  (monotonic, host)
 *   32 u64 drops
 *
 * Data bytes start at offset 40 and are addressed ptr % capacity with
 * wraparound at byte granularity. The guest advances write_ptr (release) only
 * after a whole message is in place; the host reads write_ptr (acquire).
 *
 * The host side treats the region as hostile: every field is read once into a
 * local, validated, and payload bytes are copied out before the CRC check.
 *
 * The region starts 8-byte aligned, and every access to it is a naturally
 * aligned load or store with no read-modify-write atomic: an arm64 guest maps
 * it as Device memory (a /reserved-memory no-map region through /dev/mem),
 * where unaligned accesses fault and exclusives are not guaranteed
 * (docs/aarch64.md, "The SHM ring on arm64"). */
#ifndef KTSTR_RING_H
#define KTSTR_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KTSTR_RING_MAGIC 0x53544D52u
#define KTSTR_RING_VERSION 1u
#define KTSTR_RING_HDR_SIZE 40u
#define KTSTR_RING_MSG_HDR_SIZE 16u
#define KTSTR_RING_MAX_CAPACITY (1u << 30)
#define KTSTR_RING_DEFAULT_SIZE (16u << 20)

enum ktstr_msg_type {
	KTSTR_MSG_STIMULUS = 0x5354494D,	   /* "STIM": guest.Stimulus */
	KTSTR_MSG_SCENARIO_START = 0x53435354, /* "SCST": empty */
	KTSTR_MSG_SCENARIO_END = 0x5343454E,   /* "SCEN": u32 elapsed_ms */
	KTSTR_MSG_EXIT = 0x45584954,	   /* "EXIT": i32 exit code */
	KTSTR_MSG_TEST_RESULT = 0x54455354,    /* "TEST": guest.TestResult */
	KTSTR_MSG_SCHED_EXIT = 0x53434458,     /* "SCDX": guest.SchedExit */
	KTSTR_MSG_CRASH = 0x43525348,	   /* "CRSH": UTF-8 text */
	KTSTR_MSG_PAYLOAD_METRICS = 0x504D4554, /* "PMET" */
	KTSTR_MSG_RAW_PAYLOAD_OUTPUT = 0x5241574F, /* "RAWO" */
	KTSTR_MSG_PROFRAW = 0x50524157,	   /* "PRAW": a coverage file, ktstr/covmsg.h */
};

/* Values of the signal slots. */
#define KTSTR_SLOT0_MAP_WRITTEN 0x01 /* host -> guest */
#define KTSTR_SLOT0_SHUTDOWN 0xDD    /* host -> guest: finish and power off */
#define KTSTR_SLOT1_SCHED_LOADED 0x01 /* guest -> host */
#define KTSTR_SLOT1_PROBES_READY 0x02

struct ktstr_ring_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t capacity;
	uint8_t dump_req;
	uint8_t stall_req;
	uint8_t slot0;
	uint8_t slot1;
	uint64_t write_ptr;
	uint64_t read_ptr;
	uint64_t drops;
};
_Static_assert(sizeof(struct ktstr_ring_hdr) == KTSTR_RING_HDR_SIZE, "ring header is 40 bytes");

/* A view of a ring region. The region memory is not owned by the view. */
struct ktstr_ring {
	volatile uint8_t *base;
	size_t size;
	uint32_t capacity;
};

/* Host: write a fresh header (zeroed pointers) into region[0..size).
 * -EINVAL if region is not 8-byte aligned, size <= header + message header
 * or capacity > 1 GiB. */
int ring_format(void *region, size_t size);

/* Attach to a formatted region: validates magic, version and that capacity
 * fits size. Returns 0, -EINVAL (region not 8-byte aligned, size too small)
 * or -EPROTO (no valid header). */
int ring_attach(struct ktstr_ring *r, void *region, size_t size);

/* Guest: append one message. Not thread-safe (callers serialize). Returns 0,
 * or -ENOSPC when the ring lacks room (drops is incremented), -EMSGSIZE when
 * the message can never fit. */
int ring_write(struct ktstr_ring *r, uint32_t type, const void *payload, uint32_t len);

/* Called once per drained message; payload is a private copy valid for the
 * call only. Return 0 to continue, non-zero to stop draining. */
typedef int (*ring_msg_cb)(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len,
			   bool crc_ok);

/* Host: deliver every complete message between read_ptr and write_ptr. With
 * commit, read_ptr is written back so the guest can reuse the space (live
 * drain); without, the ring is left untouched (inspection). Stops at an
 * incomplete or implausible message. Returns the number of messages
 * delivered, or -EPROTO if the header is corrupt (pointers out of range). */
int ring_drain(struct ktstr_ring *r, ring_msg_cb cb, void *ctx, bool commit);

/* Host/guest: read/write a signal byte (0 = slot0, 1 = slot1, 'D' dump_req,
 * 'S' stall_req are addressed by their header offset 12..15). */
uint8_t ring_slot_get(const struct ktstr_ring *r, unsigned offset);
void ring_slot_set(struct ktstr_ring *r, unsigned offset, uint8_t v);
uint64_t ring_drops(const struct ktstr_ring *r);

/* Copy n bytes between normal memory and the ring region (any alignment of
 * either pointer, any n). On the region side only naturally aligned
 * accesses: bytes up to an 8-byte boundary, then aligned 64-bit words, then
 * bytes; never a memcpy/memset call. The result equals memcpy's. */
void ring_copy_to_region(volatile void *dst, const void *src, size_t n);
void ring_copy_from_region(void *dst, const volatile void *src, size_t n);

/* Four-char name of a message type ("TEST"), or NULL if unknown. */
const char *ring_msg_name(uint32_t type);

#endif
