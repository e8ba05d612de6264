/* ktstr-vmm-worker's QEMU engine end to end: the real worker, spawned through
 * the orchestrator's worker client, boots the dev 7.2 kernel (vmlinux, PVH)
 * under TCG with a tiny static /init built here from
 * tests/integration/data/worker_probe_init.c. Each test checks one thing a
 * user relies on: how the VM ended, what the guest said, the SHM ring, and
 * the topology the guest sees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "lib/vmtest.h"
/* The integration link line has no liborchestrator.a (Makefile), so the
 * client under test is compiled into this binary directly. */
#include "sandbox.h"
#include "worker_client.h"

struct fixture {
	char kernel[PATH_MAX];
	char cpio[PATH_MAX];
	char worker[PATH_MAX];
};

/* Kernel, worker and the shared probe init cpio (vmtest_probe_cpio). */
static void prepare(struct fixture *fx)
{
	if (vmtest_kernel("vmlinux", fx->kernel, sizeof(fx->kernel)) != 0)
		test_missing("no dev kernel: set KTSTR_TEST_KERNEL or extract /var/tmp/kdev/k72");
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", fx->worker, sizeof(fx->worker)), 0,
		     "ktstr-vmm-worker is not built next to this test (make first)");
	vmtest_probe_cpio(fx->cpio, sizeof(fx->cpio));
}

static void spec_init(Ktstr__VmSpec *spec, Ktstr__Topology *topo, uint32_t n, uint32_t l,
		      uint32_t c, uint32_t t, const char *extra)
{
	ktstr__vm_spec__init(spec);
	ktstr__topology__init(topo);
	topo->numa_nodes = n;
	topo->llcs = l;
	topo->cores_per_llc = c;
	topo->threads_per_core = t;
	spec->engine = KTSTR__ENGINE__ENGINE_QEMU;
	spec->topology = topo;
	spec->memory_mb = 256;
	spec->timeout_ms = 90000;
	spec->has_shm_size = true;
	spec->shm_size = 1u << 20;
	spec->cmdline_extra = (char *)extra;
	spec->label = "worker_qemu";
}

struct seen {
	int started;
	int outputs;
	volatile int stop;
	bool stop_on_start;
};

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct seen *s = ctx;
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_STARTED) {
		s->started++;
		if (s->stop_on_start)
			s->stop = 1;
	}
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT)
		s->outputs++;
}

/* Boot with the probe cpio as FD_INITRD (or as initrd_suffix when
 * as_suffix). */
static void run(struct fixture *fx, Ktstr__VmSpec *spec, bool as_suffix, struct seen *seen,
		uint32_t grace_ms, struct worker_outcome *out)
{
	int kfd = open(fx->kernel, O_RDONLY | O_CLOEXEC);
	cr_assert(kfd >= 0, "open %s: %s", fx->kernel, strerror(errno));
	int ifd = open(fx->cpio, O_RDONLY | O_CLOEXEC);
	cr_assert(ifd >= 0, "open %s: %s", fx->cpio, strerror(errno));
	char *suffix = NULL;
	size_t slen = 0;
	if (as_suffix) {
		cr_assert_eq(read_file(fx->cpio, &suffix, &slen, 64u << 20), 0);
		spec->has_initrd_suffix = true;
		spec->initrd_suffix.data = (uint8_t *)suffix;
		spec->initrd_suffix.len = slen;
	}
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = as_suffix ? -1 : ifd,
				  .stdin_fd = -1, .stdout_fd = -1 };
	struct worker_client_opts o = { .worker_path = fx->worker, .stderr_fd = -2,
					.grace_ms = grace_ms, .on_event = on_event, .ctx = seen,
					.stop = &seen->stop };
	cr_assert_eq(worker_run_vm(spec, &fds, &o, out), 0);
	close(kfd);
	close(ifd);
	free(suffix);
	spec->has_initrd_suffix = false;
	cr_assert_not_null(out->result);
}

/* COM2 text with the tty's CR of CRLF removed (the guest's serial line
 * discipline turns "\n" into "\r\n"). */
static char *output_of(const Ktstr__VmResult *r)
{
	char *s = calloc(1, r->guest_output.len + 1);
	size_t n = 0;
	for (size_t i = 0; i < r->guest_output.len; i++)
		if (r->guest_output.data[i] != '\r')
			s[n++] = (char)r->guest_output.data[i];
	return s;
}

static const char *outcome_name(Ktstr__Outcome o)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, o);
	return v ? v->name : "?";
}

