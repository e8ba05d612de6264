/* libFuzzer target for run --coverage's PROFRAW messages (ktstr/covmsg.h):
 * any bytes from the guest decode or are refused; what decodes re-encodes
 * to the same bytes; and a path coverage_path_check lets through is
 * absolute, NUL-free and has no empty, "." or ".." component, so it cannot
 * leave DIR/TEST (orchestrator/coverage.c). abort() otherwise. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/covmsg.h>
#include <ktstr/guest_contract.h>

#include "coverage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct covmsg m;
	uint8_t *again;
	size_t len, i = 0;
	char err[128];

	if (covmsg_parse(data, size, &m))
		return 0;
	if (covmsg_build(m.path, m.path_len, m.data, m.data_len, &again, &len) || len != size ||
	    memcmp(again, data, size))
		abort();
	free(again);
	if (coverage_path_check(m.path, m.path_len, err, sizeof(err)))
		return 0;
	if (!m.path_len || m.path[0] != '/' || m.path_len > KTSTR_COV_PATH_MAX ||
	    memchr(m.path, '\0', m.path_len))
		abort();
	while (i < m.path_len) {
		size_t s = ++i;

		while (i < m.path_len && m.path[i] != '/')
			i++;
		if (i == s || (i - s == 1 && m.path[s] == '.') ||
		    (i - s == 2 && m.path[s] == '.' && m.path[s + 1] == '.'))
			abort();
	}
	return 0;
}
