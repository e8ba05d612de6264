/* ktstr-guest end to end under QEMU TCG, without the orchestrator: each test
 * packs /init (ktstr-guest), /ktstr/spec.pb, busybox and the init sentinel
 * into a newc archive, boots the dev kernel with a file-backed RAM whose top
 * 16 MiB is the SHM ring (formatted here, as the host does), then checks
 * COM2 and the ring. Skips when QEMU or a kernel is missing. One VM at a
 * time; each boot is bounded by a 120 s timeout. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.pb-c.h"
#include "ktstr/cpio.h"
#include "ktstr/le.h"
#include "ktstr/ring.h"
#include "ktstr/util.h"
#include "lib/ring_tally.h"
#include "lib/vmtest.h"
#include "scenario_catalog.h"

#define MEM_SIZE (512ull << 20)
#define SHM_SIZE (16ull << 20)
#define SHM_BASE (MEM_SIZE - SHM_SIZE)

struct boot {
	char dir[512];
	char *com2;
	struct ring_tally t; /* what the ring carried */
};

static int add_host_file(struct cpio_writer *w, const char *guest, const char *host)
{
	int fd = open(host, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = cpio_add_file_fd(w, guest, 0755, fd, 64u << 20);
	close(fd);
	return ret;
}

/* Boot spec; with_ok = 0 leaves out /.ktstr_init_ok. kernel: a vmtest_kernel()
 * kind: "vmlinux" (sched_ext) or "noscx". */
static void boot(struct boot *b, const Ktstr__GuestSpec *spec, int with_ok, const char *kdir)
{
	char guest[512], img[600], mem[600], c1[600], c2[600], kernel[256], append[512];
	char smp[] = "4,sockets=2,cores=2,threads=1", memobj[700];
	struct cpio_writer w;
	size_t len = ktstr__guest_spec__get_packed_size(spec);
	uint8_t *pb = malloc(len + 1);
	uint8_t *arch;
	size_t alen;
	int fd, st;
	void *map;
	struct ktstr_ring ring;

	memset(b, 0, sizeof(*b));
	if (vmtest_bin("ktstr-guest", guest, sizeof(guest)))
		test_missing("ktstr-guest not built");
	if (vmtest_kernel(kdir, kernel, sizeof(kernel)) ||
	    vmtest_sh("command -v qemu-system-x86_64", 5000, NULL))
		test_missing("no %s or no qemu-system-x86_64", kernel);
	cr_assert_eq(vmtest_tmpdir(b->dir, sizeof(b->dir)), 0);
	ktstr__guest_spec__pack(spec, pb);

	cpio_init(&w, 1);
	cr_assert_eq(cpio_add_dir(&w, "/ktstr", 0755), 0);
	cr_assert_eq(cpio_add_dir(&w, "/bin", 0755), 0);
	cr_assert_eq(add_host_file(&w, "/init", guest), 0);
	cr_assert_eq(cpio_add_file(&w, "/ktstr/spec.pb", 0644, pb, len), 0);
	if (access("/bin/busybox", X_OK) == 0)
		cr_assert_eq(add_host_file(&w, "/bin/busybox", "/bin/busybox"), 0);
	if (with_ok)
		cr_assert_eq(cpio_add_file(&w, "/.ktstr_init_ok", 0644, "", 0), 0);
	cr_assert_eq(cpio_finish(&w), 0);
	cpio_take(&w, &arch, &alen);
	snprintf(img, sizeof(img), "%s/img.cpio", b->dir);
	fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write_full(fd, arch, alen), 0);
	close(fd);
	free(arch);
	free(pb);

	/* RAM file with a formatted ring at the top (what the host does). */
	snprintf(mem, sizeof(mem), "%s/mem", b->dir);
	fd = open(mem, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)MEM_SIZE), 0);
	map = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)SHM_BASE);
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(ring_format(map, SHM_SIZE), 0);

	snprintf(c1, sizeof(c1), "file:%s/com1.log", b->dir);
	snprintf(c2, sizeof(c2), "file:%s/com2.log", b->dir);
	snprintf(memobj, sizeof(memobj),
		 "memory-backend-file,id=m0,size=%llu,mem-path=%s,share=on",
		 (unsigned long long)MEM_SIZE, mem);
	snprintf(append, sizeof(append),
		 "console=ttyS0 panic=-1 reboot=k quiet cryptomgr.notests nokaslr "
		 "mitigations=off no_timer_check tsc=reliable random.trust_cpu=on iomem=relaxed "
		 "rdinit=/init memmap=%lluM$0x%llx KTSTR_SHM_BASE=0x%llx KTSTR_SHM_SIZE=0x%llx",
		 (unsigned long long)(SHM_SIZE >> 20), (unsigned long long)SHM_BASE,
		 (unsigned long long)SHM_BASE, (unsigned long long)SHM_SIZE);
	{
		char *argv[] = { "qemu-system-x86_64", "-accel", "tcg,thread=single", "-M", "pc",
				 "-cpu", "max", "-smp", smp, "-m", "512",
				 "-object", memobj, "-machine", "memory-backend=m0",
				 "-nodefaults", "-no-user-config", "-vga", "none",
				 "-display", "none", "-no-reboot", "-kernel", kernel,
				 "-initrd", img, "-serial", c1, "-serial", c2,
				 "-append", append, NULL };
		char *out = NULL;
		int ret = vmtest_run(argv, 120000, &out, &st);

		cr_assert_eq(ret, 0, "qemu did not finish within 120 s (%d): %s", ret,
			     out ? out : "");
		free(out);
	}
	snprintf(c2, sizeof(c2), "%s/com2.log", b->dir);
	{
		size_t n;

		if (read_file(c2, &b->com2, &n, 16u << 20))
			b->com2 = strdup("");
	}
	cr_assert_eq(ring_attach(&ring, map, SHM_SIZE), 0);
	ring_drain(&ring, ring_tally_msg, &b->t, false);
	munmap(map, SHM_SIZE);
	close(fd);
}

