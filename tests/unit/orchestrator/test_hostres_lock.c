/* The host reservation with real flocks in a private lock directory
 * (hostres.c, hostres_vm.c): caps of two holders never overlap, a third
 * waits and then reports contention (never a pass), a killed holder's CPUs
 * reach a waiter within a second, memory is admitted against MemAvailable
 * less what others declared, performance mode gets whole LLCs, and every
 * bound on what co-tenants may leave in the directory holds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "fakesys.h"
#include "hostres.h"
#include "hostres_scan.h"

static char root[64], locks[128], meminfo[128];
static cpu_set_t four;

static void set_meminfo(unsigned total_mib, unsigned avail_mib)
{
	char text[256];

	snprintf(text, sizeof(text), "MemTotal: %u kB\nMemFree: 1 kB\nMemAvailable: %u kB\n",
		 total_mib * 1024, avail_mib * 1024);
	fakesys_put(root, "proc/meminfo", text);
}

/* A 4-CPU host with two LLCs (0-1 and 2-3), 8 GiB, 6 GiB available. */
static void setup(void)
{
	fakesys_mkroot(root, sizeof(root), "hostres");
	snprintf(locks, sizeof(locks), "%s/locks", root);
	snprintf(meminfo, sizeof(meminfo), "%s/proc/meminfo", root);
	setenv(HOSTRES_DIR_ENV, locks, 1);
	fakesys_put(root, "sys/devices/system/cpu/online", "0-3\n");
	for (unsigned c = 0; c < 4; c++)
		fakesys_cache(root, c, 3, 3, c < 2 ? "0-1\n" : "2-3\n");
	set_meminfo(8192, 6144);
	CPU_ZERO(&four);
	for (int c = 0; c < 4; c++)
		CPU_SET(c, &four);
}

static void teardown(void)
{
	fakesys_rm(root);
}

TestSuite(hostres_lock, .init = setup, .fini = teardown);

static void open_holder(struct hostres *h, unsigned cap, uint32_t timeout_s)
{
	const struct hostres_opts o = { .cap = cap, .timeout_s = timeout_s, .meminfo = meminfo,
					.sysroot = root, .affinity = &four };
	char err[2048] = "";

	cr_assert_eq(hostres_open(h, &o, err, sizeof(err)), 0, "%s", err);
}

static void register_ok(struct hostres *h, unsigned cap, const char *want)
{
	char err[2048] = "", list[64];

	open_holder(h, cap, 5);
	cr_assert_eq(hostres_register(h, NULL, err, sizeof(err)), 0, "%s", err);
	hostres_cap_list(h, list, sizeof(list));
	if (want)
		cr_expect_str_eq(list, want, "cap %u: got %s, want %s", cap, list, want);
}

static size_t live_holders(struct hostres_holder **hs)
{
	char err[512];
	size_t n = 0;
	int dirfd = open(locks, O_RDONLY | O_DIRECTORY);

	cr_assert_geq(dirfd, 0);
	cr_assert_eq(hostres_scan_holders(dirfd, NULL, false, hs, &n, err, sizeof(err)), 0, "%s",
		     err);
	close(dirfd);
	return n;
}

