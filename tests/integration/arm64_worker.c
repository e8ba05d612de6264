/* ktstr-vmm-worker runs an arm64 guest (VmSpec.arch = ARCH_ARM64) on its
 * QEMU engine: qemu-system-aarch64 under TCG on this x86_64 host, booting
 * ktstr's device tree with the guest channels of docs/aarch64.md. The real
 * worker is driven through the orchestrator's worker client, as
 * integ-worker_qemu does for x86.
 *
 * The guest is Debian's arm64 cloud kernel (sid 7.2: virtio console, PCI
 * host and sched_ext built in) with a busybox-static:arm64 /init that proves,
 * from inside: the output port (/dev/hvc0, a virtio console on the PCIe host
 * the tree describes) reaches the worker as COM2; the kernel command line
 * names the ring where the worker put it and the tree reserved it
 * (/proc/iomem); the guest reads the ring header the worker formatted and
 * writes an EXIT message into the ring through /dev/mem, which the worker
 * reports as guest_exit_code; PSCI SYSTEM_OFF is OUTCOME_POWER_OFF. COM1
 * (the PL011) carries the kernel's boot log. A guest that never powers off
 * ends as OUTCOME_TIMEOUT within its bound; PSCI SYSTEM_RESET is
 * OUTCOME_RESET and a panic (PID 1 exits) OUTCOME_GUEST_PANIC, as on x86.
 *
 * Kernel: $KTSTR_TEST_KERNEL_ARM64, else the newest
 * $KTSTR_CACHE_DIR/kernels/<release>-cloud-arm64/Image (`ktstr-orch kernel fetch --arch
 * arm64`). Busybox: lib/arm64_guest.c. Without them or qemu-system-aarch64
 * the boot tests skip (fail under KTSTR_REQUIRE_VM=1). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/ring.h>
#include <ktstr/util.h>

#include <ktstr/guest_contract.h>

#include "arm64-guest/arm64_layout.h"
#include "arm64_sid72_image.h"
#include "lib/arm64_guest.h"
#include "lib/vmtest.h"
#include "qemu/qemu.h"
#include "worker_client.h"

#define MEM_MB 512u
#define SHM_BYTES (1u << 20)
/* A boot has taken 12-65 s here (TCG, 2 loaded CPUs); four times the
 * slowest is a hang. */
#define BOOT_TIMEOUT_MS (240u * 1000)
#define HANG_TIMEOUT_MS (20u * 1000)
#define EXIT_CODE 42

struct fixture {
	char kernel[PATH_MAX];
	char busybox[PATH_MAX];
	char worker[PATH_MAX];
	char dir[256];
	char initrd[512];
	int stdin_fd, stdout_fd; /* interactive runs; 0 = none (set -1 by run) */
};

static bool find_kernel(char *buf, size_t len)
{
	const char *env = getenv("KTSTR_TEST_KERNEL_ARM64");
	char dir[900], pat[1024];
	glob_t g;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) == 0;
	}
	if (arm64_cache_dir(dir, sizeof(dir)) < 0)
		return false;
	snprintf(pat, sizeof(pat), "%s/kernels/*-arm64/Image", dir);
	if (glob(pat, 0, NULL, &g) || !g.gl_pathc) {
		globfree(&g);
		return false;
	}
	snprintf(buf, len, "%s", g.gl_pathv[g.gl_pathc - 1]); /* newest release */
	globfree(&g);
	return access(buf, R_OK) == 0;
}

static void need_qemu(void)
{
	char path[PATH_MAX];

	if (qemu_find_binary(QEMU_BINARY_ARM64, path, sizeof(path)) < 0)
		test_missing("needs %s on PATH (qemu-system-arm)", QEMU_BINARY_ARM64);
}

static void need_worker(struct fixture *fx)
{
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", fx->worker, sizeof(fx->worker)), 0,
		     "ktstr-vmm-worker is not built next to this test (make first)");
}

