#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/cpulist.h"
#include "ktstr/topology.h"
#include "ktstr/util.h"

Test(topology, parse_and_label)
{
	struct ktstr_topo t;
	char err[256], label[32];

	cr_assert_eq(topo_parse("2,4,2,1", &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(topo_cpus(&t), 8);
	topo_label(&t, label, sizeof(label));
	cr_assert_str_eq(label, "2n4l2c1t");
}

Test(topology, parse_errors_name_the_field)
{
	struct ktstr_topo t;
	char err[256];

	cr_assert_eq(topo_parse("1,2,x,1", &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "cores_per_llc"), "%s", err);
	cr_assert_eq(topo_parse("1,2,2", &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "threads_per_core"), "%s", err);
	cr_assert_eq(topo_parse("2,3,1,1", &t, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "multiple of numa_nodes"), "%s", err);
	cr_assert_eq(topo_parse("1,1,0,1", &t, err, sizeof(err)), -EINVAL);
	cr_assert_eq(topo_parse("1,64,64,1", &t, err, sizeof(err)), -EINVAL);
	cr_assert_eq(topo_parse("1,1,2,1x", &t, err, sizeof(err)), -EINVAL);
}

Test(topology, cpu_numbering_matches_reference)
{
	struct ktstr_topo t = { 2, 4, 2, 2 };
	struct ktstr_cpu_coords c;

	/* cpu = llc*(c*t) + core*t + thread; node = llc / (llcs/nodes) */
	topo_cpu_coords(&t, 13, &c);
	cr_assert_eq(c.llc, 3);
	cr_assert_eq(c.core, 0);
	cr_assert_eq(c.thread, 1);
	cr_assert_eq(c.node, 1);
	topo_cpu_coords(&t, 5, &c);
	cr_assert_eq(c.llc, 1);
	cr_assert_eq(c.core, 0);
	cr_assert_eq(c.thread, 1);
	cr_assert_eq(c.node, 0);
}

Test(topology, presets_are_valid_and_findable)
{
	size_t n;
	const struct ktstr_topo_preset *p = topo_presets(&n);
	char err[256];

	cr_assert_eq(n, 24);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(topo_validate(&p[i].topo, err, sizeof(err)), 0, "%s: %s", p[i].name, err);
	cr_assert_eq(topo_cpus(&topo_preset_find("max-cpu")->topo), 252);
	cr_assert_eq(topo_cpus(&topo_preset_find("numa4-12llc")->topo), 192);
	cr_assert_null(topo_preset_find("nope"));
}

Test(cpulist, parse_format_roundtrip)
{
	struct cpuset_bits s, t;
	char buf[64];

	cr_assert_eq(cpulist_parse("0-3,8,10-11\n", &s), 0);
	cr_assert_eq(cpuset_count(&s), 7);
	cr_assert(cpuset_has(&s, 10));
	cr_assert_not(cpuset_has(&s, 9));
	cr_assert_gt(cpulist_format(&s, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "0-3,8,10-11");
	cr_assert_eq(cpulist_parse("", &t), 0);
	cr_assert_eq(cpuset_count(&t), 0);
	cr_assert(cpuset_subset(&t, &s));
	cr_assert_eq(cpulist_parse("0-3", &t), 0);
	cr_assert(cpuset_subset(&t, &s));
	cr_assert_not(cpuset_subset(&s, &t));
}

Test(cpulist, rejects_garbage)
{
	struct cpuset_bits s;

	cr_assert_eq(cpulist_parse("3-1", &s), -EINVAL);
	cr_assert_eq(cpulist_parse("a", &s), -EINVAL);
	cr_assert_eq(cpulist_parse("1,,2", &s), -EINVAL);
	cr_assert_eq(cpulist_parse("5000", &s), -EINVAL);
	cr_assert_eq(cpulist_parse("1 2", &s), -EINVAL);
}

Test(base64, roundtrip_all_lengths)
{
	uint8_t in[64];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 1);
	for (size_t len = 0; len <= sizeof(in); len++) {
		char *enc;
		uint8_t *dec;
		size_t dlen;

		cr_assert_eq(base64_encode(in, len, &enc), 0);
		cr_assert_eq(strlen(enc), 4 * ((len + 2) / 3));
		cr_assert_eq(base64_decode(enc, strlen(enc), &dec, &dlen), 0);
		cr_assert_eq(dlen, len);
		cr_assert_arr_eq(dec, in, len);
		free(enc);
		free(dec);
	}
}

Test(base64, known_vector_and_errors)
{
	char *enc;
	uint8_t *dec;
	size_t dlen;

	base64_encode("foobar", 6, &enc);
	cr_assert_str_eq(enc, "Zm9vYmFy");
	free(enc);
	cr_assert_eq(base64_decode("Zm9v\nYmE=", 9, &dec, &dlen), 0);
	cr_assert_eq(dlen, 5);
	cr_assert_arr_eq(dec, "fooba", 5);
	free(dec);
	cr_assert_eq(base64_decode("Zm9v!", 5, &dec, &dlen), -EINVAL);
	cr_assert_eq(base64_decode("Zg==Zg==", 8, &dec, &dlen), -EINVAL);
}
