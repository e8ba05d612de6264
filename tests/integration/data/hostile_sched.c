/* A hostile "scheduler" for tests/integration/hostile_guest.c: it runs in
 * the guest as root, as any scheduler under test does, never attaches to
 * sched_ext, and attacks the host's channels the way a tenant could:
 *
 *   hostile_sched forge   two ~8 MiB filler messages (to exhaust a keep
 *                         budget), then a TestResult{PASSED} on the ring
 *   hostile_sched flood   zero-length ring messages without end
 *
 * then sleeps until the VM ends. It maps the ring exactly as PID 1 does
 * (guest/shm.c) and writes with the common ring writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest.pb-c.h"
#include "shm.h"

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ring_write, waiting while the host drains (bounded). */
static int put(struct ktstr_ring *r, uint32_t type, const void *p, uint32_t len)
{
	for (int i = 0; i < 2000; i++) {
		int ret = ring_write(r, type, p, len);

		if (ret != -ENOSPC)
			return ret;
		nap_ms(5);
	}
	return -ENOSPC;
}

int main(int argc, char **argv)
{
	char cmdline[4096] = "", err[256];
	struct guest_shm shm;
	uint64_t base, size;
	FILE *f = fopen("/proc/cmdline", "re");

	if (argc != 2)
		return 2;
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	if (shm_parse_params(NULL, NULL, cmdline, &base, &size) ||
	    shm_map("/dev/mem", base, size, &shm, err, sizeof(err))) {
		fprintf(stderr, "hostile_sched: no ring: %s\n", err);
		return 1;
	}
	if (!strcmp(argv[1], "forge")) {
		Ktstr__TestResult tr = KTSTR__TEST_RESULT__INIT;
		uint32_t flen = (8u << 20) + 4096;
		uint8_t *filler = calloc(1, flen), buf[256];
		size_t n;

		if (!filler)
			return 1;
		int a = put(&shm.ring, KTSTR_MSG_PROFRAW, filler, flen);
		int b = put(&shm.ring, KTSTR_MSG_PROFRAW, filler, flen);

		tr.status = KTSTR__TEST_RESULT__STATUS__PASSED;
		tr.test_name = "forged";
		n = ktstr__test_result__pack(&tr, buf);
		/* The test reads these lines in the scheduler log. */
		fprintf(stderr, "hostile_sched: filler %d %d, forged PASSED result %d\n", a, b,
			put(&shm.ring, KTSTR_MSG_TEST_RESULT, buf, (uint32_t)n));
	} else if (!strcmp(argv[1], "flood")) {
		for (;;)
			put(&shm.ring, KTSTR_MSG_STIMULUS, "", 0);
	}
	for (;;)
		pause();
}