/* The guest's /init: output through hvc0 only (COM2), the ring through
 * /dev/mem. @MODE@ is "poweroff -f" or a loop that never ends; @CRC@ the
 * EXIT payload's crc32. The ring's place comes from the kernel command line,
 * as ktstr-guest reads it. */
static const char init_script[] =
	"#!/bin/busybox sh\n"
	"/bin/busybox --install -s /bin\n"
	"mkdir -p /proc /sys /dev\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
	"i=0\n"
	"while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n"
	"exec 3<>/dev/hvc0\n"
	"echo KTSTR_INIT_STARTED >&3\n"
	"B=$(sed -n 's/.*KTSTR_SHM_BASE=\\(0x[0-9a-f]*\\).*/\\1/p' /proc/cmdline)\n"
	"S=$(sed -n 's/.*KTSTR_SHM_SIZE=\\(0x[0-9a-f]*\\).*/\\1/p' /proc/cmdline)\n"
	"echo \"KTSTR_ARM64_PROBE cpus=$(nproc) shm=$B size=$S\" >&3\n"
	"h=$(printf %x $B)\n"
	"echo \"KTSTR_ARM64_IOMEM $(grep \"^ *$h-\" /proc/iomem | tr -s ' ')\" >&3\n"
	"echo \"KTSTR_ARM64_RING $(devmem $B 32)\" >&3\n"
	/* One EXIT message at the start of the data area (offset 40), then
	 * write_ptr (offset 16) = 16 + 4: the ring's publish step. */
	"D=$((B + 40))\n"
	"devmem $D 32 0x45584954\n"
	"devmem $((D + 4)) 32 4\n"
	"devmem $((D + 8)) 32 @CRC@\n"
	"devmem $((D + 12)) 32 0\n"
	"devmem $((D + 16)) 32 " "42" "\n"
	"devmem $((B + 16)) 32 20\n"
	"echo KTSTR_ARM64_DONE >&3\n"
	"@MODE@\n";

static void replace(char *s, size_t cap, const char *key, const char *val)
{
	char *at = strstr(s, key);

	cr_assert(at);
	cr_assert_lt(strlen(s) - strlen(key) + strlen(val), cap);
	memmove(at + strlen(val), at + strlen(key), strlen(at + strlen(key)) + 1);
	memcpy(at, val, strlen(val));
}

/* How /init ends. */
#define END_POWER_OFF "poweroff -f"
#define END_NEVER "while :; do sleep 1; done"
#define END_RESET "reboot -f"
#define END_EXIT "exit 1" /* PID 1 exits: the kernel panics */
/* Interactive: a line the host typed comes back through the output port. */
#define END_ECHO "echo " KTSTR_COM2_SHELL_READY " >&3; read -r l <&3; echo \"GOT $l\" >&3; poweroff -f"

static void prepare(struct fixture *fx, const char *end)
{
	char script[sizeof(init_script) + 128], crc[16];
	uint8_t payload[4] = { EXIT_CODE, 0, 0, 0 }; /* i32 little-endian */
	int rc;

	need_qemu();
	if (!find_kernel(fx->kernel, sizeof(fx->kernel)))
		test_missing("no arm64 Image: set KTSTR_TEST_KERNEL_ARM64 or run `ktstr-orch kernel "
			     "fetch --arch arm64`");
	if (arm64_busybox(fx->busybox, sizeof(fx->busybox)) < 0)
		test_missing("no arm64 busybox: set KTSTR_BUSYBOX_ARM64 or run scripts/fetch-arm64");
	need_worker(fx);
	snprintf(script, sizeof(script), "%s", init_script);
	snprintf(crc, sizeof(crc), "0x%08x", ktstr_crc32(payload, sizeof(payload)));
	replace(script, sizeof(script), "@CRC@", crc);
	replace(script, sizeof(script), "@MODE@", end);
	cr_assert_eq(vmtest_tmpdir(fx->dir, sizeof(fx->dir)), 0);
	snprintf(fx->initrd, sizeof(fx->initrd), "%s/initrd.cpio", fx->dir);
	rc = arm64_initramfs(fx->busybox, script, fx->initrd);
	cr_assert_eq(rc, 0, "%s: %s", fx->initrd, strerror(-rc));
}

