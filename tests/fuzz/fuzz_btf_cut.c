/* libFuzzer target for the raw BTF cutter (orchestrator/btf_cut.c): the
 * kernel Image it scans comes from a mirror. Whatever the bytes: no crash,
 * no read past them, and a blob it returns lies inside the input, starts
 * with a self-consistent header and parses with libbpf (btf_check). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/le.h>

#include "btf_cut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, len = 0;
	char err[256];

	if (btf_cut(data, size, &off, &len, err, sizeof(err)))
		return 0;
	if (off > size || len > size - off || len < BTF_CUT_HDR_LEN)
		abort();
	if (get_le32(data + off + 4) != BTF_CUT_HDR_LEN ||
	    (uint64_t)BTF_CUT_HDR_LEN + get_le32(data + off + 16) + get_le32(data + off + 20) != len)
		abort();
	if (btf_check(data + off, len, false, err, sizeof(err)))
		abort();
	return 0;
}
