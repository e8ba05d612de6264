/* Performance mode end to end on this host's /dev/kvm (kvm_pvm included),
 * through the real, confined ktstr-vmm-worker: a tiny guest (tests/tiny-guests)
 * prints CPUID 0x4000_0001.EDX ("kvm1.edx="), and while a hanging guest runs
 * the test reads the worker's threads from the host:
 *   - the guest sees KVM_HINTS_REALTIME (EDX bit 0) with performance_mode and
 *     not without it;
 *   - ktstr-vcpu0's Cpus_allowed_list is the requested pin CPU and the
 *     control thread's is the service CPU; both run SCHED_FIFO (1 and 2)
 *     when this process may grant it (root or an rtprio limit);
 *   - with a few 2 MiB hugepages reserved (as root; restored afterwards),
 *     the worker's smaps shows a hugetlb mapping of guest RAM, and
 *     VmResult.perf says so; without them, it says hugepages=0 and a note
 *     names `echo N > /proc/sys/vm/nr_hugepages`.
 * Every run must also still end sandboxed with the worker exiting 0: the
 * perf-mode syscalls all happen before the seccomp policies load.
 * Run one test at a time (`--jobs 1`, as scripts/run-tests does): the
 * tests share the host's CPUs and hugepage pool. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "lib/vmtest.h"
#include "worker_client.h"

#define TINY_MEMORY_MB 128u /* the worker's minimum */
/* The worker raises 128 MiB to its boot floor (memfloor.c: 256 MiB + SHM,
 * 258 MiB here = 129 hugepages): reserve with room to spare. */
#define TINY_HUGEPAGES 160L
#define HUGEPAGES_PATH "/proc/sys/vm/nr_hugepages"

struct thread_look {
	char cpus[64];	/* Cpus_allowed_list */
	int policy;	/* sched_getscheduler, -1 unknown */
	int prio;
};

struct perf_run {
	/* inputs */
	const char *scenario;
	bool perf;
	bool pin;
	uint32_t vcpu_cpu, service_cpu;
	/* live look (hang scenario) */
	volatile int stop;
	bool looked;
	struct thread_look vcpu0, ctl;
	bool smaps_hugetlb;	/* a mapping with Private_Hugetlb > 0 */
	struct worker_outcome *wo;
	/* after the run */
	char com2[4096];
	bool sandboxed;
	int worker_exit;
	bool has_perf;
	Ktstr__PerfModeReport perf_r; /* copied scalars (notes joined below) */
	char notes[2048];
};

static void look_thread(pid_t pid, const char *tid, struct thread_look *t)
{
	char path[128], buf[4096];
	struct sched_param sp;

	snprintf(path, sizeof(path), "/proc/%d/task/%.32s/status", (int)pid, tid);
	vmtest_slurp(path, buf, sizeof(buf));
	vmtest_status_field(buf, "Cpus_allowed_list", t->cpus, sizeof(t->cpus));
	t->policy = sched_getscheduler((pid_t)atoi(tid));
	t->prio = sched_getparam((pid_t)atoi(tid), &sp) == 0 ? sp.sched_priority : -1;
}

/* Any mapping of the worker backed by hugetlb pages (guest RAM). */
static bool smaps_has_hugetlb(pid_t pid)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long kb;

		if ((sscanf(line, "Private_Hugetlb: %lu kB", &kb) == 1 ||
		     sscanf(line, "Shared_Hugetlb: %lu kB", &kb) == 1) && kb > 0)
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

static void look(struct perf_run *r, pid_t pid)
{
	char path[64], comm[64], cpath[128];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%.32s/comm", (int)pid, de->d_name);
		vmtest_slurp(cpath, comm, sizeof(comm));
		comm[strcspn(comm, "\n")] = '\0';
		if (!strcmp(comm, "ktstr-vcpu0"))
			look_thread(pid, de->d_name, &r->vcpu0);
		else if (atoi(de->d_name) == (int)pid)
			look_thread(pid, de->d_name, &r->ctl);
	}
	if (d)
		closedir(d);
	r->smaps_hugetlb = smaps_has_hugetlb(pid);
	r->looked = true;
}

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct perf_run *r = ctx;

	/* The first output proves the guest runs (every thread set up and
	 * confined): look now, then stop the hanging guest. */
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && !r->looked) {
		look(r, (pid_t)r->wo->worker_pid);
		r->stop = 1;
	}
}

