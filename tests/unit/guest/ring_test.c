/* The guest's ring writer (shm_map over a file standing in for /dev/mem,
 * report_* messages) read back by the host reader (ring_drain). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report.h"
#include "shm.h"

#define BASE 0x3000u
#define SIZE (64u * 1024u)

struct seen {
	int n, tests, exits, crc_bad;
	int32_t exit_code;
	Ktstr__TestResult *res;
};

static int cb(void *ctx, uint32_t type, const uint8_t *p, uint32_t len, bool crc_ok)
{
	struct seen *s = ctx;

	s->n++;
	s->crc_bad += !crc_ok;
	if (type == KTSTR_MSG_TEST_RESULT) {
		s->tests++;
		s->res = ktstr__test_result__unpack(NULL, len, p);
	}
	if (type == KTSTR_MSG_EXIT && len == 4) {
		s->exits++;
		memcpy(&s->exit_code, p, 4);
	}
	return 0;
}

Test(ring, params_from_env_or_cmdline)
{
	uint64_t b, s;

	cr_assert_eq(shm_parse_params(NULL, NULL, "quiet KTSTR_SHM_BASE=0x1f000000 "
						  "KTSTR_SHM_SIZE=0x1000000 x=1",
				      &b, &s),
		     0);
	cr_assert_eq(b, 0x1f000000u);
	cr_assert_eq(s, 0x1000000u);
	cr_assert_eq(shm_parse_params("4096", "65536", "", &b, &s), 0);
	cr_assert_eq(b, 4096);
	cr_assert_eq(shm_parse_params(NULL, NULL, "quiet", &b, &s), -ENOENT);
	cr_assert_eq(shm_parse_params("0x1000", "0", "", &b, &s), -ENOENT, "shell VMs have none");
	cr_assert_eq(shm_parse_params("zz", "0x1000", "", &b, &s), -EINVAL);
	cr_assert_eq(shm_parse_params("0x1000", "8", "", &b, &s), -EINVAL);
}

Test(ring, guest_messages_reach_the_host_reader)
{
	char path[] = "/tmp/ktstr-ring-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct report r;
	struct result_like {
		Ktstr__TestResult tr;
	} res = { KTSTR__TEST_RESULT__INIT };
	struct seen s = { 0 };
	struct ktstr_ring host;
	void *map;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, BASE + SIZE), 0);
	unlink(path);
	/* Host formats first, as the VMM does. */
	map = mmap(NULL, BASE + SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(ring_format((uint8_t *)map + BASE, SIZE), 0);

	report_init(&r);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cr_assert_eq(shm_map(path, BASE, SIZE, &r.shm, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(r.shm.formatted_here);
	r.have_ring = true;
	res.tr.status = KTSTR__TEST_RESULT__STATUS__FAILED;
	res.tr.detail = "stuck 3500ms on cpu1 at +1200ms";
	cr_assert_eq(report_result(&r, &res.tr), 0);
	report_exit(&r, 1);

	cr_assert_eq(ring_attach(&host, (uint8_t *)map + BASE, SIZE), 0);
	cr_assert_eq(ring_drain(&host, cb, &s, true), 2);
	cr_assert_eq(s.crc_bad, 0);
	cr_assert_eq(s.tests, 1);
	cr_assert_not_null(s.res);
	cr_assert_eq(s.res->status, KTSTR__TEST_RESULT__STATUS__FAILED);
	cr_assert_str_eq(s.res->detail, "stuck 3500ms on cpu1 at +1200ms");
	cr_assert_eq(s.exits, 1);
	cr_assert_eq(s.exit_code, 1);
	ktstr__test_result__free_unpacked(s.res, NULL);

	/* Fill well past capacity: the live drain frees space so the writer
	 * keeps going (wraparound) and nothing is lost. */
	for (int i = 0; i < 200; i++) {
		char msg[600];

		memset(msg, 'a' + i % 26, sizeof(msg));
		cr_assert_eq(report_msg(&r, KTSTR_MSG_CRASH, msg, sizeof(msg)), 0);
		if (i % 50 == 49) {
			memset(&s, 0, sizeof(s));
			cr_assert_eq(ring_drain(&host, cb, &s, true), 50);
			cr_assert_eq(s.crc_bad, 0);
		}
	}
	cr_assert_eq(ring_drops(&host), 0);
	shm_unmap(&r.shm);
	munmap(map, BASE + SIZE);
	close(fd);
}

Test(ring, unformatted_zero_region_is_formatted_by_the_guest)
{
	char path[] = "/tmp/ktstr-ring-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct guest_shm g;

	cr_assert_eq(ftruncate(fd, SIZE), 0);
	unlink(path);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cr_assert_eq(shm_map(path, 0, SIZE, &g, err, sizeof(err)), 0, "%s", err);
	cr_assert(g.formatted_here);
	shm_unmap(&g);
	/* Foreign bytes in the header are never overwritten. */
	cr_assert_eq(pwrite(fd, "junkjunk", 8, 0), 8);
	cr_assert_neq(shm_map(path, 0, SIZE, &g, err, sizeof(err)), 0);
	cr_assert(strstr(err, "no valid header"), "%s", err);
	close(fd);
}