static void show(const struct worker_outcome *out)
{
	const Ktstr__VmResult *r = out->result;
	if (r->error)
		cr_log_info("error: %s / %s / %s", r->error->what, r->error->why ? r->error->why : "",
			    r->error->hint ? r->error->hint : "");
	cr_log_info("outcome %s, console tail %zu bytes, output %zu bytes",
		    outcome_name(r->outcome), r->console_tail.len, r->guest_output.len);
}

Test(worker_qemu, powers_off_with_output_and_init_timing, .timeout = 240)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 2, 1, "KTSTR_TEST_MODE=poweroff");
	spec.has_stream_output = true;
	spec.stream_output = true;
	struct seen seen = { 0 };
	struct worker_outcome out;
	run(&fx, &spec, false, &seen, 0, &out);
	show(&out);
	const Ktstr__VmResult *r = out.result;
	cr_assert(!out.infra_error);
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_POWER_OFF, "outcome %s",
		     outcome_name(r->outcome));
	cr_assert_eq(r->engine, KTSTR__ENGINE__ENGINE_QEMU);
	cr_assert_str_eq(r->engine_detail, "qemu-tcg");
	char *text = output_of(r);
	cr_assert(strstr(text, "hello from the probe init"), "COM2 was: %s", text);
	free(text);
	cr_assert(r->has_boot_to_init_us && r->boot_to_init_us > 0);
	cr_assert(r->has_guest_exit_code && r->guest_exit_code == 0);
	cr_assert_eq(seen.started, 1, "exactly one VmStarted before the result");
	cr_assert_gt(seen.outputs, 0, "stream_output sends GuestOutput events");
	/* QEMU booted under its Landlock ruleset wherever the kernel has
	 * Landlock (the kernel file given here is no memfd: the worker copies
	 * it, because QEMU's ruleset opens only fds unreachable by path). */
	cr_assert(r->has_qemu_landlock, "the result says whether QEMU ran under Landlock");
	cr_assert_eq(r->qemu_landlock, sandbox_landlock_abi() > 0, "qemu_landlock %d, host ABI %d",
		     r->qemu_landlock, sandbox_landlock_abi());
	cr_assert(out.reaped && WIFEXITED(out.worker_status) && WEXITSTATUS(out.worker_status) == 0,
		  "the worker exits 0 after its result");
	worker_outcome_free(&out);
}

Test(worker_qemu, init_exit_is_guest_panic, .timeout = 240)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 1, 1, "KTSTR_TEST_MODE=panic");
	struct seen seen = { 0 };
	struct worker_outcome out;
	run(&fx, &spec, false, &seen, 0, &out);
	show(&out);
	const Ktstr__VmResult *r = out.result;
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_GUEST_PANIC, "outcome %s",
		     outcome_name(r->outcome));
	char *tail = calloc(1, r->console_tail.len + 1);
	memcpy(tail, r->console_tail.data, r->console_tail.len);
	cr_assert(strstr(tail, "Kernel panic - not syncing"), "console tail: %s", tail);
	free(tail);
	worker_outcome_free(&out);
}

Test(worker_qemu, hanging_init_times_out, .timeout = 240)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 1, 1, "KTSTR_TEST_MODE=hang");
	spec.timeout_ms = 15000;
	struct seen seen = { 0 };
	struct worker_outcome out;
	/* A 20 s grace: the client kills a worker that overruns its own bound,
	 * which would show up as infra_error rather than TIMEOUT. */
	run(&fx, &spec, false, &seen, 20000, &out);
	show(&out);
	const Ktstr__VmResult *r = out.result;
	cr_assert(!out.infra_error, "the worker ended the VM itself");
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_TIMEOUT, "outcome %s",
		     outcome_name(r->outcome));
	char *text = output_of(r);
	cr_assert(strstr(text, "hanging on purpose"), "COM2 was: %s", text);
	free(text);
	worker_outcome_free(&out);
}

/* QEMU frozen by the host (SIGSTOP) until the watchdog deadline: QEMU
 * cannot answer the liveness probe, so the timeout is the engine's
 * (ENGINE_ERROR), not the guest's. Was: TIMEOUT, blaming the scheduler. */
static void stop_qemu_once_started(void *ctx, const Ktstr__WorkerEvent *ev)
{
	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_STARTED && ev->started->has_engine_pid) {
		/* Let it boot a little, then freeze it for good. */
		struct timespec ts = { 1, 0 };

		nanosleep(&ts, NULL);
		kill((pid_t)ev->started->engine_pid, SIGSTOP);
		*(int *)ctx = 1;
	}
}