static void run_perf(struct perf_run *r)
{
	char worker[PATH_MAX], tiny[PATH_MAX], dir[PATH_MAX], image[PATH_MAX + 16];
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	uint32_t pins[1];
	struct worker_outcome wo;
	char *log = NULL;
	int status = 0;

	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("/dev/kvm is not usable here");
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", worker, sizeof(worker)), 0,
		     "ktstr-vmm-worker is not built next to this test (make first)");
	cr_assert_eq(vmtest_bin("ktstr-tiny-guests", tiny, sizeof(tiny)), 0,
		     "ktstr-tiny-guests is not built next to this test (make first)");
	cr_assert_eq(vmtest_tmpdir(dir, sizeof(dir)), 0);
	snprintf(image, sizeof(image), "%s/tiny.img", dir);
	char *argv[] = { tiny, "image", (char *)r->scenario, "bzimage", image, NULL };
	int rc = vmtest_run(argv, 30000, &log, &status);
	cr_assert(rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "ktstr-tiny-guests image %s failed:\n%s", r->scenario, log ? log : "");
	free(log);
	int kfd = open(image, O_RDONLY | O_CLOEXEC);
	cr_assert(kfd >= 0, "open %s: %s", image, strerror(errno));

	t.numa_nodes = t.llcs = t.cores_per_llc = t.threads_per_core = 1;
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	spec.topology = &t;
	spec.memory_mb = TINY_MEMORY_MB;
	spec.timeout_ms = 10000;
	spec.has_shm_size = true;
	spec.shm_size = 1u << 20;
	spec.has_stream_output = true;
	spec.stream_output = true;
	spec.label = (char *)r->scenario;
	if (r->perf) {
		spec.has_performance_mode = true;
		spec.performance_mode = true;
	}
	if (r->pin) {
		pins[0] = r->vcpu_cpu;
		spec.n_pin_cpus = 1;
		spec.pin_cpus = pins;
		spec.has_service_cpu = true;
		spec.service_cpu = r->service_cpu;
	}
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = -1, .stdin_fd = -1,
				  .stdout_fd = -1 };
	struct worker_client_opts o = { .worker_path = worker, .stderr_fd = -2,
					.grace_ms = 20000, .on_event = on_event, .ctx = r,
					.stop = &r->stop };
	r->wo = &wo;
	cr_assert_eq(worker_run_vm(&spec, &fds, &o, &wo), 0);
	close(kfd);
	vmtest_rm_rf(dir);
	cr_assert_not_null(wo.result);

	const Ktstr__VmResult *res = wo.result;
	cr_expect(!wo.infra_error, "infra error: %s",
		  res->error && res->error->why ? res->error->why : "?");
	if (res->has_guest_output) {
		size_t n = res->guest_output.len < sizeof(r->com2) - 1 ? res->guest_output.len
									: sizeof(r->com2) - 1;
		memcpy(r->com2, res->guest_output.data, n);
		r->com2[n] = '\0';
	}
	r->sandboxed = res->has_sandboxed && res->sandboxed;
	r->worker_exit = wo.reaped && WIFEXITED(wo.worker_status) ? WEXITSTATUS(wo.worker_status)
								     : -1;
	r->has_perf = res->perf != NULL;
	if (res->perf) {
		size_t used = 0;

		r->perf_r = *res->perf;
		r->perf_r.notes = NULL;
		for (size_t i = 0; i < res->perf->n_notes && used < sizeof(r->notes); i++)
			used += (size_t)snprintf(r->notes + used, sizeof(r->notes) - used, "%s\n",
						 res->perf->notes[i]);
	}
	cr_log_info("%s perf=%d: com2=%s\nperf notes:\n%s", r->scenario, r->perf, r->com2,
		    r->notes);
	worker_outcome_free(&wo);
}

/* Two distinct CPUs this process may use: service first, vCPU second. */
static bool two_cpus(uint32_t *service, uint32_t *vcpu)
{
	cpu_set_t set;
	int found = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return false;
	for (uint32_t c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, &set))
			*(found++ ? vcpu : service) = c;
	return found == 2;
}

Test(worker_perf, realtime_hint_only_in_performance_mode, .timeout = 120)
{
	struct perf_run off = { .scenario = "poweroff" }, on = { .scenario = "poweroff", .perf = true };

	run_perf(&off);
	cr_expect(strstr(off.com2, " kvm1.edx=00000000") != NULL, "no hint without perf mode:\n%s",
		  off.com2);
	cr_expect(!off.has_perf, "VmResult.perf only when performance mode was asked");
	cr_expect(off.sandboxed && off.worker_exit == 0);

	run_perf(&on);
	cr_expect(strstr(on.com2, " kvm1.edx=00000001") != NULL,
		  "KVM_HINTS_REALTIME in CPUID 0x4000_0001.EDX with perf mode:\n%s", on.com2);
	cr_expect(on.has_perf && on.perf_r.realtime_hint && on.perf_r.halt_poll_unset);
	/* No pins given: the report must say unpinned, with a note. */
	cr_expect(!on.perf_r.pinned && strstr(on.notes, "no pin_cpus"), "notes:\n%s", on.notes);
	cr_expect(on.sandboxed && on.worker_exit == 0, "confined and the worker exits 0");
}

