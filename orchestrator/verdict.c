#include "verdict.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/guest_contract.h>
#include <ktstr/ring.h>
#include <ktstr/util.h>

const char *verdict_name(enum verdict_kind k)
{
	static const char *const n[V_KIND_COUNT] = {
		[V_PASS] = "PASS",
		[V_FAIL] = "FAIL",
		[V_SKIP] = "SKIP",
		[V_SCHED_DIED] = "SCHED_DIED",
		[V_SCHED_NOT_ATTACHED] = "SCHED_NOT_ATTACHED",
		[V_SETUP_FAILED] = "SETUP_FAILED",
		[V_GUEST_PANIC] = "GUEST_PANIC",
		[V_TIMEOUT] = "TIMEOUT",
		[V_INIT_NEVER_STARTED] = "INIT_NEVER_STARTED",
		[V_PAYLOAD_NEVER_RAN] = "PAYLOAD_NEVER_RAN",
		[V_NO_RESULT] = "NO_RESULT",
		[V_STOPPED] = "STOPPED",
		[V_INFRA] = "INFRA_ERROR",
		[V_XFAIL] = "XFAIL",
		[V_XPASS] = "XPASS",
	};
	return k < V_KIND_COUNT ? n[k] : "?";
}

int verdict_is_failure(enum verdict_kind k)
{
	return k != V_PASS && k != V_SKIP && k != V_XFAIL;
}

int verdict_is_infra(enum verdict_kind k)
{
	return k == V_INFRA;
}

void verdict_free(struct verdict *v)
{
	if (v->tr)
		protobuf_c_message_free_unpacked(&v->tr->base, NULL);
	for (size_t i = 0; i < v->nstimuli; i++)
		protobuf_c_message_free_unpacked(&v->stimuli[i]->base, NULL);
	free(v->stimuli);
	if (v->sched_exit)
		protobuf_c_message_free_unpacked(&v->sched_exit->base, NULL);
	free(v->crash);
	free(v->detail);
	free(v->metrics);
	memset(v, 0, sizeof(*v));
}

void verdict_unknown(struct verdict *v, const char *why)
{
	char *d = NULL;

	if (asprintf(&d, "the verdict is unknown: %s", why) < 0)
		d = NULL; /* the kind alone still fails the run */
	free(v->detail);
	v->detail = d;
	v->kind = V_INFRA;
}

static const char *memmem_last(const char *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle);
	const char *last = NULL, *p = hay;

	while (len >= nl) {
		const char *hit = memmem(p, len, needle, nl);

		if (!hit)
			break;
		last = hit;
		len -= (size_t)(hit - p) + 1;
		p = hit + 1;
	}
	return last;
}

char *text_between(const char *buf, size_t len, const char *start, const char *end)
{
	const char *s = memmem_last(buf, len, start), *e;

	if (!s)
		return NULL;
	s += strlen(start);
	e = memmem(s, len - (size_t)(s - buf), end, strlen(end));
	if (!e)
		return NULL;
	return strndup(s, (size_t)(e - s));
}

char *text_tail_lines(const char *buf, size_t len, unsigned max_lines)
{
	size_t start = len;
	unsigned lines = 0;

	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	start = len;
	while (start > 0) {
		if (buf[start - 1] == '\n' && ++lines >= max_lines)
			break;
		start--;
	}
	return strndup(buf + start, len - start);
}

static bool has_text(const ProtobufCBinaryData *b, const char *needle)
{
	return b->data && memmem(b->data, b->len, needle, strlen(needle));
}