Test(worker_qemu, a_frozen_qemu_is_an_engine_error_not_a_guest_timeout, .timeout = 240)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 1, 1, "KTSTR_TEST_MODE=hang");
	spec.timeout_ms = 8000;
	int kfd = open(fx.kernel, O_RDONLY | O_CLOEXEC), ifd = open(fx.cpio, O_RDONLY | O_CLOEXEC);
	int stopped = 0;
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = ifd, .stdin_fd = -1, .stdout_fd = -1 };
	struct worker_client_opts o = { .worker_path = fx.worker, .stderr_fd = -2, .grace_ms = 20000,
					.on_event = stop_qemu_once_started, .ctx = &stopped };
	struct worker_outcome out;

	cr_assert(kfd >= 0 && ifd >= 0);
	cr_assert_eq(worker_run_vm(&spec, &fds, &o, &out), 0);
	close(kfd);
	close(ifd);
	show(&out);
	cr_assert(stopped, "QEMU's pid never arrived in VmStarted");
	cr_assert(!out.infra_error, "the worker ended the VM itself");
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR, "outcome %s",
		     outcome_name(out.result->outcome));
	cr_assert(out.result->error && strstr(out.result->error->what, "did not answer QMP"),
		  "what: %s", out.result->error ? out.result->error->what : "(none)");
	worker_outcome_free(&out);
}

Test(worker_qemu, ring_messages_reach_the_host, .timeout = 240)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 1, 1, "KTSTR_TEST_MODE=ring");
	spec.shm_size = KTSTR_RING_DEFAULT_SIZE;
	struct seen seen = { 0 };
	struct worker_outcome out;
	run(&fx, &spec, true, &seen, 0, &out); /* initrd as suffix, no base */
	show(&out);
	const Ktstr__VmResult *r = out.result;
	char *text = output_of(r);
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_POWER_OFF, "outcome %s; COM2: %s",
		     outcome_name(r->outcome), text);
	cr_assert(strstr(text, "RING wrote rc=0"), "COM2 was: %s", text);
	free(text);
	bool saw_test = false, saw_exit = false;
	for (size_t i = 0; i < r->n_ring; i++) {
		const Ktstr__RingMessage *m = r->ring[i];
		if (m->type == KTSTR_MSG_TEST_RESULT) {
			saw_test = true;
			cr_assert(m->crc_ok);
			cr_assert_eq(m->payload.len, strlen("hello through the ring"));
			cr_assert_eq(memcmp(m->payload.data, "hello through the ring", m->payload.len), 0);
		}
		if (m->type == KTSTR_MSG_EXIT) {
			saw_exit = true;
			cr_assert(m->crc_ok);
		}
	}
	cr_assert(saw_test && saw_exit, "ring had %zu messages", r->n_ring);
	cr_assert(r->has_guest_exit_code);
	cr_assert_eq(r->guest_exit_code, 7, "the ring's EXIT wins over COM2's KTSTR_EXIT=3");
	cr_assert_eq(r->ring_crc_errors, 0);
	worker_outcome_free(&out);
}

static void expect_line(const char *text, const char *line)
{
	char want[128];
	snprintf(want, sizeof(want), "%s\n", line);
	cr_expect(strstr(text, want), "missing \"%s\" in guest output:\n%s", line, text);
}

Test(worker_qemu, guest_sees_topology_2_4_2_1, .timeout = 300)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 2, 4, 2, 1, "KTSTR_TEST_MODE=topo");
	spec.memory_mb = 512;
	spec.timeout_ms = 180000;
	struct seen seen = { 0 };
	struct worker_outcome out;
	run(&fx, &spec, false, &seen, 0, &out);
	show(&out);
	const Ktstr__VmResult *r = out.result;
	char *text = output_of(r);
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_POWER_OFF, "outcome %s; COM2: %s",
		     outcome_name(r->outcome), text);
	cr_assert(strstr(text, "TOPO done"), "COM2 was: %s", text);
	/* LLC l = CPUs 2l..2l+1; node n = LLCs 2n..2n+1; no SMT. */
	expect_line(text, "TOPO cpu0 l3=0-1");
	expect_line(text, "TOPO cpu3 l3=2-3");
	expect_line(text, "TOPO cpu4 l3=4-5");
	expect_line(text, "TOPO cpu7 l3=6-7");
	expect_line(text, "TOPO cpu5 smt=5");
	expect_line(text, "TOPO node0 cpus=0-3");
	expect_line(text, "TOPO node1 cpus=4-7");
	expect_line(text, "TOPO node0 distance=10 20");
	expect_line(text, "TOPO node1 distance=20 10");
	cr_expect_null(strstr(text, "TOPO cpu8 "), "exactly 8 CPUs");
	free(text);
	worker_outcome_free(&out);
}

