/* Engine-independent capture of what a guest says: COM1 tail, COM2 prefix,
 * markers found by line scanners, and ring messages. See capture.h.
 *
 * Ownership: struct vm_capture owns every buffer below (tail ring, COM2 copy,
 * line buffers, ring message copies, the linearized tail and the RingMessage
 * array handed to capture_fill_result). ctl_sock and the mirror fd are
 * borrowed from main.c and never closed here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/frame.h>
#include <ktstr/guest_contract.h>
#include <ktstr/le.h>
#include <ktstr/log.h>
#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "capture.h"

/* A scanner keeps the current line so markers split across chunks (serial
 * data arrives in arbitrary pieces) are still found. Lines longer than this
 * are cut: every marker we look for is short and near the line start
 * (the kernel's "[    1.234567] " prefix included). */
#define LINE_MAX_BYTES 1024u

/* What a VmResult can carry from the ring and COM2 must fit the result frame
 * with room to spare (protobuf adds a few bytes per message). */
_Static_assert(CAPTURE_KEEP_BYTES + CAPTURE_CONTROL_BYTES + 16u * CAPTURE_KEEP_MSGS +
			       (2u << 20) <
		       KTSTR_FRAME_CAP_RESULT / 2,
	       "ring keep budgets must fit the VmResult frame");

struct line_scan {
	char buf[LINE_MAX_BYTES + 1];
	size_t len;
};

struct ring_item {
	Ktstr__RingMessage msg; /* payload.data points at a malloc'd copy */
};

struct vm_capture {
	int ctl_sock;	/* borrowed; -1 once sending failed */
	bool stream;	/* spec.stream_output */
	int mirror_fd;	/* borrowed; interactive COM2 -> terminal */
	bool mirror_failed;
	/* KTSTR_COM2_SHELL_READY matcher (see ready_filter). */
	bool shell_ready;
	bool ready_bol;	   /* next COM2 byte starts a line */
	size_t ready_held; /* marker bytes matched so far, not yet mirrored */

	/* COM1 tail: circular buffer of tail_cap bytes. */
	uint8_t *tail;
	size_t tail_cap, tail_pos;
	uint64_t tail_total;
	uint8_t *tail_linear; /* built by capture_fill_result */

	/* COM2: first out_cap bytes. */
	uint8_t *out;
	size_t out_cap, out_len;
	uint64_t out_dropped;

	struct line_scan com1_line, com2_line;
	bool saw_panic;
	char kernel_version[128];
	uint64_t init_started_us;
	bool com2_exit_seen, ring_exit_seen;
	int32_t com2_exit, ring_exit;

	struct ring_item *ring;
	size_t ring_len, ring_cap;
	size_t ring_bytes;	/* ordinary messages kept, headers counted */
	size_t ring_kept;	/* ordinary messages kept */
	size_t control_bytes, control_kept; /* PID 1's control messages kept */
	uint64_t host_drops;	/* messages not kept (over a CAPTURE_* budget) */
	uint64_t guest_drops;
	uint64_t total_msgs, total_bytes; /* everything drained, headers counted */
	uint32_t results_seen;	/* CRC-valid TEST_RESULT messages, kept or not */
	uint64_t live_sent, live_suppressed;
	double live_tokens;
	uint64_t live_refill_us, created_us, flood_us;
	bool flooded;
	uint32_t crc_errors, crc_errors_reported;
	bool saw_sched_exit;
	Ktstr__RingMessage **ring_ptrs;

	bool started_sent;
};

static void capture_send(struct vm_capture *cap, Ktstr__WorkerEvent *ev)
{
	if (cap->ctl_sock < 0)
		return;
	int rc = frame_send(cap->ctl_sock, &ev->base, NULL, 0);
	if (rc < 0) {
		/* The orchestrator is gone or the socket broke: keep capturing
		 * (the result may still be written to a log) but stop sending. */
		kwarn("capture: sending a live event to the orchestrator failed: %s; "
		      "further live events are dropped", strerror(-rc));
		cap->ctl_sock = -1;
	}
}

struct vm_capture *capture_new(const Ktstr__VmSpec *spec, int ctl_sock)
{
	struct vm_capture *cap = calloc(1, sizeof(*cap));
	if (!cap)
		return NULL;
	cap->ctl_sock = ctl_sock;
	cap->created_us = ktstr_now_us();
	cap->mirror_fd = -1;
	cap->ready_bol = true;
	cap->stream = spec && spec->has_stream_output && spec->stream_output;
	cap->tail_cap = spec ? spec->console_tail_bytes : 16384;
	cap->out_cap = spec ? spec->guest_output_max : 1048576;
	if (cap->tail_cap) {
		cap->tail = malloc(cap->tail_cap);
		if (!cap->tail)
			goto err_free;
	}
	if (cap->out_cap) {
		/* Grown on demand: most guests print far less than the cap. */
		cap->out = NULL;
	}
	return cap;

err_free:
	free(cap);
	return NULL;
}