static int set_detail(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_detail(struct verdict *v, const char *fmt, ...)
{
	va_list ap;
	int r;

	free(v->detail);
	v->detail = NULL;
	va_start(ap, fmt);
	r = vasprintf(&v->detail, fmt, ap);
	va_end(ap);
	if (r < 0) {
		v->detail = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Where the guest's result came from and whether it can be believed (see
 * pick_result). */
struct result_src {
	const Ktstr__RingMessage *ring; /* the ring's TEST_RESULT, when exactly one */
	uint32_t ring_n;		/* CRC-valid TEST_RESULTs the guest sent */
	uint8_t *com2;			/* the COM2 copy, decoded (owned) */
	size_t com2_len;
	unsigned com2_n;		/* result blocks on COM2 */
};

/* Walk the ring: stimuli in order, the CRC-valid TEST_RESULTs, SCHED_EXIT
 * and CRASH. Bad CRCs are skipped, never trusted. */
static int scan_ring(const Ktstr__VmResult *vr, struct verdict *v, struct result_src *src)
{
	for (size_t i = 0; i < vr->n_ring; i++) {
		const Ktstr__RingMessage *m = vr->ring[i];

		if (!m->crc_ok)
			continue;
		switch (m->type) {
		case KTSTR_MSG_TEST_RESULT:
			src->ring = m;
			src->ring_n++;
			break;
		case KTSTR_MSG_STIMULUS: {
			Ktstr__Stimulus *st = ktstr__stimulus__unpack(NULL, m->payload.len,
								      m->payload.data);
			Ktstr__Stimulus **arr;

			if (!st)
				break;
			arr = realloc(v->stimuli, (v->nstimuli + 1) * sizeof(*arr));
			if (!arr) {
				protobuf_c_message_free_unpacked(&st->base, NULL);
				return -ENOMEM;
			}
			v->stimuli = arr;
			v->stimuli[v->nstimuli++] = st;
			break;
		}
		case KTSTR_MSG_SCHED_EXIT:
			if (v->sched_exit)
				protobuf_c_message_free_unpacked(&v->sched_exit->base, NULL);
			v->sched_exit = ktstr__sched_exit__unpack(NULL, m->payload.len, m->payload.data);
			if (!v->sched_exit) {
				/* Undecodable still means the scheduler exited. */
				v->sched_exit = calloc(1, sizeof(*v->sched_exit));
				if (!v->sched_exit)
					return -ENOMEM;
				ktstr__sched_exit__init(v->sched_exit);
			}
			break;
		case KTSTR_MSG_CRASH:
			free(v->crash);
			/* An empty payload may arrive as data == NULL. */
			v->crash = m->payload.len ? strndup((const char *)m->payload.data, m->payload.len)
						  : strdup("");
			break;
		default:
			break;
		}
	}
	/* The worker counts every CRC-valid result it drained, kept or not. */
	if (vr->has_ring_results && vr->ring_results > src->ring_n)
		src->ring_n = vr->ring_results;
	return 0;
}

static unsigned count_text(const uint8_t *buf, size_t len, const char *needle)
{
	size_t nl = strlen(needle), off = 0;
	const uint8_t *p;
	unsigned n = 0;

	while (off < len && (p = memmem(buf + off, len - off, needle, nl))) {
		n++;
		off = (size_t)(p - buf) + nl;
	}
	return n;
}

static void scan_com2(const Ktstr__VmResult *vr, struct result_src *src)
{
	char *b64;

	if (!vr->has_guest_output || !vr->guest_output.data)
		return;
	src->com2_n = count_text(vr->guest_output.data, vr->guest_output.len,
				 KTSTR_COM2_RESULT_START);
	b64 = text_between((const char *)vr->guest_output.data, vr->guest_output.len,
			   KTSTR_COM2_RESULT_START, KTSTR_COM2_RESULT_END);
	if (!b64)
		return;
	if (base64_decode(b64, strlen(b64), &src->com2, &src->com2_len)) {
		src->com2 = NULL;
		src->com2_len = 0;
	}
	free(b64);
}

static const char *status_text(const uint8_t *buf, size_t len)
{
	Ktstr__TestResult *tr = ktstr__test_result__unpack(NULL, len, buf);
	const ProtobufCEnumValue *ev;
	const char *name;

	if (!tr)
		return "undecodable";
	ev = protobuf_c_enum_descriptor_get_value(&ktstr__test_result__status__descriptor,
						  tr->status);
	name = ev ? ev->name : "?";
	protobuf_c_message_free_unpacked(&tr->base, NULL);
	return name;
}

/* The guest's result, only when nothing suggests it was forged or
 * displaced (docs/security.md, "What a tenant can forge"): PID 1 writes one
 * TestResult to the ring and the same bytes to COM2. More than one on
 * either channel, copies that differ, a ring copy without its COM2 twin, or
 * any message the host dropped make NO_RESULT, never a pass. A COM2 copy
 * alone is believed: the ring may be off, or full from the guest's side.
 * Returns 1 with v->tr set, 0 with v->kind/detail set to NO_RESULT, 2 when
 * there is no result at all, -errno. */
static int pick_result(const Ktstr__VmResult *vr, struct verdict *v, const struct result_src *src)
{
	const uint8_t *bytes = NULL;
	size_t len = 0;

	if (!src->ring_n && !src->com2_n)
		return 2;
	v->kind = V_NO_RESULT;
	if (vr->has_ring_host_drops && vr->ring_host_drops)
		return set_detail(v, "the host dropped %llu ring message(s) over its keep budget "
				     "(vmm-worker/capture.h): the guest's result cannot be trusted",
				  (unsigned long long)vr->ring_host_drops);
	if (vr->has_guest_output_dropped && vr->guest_output_dropped)
		return set_detail(v, "COM2 went past its %s cap by %llu bytes: the guest's result "
				     "cannot be trusted", "guest_output_max",
				  (unsigned long long)vr->guest_output_dropped);
	if (src->ring_n > 1)
		return set_detail(v, "the guest sent %u results on the ring (PID 1 sends exactly "
				     "one): forged or repeated", src->ring_n);
	if (src->com2_n > 1)
		return set_detail(v, "the guest sent %u results on COM2 (PID 1 sends exactly one): "
				     "forged or repeated", src->com2_n);
	if (src->ring && !src->com2)
		return set_detail(v, "the ring carries a result (%s) but COM2 has no readable copy; "
				     "PID 1 writes both",
				  status_text(src->ring->payload.data, src->ring->payload.len));
	if (src->ring && (src->ring->payload.len != src->com2_len ||
			  memcmp(src->ring->payload.data, src->com2, src->com2_len))) {
		const char *a = status_text(src->ring->payload.data, src->ring->payload.len);

		return set_detail(v, "the ring and COM2 results disagree (ring: %s, COM2: %s)", a,
				  status_text(src->com2, src->com2_len));
	}
	if (src->ring) {
		bytes = src->ring->payload.data;
		len = src->ring->payload.len;
		v->source = "ring";
	} else if (src->com2) {
		bytes = src->com2;
		len = src->com2_len;
		v->source = "com2";
	} else {
		return set_detail(v, "the guest's COM2 result block does not decode");
	}
	v->tr = ktstr__test_result__unpack(NULL, len, bytes);
	if (!v->tr) {
		v->source = NULL;
		return set_detail(v, "the guest's result (%s) does not decode", src->ring ? "ring" : "COM2");
	}
	return 1;
}

static const char *outcome_text(Ktstr__Outcome o)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, o);

	return ev ? ev->name : "OUTCOME_?";
}

