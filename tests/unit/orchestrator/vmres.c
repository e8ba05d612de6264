#include "vmres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/ring.h>
#include <ktstr/util.h>

Ktstr__VmResult *vmres_new(Ktstr__Outcome outcome)
{
	Ktstr__VmResult *r = calloc(1, sizeof(*r));

	ktstr__vm_result__init(r);
	r->outcome = outcome;
	r->engine = KTSTR__ENGINE__ENGINE_QEMU;
	r->engine_detail = strdup("qemu-tcg");
	/* A confined worker, as production results are; tests of the
	 * fail-closed path clear it. */
	r->has_sandboxed = 1;
	r->sandboxed = 1;
	return r;
}

void vmres_add_ring(Ktstr__VmResult *r, uint32_t type, const void *payload, size_t len, bool crc_ok)
{
	Ktstr__RingMessage *m = calloc(1, sizeof(*m));

	ktstr__ring_message__init(m);
	m->type = type;
	m->payload.data = malloc(len ? len : 1);
	memcpy(m->payload.data, payload, len);
	m->payload.len = len;
	m->crc_ok = crc_ok;
	r->ring = realloc(r->ring, (r->n_ring + 1) * sizeof(*r->ring));
	r->ring[r->n_ring++] = m;
}

void vmres_add_test_result(Ktstr__VmResult *r, const Ktstr__TestResult *tr, bool crc_ok)
{
	size_t n = ktstr__test_result__get_packed_size(tr);
	uint8_t *buf = malloc(n ? n : 1);

	ktstr__test_result__pack(tr, buf);
	vmres_add_ring(r, KTSTR_MSG_TEST_RESULT, buf, n, crc_ok);
	free(buf);
}

void vmres_add_pid1_result(Ktstr__VmResult *r, const Ktstr__TestResult *tr)
{
	char *com2 = com2_with_result(tr);

	vmres_add_test_result(r, tr, true);
	r->has_ring_results = 1;
	r->ring_results++;
	vmres_set_com2(r, com2);
	free(com2);
}

static void set_bytes(ProtobufCBinaryData *b, protobuf_c_boolean *has, const char *text)
{
	free(b->data);
	b->data = (uint8_t *)strdup(text);
	b->len = strlen(text);
	*has = 1;
}

void vmres_set_com2(Ktstr__VmResult *r, const char *text)
{
	set_bytes(&r->guest_output, &r->has_guest_output, text);
}

void vmres_set_console(Ktstr__VmResult *r, const char *text)
{
	set_bytes(&r->console_tail, &r->has_console_tail, text);
}

char *com2_with_result(const Ktstr__TestResult *tr)
{
	size_t n = ktstr__test_result__get_packed_size(tr);
	uint8_t *buf = malloc(n ? n : 1);
	char *b64 = NULL, *out = NULL;

	ktstr__test_result__pack(tr, buf);
	base64_encode(buf, n, &b64);
	if (asprintf(&out, "KTSTR_INIT_STARTED\nKTSTR_PAYLOAD_STARTING\n===KTSTR_TEST_RESULT_START===\n"
			   "%s\n===KTSTR_TEST_RESULT_END===\nKTSTR_EXIT=0\n",
		     b64) < 0)
		out = NULL;
	free(b64);
	free(buf);
	return out;
}
