/* performance_mode from the suite to the VmSpec: parsing, the plan's skip
 * when the host lacks vCPUs + 1 CPUs, spec_build's flag, and the runner's
 * host-CPU reservation (perf_cpus.c): disjoint sets for concurrent VMs, a
 * wait when others hold the CPUs, a hard no when the host never has them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "helpers.h"
#include "perf_cpus.h"
#include "plan.h"
#include "spec_build.h"

static const char *const perf_suite =
	"tests:\n"
	"  - name: fast\n"
	"    performance_mode: true\n"
	"    topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 2, threads_per_core: 1}\n"
	"  - name: plain\n"
	"    topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 2, threads_per_core: 1}\n";

static void plan_with_cpus(struct suite *s, uint32_t cpus, struct plan *p)
{
	struct plan_opts o = { .host = { .cpus = cpus, .llcs = 1, .max_cpus_per_llc = cpus,
					 .max_vcpus = cpus },
			       .kernel_scx = 1 };
	char err[256];

	cr_assert_eq(plan_build(s, &o, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p->n, 2);
}

Test(perf_mode, parsed_and_mapped_into_the_vm_spec)
{
	struct suite *s = parse_ok(perf_suite);
	struct run_settings rs = { 0 };
	struct vm_spec_holder h;
	struct plan p;

	cr_expect(s->tests[0].performance_mode);
	cr_expect(!s->tests[1].performance_mode);
	plan_with_cpus(s, 8, &p);
	cr_assert_eq(p.v[0].state, VAR_KEPT);
	cr_assert_eq(spec_build_vm(s, &p.v[0], &rs, &h), 0);
	cr_expect(h.vm.has_performance_mode && h.vm.performance_mode);
	cr_expect_eq(h.vm.n_pin_cpus, 0u, "pins come from the runner's reservation");
	spec_vm_free(&h);
	cr_assert_eq(spec_build_vm(s, &p.v[1], &rs, &h), 0);
	cr_expect(!h.vm.has_performance_mode);
	spec_vm_free(&h);
	plan_free(&p);
	suite_free(s);
}

Test(perf_mode, not_a_bool_is_a_suite_error)
{
	const char *e = parse_err("tests:\n  - {name: a, performance_mode: fast}\n");

	cr_expect(strstr(e, "performance_mode"), "%s", e);
}

Test(perf_mode, skipped_when_the_host_lacks_cpus_plus_one)
{
	struct suite *s = parse_ok(perf_suite);
	struct plan p;

	plan_with_cpus(s, 2, &p); /* 2 vCPUs + 1 service > 2 */
	cr_expect_eq(p.v[0].state, VAR_SKIP_HOST);
	cr_expect(strstr(p.v[0].reason, "performance_mode needs 3 host CPUs (2 vCPUs + 1 service "
					 "CPU); host has 2"), "%s", p.v[0].reason);
	cr_expect_eq(p.v[1].state, VAR_KEPT, "the plain test still runs");
	plan_free(&p);
	plan_with_cpus(s, 3, &p);
	cr_expect_eq(p.v[0].state, VAR_KEPT);
	plan_free(&p);
	suite_free(s);
}

Test(perf_cpus, concurrent_vms_get_disjoint_cpus_and_wait_for_more)
{
	cpu_set_t usable, busy;
	uint32_t a[3], b[3], c[3];

	CPU_ZERO(&usable);
	CPU_ZERO(&busy);
	for (int i = 2; i < 8; i++) /* this process may use CPUs 2-7 */
		CPU_SET(i, &usable);
	cr_assert_eq(perf_cpus_pick(&usable, &busy, 3, a), 0);
	cr_expect(a[0] == 2 && a[1] == 3 && a[2] == 4, "lowest first; a[2] = service CPU");
	cr_assert_eq(perf_cpus_pick(&usable, &busy, 3, b), 0);
	cr_expect(b[0] == 5 && b[1] == 6 && b[2] == 7);
	cr_expect_eq(perf_cpus_pick(&usable, &busy, 3, c), -EBUSY, "all held: wait");
	perf_cpus_release(&busy, a, 3);
	cr_assert_eq(perf_cpus_pick(&usable, &busy, 3, c), 0);
	cr_expect(c[0] == 2 && c[2] == 4, "released CPUs are reused");
	cr_expect_eq(perf_cpus_pick(&usable, &busy, 7, c), -ENOSPC, "never enough: no wait");
	cr_expect_eq(perf_cpus_pick(&usable, &busy, 0, c), -EINVAL);
}
