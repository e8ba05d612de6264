/* Memory admission math (hostres_mem.c): MemAvailable less the margin less
 * what running VMs declared; "wait" when short, "never" past MemTotal. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostres_mem.h"

static const char meminfo[] = "MemTotal:       24683748 kB\n"
			      "MemFree:        15494816 kB\n"
			      "MemAvailable:    4194304 kB\n"
			      "Buffers:           44088 kB\n";

Test(hostres_mem, meminfo_is_read_in_mib)
{
	struct hostres_meminfo m;

	cr_assert_eq(hostres_meminfo_parse(meminfo, &m), 0);
	cr_expect_eq(m.total_mib, 24683748 / 1024);
	cr_expect_eq(m.avail_mib, 4096);
}

Test(hostres_mem, meminfo_without_either_field_or_with_garbage_is_refused)
{
	struct hostres_meminfo m;

	cr_expect_eq(hostres_meminfo_parse("MemTotal: 100 kB\n", &m), -EINVAL, "no MemAvailable");
	cr_expect_eq(hostres_meminfo_parse("MemAvailable: 100 kB\n", &m), -EINVAL, "no MemTotal");
	cr_expect_eq(hostres_meminfo_parse("MemTotal: x kB\nMemAvailable: 1 kB\n", &m), -EINVAL);
	cr_expect_eq(hostres_meminfo_parse("MemTotal: 5 MB\nMemAvailable: 1 kB\n", &m), -EINVAL,
		     "a unit that is not kB");
	cr_expect_eq(hostres_meminfo_parse("MemTotal: 99999999999999999999999 kB\n"
					   "MemAvailable: 1 kB\n", &m), -EINVAL, "overflow");
	cr_expect_eq(hostres_meminfo_parse("XMemTotal: 5 kB\nMemTotalX: 5 kB\nMemAvailable: 1 kB\n",
					   &m), -EINVAL, "keys match whole, at a line start");
	cr_expect_eq(hostres_meminfo_read("/nonexistent/meminfo", &m), -ENOENT);
}

Test(hostres_mem, room_is_available_less_margin_less_declared)
{
	struct hostres_meminfo m = { .total_mib = 8192, .avail_mib = 4096 };

	cr_expect_eq(hostres_mem_room(&m, 0), 4096 - HOSTRES_MEM_MARGIN_MIB);
	cr_expect_eq(hostres_mem_room(&m, 1024), 4096 - HOSTRES_MEM_MARGIN_MIB - 1024);
	cr_expect_eq(hostres_mem_room(&m, 4096), 0, "never below zero");
	cr_expect_eq(hostres_mem_room(&m, UINT64_MAX / 2), 0);
	cr_expect_eq(hostres_mem_fits(&m, 1024, 4096 - HOSTRES_MEM_MARGIN_MIB - 1024), 0,
		     "exactly the room fits");
	cr_expect_eq(hostres_mem_fits(&m, 1024, 4096 - HOSTRES_MEM_MARGIN_MIB - 1023), -EBUSY,
		     "one MiB more waits");
	cr_expect_eq(hostres_mem_fits(&m, 0, 8192 - HOSTRES_MEM_MARGIN_MIB), -EBUSY,
		     "fits the host, not now");
	cr_expect_eq(hostres_mem_fits(&m, 0, 8192 - HOSTRES_MEM_MARGIN_MIB + 1), -ENOSPC,
		     "more than the host less the margin: never");
	m.total_mib = 100;
	cr_expect_eq(hostres_mem_fits(&m, 0, 1), -ENOSPC, "a host smaller than the margin");
}

Test(hostres_mem, a_meminfo_past_its_bound_is_refused)
{
	char path[] = "/tmp/ktstr-meminfo-XXXXXX";
	struct hostres_meminfo m;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	cr_assert_not_null(f);
	fputs(meminfo, f);
	for (size_t n = strlen(meminfo); n <= HOSTRES_MEMINFO_MAX; n += 16)
		fputs("Padding:   0 kB\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_expect_eq(hostres_meminfo_read(path, &m), -EFBIG);
	unlink(path);
}