static void boot_free(struct boot *b)
{
	ring_tally_release(&b->t);
	free(b->com2);
	vmtest_rm_rf(b->dir);
}

/* The topology boot() gives QEMU (-smp 4,sockets=2,cores=2,threads=1, no
 * -numa), which the guest checks against GuestSpec.topology. */
static Ktstr__Topology qemu_topo = { PROTOBUF_C_MESSAGE_INIT(&ktstr__topology__descriptor),
				     1, 2, 2, 1 };

/* A test spec running the canned scenario name as the host expands it
 * (orchestrator/scenario_catalog.c): the guest has no catalogue and runs
 * exactly what it is sent. Free *sc with protobuf_c_message_free_unpacked. */
static void spec_test(Ktstr__GuestSpec *g, Ktstr__Scenario **sc, Ktstr__AssertSpec *a,
		      const char *name)
{
	char err[512] = "";

	ktstr__guest_spec__init(g);
	ktstr__assert_spec__init(a);
	cr_assert_eq(scenario_catalog_build(name, sc, err, sizeof(err)), 0, "%s: %s", name, err);
	g->mode = KTSTR__GUEST_SPEC__MODE__MODE_TEST;
	g->test_name = (char *)name;
	(*sc)->has_duration_ms = 1;
	(*sc)->duration_ms = 1500;
	(*sc)->has_settle_ms = 1;
	(*sc)->settle_ms = 200;
	g->scenario = *sc;
	g->topology = &qemu_topo;
	/* TCG on a shared 2-core host: scheduling gaps and spreads say nothing
	 * about the guest, so those gates are relaxed; starvation and
	 * isolation stay strict. */
	a->has_max_gap_ms = 1;
	a->max_gap_ms = 60000;
	a->has_max_spread_pct = 1;
	a->max_spread_pct = 100;
	g->asserts = a;
}

Test(guest_qemu, canned_steady_eevdf_passes_and_reports_on_ring_and_com2, .timeout = 200)
{
	Ktstr__GuestSpec g;
	Ktstr__Scenario *sc;
	Ktstr__AssertSpec a;
	struct boot b;

	spec_test(&g, &sc, &a, "steady");
	boot(&b, &g, 1, "vmlinux");
	cr_assert(strstr(b.com2, "KTSTR_INIT_STARTED"), "COM2: %s", b.com2);
	cr_assert(strstr(b.com2, "===KTSTR_TEST_RESULT_START==="));
	cr_assert(strstr(b.com2, "KTSTR_EXIT=0"), "COM2: %s", b.com2);
	cr_assert_not_null(b.t.result, "no TEST message in the ring; COM2: %s", b.com2);
	cr_assert_eq(b.t.result->status, KTSTR__TEST_RESULT__STATUS__PASSED, "detail: %s",
		     b.t.result->detail ? b.t.result->detail : "");
	cr_assert_eq(b.t.result->n_workers, 4);
	for (size_t i = 0; i < b.t.result->n_workers; i++)
		cr_assert_gt(b.t.result->workers[i]->work_units, 0);
	cr_assert_eq(b.t.result->n_cgroups, 2);
	cr_assert_eq(b.t.result->guest_cpus, 4);
	cr_assert(b.t.have_exit && b.t.exit_code == 0);
	cr_assert_eq(b.t.scen_start, 1);
	cr_assert_eq(b.t.scen_end, 1);
	cr_assert_geq(b.t.stimuli, 1);
	boot_free(&b);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}

Test(guest_qemu, cpuset_apply_keeps_workers_inside_their_cpusets, .timeout = 200)
{
	Ktstr__GuestSpec g;
	Ktstr__Scenario *sc;
	Ktstr__AssertSpec a;
	struct boot b;

	spec_test(&g, &sc, &a, "cpuset_apply");
	a.has_isolation = 1;
	a.isolation = 1;
	boot(&b, &g, 1, "vmlinux");
	cr_assert_not_null(b.t.result, "COM2: %s", b.com2);
	cr_assert_eq(b.t.result->status, KTSTR__TEST_RESULT__STATUS__PASSED, "detail: %s",
		     b.t.result->detail ? b.t.result->detail : "");
	cr_assert_eq(b.t.stimuli, 2);
	cr_assert_eq(b.t.result->steps_completed, 2);
	/* 4 CPUs -> 3 usable -> disjoint halves 0 and 1-2 */
	cr_assert_str_eq(b.t.result->cgroups[0]->cpuset, "0");
	cr_assert_str_eq(b.t.result->cgroups[1]->cpuset, "1-2");
	boot_free(&b);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}