static void spec_init(Ktstr__VmSpec *spec, Ktstr__Topology *topo, uint32_t timeout_ms)
{
	ktstr__vm_spec__init(spec);
	ktstr__topology__init(topo);
	topo->numa_nodes = 2;
	topo->llcs = 2;
	topo->cores_per_llc = 1;
	topo->threads_per_core = 1;
	spec->has_arch = true;
	spec->arch = KTSTR__ARCH__ARCH_ARM64;
	spec->engine = KTSTR__ENGINE__ENGINE_AUTO;
	spec->topology = topo;
	spec->memory_mb = MEM_MB;
	spec->timeout_ms = timeout_ms;
	spec->has_shm_size = true;
	spec->shm_size = SHM_BYTES;
	/* The boot log on COM1, to prove the PL011 is the console. */
	spec->cmdline_extra = "loglevel=7";
	spec->has_stream_output = true;
	spec->stream_output = true;
	spec->label = "arm64_worker";
}

/* GuestOutput events, per port. */
struct seen {
	struct strbuf port[3];
	volatile int stop;
};

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct seen *s = ctx;

	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && ev->output && ev->output->port >= 1 &&
	    ev->output->port <= 2)
		for (size_t i = 0; i < ev->output->data.len; i++)
			if (ev->output->data.data[i] != '\r')
				sb_printf(&s->port[ev->output->port], "%c",
					  (char)ev->output->data.data[i]);
}

static void run(struct fixture *fx, const char *kernel, Ktstr__VmSpec *spec, struct seen *seen,
		struct worker_outcome *out)
{
	int kfd = open(kernel, O_RDONLY | O_CLOEXEC), ifd = -1;
	struct worker_fds fds;
	struct worker_client_opts o = { .worker_path = fx->worker, .stderr_fd = -2,
					.on_event = on_event, .ctx = seen, .stop = &seen->stop };

	cr_assert(kfd >= 0, "open %s: %s", kernel, strerror(errno));
	if (fx->initrd[0]) {
		ifd = open(fx->initrd, O_RDONLY | O_CLOEXEC);
		cr_assert(ifd >= 0, "open %s: %s", fx->initrd, strerror(errno));
	}
	fds = (struct worker_fds){ .kernel_fd = kfd, .initrd_fd = ifd,
				   .stdin_fd = fx->stdin_fd > 0 ? fx->stdin_fd : -1,
				   .stdout_fd = fx->stdout_fd > 0 ? fx->stdout_fd : -1 };
	cr_assert_eq(worker_run_vm(spec, &fds, &o, out), 0);
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	cr_assert_not_null(out->result);
}

static const char *outcome_name(Ktstr__Outcome o)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, o);
	return v ? v->name : "?";
}

static char *text_of(ProtobufCBinaryData b)
{
	char *s = calloc(1, b.len + 1), *w = s;

	cr_assert(s);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != '\r')
			*w++ = (char)b.data[i];
	return s;
}

static const char *err_why(const Ktstr__VmResult *r)
{
	return r->error && r->error->why ? r->error->why : "";
}

