/* `ktstr-orch run --initramfs-compression gzip|lz4` end to end: the builder
 * packs the base image compressed, the orchestrator appends the per-test
 * suffix in a form every kernel unpacks after it (LZ4 after an LZ4 base;
 * 7.2 would also take a plain one after the base's zero padding), and the guest finds its spec and runs the scenario: a steady EEVDF
 * test passes with its result on the SHM ring. Uncompressed images are what
 * every other VM test boots. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

/* The byte count of the "image for scheduler NAME: N bytes (comp)" line. */
static unsigned long long image_bytes(const char *out, const char *comp)
{
	char want[64];
	const char *p = strstr(out, "image for scheduler ");

	cr_assert_not_null(p, "no image line in:\n%s", out);
	p = strchr(p, ':');
	cr_assert_not_null(p);
	snprintf(want, sizeof(want), " bytes (%s)", comp);
	cr_assert(strstr(p, want), "image not %s:\n%s", comp, out);
	return strtoull(p + 1, NULL, 10);
}

static unsigned long long boots_with(const char *comp)
{
	struct suite_env e;
	char args[64], *out = NULL, *rec;
	unsigned long long bytes;
	int rc;

	suite_env_init(&e, false);
	snprintf(args, sizeof(args), "--initramfs-compression %s", comp);
	rc = run_suite_args(&e, "guest-verdicts.yaml", "steady_1llc", NULL, args, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "\n1 passed, 0 failed, 0 skipped\n");
	bytes = image_bytes(out, comp);
	rec = json_record(&e, "steady_1llc");
	assert_has(rec, "\"verdict\":\"PASS\"");
	/* The guest read /ktstr/spec.pb from the suffix and reported over the ring. */
	assert_has(rec, "\"result_source\":\"ring\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
	return bytes;
}

Test(initramfs_compression, gzip_and_lz4_bases_boot_and_run, .timeout = 900)
{
	unsigned long long gz = boots_with("gzip"), lz = boots_with("lz4");

	/* Both are real compression of a ~3.5 MB base (guest + busybox). */
	cr_assert_lt(gz, 3ull << 20, "gzip image %llu bytes", gz);
	cr_assert_lt(lz, 3ull << 20, "lz4 image %llu bytes", lz);
}
