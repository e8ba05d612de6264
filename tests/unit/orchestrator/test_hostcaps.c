/* The host probe on fake sysfs/proc trees: every host kind this project has
 * met (no cache topology, caches up to L2 only, two L3s; /dev/kvm absent,
 * kvm_pvm, hardware SVM) gives what is right for it, and the plan applies
 * LLC checks only where the layout is known. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/util.h>

#include "fakesys.h"
#include "helpers.h"
#include "hostcaps.h"
#include "plan.h"
#include "preflight.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	fakesys_put(root, rel, text);
}

static void cache(unsigned c, int idx, int level, const char *shared)
{
	fakesys_cache(root, c, idx, level, shared);
}

static void setup_root(void)
{
	fakesys_mkroot(root, sizeof(root), "hostcaps");
}

static void teardown_root(void)
{
	fakesys_rm(root);
}

TestSuite(hostcaps, .init = setup_root, .fini = teardown_root);

Test(hostcaps, no_cache_topology_is_unknown_not_one_cpu_per_llc)
{
	struct host_caps hc;
	char line[512], want[256];

	put("sys/devices/system/cpu/online", "0-1\n");
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_AUTO, &hc);
	cr_assert_eq(hc.cpus, 2);
	cr_assert(hc.llc_unknown);
	cr_assert_eq(hc.llcs, 0);
	snprintf(want, sizeof(want), "no cache/index%d in sysfs for cpu0", HOSTCAPS_LLC_MIN_LEVEL);
	cr_assert(strstr(hc.llc_note, want), "%s", hc.llc_note);
	hostcaps_describe(&hc, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "2 CPUs, LLC layout unknown (no cache/index%d in sysfs for cpu0: LLC checks not "
		 "applied)",
		 HOSTCAPS_LLC_MIN_LEVEL);
	cr_assert(strstr(line, want), "%s", line);
}

Test(hostcaps, caches_up_to_l2_do_not_make_l2_the_llc)
{
	struct host_caps hc;

	if (HOSTCAPS_LLC_MIN_LEVEL < 3)
		cr_skip_test("on this architecture an L2 may be the LLC");

	put("sys/devices/system/cpu/online", "0-1\n");
	for (unsigned c = 0; c < 2; c++) {
		char self[8];

		snprintf(self, sizeof(self), "%u\n", c);
		cache(c, 0, 1, self);
		cache(c, 2, 2, self);
	}
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_AUTO, &hc);
	cr_assert(hc.llc_unknown);
	cr_assert(strstr(hc.llc_note, "only up to L2 for cpu0, no L3"), "%s", hc.llc_note);
}

Test(hostcaps, two_l3s_are_counted_with_their_widest_sharing)
{
	struct host_caps hc;
	char line[512];

	put("sys/devices/system/cpu/online", "0-5\n");
	for (unsigned c = 0; c < 6; c++) {
		char self[8];

		snprintf(self, sizeof(self), "%u\n", c);
		cache(c, 0, 1, self);
		cache(c, 2, 2, self);
		cache(c, 3, 3, c < 4 ? "0-3\n" : "4-5\n");
	}
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_AUTO, &hc);
	cr_assert_not(hc.llc_unknown, "%s", hc.llc_note);
	cr_assert_eq(hc.cpus, 6);
	cr_assert_eq(hc.llcs, 2);
	cr_assert_eq(hc.max_cpus_per_llc, 4);
	hostcaps_describe(&hc, line, sizeof(line));
	cr_assert(strstr(line, "6 CPUs, 2 LLCs, engine qemu (TCG), kvm absent"), "%s", line);
}

Test(hostcaps, kvm_kinds_and_what_auto_resolves_to)
{
	struct host_caps hc;
	char err[1024];

	put("sys/devices/system/cpu/online", "0-3\n");
	put("proc/cpuinfo", "flags\t\t: fpu vme svm lm\n");
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_AUTO, &hc);
	cr_assert_str_eq(hc.kvm_kind, "absent");
	cr_assert_eq(hc.engine, KTSTR__ENGINE__ENGINE_QEMU);
	cr_assert(hc.emulated);
	cr_assert_eq(hc.max_vcpus, 16, "TCG: 4 vCPUs per host CPU by default");

	put("dev/kvm", "");
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_AUTO, &hc);
	cr_assert_str_eq(hc.kvm_kind, "hardware-svm");
	cr_assert_eq(hc.engine, KTSTR__ENGINE__ENGINE_KVM);
	cr_assert_not(hc.emulated);

	put("sys/module/kvm_pvm/initstate", "live\n");
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_AUTO, &hc);
	cr_assert_str_eq(hc.kvm_kind, "kvm_pvm");
	cr_assert_eq(hc.engine, KTSTR__ENGINE__ENGINE_QEMU, "kvm_pvm cannot boot Linux: TCG");
	cr_assert(hc.emulated);

	/* --engine kvm on kvm_pvm: refused before any VM, with the fix. */
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_KVM, &hc);
	cr_assert_eq(preflight_engine(&hc, "alice", err, sizeof(err)), -ENODEV);
	cr_assert(strstr(err, "kvm_pvm") && strstr(err, "--engine qemu"), "%s", err);
}

/* /dev/kvm on a CPU without svm/vmx (kvm_pvm built in, or any software
 * KVM): not hardware, so auto picks QEMU and --engine kvm is refused. */
Test(hostcaps, a_dev_kvm_without_svm_or_vmx_is_not_hardware)
{
	struct host_caps hc;
	char err[1024];

	put("sys/devices/system/cpu/online", "0-1\n");
	put("proc/cpuinfo", "flags\t\t: fpu vme hypervisor lm\n");
	put("dev/kvm", "");
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_AUTO, &hc);
	cr_assert_str_eq(hc.kvm_kind, "not-hardware");
	cr_assert_eq(hc.engine, KTSTR__ENGINE__ENGINE_QEMU);
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_KVM, &hc);
	cr_assert_eq(preflight_engine(&hc, "alice", err, sizeof(err)), -ENODEV);
	cr_assert(strstr(err, "neither svm nor vmx"), "%s", err);
}

/* The capacity filter: with the layout unknown only the CPU count limits;
 * with it known, LLC count and width do too. */
Test(hostcaps, plan_applies_llc_checks_only_where_known)
{
	struct suite *s = parse_ok("tests:\n  - {name: two, topology: \"1,2,1,1\"}\n"
				   "  - {name: wide, topology: \"1,1,2,1\"}\n");
	struct plan_opts o = { .kernel_scx = 1 };
	struct plan p;
	char err[256];

	put("sys/devices/system/cpu/online", "0-1\n");
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_KVM, &o.host);
	cr_assert(o.host.llc_unknown);
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.v[0].state, VAR_KEPT, "%s", p.v[0].reason);
	cr_assert_eq(p.v[1].state, VAR_KEPT, "%s", p.v[1].reason);
	plan_free(&p);

	/* The same host with its layout shown: one L3 per CPU. */
	cache(0, 3, 3, "0\n");
	cache(1, 3, 3, "1\n");
	hostcaps_probe_at(root, KTSTR__ENGINE__ENGINE_KVM, &o.host);
	cr_assert_not(o.host.llc_unknown);
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.v[0].state, VAR_KEPT, "%s", p.v[0].reason);
	cr_assert_eq(p.v[1].state, VAR_SKIP_HOST);
	cr_assert(strstr(p.v[1].reason, "needs 2 CPUs per LLC; host has at most 1"), "%s",
		  p.v[1].reason);
	plan_free(&p);
	suite_free(s);
}
