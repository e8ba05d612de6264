/* The SHM ring survives a large initramfs under the QEMU engine. QEMU copies
 * the initrd to the top of low memory, where the ring used to be: an image
 * over ~18 MiB (stress-ng and its libraries) overwrote the ring's header and
 * every ring message was lost (the result still came through COM2). Proven
 * from inside the guest: a 24 MiB incompressible include file reaches the
 * guest intact (its sha256 there equals the host's), and the result record
 * says it came through the ring. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/sha256.h>

#include "lib/suite_run.h"
#include "lib/vmtest.h"

#define BIG (24u << 20)

static void write_random(const char *path, char hex[65])
{
	uint8_t *buf = malloc(BIG), digest[SHA256_LEN];
	size_t off = 0;
	int fd;

	cr_assert_not_null(buf);
	while (off < BIG) {
		ssize_t n = getrandom(buf + off, BIG - off, 0);

		cr_assert_gt(n, 0);
		off += (size_t)n;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, BIG), (ssize_t)BIG);
	close(fd);
	sha256_buf(buf, BIG, digest);
	sha256_hex(digest, hex);
	free(buf);
}

Test(ring_place, a_large_initramfs_leaves_the_ring_intact, .timeout = 900)
{
	struct suite_env e;
	char big[1200], suite[1200], hex[65], want[200], *out = NULL, *rec;
	FILE *f;
	int rc;

	suite_env_init(&e, false);
	snprintf(big, sizeof(big), "%s/big.bin", e.tmp);
	snprintf(suite, sizeof(suite), "%s/ring-place.yaml", e.tmp);
	write_random(big, hex);
	f = fopen(suite, "w");
	cr_assert_not_null(f);
	fprintf(f, "include_files: [big.bin]\n"
		   "payloads:\n"
		   "  sum: {path: /usr/bin/sha256sum}\n"
		   "tests:\n"
		   "  - name: big_initramfs\n"
		   "    topology: \"1,1,2,1\"\n"
		   "    duration: 1s\n"
		   "    scenario:\n"
		   "      cgroups: [{name: cg0, workers: 1}]\n"
		   "      steps:\n"
		   "        - ops:\n"
		   "            - kind: run_payload\n"
		   "              payload: {name: sum, args: [/include-files/big.bin], timeout_ms: 60000}\n");
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(big, 0644) | chmod(suite, 0644), 0);

	rc = run_suite_path(&e, suite, NULL, NULL, "--engine qemu", &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  big_initramfs  (");
	cr_assert_null(strstr(out, "corrupted the SHM ring"), "the ring was overwritten:\n%s", out);
	rec = json_record(&e, "big_initramfs");
	snprintf(want, sizeof(want), "%s  /include-files/big.bin", hex);
	assert_has(rec, want);
	assert_has(rec, "\"result_source\":\"ring\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}