Test(arm64_worker, boots_reports_and_powers_off, .timeout = 400)
{
	struct fixture fx = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	const Ktstr__VmResult *r;
	char want[256], *com1, *com2;
	uint64_t shm = ARM64_DRAM_BASE + ((uint64_t)MEM_MB << 20) - SHM_BYTES;

	prepare(&fx, END_POWER_OFF);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	run(&fx, fx.kernel, &spec, &seen, &out);
	r = out.result;
	com1 = text_of(r->console_tail);
	com2 = text_of(r->guest_output);
	cr_log_info("arm64 worker: outcome %s, console %zu bytes, output %zu bytes, total %llu us",
		    outcome_name(r->outcome), r->console_tail.len, r->guest_output.len,
		    (unsigned long long)r->total_us);
	cr_assert(!out.infra_error, "%s", out.error.why);
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_POWER_OFF, "outcome %s (%s)\nCOM1:\n%s\nCOM2:\n%s",
		     outcome_name(r->outcome), err_why(r), com1, com2);
	cr_assert_eq(r->engine, KTSTR__ENGINE__ENGINE_QEMU);
	cr_assert_str_eq(r->engine_detail, "qemu-tcg");
	/* COM2 = the virtio console: the result and the live events. */
	snprintf(want, sizeof(want), "KTSTR_ARM64_PROBE cpus=2 shm=0x%llx size=0x%x\n",
		 (unsigned long long)shm, SHM_BYTES);
	cr_assert(strstr(com2, "KTSTR_INIT_STARTED\n"), "COM2:\n%s", com2);
	cr_assert(strstr(com2, want), "no '%s' in COM2:\n%s", want, com2);
	cr_assert(seen.port[2].buf && strstr(seen.port[2].buf, want),
		  "the probe line came in no GuestOutput event of port 2");
	/* The tree reserved the ring exactly where the worker put it. */
	snprintf(want, sizeof(want), "KTSTR_ARM64_IOMEM %llx-%llx : reserved\n",
		 (unsigned long long)shm, (unsigned long long)(shm + SHM_BYTES - 1));
	cr_assert(strstr(com2, want), "no '%s' in COM2:\n%s", want, com2);
	/* The guest reads the worker's ring header; the worker reads the
	 * guest's EXIT message. */
	snprintf(want, sizeof(want), "KTSTR_ARM64_RING 0x%08X\n", KTSTR_RING_MAGIC);
	cr_assert(strstr(com2, want), "no '%s' in COM2:\n%s", want, com2);
	cr_assert(strstr(com2, "KTSTR_ARM64_DONE\n"), "COM2:\n%s", com2);
	cr_assert(r->has_guest_exit_code && r->guest_exit_code == EXIT_CODE,
		  "the worker did not read the guest's ring EXIT message (exit code %d)",
		  r->guest_exit_code);
	/* COM1 = the PL011: the kernel's boot log (the tail holds its last
	 * console_tail_bytes, the events all of it), never the output port. */
	cr_assert(strstr(com1, "Run /init as init process"), "COM1:\n%s", com1);
	cr_assert(strstr(com1, "reboot: Power down"), "COM1:\n%s", com1);
	cr_assert_null(strstr(com1, "KTSTR_ARM64_PROBE"), "COM2 text on COM1");
	cr_assert(seen.port[1].buf && strstr(seen.port[1].buf, "Booting Linux on physical CPU"),
		  "the boot log came in no GuestOutput event of port 1");
	cr_assert(out.reaped && WIFEXITED(out.worker_status) && WEXITSTATUS(out.worker_status) == 0,
		  "the worker exits 0 after its result");
	free(com1);
	free(com2);
	sb_free(&seen.port[1]);
	sb_free(&seen.port[2]);
	worker_outcome_free(&out);
	vmtest_rm_rf(fx.dir);
}

/* The host-side monitor on a booted arm64 guest (docs/monitor.md, "arm64
 * guests"): with the sid 7.2.13 Image's layout (tests/arm64_sid72_image.h,
 * no orchestrator), the worker's monitor reads the kernel's memory over the
 * QEMU engine's memfds, with the Image where QEMU virt loaded it, finds
 * memstart_addr set, each CPU's runqueue through __per_cpu_offset naming
 * itself, and samples while /init runs. */
