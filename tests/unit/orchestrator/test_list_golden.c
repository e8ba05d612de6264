/* `ktstr-orch list` output against tests/golden/list/<name>.out, on a fixed
 * pretend host and kernel so the file does not depend on this machine.
 * KTSTR_UPDATE_GOLDEN=1 rewrites the files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "helpers.h"
#include "plan.h"
#include "report.h"
#include "suite.h"

static void golden_list(const char *yaml, bool gauntlet, int scx, const char *outname)
{
	char path[1024], *text = NULL, *got = NULL, err[2048] = "";
	size_t len, glen = 0;
	struct suite *s = NULL;
	struct plan p = { 0 };
	struct plan_opts o = {
		.gauntlet = gauntlet, .kernel_scx = scx, .quiet = true,
		.host = { .cpus = 8, .llcs = 2, .max_cpus_per_llc = 4,
			  .engine = KTSTR__ENGINE__ENGINE_QEMU, .emulated = true, .max_vcpus = 32,
			  .kvm_kind = "absent" },
	};
	struct kernel_choice kc = { .image = "/cache/kernels/7.2.13/vmlinux", .scx = scx };
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/golden/list/%s", test_srcdir(), yaml);
	cr_assert_eq(read_file(path, &text, &len, 1 << 20), 0, "cannot read %s", path);
	cr_assert_eq(suite_parse(yaml, text, len, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	f = open_memstream(&got, &glen);
	cr_assert_eq(report_list(f, s, &p, &o.host, &kc, 1), 0);
	fclose(f);
	snprintf(path, sizeof(path), "%s/tests/golden/list/%s", test_srcdir(), outname);
	test_golden(path, got);
	free(got);
	free(text);
	plan_free(&p);
	suite_free(s);
}

Test(list_golden, plain_run_with_sched_ext_kernel)
{
	golden_list("mixed.yaml", false, 1, "mixed.out");
}

Test(list_golden, kernel_without_sched_ext_skips_with_reason)
{
	golden_list("mixed.yaml", false, 0, "mixed_noscx.out");
}

Test(list_golden, gauntlet_expansion)
{
	golden_list("gauntlet.yaml", true, 1, "gauntlet.out");
}