Test(worker_qemu, stop_request_ends_the_vm, .timeout = 120)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 1, 1, "KTSTR_TEST_MODE=hang");
	struct seen seen = { .stop_on_start = true };
	struct worker_outcome out;
	run(&fx, &spec, false, &seen, 20000, &out);
	show(&out);
	cr_assert(!out.infra_error);
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_STOPPED, "outcome %s",
		     outcome_name(out.result->outcome));
	worker_outcome_free(&out);
}

Test(worker_qemu, invalid_spec_is_refused_with_a_reason, .timeout = 60)
{
	struct fixture fx;
	prepare(&fx);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 1, 1, NULL);
	spec.memory_mb = 64;
	struct seen seen = { 0 };
	struct worker_outcome out;
	run(&fx, &spec, false, &seen, 0, &out);
	const Ktstr__VmResult *r = out.result;
	cr_assert(!out.infra_error, "the worker itself refused, not the client");
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR);
	cr_assert_not_null(r->error);
	cr_assert(strstr(r->error->why, "memory_mb"), "why: %s", r->error->why);
	cr_assert_eq(seen.started, 0, "no VM started");
	worker_outcome_free(&out);
}

/* The worker client turns a broken worker into an infrastructure error. */
static void fake_worker(char *dir, size_t dlen, char *path, size_t plen, const char *body)
{
	cr_assert_eq(vmtest_tmpdir(dir, dlen), 0);
	cr_assert((size_t)snprintf(path, plen, "%.3000s/fake-worker", dir) < plen);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
}

static void run_fake(const char *body, struct worker_outcome *out)
{
	char dir[PATH_MAX], path[PATH_MAX];
	fake_worker(dir, sizeof(dir), path, sizeof(path), body);
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	spec_init(&spec, &topo, 1, 1, 1, 1, NULL);
	spec.timeout_ms = 1000;
	int kfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct worker_fds fds = { .kernel_fd = kfd, .initrd_fd = -1, .stdin_fd = -1,
				  .stdout_fd = -1 };
	struct worker_client_opts o = { .worker_path = path, .stderr_fd = -2, .grace_ms = 2000 };
	cr_assert_eq(worker_run_vm(&spec, &fds, &o, out), 0);
	close(kfd);
	vmtest_rm_rf(dir);
	cr_assert_not_null(out->result);
	cr_assert(out->infra_error);
	cr_assert_eq(out->result->outcome, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR);
	cr_assert_not_null(out->result->error);
	cr_log_info("%s: %s", out->result->error->what, out->result->error->why);
	cr_assert(out->reaped, "the broken worker was reaped");
}

Test(worker_client, a_worker_that_exits_at_once_is_an_infra_error, .timeout = 60)
{
	struct worker_outcome out;
	run_fake("exit 3", &out);
	cr_assert(strstr(out.result->error->what, "start ktstr-vmm-worker"));
	worker_outcome_free(&out);
}

Test(worker_client, a_worker_sending_garbage_is_killed, .timeout = 60)
{
	struct worker_outcome out;
	/* An announced length of ~1.6 GB: above the result cap, never read. */
	run_fake("printf 'garbage!' >&3; exec /bin/sleep 100", &out);
	cr_assert(WIFSIGNALED(out.worker_status), "killed, not waited for");
	worker_outcome_free(&out);
}

Test(worker_client, a_worker_dying_mid_run_is_reported_with_its_status, .timeout = 60)
{
	struct worker_outcome out;
	/* A valid WorkerReady (field 1 = ready{pid=1}), then death by SIGKILL. */
	run_fake("printf '\\004\\000\\000\\000\\012\\002\\010\\001' >&3; "
		 "/bin/sleep 0.2; kill -9 $$",
		 &out);
	cr_assert(strstr(out.result->error->what, "worker died"), "what: %s",
		  out.result->error->what);
	cr_assert(strstr(out.result->error->why, "signal 9"), "why: %s", out.result->error->why);
	worker_outcome_free(&out);
}

Test(worker_client, a_silent_worker_is_bounded, .timeout = 60)
{
	struct worker_outcome out;
	run_fake("exec /bin/sleep 100", &out);
	cr_assert(strstr(out.result->error->why, "WorkerReady"), "why: %s", out.result->error->why);
	worker_outcome_free(&out);
}