Test(arm64_worker, monitor_reads_the_booted_kernel, .timeout = 400)
{
	struct fixture fx = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	Ktstr__GuestKernelLayout l;
	Ktstr__KernelField f[3];
	struct seen seen = { 0 };
	struct worker_outcome out;
	const Ktstr__VmResult *r;
	const Ktstr__MonitorReport *m;

	prepare(&fx, END_POWER_OFF);
	if (!strstr(fx.kernel, "/" SID72_REL "/"))
		cr_skip_test("%s is not the %s Image whose symbol addresses this test knows",
			     fx.kernel, SID72_REL);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	sid72_layout(&l, f);
	spec.kernel_layout = &l;
	run(&fx, fx.kernel, &spec, &seen, &out);
	r = out.result;
	cr_assert(!out.infra_error, "%s", out.error.why);
	cr_assert_eq(r->outcome, KTSTR__OUTCOME__OUTCOME_POWER_OFF, "outcome %s (%s)",
		     outcome_name(r->outcome), err_why(r));
	m = r->monitor;
	cr_assert_not_null(m, "no monitor report (off: %s)", r->monitor_off ? r->monitor_off : "-");
	cr_log_info("arm64 monitor: %s; ready at %.1f s, %llu samples, %u CPUs", m->summary,
		    m->has_ready_at_ns ? (double)m->ready_at_ns / 1e9 : -1.0,
		    (unsigned long long)m->samples, m->nr_cpus);
	for (size_t i = 0; i < m->n_notes; i++)
		cr_log_info("arm64 monitor note: %s", m->notes[i]);
	cr_assert(m->has_ready_at_ns, "never ready: %s", m->summary);
	cr_assert_eq(m->nr_cpus, 2);
	cr_assert_gt(m->samples, 0);
	cr_assert_eq(m->implausible, 0, "%s", m->first_implausible ? m->first_implausible : "");
	sb_free(&seen.port[1]);
	sb_free(&seen.port[2]);
	worker_outcome_free(&out);
	vmtest_rm_rf(fx.dir);
}

Test(arm64_worker, never_powers_off_times_out, .timeout = 200)
{
	struct fixture fx = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	uint64_t t0;

	prepare(&fx, END_NEVER);
	spec_init(&spec, &topo, HANG_TIMEOUT_MS);
	t0 = ktstr_now_ms();
	run(&fx, fx.kernel, &spec, &seen, &out);
	cr_assert(!out.infra_error, "%s", out.error.why);
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_TIMEOUT, "outcome %s (%s)",
		     outcome_name(out.result->outcome), err_why(out.result));
	/* The bound plus the reap and drain graces (qemu_collect.c). */
	cr_assert_lt(ktstr_now_ms() - t0, HANG_TIMEOUT_MS + 30000);
	sb_free(&seen.port[1]);
	sb_free(&seen.port[2]);
	worker_outcome_free(&out);
	vmtest_rm_rf(fx.dir);
}

/* How else the guest can end, after a boot that reached /init. */
static void ends_as(const char *end, Ktstr__Outcome want, const char *com1_needle)
{
	struct fixture fx = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	char *com1, *com2;

	prepare(&fx, end);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	run(&fx, fx.kernel, &spec, &seen, &out);
	com1 = text_of(out.result->console_tail);
	com2 = text_of(out.result->guest_output);
	cr_assert(!out.infra_error, "%s", out.error.why);
	cr_assert_eq(out.result->outcome, want, "outcome %s (%s)\nCOM1:\n%s\nCOM2:\n%s",
		     outcome_name(out.result->outcome), err_why(out.result), com1, com2);
	cr_assert(strstr(com2, "KTSTR_ARM64_DONE\n"), "COM2:\n%s", com2);
	cr_assert(strstr(com1, com1_needle), "no '%s' on COM1:\n%s", com1_needle, com1);
	free(com1);
	free(com2);
	sb_free(&seen.port[1]);
	sb_free(&seen.port[2]);
	worker_outcome_free(&out);
	vmtest_rm_rf(fx.dir);
}