static int judge_result(const Ktstr__VmResult *vr, struct verdict *v)
{
	const Ktstr__TestResult *tr = v->tr;
	const char *d = tr->detail ? tr->detail : "";

	switch (tr->status) {
	case KTSTR__TEST_RESULT__STATUS__PASSED:
		v->kind = V_PASS;
		return set_detail(v, "passed");
	case KTSTR__TEST_RESULT__STATUS__FAILED:
		v->kind = V_FAIL;
		if (tr->n_failures)
			return set_detail(v, "%s%s", tr->failures[0]->message,
					  tr->n_failures > 1 ? " (and more)" : "");
		return set_detail(v, "checks failed%s%s", *d ? ": " : "", d);
	case KTSTR__TEST_RESULT__STATUS__SCHEDULER_DIED:
		v->kind = V_SCHED_DIED;
		return set_detail(v, "scheduler died%s%s", *d ? ": " : "", d);
	case KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED:
		v->kind = V_SCHED_NOT_ATTACHED;
		return set_detail(v, "scheduler never attached to sched_ext%s%s", *d ? ": " : "", d);
	case KTSTR__TEST_RESULT__STATUS__SETUP_FAILED:
		v->kind = V_SETUP_FAILED;
		return set_detail(v, "guest setup failed%s%s", *d ? ": " : "", d);
	case KTSTR__TEST_RESULT__STATUS__TRUNCATED_IMAGE:
		v->kind = V_INFRA;
		return set_detail(v, "initramfs extraction incomplete in the guest (image truncated "
				     "or VM memory too small)%s%s", *d ? ": " : "", d);
	case KTSTR__TEST_RESULT__STATUS__SKIPPED:
		v->kind = V_SKIP;
		return set_detail(v, "skipped by the guest%s%s", *d ? ": " : "", d);
	default:
		v->kind = V_NO_RESULT;
		return set_detail(v, "guest sent an unknown result status %d", tr->status);
	}
	(void)vr;
}

