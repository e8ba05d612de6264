/* Which output port the guest opens (guest/report.c, report_output_dev):
 * the architecture's default, or the one an engine names with
 * KTSTR_OUTPUT_PORT (ktstr/guest_contract.h), never a path of the
 * command line's choosing. */
#include <criterion/criterion.h>

#include "ktstr/guest_contract.h"
#include "report.h"

Test(output_port, default_is_the_architectures)
{
	bool refused = true;

#if defined(__aarch64__)
	cr_assert_str_eq(report_output_dev(NULL, &refused), KTSTR_GUEST_COM2_DEV_ARM64);
#else
	cr_assert_str_eq(report_output_dev(NULL, &refused), KTSTR_GUEST_COM2_DEV);
#endif
	cr_assert_not(refused);
	cr_assert_str_eq(report_output_dev("", &refused), GUEST_OUTPUT_DEV);
	cr_assert_not(refused);
}

Test(output_port, an_engine_names_either_known_port)
{
	bool refused = true;

	cr_assert_str_eq(report_output_dev("ttyS1", &refused), "/dev/ttyS1");
	cr_assert_not(refused);
	cr_assert_str_eq(report_output_dev("hvc0", &refused), "/dev/hvc0");
	cr_assert_not(refused);
}

Test(output_port, anything_else_is_refused_and_the_default_opened)
{
	static const char *const bad[] = { "/dev/sda", "ttyS0", "../mem", "hvc0 ", "HVC0",
					   "ttyS1/../../dev/mem", "/dev/hvc0" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool refused = false;

		cr_assert_str_eq(report_output_dev(bad[i], &refused), GUEST_OUTPUT_DEV, "%s",
				 bad[i]);
		cr_assert(refused, "%s was taken", bad[i]);
	}
}