Test(arm64_worker, psci_reset_is_reset, .timeout = 400)
{
	ends_as(END_RESET, KTSTR__OUTCOME__OUTCOME_RESET, "reboot: Restarting system");
}

Test(arm64_worker, init_exit_is_guest_panic, .timeout = 400)
{
	ends_as(END_EXIT, KTSTR__OUTCOME__OUTCOME_GUEST_PANIC, "Kernel panic - not syncing");
}

/* Interactive (ktstr-orch shell): terminal input reaches the guest's output
 * port, the virtio console, and its output reaches the terminal. The worker
 * holds the input until the guest says KTSTR_SHELL_READY (as on x86: a port
 * no one has open drops what arrives). */
Test(arm64_worker, interactive_input_reaches_hvc0, .timeout = 400)
{
	struct fixture fx = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;
	int in[2], term[2];
	char *com2, got[8192] = "";
	ssize_t n;

	prepare(&fx, END_ECHO);
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(term, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(write_full(in[1], "ping-from-host\n", 15), 0);
	fx.stdin_fd = in[0];
	fx.stdout_fd = term[1];
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	spec.has_interactive = true;
	spec.interactive = true;
	run(&fx, fx.kernel, &spec, &seen, &out);
	com2 = text_of(out.result->guest_output);
	cr_assert(!out.infra_error, "%s", out.error.why);
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_POWER_OFF,
		     "outcome %s (%s)\nCOM2:\n%s", outcome_name(out.result->outcome),
		     err_why(out.result), com2);
	cr_assert(strstr(com2, "GOT ping-from-host\n"), "COM2:\n%s", com2);
	n = read(term[0], got, sizeof(got) - 1);
	cr_assert_gt(n, 0, "nothing reached the terminal");
	got[n] = '\0';
	cr_assert(strstr(got, "GOT ping-from-host"), "terminal got:\n%s", got);
	free(com2);
	close(in[0]);
	close(in[1]);
	close(term[0]);
	close(term[1]);
	sb_free(&seen.port[1]);
	sb_free(&seen.port[2]);
	worker_outcome_free(&out);
	vmtest_rm_rf(fx.dir);
}

/* ---- refused before QEMU starts, with the reason ------------------------
 * No boot: a file with an arm64 Image header (or not) is all the worker
 * reads before these refusals. */

#define FAKE_LEN 4096u

/* An arm64 Image header (lib/arm64_guest.h). */
static void fake_image(uint8_t *b, uint64_t image_size)
{
	arm64_fake_image(b, FAKE_LEN, image_size);
}

static void put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write_full(fd, data, len), 0);
	close(fd);
}

/* Run spec with kernel = kernel[0..klen) and a 4 KiB initrd; expect
 * ENGINE_ERROR with what and a why holding why_part. */
static void refused(Ktstr__VmSpec *spec, const uint8_t *kernel, size_t klen, const char *what,
		    const char *why_part)
{
	struct fixture fx = { 0 };
	struct seen seen = { 0 };
	struct worker_outcome out;
	char kpath[512];
	static const uint8_t initrd[4096];

	need_qemu();
	need_worker(&fx);
	cr_assert_eq(vmtest_tmpdir(fx.dir, sizeof(fx.dir)), 0);
	snprintf(kpath, sizeof(kpath), "%s/kernel", fx.dir);
	put(kpath, kernel, klen);
	snprintf(fx.initrd, sizeof(fx.initrd), "%s/initrd", fx.dir);
	put(fx.initrd, initrd, sizeof(initrd));
	run(&fx, kpath, spec, &seen, &out);
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR, "outcome %s",
		     outcome_name(out.result->outcome));
	cr_assert(out.result->error && out.result->error->what);
	cr_assert_str_eq(out.result->error->what, what, "why: %s", err_why(out.result));
	cr_assert(strstr(err_why(out.result), why_part), "no '%s' in: %s", why_part,
		  err_why(out.result));
	worker_outcome_free(&out);
	vmtest_rm_rf(fx.dir);
}

