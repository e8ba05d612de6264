/* The --exec trailer matcher and relay; the format is in shell_exec.h. */
#include "shell_exec.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/guest_contract.h>

/* Is s[0..n) the trailer? -1: no (nor a prefix of it), 0: a prefix that
 * is not yet a status, 1: the status line is complete (the KTSTR_EXIT line
 * after it may be partial or missing: a VM stopped mid-write). */
static int trailer_match(const char *s, size_t n, int *code)
{
	static const char *const lit[2] = { "\n" KTSTR_COM2_EXEC_EXIT, KTSTR_COM2_EXIT };
	size_t i = 0;

	for (int part = 0; part < 2; part++) {
		size_t start, digits = 0;

		for (const char *l = lit[part]; *l; l++, i++) {
			if (i == n)
				return part;
			if (s[i] != *l)
				return -1;
		}
		start = i;
		if (i < n && s[i] == '-')
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 10) {
			i++;
			digits++;
		}
		if (i == n)
			return part;
		if (s[i] != '\n' || !digits)
			return -1;
		if (part == 0) {
			long v = strtol(&s[start], NULL, 10);

			*code = (int)(v < INT_MIN ? INT_MIN : v > INT_MAX ? INT_MAX : v);
		}
		if (++i == n)
			return 1;
	}
	return -1; /* bytes after the KTSTR_EXIT line */
}

/* The longest trailer must fit the hold buffer: two markers, a newline,
 * two signed 10-digit statuses and their newlines. */
_Static_assert(sizeof("\n" KTSTR_COM2_EXEC_EXIT KTSTR_COM2_EXIT) - 1 + 2 * 12 <=
		       sizeof(((struct exec_stream *)0)->hold),
	       "exec_stream.hold holds a whole trailer");

void exec_tail_add(struct exec_tail *t, const char *p, size_t n)
{
	t->total += n;
	if (!t->cap)
		return;
	if (n >= t->cap) {
		memcpy(t->buf, p + n - t->cap, t->cap);
		t->start = 0;
		t->len = t->cap;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		t->buf[(t->start + t->len) % t->cap] = p[i];
		if (t->len < t->cap)
			t->len++;
		else
			t->start = (t->start + 1) % t->cap;
	}
}

void exec_tail_copy(const struct exec_tail *t, char *out)
{
	size_t first = t->cap - t->start < t->len ? t->cap - t->start : t->len;

	memcpy(out, t->buf + t->start, first);
	memcpy(out + first, t->buf, t->len - first);
}

/* What is shown is also what the tail keeps, so a replay of the capture
 * (quiet: shown live already) adds nothing twice. */
static void stream_out(struct exec_stream *es, const char *p, size_t n)
{
	if (es->quiet || !n)
		return;
	fwrite(p, 1, n, stdout);
	if (es->tail)
		exec_tail_add(es->tail, p, n);
}

void exec_stream_feed(struct exec_stream *es, const uint8_t *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len;
	int code;

	if (len)
		es->any = true;
	while (p < end) {
		if (!es->held) {
			/* Fast path: everything before the next newline is output. */
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			stream_out(es, p, (size_t)((nl ? nl : end) - p));
			if (!nl)
				break;
			p = nl;
		}
		es->hold[es->held++] = *p++;
		/* hold[0] is a newline; on a mismatch it and what follows up to
		 * the next held newline are output, then the rest is retried. */
		while (es->held && trailer_match(es->hold, es->held, &code) < 0) {
			const char *nl = memchr(es->hold + 1, '\n', es->held - 1);
			size_t n = nl ? (size_t)(nl - es->hold) : es->held;

			stream_out(es, es->hold, n);
			memmove(es->hold, es->hold + n, es->held - n);
			es->held -= n;
		}
	}
	if (!es->quiet)
		fflush(stdout);
}

void exec_stream_finish(struct exec_stream *es)
{
	int code = 0;

	if (es->held && trailer_match(es->hold, es->held, &code) == 1) {
		es->have_code = true;
		es->exit_code = code;
	} else {
		stream_out(es, es->hold, es->held);
	}
	es->held = 0;
	if (!es->quiet)
		fflush(stdout);
}

void exec_stream_on_output(void *arg, uint32_t port, const uint8_t *data, size_t len)
{
	if (port == 2)
		exec_stream_feed(arg, data, len);
}
