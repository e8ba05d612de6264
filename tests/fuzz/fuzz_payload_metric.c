/* libFuzzer target for payload metrics (orchestrator/payload_metric*.c,
 * docs/suite-format.md "Payloads"): the suite's pattern and the guest's
 * output are both attacker-chosen. Input: the pattern up to the first
 * newline, then the output. A pattern the parser would refuse is skipped;
 * one it accepts must read the guest's bytes within the documented bounds:
 * never past the output, a value only when the whole capture is a finite
 * number, and in bounded time (the bound claims 0.25 s per metric per run
 * uninstrumented; 10 s here allows for the fuzzer's instrumentation). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payload_metric.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct payload_metric_list l = { .n = 0 };
	struct payload_metric *m = &l.v[0];
	struct payload_metric_value v;
	char why[256], pat[PAYLOAD_METRIC_PATTERN_MAX + 2], desc[512], *out;
	size_t plen, olen;
	double t0;

	if (!nl)
		return 0;
	plen = (size_t)(nl - data);
	if (plen > PAYLOAD_METRIC_PATTERN_MAX || memchr(data, '\0', plen))
		return 0;
	memcpy(pat, data, plen);
	pat[plen] = '\0';
	memset(&l, 0, sizeof(l));
	snprintf(m->name, sizeof(m->name), "fuzz");
	if (payload_metric_compile(m, pat, why, sizeof(why))) {
		if (!why[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	l.n = 1;
	m->has_min = m->has_max = true;
	m->min = -1e6;
	m->max = 1e6;
	/* An exact-size copy plus the NUL a protobuf string carries. */
	olen = size - plen - 1;
	out = malloc(olen + 1);
	if (!out)
		abort();
	memcpy(out, nl + 1, olen);
	out[olen] = '\0';
	t0 = now_s();
	payload_metric_extract(m, out, olen, &v);
	if (now_s() - t0 > 10.0) {
		fprintf(stderr, "pattern \"%s\" took %.1f s on %zu bytes\n", pat, now_s() - t0, olen);
		abort();
	}
	if (payload_metric_read(&v) && !(v.value == v.value && v.value - v.value == 0))
		abort(); /* a read value is finite */
	if (v.status == PM_OK && (v.value < m->min || v.value > m->max))
		abort();
	payload_metric_describe(&v, desc, sizeof(desc));
	if (!memchr(desc, '\0', sizeof(desc)))
		abort();
	free(out);
	payload_metric_list_free(&l);
	return 0;
}