Test(arm64_worker, elf_kernel_refused, .timeout = 60)
{
	uint8_t k[FAKE_LEN] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;

	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	refused(&spec, k, sizeof(k), "check the arm64 kernel", "an ELF file");
}

Test(arm64_worker, bzimage_refused, .timeout = 60)
{
	uint8_t k[FAKE_LEN] = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;

	memcpy(k + 0x202, "HdrS", 4);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	refused(&spec, k, sizeof(k), "check the arm64 kernel", "an x86 bzImage");
}

/* RAM that does not split into the tree's equal 2 MiB-multiple nodes. */
Test(arm64_worker, memory_not_split_refused, .timeout = 60)
{
	uint8_t k[FAKE_LEN];
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;

	fake_image(k, FAKE_LEN);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	spec.memory_mb = MEM_MB + 2; /* 2 nodes: 257 MiB each */
	refused(&spec, k, sizeof(k), "lay out guest RAM for an arm64 guest",
		"does not split into 2 NUMA nodes");
}

/* One memfd per node plus the tree's: at most 9 nodes. */
Test(arm64_worker, ten_nodes_refused, .timeout = 60)
{
	uint8_t k[FAKE_LEN];
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;

	fake_image(k, FAKE_LEN);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	topo.numa_nodes = topo.llcs = 10;
	spec.memory_mb = 1000;
	refused(&spec, k, sizeof(k), "lay out guest RAM for QEMU", "takes 1..9");
}

/* A kernel that would reach into the initrd QEMU loads at RAM + 128 MiB
 * (QEMU loads it at RAM + 2 MiB: 126 MiB fit, 127 do not). */
Test(arm64_worker, kernel_over_initrd_refused, .timeout = 60)
{
	uint8_t k[FAKE_LEN];
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;

	fake_image(k, 127ull << 20);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	refused(&spec, k, sizeof(k), "place the arm64 kernel", "below the initrd");
}

/* QEMU puts the tree 2 MiB-aligned after the initrd: with a 126 MiB ring
 * in 256 MiB the tree (at RAM + 130 MiB) would start inside the ring. */
Test(arm64_worker, ring_under_the_tree_refused, .timeout = 60)
{
	uint8_t k[FAKE_LEN];
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;

	fake_image(k, FAKE_LEN);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	spec.memory_mb = 256;
	spec.shm_size = 126u << 20;
	refused(&spec, k, sizeof(k), "place the SHM ring", "the device tree it puts after it");
}

/* VmSpec.qemu_binary overrides the default qemu-system-aarch64. */
Test(arm64_worker, qemu_binary_overrides_default, .timeout = 60)
{
	uint8_t k[FAKE_LEN];
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;

	fake_image(k, FAKE_LEN);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	spec.qemu_binary = "/nonexistent/qemu-system-aarch64";
	refused(&spec, k, sizeof(k), "locate the QEMU binary",
		"/nonexistent/qemu-system-aarch64 not found");
}

/* Engine KVM for an arm64 guest: refused, naming both architectures. */
Test(arm64_worker, kvm_engine_refused, .timeout = 60)
{
	struct fixture fx = { 0 };
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	struct seen seen = { 0 };
	struct worker_outcome out;

	need_worker(&fx);
	spec_init(&spec, &topo, BOOT_TIMEOUT_MS);
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	/* Any readable file: the spec is refused before the kernel is read. */
	run(&fx, fx.worker, &spec, &seen, &out);
	cr_assert_eq(out.result->outcome, KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR);
	cr_assert(strstr(err_why(out.result), "cannot run an arm64 guest on this x86_64 host"),
		  "%s", err_why(out.result));
	cr_assert(strstr(err_why(out.result), "use engine QEMU"), "%s", err_why(out.result));
	worker_outcome_free(&out);
}