void capture_free(struct vm_capture *cap)
{
	if (!cap)
		return;
	for (size_t i = 0; i < cap->ring_len; i++)
		free(cap->ring[i].msg.payload.data);
	free(cap->ring);
	free(cap->ring_ptrs);
	free(cap->tail);
	free(cap->tail_linear);
	free(cap->out);
	free(cap);
}

/* Parse a decimal int32 at s (optional sign); false if none. */
static bool parse_i32(const char *s, int32_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || errno || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

/* Markers that can be acted upon before their line ends. */
static void scan_partial(struct vm_capture *cap, struct line_scan *ls, int port)
{
	ls->buf[ls->len] = '\0';
	if (port == 1 && !cap->saw_panic && strstr(ls->buf, "Kernel panic - not syncing"))
		cap->saw_panic = true;
	if (port == 2 && !cap->init_started_us && strstr(ls->buf, KTSTR_COM2_INIT_STARTED))
		cap->init_started_us = ktstr_now_us();
}

/* Markers that need the whole line. */
static void scan_line(struct vm_capture *cap, struct line_scan *ls, int port)
{
	scan_partial(cap, ls, port);
	if (port == 1 && !cap->kernel_version[0]) {
		const char *p = strstr(ls->buf, "Linux version ");
		if (p) {
			p += strlen("Linux version ");
			size_t n = strcspn(p, " \r\n");
			if (n >= sizeof(cap->kernel_version))
				n = sizeof(cap->kernel_version) - 1;
			memcpy(cap->kernel_version, p, n);
			cap->kernel_version[n] = '\0';
		}
	}
	if (port == 2) {
		const char *p = strstr(ls->buf, KTSTR_COM2_EXIT);
		int32_t v;
		if (p && parse_i32(p + strlen(KTSTR_COM2_EXIT), &v)) {
			cap->com2_exit = v;
			cap->com2_exit_seen = true;
		}
	}
}

static void scan_bytes(struct vm_capture *cap, struct line_scan *ls, int port,
		       const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];
		if (c == '\n') {
			ls->buf[ls->len] = '\0';
			scan_line(cap, ls, port);
			ls->len = 0;
			continue;
		}
		if (c == '\r' || c == '\0')
			continue;
		if (ls->len < LINE_MAX_BYTES)
			ls->buf[ls->len++] = (char)c;
	}
	if (ls->len)
		scan_partial(cap, ls, port);
}

static void send_output(struct vm_capture *cap, uint32_t port, const uint8_t *data, size_t len)
{
	if (!cap->stream || !len)
		return;
	Ktstr__GuestOutput go = KTSTR__GUEST_OUTPUT__INIT;
	go.port = port;
	go.data.data = (uint8_t *)data;
	go.data.len = len;
	Ktstr__WorkerEvent ev = KTSTR__WORKER_EVENT__INIT;
	ev.ev_case = KTSTR__WORKER_EVENT__EV_OUTPUT;
	ev.output = &go;
	capture_send(cap, &ev);
}

void capture_com1(struct vm_capture *cap, const uint8_t *data, size_t len)
{
	if (!len)
		return;
	if (cap->tail_cap) {
		/* Only the last tail_cap bytes of a chunk can survive. */
		const uint8_t *p = data;
		size_t n = len;
		if (n > cap->tail_cap) {
			p += n - cap->tail_cap;
			n = cap->tail_cap;
		}
		size_t first = cap->tail_cap - cap->tail_pos;
		if (first > n)
			first = n;
		memcpy(cap->tail + cap->tail_pos, p, first);
		memcpy(cap->tail, p + first, n - first);
		cap->tail_pos = (cap->tail_pos + n) % cap->tail_cap;
	}
	cap->tail_total += len;
	scan_bytes(cap, &cap->com1_line, 1, data, len);
	send_output(cap, 1, data, len);
}

static void mirror_write(struct vm_capture *cap, const void *data, size_t len)
{
	if (cap->mirror_fd < 0 || cap->mirror_failed || !len)
		return;
	int rc = write_full(cap->mirror_fd, data, len);
	if (rc < 0) {
		kwarn("capture: writing guest COM2 output to the interactive terminal "
		      "failed: %s; output is still captured", strerror(-rc));
		cap->mirror_failed = true;
	}
}

