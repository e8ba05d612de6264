/* libFuzzer target for the holder records other users leave in the shared
 * lock directory (orchestrator/hostres_record.c, docs/farms.md): any bytes
 * parse or are refused with a reason, never read past their length; what
 * parses formats and parses back to the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostres_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostres_record r, back;
	char why[256], *buf;

	/* An exact-size copy: ASan sees any read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (hostres_record_parse(buf, size, &r, why, sizeof(why))) {
		if (!why[0])
			abort(); /* a refusal always says why */
		free(buf);
		return 0;
	}
	free(buf);
	buf = malloc(HOSTRES_RECORD_SIZE);
	if (!buf || hostres_record_format(&r, buf) ||
	    hostres_record_parse(buf, HOSTRES_RECORD_SIZE, &back, why, sizeof(why)) ||
	    back.pid != r.pid || back.start_ticks != r.start_ticks || back.since != r.since ||
	    back.cap != r.cap || !cpuset_equal(&back.cpus, &r.cpus) || back.mem_mib != r.mem_mib ||
	    back.vms != r.vms || strcmp(back.cmd, r.cmd))
		abort();
	free(buf);
	return 0;
}
