/* The KVM engine end to end on this host's /dev/kvm: tiny guests (see
 * tests/tiny-guests) run through engine_kvm_run by ktstr-tiny-guests, and
 * each test asserts the outcome and what the host received (COM1, COM2,
 * CPUID topology as the guest saw it, the SHM ring message, fault details). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char out[16384];

static void run_tiny(const char *args)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char cmd[512];
	size_t n;
	FILE *p;

	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("/dev/kvm is not usable here");
	snprintf(cmd, sizeof(cmd), "timeout 60 %s/bin/ktstr-tiny-guests run %s 2>&1", build, args);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	if (strstr(out, "no tiny guests built"))
		cr_skip_test("tiny guests not built");
}

static void expect(const char *line)
{
	cr_expect(strstr(out, line) != NULL, "expected \"%s\" in:\n%s", line, out);
}

/* What every scenario does before its ending. */
static void expect_common(void)
{
	expect("run_rc=0\n");
	expect("com1=TINY: hello com1|");
	expect("com2=TINY: hello com2|");
	expect("TINY: ring written|");
	expect("ring0_type=EXIT\nring0_crc_ok=1\nring0_payload=tiny-ring-ok\n");
}

Test(kvm_tiny, poweroff_bzimage_reports_topology_and_ring)
{
	run_tiny("poweroff bzimage 1,2,2,2 10000");
	expect("outcome=OUTCOME_POWER_OFF\n");
	expect_common();
	/* 2 LLCs x 2 cores x 2 threads: SMT shift 1 (2 threads), core-level
	 * shift 2 (4 logical CPUs per LLC package), BSP APIC ID 0. */
	expect("cpuid 1.ebx=00040800 b0.eax=00000001 b0.ebx=00000002 b0.edx=00000000 b1.eax=00000002 b1.ebx=00000004");
}

Test(kvm_tiny, poweroff_pvh)
{
	run_tiny("poweroff pvh 1,1,4,1 10000");
	expect("outcome=OUTCOME_POWER_OFF\n");
	expect_common();
	expect("b0.eax=00000000 b0.ebx=00000001 b0.edx=00000000 b1.eax=00000002 b1.ebx=00000004");
}

Test(kvm_tiny, i8042_reset)
{
	run_tiny("reset bzimage 1,1,1,1 10000");
	expect("outcome=OUTCOME_RESET\n");
	expect_common();
}

Test(kvm_tiny, triple_fault)
{
	run_tiny("triple-fault pvh 1,1,2,1 10000");
	expect("outcome=OUTCOME_TRIPLE_FAULT\n");
	expect_common();
}

Test(kvm_tiny, watchdog_ends_a_hung_guest)
{
	run_tiny("hang bzimage 1,1,2,1 1500");
	expect("outcome=OUTCOME_TIMEOUT\n");
	expect_common();
}

Test(kvm_tiny, unbacked_memory_is_a_kvm_error_with_address)
{
	run_tiny("unbacked bzimage 1,1,1,1 10000");
	expect("outcome=OUTCOME_KVM_ERROR\n");
	expect("0x30000000");
	expect_common();
}

Test(kvm_tiny, panic_marker_ends_the_vm)
{
	run_tiny("panic pvh 1,1,1,1 10000");
	expect("outcome=OUTCOME_GUEST_PANIC\n");
	expect("Kernel panic - not syncing: tiny guest");
}

/* int3 in ring 0: kvm_pvm cannot emulate it (emulation failure with the
 * RIP and the bytes read back through the guest page tables); hardware KVM
 * delivers it through the null IDT, which ends in a triple fault. */
Test(kvm_tiny, emulation_failure_reports_rip_and_bytes)
{
	run_tiny("emulation bzimage 1,1,1,1 10000");
	if (strstr(out, "OUTCOME_TRIPLE_FAULT"))
		return; /* hardware KVM */
	expect("outcome=OUTCOME_EMULATION_FAILURE\n");
	expect("fault_insn=cc");
	expect("fault_rip=0x100");
}
