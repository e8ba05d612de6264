/* Host reporting. COM2 is the fallback the host parses when the ring is
 * missing or corrupt, so every structured message that matters (result,
 * exit code, crash) goes to both. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/le.h"
#include "ktstr/log.h"
#include "ktstr/util.h"
#include "report.h"

void report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->com2_fd = -1;
}

const char *report_output_dev(const char *env, bool *refused)
{
	static const char *const known[] = { KTSTR_GUEST_COM2_DEV, KTSTR_GUEST_COM2_DEV_ARM64 };

	*refused = false;
	if (!env || !*env)
		return GUEST_OUTPUT_DEV;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(env, known[i] + strlen("/dev/")))
			return known[i];
	*refused = true;
	return GUEST_OUTPUT_DEV;
}

int report_open_com2(struct report *r, const char *dev)
{
	struct termios t;
	int fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* Raw output: the host parses exact bytes; OPOST would turn every \n
	 * into \r\n and ECHO would bounce host input back. */
	if (tcgetattr(fd, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
		tcsetattr(fd, TCSANOW, &t);
	}
	r->com2_fd = fd;
	r->com2_dev = dev;
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	return 0;
}

void report_open_ring(struct report *r, const char *cmdline)
{
	uint64_t base, size;
	char err[256];
	/* The kernel passes the words it does not know to PID 1 as
	 * environment variables, so the environment is the first place. */
	int ret = shm_parse_params(getenv(KTSTR_CMDLINE_SHM_BASE), getenv(KTSTR_CMDLINE_SHM_SIZE),
				   cmdline, &base, &size);

	if (ret == -ENOENT) {
		kinfo("no " KTSTR_CMDLINE_SHM_BASE "/" KTSTR_CMDLINE_SHM_SIZE
		      ": reporting through COM2 only");
		return;
	}
	if (ret) {
		kerr(KTSTR_CMDLINE_SHM_BASE "/" KTSTR_CMDLINE_SHM_SIZE
		     " are malformed or out of range (the base must be 8-byte aligned); "
		     "reporting through COM2 only");
		return;
	}
	ret = shm_map("/dev/mem", base, size, &r->shm, err, sizeof(err));
	if (ret) {
		kerr("%s; reporting through COM2 only", err);
		return;
	}
	if (r->shm.formatted_here)
		kwarn("SHM ring at 0x%llx was not formatted by the host; formatted it in the guest",
		      (unsigned long long)base);
	r->have_ring = true;
}

void report_line(struct report *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (r->com2_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	write_full(r->com2_fd, buf, (size_t)n);
}

int report_msg(struct report *r, uint32_t type, const void *payload, uint32_t len)
{
	int ret;

	if (!r->have_ring)
		return 0;
	for (int tries = 0; tries < 40; tries++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		ret = ring_write(&r->shm.ring, type, payload, len);
		if (ret != -ENOSPC)
			break;
		nanosleep(&ts, NULL);
	}
	if (ret)
		kerr("SHM ring write of %s (%u bytes) failed: %s", ring_msg_name(type) ?: "?", len,
		     strerror(-ret));
	return ret;
}

static int send_packed(struct report *r, uint32_t type, const ProtobufCMessage *m,
		       uint8_t **keep, size_t *keep_len)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(m, buf);
	ret = report_msg(r, type, buf, (uint32_t)len);
	if (keep) {
		*keep = buf;
		*keep_len = len;
	} else {
		free(buf);
	}
	return ret;
}

int report_result(struct report *r, const Ktstr__TestResult *res)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *b64 = NULL;
	int ret = send_packed(r, KTSTR_MSG_TEST_RESULT, &res->base, &buf, &len);

	if (!buf)
		return ret;
	if (r->com2_fd >= 0 && base64_encode(buf, len, &b64) == 0) {
		/* One write per piece keeps the block contiguous even if a
		 * stray child writes to COM2 at the same time. */
		write_full(r->com2_fd, KTSTR_COM2_RESULT_START "\n",
			   sizeof(KTSTR_COM2_RESULT_START));
		write_full(r->com2_fd, b64, strlen(b64));
		write_full(r->com2_fd, "\n" KTSTR_COM2_RESULT_END "\n",
			   sizeof(KTSTR_COM2_RESULT_END) + 1);
		free(b64);
	}
	free(buf);
	return ret;
}

int report_stimulus(struct report *r, const Ktstr__Stimulus *st)
{
	return send_packed(r, KTSTR_MSG_STIMULUS, &st->base, NULL, NULL);
}

int report_sched_exit(struct report *r, const Ktstr__SchedExit *x)
{
	return send_packed(r, KTSTR_MSG_SCHED_EXIT, &x->base, NULL, NULL);
}

void report_exit(struct report *r, int32_t code)
{
	uint8_t le[4];

	put_le32(le, (uint32_t)code);
	report_msg(r, KTSTR_MSG_EXIT, le, sizeof(le));
	report_line(r, KTSTR_COM2_EXIT "%d", code);
}

void report_crash(struct report *r, const char *text)
{
	report_msg(r, KTSTR_MSG_CRASH, text, (uint32_t)strlen(text));
	report_line(r, "PANIC: %s", text);
}

void report_drain(struct report *r)
{
	if (r->com2_fd >= 0)
		tcdrain(r->com2_fd);
}

void report_close(struct report *r)
{
	if (r->have_ring)
		shm_unmap(&r->shm);
	r->have_ring = false;
	if (r->com2_fd >= 0)
		close(r->com2_fd);
	r->com2_fd = -1;
}