/* Mirror COM2 to the terminal, minus the first KTSTR_COM2_SHELL_READY line,
 * and note when that line has been seen (engines gate stdin on it). Serial
 * data arrives in arbitrary pieces, so the marker can be split across calls:
 * bytes that may still turn out to be the marker are held (at most the
 * marker plus "\r") and written out as soon as they cannot. Once ready, the
 * rest passes through untouched: a user's own copy of the line is output. */
static void ready_filter(struct vm_capture *cap, const uint8_t *data, size_t len)
{
	static const char marker[] = KTSTR_COM2_SHELL_READY "\r";
	const size_t mlen = sizeof(KTSTR_COM2_SHELL_READY) - 1;
	size_t i = 0, run = 0; /* data[run..i) is plain output not yet written */

	while (i < len && !cap->shell_ready) {
		uint8_t c = data[i];

		if (cap->ready_held || cap->ready_bol) {
			size_t h = cap->ready_held;
			bool more = h < mlen ? c == (uint8_t)marker[h] : h == mlen && c == '\r';

			if (h >= mlen && c == '\n') {
				/* The whole line: drop it and stop filtering. */
				mirror_write(cap, data + run, i - run);
				cap->ready_held = 0;
				cap->shell_ready = true;
				run = ++i;
				break;
			}
			if (more) {
				if (!h)
					mirror_write(cap, data + run, i - run);
				cap->ready_held++;
				run = ++i;
				continue;
			}
			/* Not the marker after all: what was held is output
			 * (held bytes were never part of data[run..], so run
			 * == i here whenever h > 0). */
			mirror_write(cap, marker, h);
			cap->ready_held = 0;
		}
		cap->ready_bol = c == '\n';
		i++;
	}
	mirror_write(cap, data + run, len - run);
}

void capture_com2(struct vm_capture *cap, const uint8_t *data, size_t len)
{
	if (!len)
		return;
	size_t room = cap->out_len < cap->out_cap ? cap->out_cap - cap->out_len : 0;

	if (len > room)
		cap->out_dropped += len - room;
	if (cap->out_len < cap->out_cap) {
		size_t n = cap->out_cap - cap->out_len;
		if (n > len)
			n = len;
		uint8_t *nb = realloc(cap->out, cap->out_len + n);
		if (nb) {
			cap->out = nb;
			memcpy(cap->out + cap->out_len, data, n);
			cap->out_len += n;
		} else {
			kwarn("capture: out of memory keeping %zu bytes of COM2 output; "
			      "the result's guest_output is truncated", n);
		}
	}
	ready_filter(cap, data, len);
	scan_bytes(cap, &cap->com2_line, 2, data, len);
	send_output(cap, 2, data, len);
}

/* PID 1's messages that decide the verdict: kept on a budget of their own. */
static bool is_control(uint32_t type)
{
	return type == KTSTR_MSG_TEST_RESULT || type == KTSTR_MSG_EXIT ||
	       type == KTSTR_MSG_SCHED_EXIT || type == KTSTR_MSG_CRASH;
}

/* Token bucket for live relays (CAPTURE_LIVE_*). */
static bool live_allowed(struct vm_capture *cap, uint64_t now)
{
	if (!cap->live_refill_us) {
		cap->live_refill_us = now;
		cap->live_tokens = CAPTURE_LIVE_BURST;
	}
	cap->live_tokens += (double)(now - cap->live_refill_us) * CAPTURE_LIVE_PER_SEC / 1e6;
	if (cap->live_tokens > CAPTURE_LIVE_BURST)
		cap->live_tokens = CAPTURE_LIVE_BURST;
	cap->live_refill_us = now;
	if (cap->live_tokens < 1.0)
		return false;
	cap->live_tokens -= 1.0;
	return true;
}

static void relay_live(struct vm_capture *cap, uint32_t type, const uint8_t *payload, uint32_t len,
		       bool crc_ok)
{
	Ktstr__RingMessage rm = KTSTR__RING_MESSAGE__INIT;
	Ktstr__WorkerEvent ev = KTSTR__WORKER_EVENT__INIT;

	rm.type = type;
	rm.payload.data = (uint8_t *)payload;
	rm.payload.len = len;
	rm.crc_ok = crc_ok;
	rm.has_live = true;
	rm.live = true;
	ev.ev_case = KTSTR__WORKER_EVENT__EV_RING;
	ev.ring = &rm;
	capture_send(cap, &ev);
	cap->live_sent++;
}

