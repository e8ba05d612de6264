/* `ktstr-orch shell --exec` output relay. COM2 is raw in exec mode
 * (guest/report.c clears OPOST), so the bytes are the command's own and
 * pass through verbatim, '\r' included. After the command the guest writes
 * a trailer (ktstr/guest_contract.h),
 *   "\n" KTSTR_COM2_EXEC_EXIT "<status>\n" KTSTR_COM2_EXIT "<status>\n"
 * whose leading newline only makes sure the status starts a line. The
 * trailer is recognised only as the exact end of the stream: bytes that
 * could still be its start are held back, and written out as soon as
 * anything else follows. So a command may print any line, "KTSTR_..." ones
 * included, and its last line need not end in a newline. */
#ifndef KTSTR_ORCH_SHELL_EXEC_H
#define KTSTR_ORCH_SHELL_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The last cap bytes of the command's output (the trailer excluded), kept
 * for `shell --result-json` (shell_result.h): a ring over buf, which the
 * owner of the struct allocates and frees. total counts every byte, so
 * total - len were dropped. */
struct exec_tail {
	char *buf;
	size_t cap, len, start;
	uint64_t total;
};

/* Append n bytes, dropping the oldest beyond cap. */
void exec_tail_add(struct exec_tail *t, const char *p, size_t n);
/* Copy the kept bytes in order into out (room for t->len). */
void exec_tail_copy(const struct exec_tail *t, char *out);

struct exec_stream {
	struct exec_tail *tail; /* NULL: none; not owned */
	char hold[64]; /* a prefix of the trailer (at most 53 bytes) */
	size_t held;
	bool quiet; /* parse only: the output was already shown */
	bool any;   /* some bytes arrived */
	bool have_code;
	int exit_code;
};

/* Relay len bytes of COM2 to stdout, holding back a possible trailer. */
void exec_stream_feed(struct exec_stream *es, const uint8_t *data, size_t len);
/* End of the stream: a complete trailer sets have_code/exit_code, anything
 * else still held is output. */
void exec_stream_finish(struct exec_stream *es);
/* vm_job.on_output for a live stream: arg is the struct exec_stream; COM2
 * is fed, other ports ignored. */
void exec_stream_on_output(void *arg, uint32_t port, const uint8_t *data, size_t len);

#endif