/* No TestResult: how the VM ended and how far the guest got. */
static int judge_no_result(const Ktstr__VmResult *vr, struct verdict *v)
{
	const ProtobufCBinaryData *com2 = &vr->guest_output;
	char *line;

	switch (vr->outcome) {
	case KTSTR__OUTCOME__OUTCOME_GUEST_PANIC:
		v->kind = V_GUEST_PANIC;
		return set_detail(v, "guest kernel panic (see the console tail)");
	case KTSTR__OUTCOME__OUTCOME_TRIPLE_FAULT:
		v->kind = V_GUEST_PANIC;
		return set_detail(v, "guest triple fault (CPU reset by a fault while handling a fault)");
	case KTSTR__OUTCOME__OUTCOME_TIMEOUT:
		v->kind = V_TIMEOUT;
		return set_detail(v, "timed out (no result in SHM or COM2)");
	case KTSTR__OUTCOME__OUTCOME_STOPPED:
		v->kind = V_STOPPED;
		return set_detail(v, "stopped before the test finished");
	case KTSTR__OUTCOME__OUTCOME_KVM_ERROR:
	case KTSTR__OUTCOME__OUTCOME_EMULATION_FAILURE:
	case KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR:
	case KTSTR__OUTCOME__OUTCOME_UNKNOWN:
		v->kind = V_INFRA;
		return set_detail(v, "VM engine failed (%s)%s%s", outcome_text(vr->outcome),
				  vr->error ? ": " : "", vr->error ? vr->error->what : "");
	default:
		break;
	}
	if (v->crash) {
		v->kind = V_GUEST_PANIC;
		line = text_tail_lines(v->crash, strlen(v->crash), 1);
		set_detail(v, "guest crashed: %s", line ? line : "");
		free(line);
		return v->detail ? 0 : -ENOMEM;
	}
	if (v->sched_exit || vr->outcome == KTSTR__OUTCOME__OUTCOME_SCHED_EXIT ||
	    has_text(com2, KTSTR_COM2_SCHED_DIED)) {
		v->kind = V_SCHED_DIED;
		return set_detail(v, "scheduler died%s%s",
				  v->sched_exit && v->sched_exit->reason ? ": " : "",
				  v->sched_exit && v->sched_exit->reason ? v->sched_exit->reason : "");
	}
	if (has_text(com2, KTSTR_COM2_SCHED_NOT_ATTACHED)) {
		const size_t mlen = sizeof(KTSTR_COM2_SCHED_NOT_ATTACHED) - 1;
		const char *p = memmem(com2->data, com2->len, KTSTR_COM2_SCHED_NOT_ATTACHED, mlen);
		const char *e = memchr(p, '\n', com2->len - (size_t)((const uint8_t *)p - com2->data));

		v->kind = V_SCHED_NOT_ATTACHED;
		return set_detail(v, "%.*s", (int)(e ? (size_t)(e - p) : mlen), p);
	}
	if (!has_text(com2, KTSTR_COM2_INIT_STARTED)) {
		v->kind = V_INIT_NEVER_STARTED;
		return set_detail(v, "init script never started (kernel or mount failure)");
	}
	if (!has_text(com2, KTSTR_COM2_PAYLOAD_STARTING)) {
		v->kind = V_PAYLOAD_NEVER_RAN;
		return set_detail(v, "init started but payload never ran (cgroup/scheduler setup failed)");
	}
	v->kind = V_NO_RESULT;
	return set_detail(v, "payload started but produced no test result");
}

bool monitor_failed(const Ktstr__VmResult *vr)
{
	return vr && vr->monitor &&
	       vr->monitor->verdict == KTSTR__MONITOR_VERDICT__MONITOR_FAIL;
}

/* The worker bounds the report; its text is still the guest kernel's doing
 * and is printed as data, never trusted for length. */
const char *monitor_first_violation(const Ktstr__VmResult *vr)
{
	const Ktstr__MonitorReport *m = vr->monitor;

	if (m->n_violations && m->violations[0]->message)
		return m->violations[0]->message;
	return m->summary ? m->summary : "a threshold was exceeded";
}

int verdict_from_result(const Ktstr__VmResult *vr, const char *infra_error, struct verdict *out)
{
	struct result_src src = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (infra_error || !vr) {
		out->kind = V_INFRA;
		return set_detail(out, "%s", infra_error ? infra_error : "no VM result");
	}
	if (vr->outcome == KTSTR__OUTCOME__OUTCOME_GUEST_FLOOD) {
		/* Whatever the guest claimed, the worker stopped it for flooding. */
		out->kind = V_NO_RESULT;
		return set_detail(out, "%s", vr->error && vr->error->why ? vr->error->why
								 : "the guest flooded the ring");
	}
	ret = scan_ring(vr, out, &src);
	if (!ret) {
		scan_com2(vr, &src);
		ret = pick_result(vr, out, &src);
	}
	free(src.com2);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return 0; /* NO_RESULT with the reason */
	if (out->tr) {
		ret = judge_result(vr, out);
		/* A result written before the kernel died does not make a pass. */
		if (!ret && out->kind == V_PASS &&
		    vr->outcome == KTSTR__OUTCOME__OUTCOME_GUEST_PANIC) {
			out->kind = V_GUEST_PANIC;
			ret = set_detail(out, "guest kernel panicked after reporting a pass");
		}
		/* The host's own evidence: what the guest's workers felt passed,
		 * but the monitor saw the runqueues fail (docs/monitor.md). */
		if (!ret && out->kind == V_PASS && monitor_failed(vr)) {
			out->kind = V_FAIL;
			ret = set_detail(out, "monitor: %s", monitor_first_violation(vr));
		}
		return ret;
	}
	return judge_no_result(vr, out);
}
