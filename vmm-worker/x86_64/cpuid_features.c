/* Names of CPUID feature bits the guest can be denied. The list covers what
 * stock kernels and the nested rig need (XSAVE/AVX family, VEX integer ops,
 * virtualisation, paging features); add rows as needed. */
#include <errno.h>
#include <string.h>

#include <ktstr/util.h>

#include "cpuid.h"

#define ANY 0xffffffffu
enum { EAX, EBX, ECX, EDX };

static const struct {
	const char *name;
	struct x86_feature_bit b;
} features[] = {
	{ "pclmulqdq", { 1, ANY, ECX, 1 } },   { "monitor", { 1, ANY, ECX, 3 } },
	{ "vmx", { 1, ANY, ECX, 5 } },	       { "ssse3", { 1, ANY, ECX, 9 } },
	{ "fma", { 1, ANY, ECX, 12 } },	       { "cx16", { 1, ANY, ECX, 13 } },
	{ "pcid", { 1, ANY, ECX, 17 } },       { "sse4_1", { 1, ANY, ECX, 19 } },
	{ "sse4_2", { 1, ANY, ECX, 20 } },     { "x2apic", { 1, ANY, ECX, 21 } },
	{ "movbe", { 1, ANY, ECX, 22 } },      { "popcnt", { 1, ANY, ECX, 23 } },
	{ "tsc_deadline_timer", { 1, ANY, ECX, 24 } },
	{ "aes", { 1, ANY, ECX, 25 } },	       { "xsave", { 1, ANY, ECX, 26 } },
	{ "avx", { 1, ANY, ECX, 28 } },	       { "f16c", { 1, ANY, ECX, 29 } },
	{ "rdrand", { 1, ANY, ECX, 30 } },     { "hypervisor", { 1, ANY, ECX, 31 } },
	{ "fsgsbase", { 7, 0, EBX, 0 } },      { "bmi1", { 7, 0, EBX, 3 } },
	{ "hle", { 7, 0, EBX, 4 } },	       { "avx2", { 7, 0, EBX, 5 } },
	{ "smep", { 7, 0, EBX, 7 } },	       { "bmi2", { 7, 0, EBX, 8 } },
	{ "erms", { 7, 0, EBX, 9 } },	       { "invpcid", { 7, 0, EBX, 10 } },
	{ "rtm", { 7, 0, EBX, 11 } },	       { "avx512f", { 7, 0, EBX, 16 } },
	{ "rdseed", { 7, 0, EBX, 18 } },       { "adx", { 7, 0, EBX, 19 } },
	{ "smap", { 7, 0, EBX, 20 } },	       { "clflushopt", { 7, 0, EBX, 23 } },
	{ "clwb", { 7, 0, EBX, 24 } },	       { "sha_ni", { 7, 0, EBX, 29 } },
	{ "umip", { 7, 0, ECX, 2 } },	       { "pku", { 7, 0, ECX, 3 } },
	{ "vaes", { 7, 0, ECX, 9 } },	       { "vpclmulqdq", { 7, 0, ECX, 10 } },
	{ "la57", { 7, 0, ECX, 16 } },	       { "rdpid", { 7, 0, ECX, 22 } },
	{ "xsaveopt", { 0xd, 1, EAX, 0 } },    { "xsavec", { 0xd, 1, EAX, 1 } },
	{ "xgetbv1", { 0xd, 1, EAX, 2 } },     { "xsaves", { 0xd, 1, EAX, 3 } },
	{ "svm", { 0x80000001u, ANY, ECX, 2 } }, { "topoext", { 0x80000001u, ANY, ECX, 22 } },
	{ "pdpe1gb", { 0x80000001u, ANY, EDX, 26 } },
	{ "rdtscp", { 0x80000001u, ANY, EDX, 27 } },
};

int x86_feature_lookup(const char *name, struct x86_feature_bit *out)
{
	char norm[32];
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof(norm); i++)
		norm[i] = (name[i] == '-' || name[i] == '.') ? '_' : name[i];
	norm[i] = 0;
	if (!strcmp(norm, "sha"))
		strcpy(norm, "sha_ni");
	for (size_t f = 0; f < ARRAY_SIZE(features); f++)
		if (!strcmp(features[f].name, norm)) {
			*out = features[f].b;
			return 0;
		}
	return -ENOENT;
}