Test(hostres_lock, two_caps_are_disjoint_and_a_third_waits_then_reports_contention)
{
	struct hostres a, b, c;
	struct hostres_holder *hs = NULL;
	char err[2048] = "", list[64];
	uint64_t t0;
	int ret;

	register_ok(&a, 2, "0-1");
	register_ok(&b, 2, "2-3");
	cr_assert_eq(live_holders(&hs), 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert(hs[i].ok, "%s", hs[i].why);
		cr_expect_eq(hs[i].rec.pid, getpid());
		cr_expect_eq(hs[i].rec.cap, 2);
		cr_expect_eq(cpuset_count(&hs[i].rec.cpus), 2);
		cr_expect_eq(hs[i].uid, geteuid(), "the owner comes from the file");
	}
	cr_expect(!(hs[0].rec.cpus.w[0] & hs[1].rec.cpus.w[0]), "records: disjoint CPUs");
	free(hs);

	open_holder(&c, 1, 1);
	t0 = ktstr_now_ms();
	ret = hostres_register(&c, NULL, err, sizeof(err));
	cr_expect_eq(ret, -ETIMEDOUT, "no CPU is free");
	cr_expect_geq(ktstr_now_ms() - t0, 1000, "it waited its timeout first");
	cr_expect(!strncmp(err, HOSTRES_CONTENTION "--cpu-cap 1: still not free after waiting 1 s",
			   strlen(HOSTRES_CONTENTION)),
		  "%s", err);
	cr_expect(strstr(err, ", this run)") && strstr(err, "CPUs 0-1") && strstr(err, "CPUs 2-3"),
		  "who holds what: %s", err);
	cr_expect(strstr(err, "ktstr-orch locks"), "what to do: %s", err);
	hostres_close(&c);

	hostres_close(&a);
	register_ok(&c, 1, "0");
	hostres_cap_list(&c, list, sizeof(list));
	hostres_close(&c);
	hostres_close(&b);
	cr_assert_eq(live_holders(&hs), 0, "closed holders leave no record");
	free(hs);
}

Test(hostres_lock, a_cap_this_process_can_never_have_is_refused_at_once)
{
	struct hostres h;
	const struct hostres_opts o = { .cap = 5, .timeout_s = 60, .meminfo = meminfo,
					.sysroot = root, .affinity = &four };
	char err[1024] = "";

	cr_expect_eq(hostres_open(&h, &o, err, sizeof(err)), -ENOSPC);
	cr_expect(strstr(err, "--cpu-cap 5: this process may use only 4 CPUs (0-3)"), "%s", err);
	hostres_close(&h);
}

struct waiter {
	struct hostres *h;
	int ret;
	uint64_t done_ms;
	char err[2048];
};

static void *wait_cap(void *arg)
{
	struct waiter *w = arg;

	w->ret = hostres_register(w->h, NULL, w->err, sizeof(w->err));
	w->done_ms = ktstr_now_ms();
	return NULL;
}

Test(hostres_lock, kill_9_of_a_holder_frees_its_cpus_for_a_waiter_within_a_second)
{
	struct hostres h;
	struct waiter w = { .h = &h };
	int ready[2], status;
	pthread_t th;
	uint64_t t_kill;
	char c;
	pid_t pid;

	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		struct hostres mine;
		const struct hostres_opts o = { .cap = 4, .timeout_s = 5, .meminfo = meminfo,
						.sysroot = root, .affinity = &four };
		char err[1024];

		if (hostres_open(&mine, &o, err, sizeof(err)) ||
		    hostres_register(&mine, NULL, err, sizeof(err)))
			_exit(1);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 1, "the holder registered");
	open_holder(&h, 2, 10);
	cr_assert_eq(pthread_create(&th, NULL, wait_cap, &w), 0);
	usleep(300 * 1000); /* the waiter is waiting: every CPU is the child's */
	cr_expect_eq(w.done_ms, 0, "nothing was free while the holder lived");
	t_kill = ktstr_now_ms();
	cr_assert_eq(kill(pid, SIGKILL), 0);
	pthread_join(th, NULL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(w.ret, 0, "%s", w.err);
	fprintf(stderr, "hostres_lock: kill -9 to reservation: %llu ms\n",
		(unsigned long long)(w.done_ms - t_kill));
	cr_expect_lt(w.done_ms - t_kill, 1000, "the killed holder's CPUs reached the waiter in %llu ms",
		     (unsigned long long)(w.done_ms - t_kill));
	hostres_close(&h);
	close(ready[0]);
}