Test(guest_qemu, missing_init_sentinel_reports_truncated_image, .timeout = 200)
{
	Ktstr__GuestSpec g;
	Ktstr__Scenario *sc;
	Ktstr__AssertSpec a;
	struct boot b;

	spec_test(&g, &sc, &a, "steady");
	boot(&b, &g, 0, "vmlinux");
	cr_assert_not_null(b.t.result, "COM2: %s", b.com2);
	cr_assert_eq(b.t.result->status, KTSTR__TEST_RESULT__STATUS__TRUNCATED_IMAGE);
	cr_assert(strstr(b.com2, "KTSTR_EXIT=1"));
	boot_free(&b);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}

Test(guest_qemu, scheduler_on_kernel_without_sched_ext_is_not_attached, .timeout = 200)
{
	Ktstr__GuestSpec g;
	Ktstr__Scenario *sc;
	Ktstr__AssertSpec a;
	Ktstr__SchedulerSpec s;
	struct boot b;

	spec_test(&g, &sc, &a, "steady");
	ktstr__scheduler_spec__init(&s);
	s.kind = KTSTR__SCHEDULER_SPEC__KIND__BINARY;
	s.name = "simple";
	g.scheduler = &s;
	boot(&b, &g, 1, "noscx");
	cr_assert_not_null(b.t.result, "COM2: %s", b.com2);
	cr_assert_eq(b.t.result->status, KTSTR__TEST_RESULT__STATUS__SCHEDULER_NOT_ATTACHED);
	cr_assert(strstr(b.t.result->detail, "sched_ext sysfs absent"), "%s", b.t.result->detail);
	cr_assert(strstr(b.com2, "SCHEDULER_NOT_ATTACHED: sched_ext sysfs absent"));
	boot_free(&b);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}

Test(guest_qemu, shell_exec_prints_output_and_exit_code, .timeout = 200)
{
	Ktstr__GuestSpec g;
	struct boot b;

	ktstr__guest_spec__init(&g);
	g.mode = KTSTR__GUEST_SPEC__MODE__MODE_SHELL;
	g.exec_cmd = "echo hello-from-guest; exit 3";
	g.has_ring_disabled = 1;
	g.ring_disabled = 1;
	boot(&b, &g, 1, "vmlinux");
	cr_assert(strstr(b.com2, "hello-from-guest"), "COM2: %s", b.com2);
	cr_assert(strstr(b.com2, "KTSTR_EXEC_EXIT=3"), "COM2: %s", b.com2);
	cr_assert_null(strstr(b.com2, "KTSTR_INIT_STARTED"));
	cr_assert_eq(b.t.have_exit, 0, "ring_disabled must keep the ring untouched");
	boot_free(&b);
}

/* A VM whose topology is not the one asked for (a VMM or kernel topology
 * bug) fails before the scheduler starts, loudly: SETUP_FAILED with both
 * layouts in the result and on COM2. QEMU gets two sockets (two LLCs); the
 * spec asks for one LLC of four cores. */
Test(guest_qemu, a_topology_other_than_the_asked_one_fails_setup, .timeout = 200)
{
	Ktstr__GuestSpec g;
	Ktstr__Scenario *sc;
	Ktstr__AssertSpec a;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	struct boot b;

	spec_test(&g, &sc, &a, "steady");
	t.numa_nodes = t.llcs = t.threads_per_core = 1;
	t.cores_per_llc = 4;
	g.topology = &t;
	boot(&b, &g, 1, "vmlinux");
	cr_assert_not_null(b.t.result, "COM2: %s", b.com2);
	cr_assert_eq(b.t.result->status, KTSTR__TEST_RESULT__STATUS__SETUP_FAILED, "detail: %s",
		     b.t.result->detail ? b.t.result->detail : "");
	cr_assert(strstr(b.t.result->detail, "sees different LLCs: asked {cpus 0-3; cores [0] [1] "
					   "[2] [3]; llcs [0-3]; nodes [0-3]}, seen {cpus 0-3; "
					   "cores [0] [1] [2] [3]; llcs [0-1] [2-3]; nodes [0-3]}"),
		  "%s", b.t.result->detail);
	cr_assert(strstr(b.com2, "TOPOLOGY_MISMATCH: topology mismatch"), "COM2: %s", b.com2);
	cr_assert(strstr(b.com2, "KTSTR_EXIT=1"), "COM2: %s", b.com2);
	cr_assert_eq(b.t.result->n_workers, 0, "nothing ran");
	cr_assert_eq(b.t.scen_start, 0);
	boot_free(&b);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}
