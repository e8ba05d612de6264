/* sched_klog_reason: what the guest reports when sched_ext drops a
 * scheduler, from kernel log text as 7.2 writes it. */
#include <criterion/criterion.h>
#include <string.h>

#include "scheduler.h"

static const char klog_stall[] =
	"<6>[    2.000000] sched_ext: BPF scheduler \"ktstr\" enabled\n"
	"<6>[    3.000000] sched_ext: BPF scheduler \"ktstr\" disabled (unregistered from user space)\n"
	"<6>[    5.000000] sched_ext: BPF scheduler \"ktstr\" enabled\n"
	"<6>[    5.100000] random: crng init done\n"
	"<3>[    8.000000] sched_ext: BPF scheduler \"ktstr\" disabled (runnable task stall)\n"
	"<3>[    8.000001] sched_ext: ktstr: init[108] failed to run for 2.612s\n";

Test(sched_klog, only_lines_after_the_last_enable_with_the_stalled_pid)
{
	char buf[512];
	int pid = -1, n = sched_klog_reason(klog_stall, buf, sizeof(buf), &pid);

	cr_assert_eq(n, 2, "%s", buf);
	cr_assert_str_eq(buf, "sched_ext: BPF scheduler \"ktstr\" disabled (runnable task stall); "
			      "sched_ext: ktstr: init[108] failed to run for 2.612s");
	cr_assert_eq(pid, 108);
}

Test(sched_klog, a_clean_exit_names_no_task)
{
	char buf[512];
	int pid = -1;

	cr_assert_eq(sched_klog_reason("sched_ext: BPF scheduler \"s\" enabled\n"
				       "sched_ext: BPF scheduler \"s\" disabled (unregistered from BPF)\n",
				       buf, sizeof(buf), &pid),
		     1);
	cr_assert_str_eq(buf, "sched_ext: BPF scheduler \"s\" disabled (unregistered from BPF)");
	cr_assert_eq(pid, 0);
}

Test(sched_klog, nothing_after_the_enable_and_a_small_buffer_stay_terminated)
{
	char buf[16];
	int pid = 0;

	cr_assert_eq(sched_klog_reason("sched_ext: BPF scheduler \"s\" enabled\n", buf, sizeof(buf),
				       &pid),
		     0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(sched_klog_reason(klog_stall, buf, sizeof(buf), &pid), 2);
	cr_assert_eq(strlen(buf), sizeof(buf) - 1);
	cr_assert_eq(pid, 108);
}
