/* What the QEMU engine reads while QEMU runs and after it exited: COM1 and
 * COM2 into the capture, QMP lines (events, the liveness reply), QEMU's
 * cpu_reset log (a triple fault), the tail of its stderr, terminal input
 * forwarded to COM2, and the SHM ring. Every byte is guest- or
 * QEMU-controlled: lengths are bounded by the buffers here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "capture.h"
#include "qemu_priv.h"

#define PUMP_BUF 16384 /* bytes one qemu_pump() reads at most */

static int drain_cb(void *ctx, uint32_t type, const uint8_t *payload, uint32_t len, bool crc_ok)
{
	struct qemu_vm *q = ctx;

	if (crc_ok)
		vm_monitor_ring(&q->end->monitor, type, payload, len, ktstr_now_us() * 1000ull);
	return capture_ring(q->cap, type, payload, len, crc_ok, q->pid > 0);
}

void qemu_ring_drain(struct qemu_vm *q, bool live)
{
	if (!q->ring_ok)
		return;
	pid_t saved = q->pid;
	if (!live)
		q->pid = 0; /* drain_cb marks messages post-mortem */
	int rc = ring_drain(&q->ring, drain_cb, q, true);
	q->pid = saved;
	if (rc == -EPROTO) {
		kwarn("qemu: the guest corrupted the SHM ring (a header pointer or a message "
		      "length out of range); "
		      "ring messages after this point are lost");
		q->ring_ok = false;
	}
	capture_ring_stats(q->cap, ring_drops(&q->ring), 0);
}

static void on_qmp_line(struct qemu_vm *q, const char *line)
{
	struct qemu_qmp_event ev;
	if (q->live_asked_us && !q->live_reply[0] &&
	    qemu_qmp_parse_status_reply(line, q->live_reply, sizeof(q->live_reply)))
		return;
	if (!qemu_qmp_parse_event(line, &ev)) {
		/* Our only commands are qmp_capabilities and cont: an error reply
		 * means the guest may never start (the timeout still ends it). */
		if (strstr(line, "\"error\""))
			kwarn("qemu: QMP command failed: %.300s", line);
		return;
	}
	kdbg("qemu: QMP event %s %s", ev.event, ev.reason);
	if (!strcmp(ev.event, "SHUTDOWN")) {
		q->seen.shutdown_event = true;
		snprintf(q->seen.shutdown_reason, sizeof(q->seen.shutdown_reason), "%s", ev.reason);
	} else if (!strcmp(ev.event, "GUEST_PANICKED")) {
		q->seen.panic = true;
	} else if (!strcmp(ev.event, "STOP") && !q->seen.shutdown_event && !q->stop_event_us) {
		q->stop_event_us = ktstr_now_us();
	} else if (!strcmp(ev.event, "RESUME")) {
		q->stop_event_us = 0;
	}
}

/* QMP is line-delimited; a line longer than the buffer is cut, not split. */
static void pump_qmp(struct qemu_vm *q, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			q->qmp_line[q->qmp_len] = '\0';
			on_qmp_line(q, q->qmp_line);
			q->qmp_len = 0;
		} else if (q->qmp_len < sizeof(q->qmp_line) - 1) {
			q->qmp_line[q->qmp_len++] = (char)buf[i];
		}
	}
}

/* Look for "Triple fault" across chunk boundaries: keep the last bytes of
 * the previous chunk in front of this one. */
static void pump_log(struct qemu_vm *q, const uint8_t *buf, size_t len)
{
	/* len <= PUMP_BUF: qemu_pump() reads no more. */
	char scan[sizeof(q->log_carry) + PUMP_BUF + 1];

	memcpy(scan, q->log_carry, q->log_carry_len);
	memcpy(scan + q->log_carry_len, buf, len);
	size_t sl = q->log_carry_len + len;
	for (size_t i = 0; i < sl; i++)
		if (scan[i] == '\0')
			scan[i] = ' ';
	scan[sl] = '\0';
	if (strstr(scan, "Triple fault"))
		q->seen.triple_fault = true;
	size_t keep = sl < 16 ? sl : 16;
	memcpy(q->log_carry, scan + sl - keep, keep);
	q->log_carry_len = keep;
}

/* Keep the last QEMU_ERR_TAIL bytes of QEMU's stderr for the error. */
static void pump_err(struct qemu_vm *q, const uint8_t *buf, size_t len)
{
	if (len >= QEMU_ERR_TAIL) {
		memcpy(q->err_tail, buf + len - QEMU_ERR_TAIL, QEMU_ERR_TAIL);
		q->err_len = QEMU_ERR_TAIL;
	} else {
		if (q->err_len + len > QEMU_ERR_TAIL) {
			size_t drop = q->err_len + len - QEMU_ERR_TAIL;
			memmove(q->err_tail, q->err_tail + drop, q->err_len - drop);
			q->err_len -= drop;
		}
		memcpy(q->err_tail + q->err_len, buf, len);
		q->err_len += len;
	}
	kdbg("qemu stderr: %.*s", (int)len, (const char *)buf);
}

/* Read what is available on one worker-side fd; returns false at EOF/error
 * (the fd is then closed). */
bool qemu_pump(struct qemu_vm *q, int idx)
{
	uint8_t buf[PUMP_BUF];
	ssize_t n = read(q->fd[idx], buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		qemu_close_fd(&q->fd[idx]);
		return false;
	}
	size_t len = (size_t)n;
	switch (idx) {
	case Q_COM1:
		capture_com1(q->cap, buf, len);
		if (capture_saw_panic(q->cap))
			q->seen.panic = true;
		break;
	case Q_COM2:
		capture_com2(q->cap, buf, len);
		break;
	case Q_QMP:
		pump_qmp(q, buf, len);
		break;
	case Q_LOG:
		pump_log(q, buf, len);
		break;
	case Q_ERR:
		pump_err(q, buf, len);
		break;
	case Q_STDIN:
		/* Interactive: terminal input goes to the guest's COM2. */
		if (q->fd[Q_COM2] >= 0 && write_full(q->fd[Q_COM2], buf, len) < 0)
			kwarn("qemu: forwarding terminal input to guest COM2 failed: %s",
			      strerror(errno));
		break;
	default:
		break;
	}
	return true;
}