Test(hostres_lock, memory_is_admitted_against_available_less_what_others_declared)
{
	struct hostres a, b;
	struct hostres_vm va, vb;
	struct hostres_holder *hs = NULL;
	char err[2048] = "";

	set_meminfo(8192, 2048); /* room: 2048 - 512 margin = 1536 MiB */
	register_ok(&a, 0, "");
	register_ok(&b, 0, "");
	cr_assert_eq(hostres_vm_acquire(&a, 1, false, 1024, NULL, &va, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(live_holders(&hs), 2);
	for (size_t i = 0; i < 2; i++)
		if (hs[i].rec.vms)
			cr_expect_eq(hs[i].rec.mem_mib, 1024, "the VM's RAM is declared");
	free(hs);
	b.o.timeout_s = 1;
	cr_expect_eq(hostres_vm_acquire(&b, 1, false, 1024, NULL, &vb, err, sizeof(err)),
		     -ETIMEDOUT);
	cr_expect(!strncmp(err, HOSTRES_CONTENTION, strlen(HOSTRES_CONTENTION)), "%s", err);
	cr_expect(strstr(err, "this VM needs 1024 MiB of guest RAM; room 512 MiB = MemAvailable "
			      "2048 MiB - margin 512 MiB - 1024 MiB declared"),
		  "the numbers: %s", err);
	cr_expect(strstr(err, ": 1024 MiB in 1 VMs: "), "who declared it: %s", err);
	cr_expect_eq(hostres_vm_acquire(&b, 1, false, 8000, NULL, &vb, err, sizeof(err)), -ENOSPC,
		     "more than the host: refused without waiting");
	cr_expect(strstr(err, "the host has 8192 MiB in all, less a margin of 512 MiB"), "%s",
		  err);
	hostres_vm_release(&a, &va);
	cr_assert_eq(hostres_vm_acquire(&b, 1, false, 1024, NULL, &vb, err, sizeof(err)), 0, "%s",
		     err);
	hostres_vm_release(&b, &vb);
	hostres_close(&a);
	hostres_close(&b);
}

Test(hostres_lock, performance_mode_takes_whole_llcs_and_plain_vms_avoid_held_cpus)
{
	struct hostres cap, u;
	struct hostres_vm p1, p2, own, plain;
	char err[2048] = "";

	register_ok(&cap, 1, "0");
	register_ok(&u, 0, "");
	/* 1 vCPU + 1 service CPU: LLC 0 is shared by the cap, so LLC 2. */
	cr_assert_eq(hostres_vm_acquire(&u, 1, true, 256, NULL, &p1, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect(p1.pinned && CPU_ISSET(2, &p1.affinity) && CPU_ISSET(3, &p1.affinity) &&
		  CPU_COUNT(&p1.affinity) == 2, "pinned to LLC 2's CPUs");
	u.o.timeout_s = 0;
	cr_expect_eq(hostres_vm_acquire(&u, 1, true, 256, NULL, &p2, err, sizeof(err)),
		     -ETIMEDOUT, "no whole LLC is left; timeout 0 reports at once");
	cr_expect(strstr(err, "performance mode needs 2 CPUs in whole LLCs"), "%s", err);
	cr_expect_eq(hostres_vm_acquire(&u, 4, true, 256, NULL, &p2, err, sizeof(err)), -ENOSPC,
		     "5 CPUs: never on this host");
	/* An uncapped run's plain VM: the CPU nobody holds. */
	cr_assert_eq(hostres_vm_acquire(&u, 1, false, 256, NULL, &plain, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect(plain.pinned && CPU_ISSET(1, &plain.affinity) && CPU_COUNT(&plain.affinity) == 1,
		  "CPU 0 is the cap's, 2-3 the performance VM's");
	hostres_vm_release(&u, &plain);
	/* The capped run's plain VM: its cap. */
	cr_assert_eq(hostres_vm_acquire(&cap, 1, false, 256, NULL, &plain, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect(CPU_ISSET(0, &plain.affinity) && CPU_COUNT(&plain.affinity) == 1);
	hostres_vm_release(&cap, &plain);
	hostres_vm_release(&u, &p1);
	/* The capped run's own performance VM keeps off its own cap's LLC. */
	cr_assert_eq(hostres_vm_acquire(&cap, 1, true, 256, NULL, &own, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect(CPU_ISSET(2, &own.affinity) && CPU_COUNT(&own.affinity) == 2);
	hostres_vm_release(&cap, &own);
	hostres_close(&u);
	hostres_close(&cap);
}

static void make_files(const char *prefix, unsigned n)
{
	char path[256];

	for (unsigned i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s%u.lock", locks, prefix, i);
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

		cr_assert_geq(fd, 0, "%s", path);
		close(fd);
	}
}

Test(hostres_lock, dead_records_are_ignored_and_removed)
{
	struct hostres h;
	struct hostres_vm vm;
	struct hostres_holder *hs = NULL;
	char path[256], err[2048] = "";
	int fd;

	register_ok(&h, 0, "");
	snprintf(path, sizeof(path), "%s/holder-1-deadbeef.lock", locks);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "ktstr-holder 1\npid 1\nstart 1\nsince 1\ncap 0\ncpus 0-3\n"
			       "mem_mib 999999\nvms 9\ncmd dead\n", 77), 77);
	close(fd); /* nobody holds it: a dead holder's claim */
	cr_assert_eq(live_holders(&hs), 1, "only the live one");
	free(hs);
	cr_expect_eq(access(path, F_OK), 0, "`locks` removes nothing");
	cr_assert_eq(hostres_vm_acquire(&h, 1, false, 1024, NULL, &vm, err, sizeof(err)), 0,
		     "the dead claim of 999999 MiB is not counted: %s", err);
	cr_expect_neq(access(path, F_OK), 0, "an admission removes dead records it owns");
	hostres_vm_release(&h, &vm);
	hostres_close(&h);
}

Test(hostres_lock, a_live_record_that_cannot_be_read_is_named_not_trusted)
{
	struct hostres h;
	struct hostres_holder *hs = NULL;
	char path[256];
	int fd;

	register_ok(&h, 0, "");
	snprintf(path, sizeof(path), "%s/holder-2-garbage.lock", locks);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "junk\n", 5), 5);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	cr_assert_eq(live_holders(&hs), 2);
	for (size_t i = 0; i < 2; i++)
		if (strstr(hs[i].name, "garbage"))
			cr_expect(!hs[i].ok && strstr(hs[i].why, "does not start with"), "%s",
				  hs[i].why);
	free(hs);
	close(fd);
	hostres_close(&h);
}

Test(hostres_lock, too_many_records_or_entries_refuse_admission)
{
	struct hostres h;
	struct hostres_vm vm;
	char err[2048] = "";

	register_ok(&h, 0, "");
	make_files("holder-9-", HOSTRES_HOLDERS_MAX);
	cr_assert_eq(hostres_vm_acquire(&h, 1, false, 64, NULL, &vm, err, sizeof(err)), 0,
		     "%d dead records and ours: within the bound (%s)", HOSTRES_HOLDERS_MAX, err);
	hostres_vm_release(&h, &vm);
	/* That admission removed the dead records (ours); plant them again, one more. */
	make_files("holder-9-", HOSTRES_HOLDERS_MAX + 1);
	cr_expect_eq(hostres_vm_acquire(&h, 1, false, 64, NULL, &vm, err, sizeof(err)), -E2BIG);
	cr_expect(strstr(err, "more than 4096 holder records"), "%s", err);
	make_files("junk-", HOSTRES_DIR_ENTRIES_MAX);
	cr_expect_eq(hostres_vm_acquire(&h, 1, false, 64, NULL, &vm, err, sizeof(err)), -E2BIG);
	cr_expect(strstr(err, "more than 16384 entries"), "%s", err);
	hostres_close(&h);
}

Test(hostres_lock, a_stuck_admission_lock_is_reported_after_its_bound)
{
	struct hostres h;
	struct hostres_vm vm;
	char path[256], err[2048] = "";
	int fd;

	register_ok(&h, 0, "");
	h.o.admit_wait_ms = 200;
	snprintf(path, sizeof(path), "%s/%s", locks, HOSTRES_ADMIT_LOCK);
	fd = open(path, O_RDONLY);
	cr_assert_eq(flock(fd, LOCK_EX), 0, "a co-tenant sits on it");
	cr_expect_eq(hostres_vm_acquire(&h, 1, false, 64, NULL, &vm, err, sizeof(err)), -ETIMEDOUT);
	cr_expect(strstr(err, "has been held for 200 ms") && strstr(err, "stuck or hostile"), "%s",
		  err);
	close(fd);
	hostres_close(&h);
}

/* A capped run whose cap shares every LLC can never give its own
 * performance-mode VM whole LLCs: refused at once with the reason, not
 * after --reserve-timeout (the cap is held until the run ends). */
Test(hostres_lock, a_performance_vm_its_own_cap_keeps_out_is_refused_at_once)
{
	struct hostres cap;
	struct hostres_vm vm;
	char err[2048] = "";
	uint64_t t0;

	/* 3 CPUs: 0-1 (LLC 0) and 2 (LLC 2); both LLCs shared by the cap. */
	register_ok(&cap, 3, "0-2");
	cap.o.timeout_s = 5;
	t0 = ktstr_now_ms();
	cr_expect_eq(hostres_vm_acquire(&cap, 1, true, 256, NULL, &vm, err, sizeof(err)), -ENOSPC);
	cr_expect_lt(ktstr_now_ms() - t0, 1000, "no wait: %llu ms",
		     (unsigned long long)(ktstr_now_ms() - t0));
	cr_expect(strncmp(err, HOSTRES_CONTENTION, strlen(HOSTRES_CONTENTION)), "not contention: %s",
		  err);
	cr_expect(strstr(err, "performance mode needs 2 CPUs (1 vCPUs + 1 service CPU) in whole "
			      "LLCs that no cap shares; this run's --cpu-cap 3 holds CPUs 0-2"),
		  "%s", err);
	cr_expect(strstr(err, "without --cpu-cap"), "what to do: %s", err);
	hostres_close(&cap);

	/* A cap of 2 leaves LLC 2 whole: its performance VM gets it. */
	register_ok(&cap, 2, "0-1");
	cr_assert_eq(hostres_vm_acquire(&cap, 1, true, 256, NULL, &vm, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect(CPU_ISSET(2, &vm.affinity) && CPU_ISSET(3, &vm.affinity));
	hostres_vm_release(&cap, &vm);
	hostres_close(&cap);
}

struct vm_waiter {
	struct hostres *h;
	uint64_t mem_mib;
	struct hostres_vm vm;
	int ret;
	uint64_t done_ms;
	char err[2048];
};

static void *wait_vm(void *arg)
{
	struct vm_waiter *w = arg;

	w->ret = hostres_vm_acquire(w->h, 1, false, w->mem_mib, NULL, &w->vm, w->err,
				    sizeof(w->err));
	w->done_ms = ktstr_now_ms();
	return NULL;
}

/* Guest RAM that others' declared VMs leave no room for: the VM waits,
 * and proceeds as soon as the other run releases its VM. */
Test(hostres_lock, memory_waits_then_proceeds_when_another_run_releases)
{
	struct hostres a, b;
	struct hostres_vm va;
	struct vm_waiter w = { .h = &b, .mem_mib = 1024 };
	char err[2048] = "";
	pthread_t th;
	uint64_t t_rel;

	set_meminfo(8192, 2048); /* room: 2048 - 512 margin = 1536 MiB */
	register_ok(&a, 0, "");
	register_ok(&b, 0, "");
	b.o.timeout_s = 30;
	cr_assert_eq(hostres_vm_acquire(&a, 1, false, 1024, NULL, &va, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(pthread_create(&th, NULL, wait_vm, &w), 0);
	usleep(500 * 1000);
	cr_expect_eq(w.done_ms, 0, "1024 + 1024 MiB > 1536 MiB of room: it waits");
	t_rel = ktstr_now_ms();
	hostres_vm_release(&a, &va);
	pthread_join(th, NULL);
	cr_assert_eq(w.ret, 0, "%s", w.err);
	cr_expect_lt(w.done_ms - t_rel, 1000, "admitted %llu ms after the release",
		     (unsigned long long)(w.done_ms - t_rel));
	cr_expect_eq(w.vm.mem_mib, 1024);
	cr_expect_eq(b.rec.mem_mib, 1024, "declared in the waiter's record");
	hostres_vm_release(&b, &w.vm);
	hostres_close(&a);
	hostres_close(&b);
}