/* nr_hugepages, or -1. */
static long read_hugepages(void)
{
	char buf[64];

	vmtest_slurp(HUGEPAGES_PATH, buf, sizeof(buf));
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

static bool write_hugepages(long n)
{
	char buf[32];
	int fd = open(HUGEPAGES_PATH, O_WRONLY | O_CLOEXEC);
	int len = snprintf(buf, sizeof(buf), "%ld\n", n);
	bool ok = fd >= 0 && write(fd, buf, (size_t)len) == len;

	if (fd >= 0)
		close(fd);
	return ok;
}

static long free_hugepages(void)
{
	char buf[4096], v[32];

	vmtest_slurp("/proc/meminfo", buf, sizeof(buf));
	vmtest_status_field(buf, "HugePages_Free", v, sizeof(v));
	return v[0] ? strtol(v, NULL, 10) : -1;
}

static void expect_pinned_rt(const struct perf_run *r)
{
	char want[16];

	cr_assert(r->looked, "the guest never produced output: no live look");
	snprintf(want, sizeof(want), "%u", r->vcpu_cpu);
	cr_expect_str_eq(r->vcpu0.cpus, want, "ktstr-vcpu0 Cpus_allowed_list");
	snprintf(want, sizeof(want), "%u", r->service_cpu);
	cr_expect_str_eq(r->ctl.cpus, want, "control thread Cpus_allowed_list");
	cr_expect(r->perf_r.pinned && r->perf_r.service_pinned, "VmResult.perf says pinned");
	if (r->perf_r.rt) {
		cr_expect_eq(r->vcpu0.policy, SCHED_FIFO, "vCPU thread policy");
		cr_expect_eq(r->vcpu0.prio, 1, "vCPU thread FIFO priority");
		cr_expect_eq(r->ctl.policy, SCHED_FIFO, "control thread policy");
		cr_expect_eq(r->ctl.prio, 2, "control thread FIFO priority");
	} else {
		/* Only acceptable where this process could not grant it. */
		cr_expect(geteuid() != 0, "root must get SCHED_FIFO; notes:\n%s", r->notes);
		cr_expect(strstr(r->notes, "SCHED_FIFO") != NULL, "the RT failure is noted");
	}
	cr_expect(r->sandboxed && r->worker_exit == 0, "confined and the worker exits 0");
}

Test(worker_perf, pins_vcpu_and_service_threads_with_rt, .timeout = 120)
{
	struct perf_run r = { .scenario = "hang", .perf = true, .pin = true };

	if (!two_cpus(&r.service_cpu, &r.vcpu_cpu))
		cr_skip_test("needs 2 usable CPUs (1 vCPU + 1 service CPU)");
	run_perf(&r);
	expect_pinned_rt(&r);
	cr_expect(strstr(r.com2, " kvm1.edx=00000001") != NULL, "%s", r.com2);
	if (free_hugepages() < TINY_HUGEPAGES) {
		cr_expect(!r.perf_r.hugepages && strstr(r.notes, "/proc/sys/vm/nr_hugepages"),
			  "hugepage fallback noted with the fix:\n%s", r.notes);
		cr_expect(!r.smaps_hugetlb);
	}
}

Test(worker_perf, hugepages_back_guest_ram_when_reserved, .timeout = 120)
{
	struct perf_run r = { .scenario = "hang", .perf = true, .pin = true };
	long before = read_hugepages(), want = TINY_HUGEPAGES;

	if (!two_cpus(&r.service_cpu, &r.vcpu_cpu))
		cr_skip_test("needs 2 usable CPUs (1 vCPU + 1 service CPU)");
	if (geteuid() != 0 || before < 0)
		cr_skip_test("reserving hugepages needs root (write " HUGEPAGES_PATH ")");
	if (!write_hugepages(before + want)) {
		cr_skip_test("the kernel refused to change " HUGEPAGES_PATH ": %s", strerror(errno));
	}
	if (free_hugepages() < want) {
		write_hugepages(before);
		cr_skip_test("the kernel could only reserve %ld of %ld 2 MiB hugepages "
			     "(fragmented memory)", free_hugepages(), want);
	}
	run_perf(&r);
	/* Restore before any assertion can end the test. */
	cr_expect(write_hugepages(before), "restore " HUGEPAGES_PATH " to %ld", before);
	expect_pinned_rt(&r);
	cr_expect(r.perf_r.hugepages, "VmResult.perf.hugepages; notes:\n%s", r.notes);
	cr_expect(r.smaps_hugetlb, "guest RAM is a hugetlb mapping in the worker's smaps");
}