/* Keep a copy for the result; false when out of memory. */
static bool keep(struct vm_capture *cap, uint32_t type, const uint8_t *payload, uint32_t len,
		 bool crc_ok, bool live)
{
	struct ring_item *it;
	uint8_t *copy;

	if (KTSTR_GROW(cap->ring, &cap->ring_cap, cap->ring_len + 1, 16))
		return false;
	copy = malloc(len ? len : 1);
	if (!copy)
		return false;
	if (len)
		memcpy(copy, payload, len);
	it = &cap->ring[cap->ring_len++];
	ktstr__ring_message__init(&it->msg);
	it->msg.type = type;
	it->msg.payload.data = copy;
	it->msg.payload.len = len;
	it->msg.crc_ok = crc_ok;
	it->msg.has_live = true;
	it->msg.live = live;
	return true;
}

int capture_ring(struct vm_capture *cap, uint32_t type, const uint8_t *payload, uint32_t len,
		 bool crc_ok, bool live)
{
	uint64_t cost = (uint64_t)KTSTR_RING_MSG_HDR_SIZE + len, now = ktstr_now_us();
	bool control = crc_ok && is_control(type);

	if (cap->flooded)
		return 1;
	cap->total_msgs++;
	cap->total_bytes += cost;
	if (cap->total_msgs > CAPTURE_FLOOD_MSGS || cap->total_bytes > CAPTURE_FLOOD_BYTES) {
		cap->flooded = true;
		cap->flood_us = now;
		cap->host_drops++;
		return 1;
	}
	if (!crc_ok)
		cap->crc_errors++;
	if (crc_ok && type == KTSTR_MSG_TEST_RESULT)
		cap->results_seen++;
	if (crc_ok && type == KTSTR_MSG_SCHED_EXIT)
		cap->saw_sched_exit = true;
	if (crc_ok && type == KTSTR_MSG_EXIT && len == 4) {
		/* i32 little-endian, per the ring contract. */
		cap->ring_exit = (int32_t)get_le32(payload);
		cap->ring_exit_seen = true;
	}

	if (live) {
		if (live_allowed(cap, now))
			relay_live(cap, type, payload, len, crc_ok);
		else
			cap->live_suppressed++;
	}

	if (control) {
		if (cap->control_kept >= CAPTURE_CONTROL_MSGS ||
		    cap->control_bytes + cost > CAPTURE_CONTROL_BYTES ||
		    !keep(cap, type, payload, len, crc_ok, live))
			goto drop;
		cap->control_kept++;
		cap->control_bytes += cost;
		return 0;
	}
	if (cap->ring_kept >= CAPTURE_KEEP_MSGS || cap->ring_bytes + cost > CAPTURE_KEEP_BYTES ||
	    !keep(cap, type, payload, len, crc_ok, live))
		goto drop;
	cap->ring_kept++;
	cap->ring_bytes += cost;
	return 0;

drop:
	cap->host_drops++;
	return 0;
}

bool capture_flooded(const struct vm_capture *cap)
{
	return cap->flooded;
}

void capture_flood_text(const struct vm_capture *cap, char *buf, size_t len)
{
	double secs = cap->flood_us > cap->created_us ? (double)(cap->flood_us - cap->created_us) / 1e6
						       : 0.0;

	snprintf(buf, len,
		 "guest flooded the ring: %llu messages (%llu bytes with headers) %.1f s after the "
		 "VM started, over the limit of %u messages or %llu bytes per VM",
		 (unsigned long long)cap->total_msgs, (unsigned long long)cap->total_bytes, secs,
		 CAPTURE_FLOOD_MSGS, (unsigned long long)CAPTURE_FLOOD_BYTES);
}

void capture_ring_stats(struct vm_capture *cap, uint64_t drops, uint32_t crc_errors)
{
	cap->guest_drops = drops;
	cap->crc_errors_reported = crc_errors;
}

bool capture_saw_panic(const struct vm_capture *cap)
{
	return cap->saw_panic;
}

bool capture_saw_sched_exit(const struct vm_capture *cap)
{
	return cap->saw_sched_exit;
}

uint64_t capture_init_started_us(const struct vm_capture *cap)
{
	return cap->init_started_us;
}

bool capture_exit_code(const struct vm_capture *cap, int32_t *code)
{
	if (cap->ring_exit_seen) {
		*code = cap->ring_exit;
		return true;
	}
	if (cap->com2_exit_seen) {
		*code = cap->com2_exit;
		return true;
	}
	return false;
}

bool capture_shell_ready(const struct vm_capture *cap)
{
	return cap->shell_ready;
}

void capture_set_com2_mirror(struct vm_capture *cap, int fd)
{
	cap->mirror_fd = fd;
	cap->mirror_failed = false;
}

void capture_vm_started(struct vm_capture *cap, Ktstr__Engine engine, const char *detail,
			uint64_t setup_us, uint32_t engine_pid)
{
	if (cap->started_sent)
		return;
	cap->started_sent = true;
	Ktstr__VmStarted st = KTSTR__VM_STARTED__INIT;
	st.engine = engine;
	st.engine_detail = (char *)detail;
	st.has_setup_us = true;
	st.setup_us = setup_us;
	if (engine_pid) {
		st.has_engine_pid = true;
		st.engine_pid = engine_pid;
	}
	Ktstr__WorkerEvent ev = KTSTR__WORKER_EVENT__INIT;
	ev.ev_case = KTSTR__WORKER_EVENT__EV_STARTED;
	ev.started = &st;
	capture_send(cap, &ev);
}

bool capture_started_sent(const struct vm_capture *cap)
{
	return cap->started_sent;
}

void capture_fill_result(struct vm_capture *cap, uint64_t engine_start_us, Ktstr__VmResult *res)
{
	/* Flush partial lines: a guest that dies mid-line still counts. */
	if (cap->com1_line.len) {
		scan_line(cap, &cap->com1_line, 1);
		cap->com1_line.len = 0;
	}
	if (cap->com2_line.len) {
		scan_line(cap, &cap->com2_line, 2);
		cap->com2_line.len = 0;
	}

	size_t tlen = cap->tail_total < cap->tail_cap ? (size_t)cap->tail_total : cap->tail_cap;
	free(cap->tail_linear);
	cap->tail_linear = NULL;
	if (tlen) {
		cap->tail_linear = malloc(tlen);
		if (cap->tail_linear) {
			/* Oldest byte is at tail_pos once the buffer has wrapped. */
			size_t start = cap->tail_total < cap->tail_cap ? 0 : cap->tail_pos;
			size_t first = cap->tail_cap - start;
			if (first > tlen)
				first = tlen;
			memcpy(cap->tail_linear, cap->tail + start, first);
			memcpy(cap->tail_linear + first, cap->tail, tlen - first);
			res->has_console_tail = true;
			res->console_tail.data = cap->tail_linear;
			res->console_tail.len = tlen;
		}
	} else {
		res->has_console_tail = true;
		res->console_tail.data = NULL;
		res->console_tail.len = 0;
	}

	res->has_guest_output = true;
	res->guest_output.data = cap->out;
	res->guest_output.len = cap->out_len;

	free(cap->ring_ptrs);
	cap->ring_ptrs = NULL;
	res->n_ring = 0;
	res->ring = NULL;
	if (cap->ring_len) {
		cap->ring_ptrs = calloc(cap->ring_len, sizeof(*cap->ring_ptrs));
		if (cap->ring_ptrs) {
			for (size_t i = 0; i < cap->ring_len; i++)
				cap->ring_ptrs[i] = &cap->ring[i].msg;
			res->n_ring = cap->ring_len;
			res->ring = cap->ring_ptrs;
		}
	}
	res->has_ring_drops = true;
	res->ring_drops = cap->guest_drops + cap->host_drops;
	res->has_ring_messages_total = true;
	res->ring_messages_total = cap->total_msgs;
	res->has_ring_results = true;
	res->ring_results = cap->results_seen;
	res->has_ring_host_drops = true;
	res->ring_host_drops = cap->host_drops;
	res->has_ring_live_suppressed = true;
	res->ring_live_suppressed = cap->live_suppressed;
	res->has_guest_output_dropped = true;
	res->guest_output_dropped = cap->out_dropped;
	res->has_ring_crc_errors = true;
	res->ring_crc_errors = cap->crc_errors > cap->crc_errors_reported ? cap->crc_errors
									   : cap->crc_errors_reported;

	int32_t code;
	if (capture_exit_code(cap, &code)) {
		res->has_guest_exit_code = true;
		res->guest_exit_code = code;
	}
	if (cap->kernel_version[0])
		res->kernel_version = cap->kernel_version;
	if (cap->init_started_us && engine_start_us && cap->init_started_us >= engine_start_us) {
		res->has_boot_to_init_us = true;
		res->boot_to_init_us = cap->init_started_us - engine_start_us;
	}
}
