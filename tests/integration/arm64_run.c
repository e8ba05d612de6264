/* `ktstr-orch run --arch arm64` end to end (docs/aarch64.md): an EEVDF
 * steady test on a Debian sid arm64 kernel under QEMU TCG, 1,2,2,1, passes
 * and its results say arm64; and what must be refused before any boot is:
 * a topology arm64 cannot express (exit 2 with the reason), an x86 kernel
 * for an arm64 run, the KVM engine for an arm64 guest on an x86_64 host,
 * an --arch nobody knows.
 *
 * The host-side monitor reads the arm64 guests (scx_cpu0's imbalance).
 *
 * The boot needs the arm64 kernel ($KTSTR_TEST_KERNEL_ARM64, else the
 * newest $KTSTR_CACHE_DIR/kernels/ entry with arch=arm64: `ktstr-orch
 * kernel fetch --arch arm64`), the arm64 ktstr-guest (build/bin/arm64/,
 * built where aarch64-linux-gnu-gcc is installed), the arm64 busybox
 * (scripts/fetch-arm64) and qemu-system-aarch64; without one it is skipped
 * saying which. The refusals need only ktstr-orch. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/util.h"
#include "lib/suite_run.h"
#include "lib/vmtest.h"

#define QEMU_AARCH64 "/usr/bin/qemu-system-aarch64"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, 0644), 0);
}

/* A file that is an arm64 Image as far as its header goes: enough for
 * everything refused before a boot. */
static void fake_image(const char *path)
{
	char buf[4096] = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	memcpy(buf + 56, "ARM\x64", 4);
	cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
}

/* The arm64 kernel to boot: $KTSTR_TEST_KERNEL_ARM64, else the newest
 * cache entry whose metadata says arch=arm64. */
static bool find_arm64_kernel(char *buf, size_t len)
{
	const char *env = getenv("KTSTR_TEST_KERNEL_ARM64"), *cache = getenv("KTSTR_CACHE_DIR");
	char pat[1024];
	glob_t g;
	bool ok = false;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) == 0;
	}
	if (!cache || !*cache)
		return false;
	snprintf(pat, sizeof(pat), "%s/kernels/*-cloud-arm64/metadata", cache);
	if (glob(pat, 0, NULL, &g))
		return false;
	/* glob sorts: the last is the newest of one naming scheme. */
	for (size_t i = g.gl_pathc; i-- > 0 && !ok;) {
		char *text = NULL;
		size_t n = 0;

		if (read_file(g.gl_pathv[i], &text, &n, 1 << 16))
			continue;
		if (strstr(text, "\narch=arm64") || !strncmp(text, "arch=arm64", 10)) {
			snprintf(buf, len, "%.*s/Image",
				 (int)(strrchr(g.gl_pathv[i], '/') - g.gl_pathv[i]), g.gl_pathv[i]);
			ok = access(buf, R_OK) == 0;
		}
		free(text);
	}
	globfree(&g);
	return ok;
}

static bool arm64_busybox(void)
{
	const char *env = getenv("KTSTR_BUSYBOX_ARM64"), *cache = getenv("KTSTR_CACHE_DIR");
	char p[1024];

	if (env && *env)
		return access(env, X_OK) == 0;
	snprintf(p, sizeof(p), "%s/arm64/busybox", cache ? cache : "");
	return cache && access(p, X_OK) == 0;
}

static bool arm64_guest(void)
{
	const char *env = getenv("KTSTR_GUEST_ARM64");
	char p[1024];

	if (env && *env)
		return access(env, R_OK) == 0;
	return vmtest_bin("arm64/ktstr-guest", p, sizeof(p)) == 0;
}

static void boot_env_init(struct suite_env *e, char *kernel, size_t klen);

static const char steady_suite[] =
	"tests:\n"
	"  - {name: steady_arm64, scenario: steady, topology: \"1,2,2,1\", duration: 2s,\n"
	"     memory_mb: 512, asserts: {max_spread_pct: 35, max_gap_ms: 3000}}\n";

Test(arm64_run, eevdf_steady_passes_on_an_arm64_guest, .timeout = 600)
{
	struct suite_env e;
	char kernel[1024], suite[1200], args[64], *out = NULL, *rec;
	int rc;

	boot_env_init(&e, kernel, sizeof(kernel));
	snprintf(suite, sizeof(suite), "%s/arm64.yaml", e.tmp);
	write_text(suite, steady_suite);
	snprintf(args, sizeof(args), " --arch arm64 --timeout 300");
	rc = run_suite_path(&e, suite, NULL, kernel, args, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "# guest architecture: arm64\n");
	/* The host-side monitor read the arm64 guest: on for this kernel,
	 * and, with no sched_ext scheduler, skipped for that reason. */
	assert_has(out, "monitor: on for kernel ");
	assert_has(out, "PASS  steady_arm64  (");
	assert_has(out, "\n1 passed, 0 failed, 0 skipped\n");
	rec = json_record(&e, "steady_arm64");
	assert_has(rec, "\"verdict\":\"PASS\"");
	assert_has(rec, "\"arch\":\"arm64\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* The arm64 scx_simple: $KTSTR_SCHEDULER_PATH_ARM64's, else the newest
 * <cache>/schedulers/<version>/arm64/bin/ (scripts/build-schedulers --arch
 * arm64), the directory ktstr-orch itself looks in last. */
static bool arm64_scx_simple(void)
{
	const char *env = getenv("KTSTR_SCHEDULER_PATH_ARM64"), *cache = getenv("KTSTR_CACHE_DIR");
	char pat[1024];
	glob_t g = { 0 };
	bool ok;

	if (env && *env) {
		snprintf(pat, sizeof(pat), "%s/scx_simple", env);
		return access(pat, X_OK) == 0;
	}
	snprintf(pat, sizeof(pat), "%s/schedulers/*/arm64/bin/scx_simple", cache ? cache : "");
	ok = cache && !glob(pat, 0, NULL, &g) && g.gl_pathc;
	globfree(&g);
	return ok;
}

/* Everything a boot needs, or skip saying what is missing. */
static void boot_env_init(struct suite_env *e, char *kernel, size_t klen)
{
	if (access(QEMU_AARCH64, X_OK))
		test_missing("needs %s (qemu-system-arm)", QEMU_AARCH64);
	if (!find_arm64_kernel(kernel, klen))
		test_missing("needs an arm64 kernel: $KTSTR_TEST_KERNEL_ARM64 or `ktstr-orch kernel "
			     "fetch --arch arm64`");
	if (!arm64_busybox())
		test_missing("needs the arm64 busybox: scripts/fetch-arm64");
	if (!arm64_guest())
		test_missing("needs the arm64 ktstr-guest (build/bin/arm64/ktstr-guest: make with "
			     "aarch64-linux-gnu-gcc installed)");
	/* suite_env_init wants the x86 test kernel; these runs need ours. */
	memset(e, 0, sizeof(*e));
	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		test_missing("ktstr-orch not built");
	cr_assert_eq(vmtest_src_dir(e->src, sizeof(e->src)), 0);
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
	cr_assert_eq(chmod(e->tmp, 0755), 0);
}

static const char simple_suite[] =
	"schedulers:\n"
	"  - {name: simple, binary: scx_simple}\n"
	"tests:\n"
	"  - {name: simple_arm64, scheduler: simple, scenario: steady, topology: \"1,2,2,1\",\n"
	"     duration: 2s, memory_mb: 512}\n";

Test(arm64_run, scx_simple_built_for_arm64_attaches_and_passes, .timeout = 600)
{
	struct suite_env e;
	char kernel[1024], suite[1200], *out = NULL, *rec;
	int rc;

	if (!arm64_scx_simple())
		test_missing("needs an arm64 scx_simple: scripts/build-schedulers --arch arm64 or "
			     "$KTSTR_SCHEDULER_PATH_ARM64");
	boot_env_init(&e, kernel, sizeof(kernel));
	snprintf(suite, sizeof(suite), "%s/simple.yaml", e.tmp);
	write_text(suite, simple_suite);
	/* A PASS needs the scheduler attached: the guest reports
	 * SCHED_NOT_ATTACHED otherwise. */
	rc = run_suite_path(&e, suite, NULL, kernel, " --arch arm64 --timeout 300", &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "# scheduler simple (sha256 ");
	assert_has(out, "PASS  simple_arm64  (");
	rec = json_record(&e, "simple_arm64");
	assert_has(rec, "\"verdict\":\"PASS\"");
	assert_has(rec, "\"arch\":\"arm64\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* A dynamically linked arm64 payload: the builder packs its interpreter and
 * libraries from Debian's multiarch arm64 libc (initramfs-builder/closure.c)
 * and the guest's ld-linux-aarch64.so.1 finds them: the program runs, says
 * its machine and exits with the status the test expects. */
static const char dynamic_suite_fmt[] =
	"payloads:\n"
	"  hello: {path: %s}\n"
	"tests:\n"
	"  - name: dynamic_payload_arm64\n"
	"    topology: \"1,1,2,1\"\n"
	"    duration: 1s\n"
	"    memory_mb: 512\n"
	"    scenario:\n"
	"      cgroups: [{name: cg0, workers: 1}]\n"
	"      steps:\n"
	"        - ops:\n"
	"            - kind: run_payload\n"
	"              payload: {name: hello, expect_exit: 7}\n";

Test(arm64_run, a_dynamically_linked_arm64_payload_runs, .timeout = 600)
{
	struct suite_env e;
	char kernel[1024], suite[1200], exe[1200], yaml[2048], cmd[4096], *out = NULL, *rec;
	int rc;

	if (system("command -v aarch64-linux-gnu-gcc >/dev/null 2>&1") ||
	    access("/lib/ld-linux-aarch64.so.1", R_OK))
		test_missing("needs aarch64-linux-gnu-gcc and libc6:arm64 (scripts/install-deps)");
	boot_env_init(&e, kernel, sizeof(kernel));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf '#include <stdio.h>\\n#include <sys/utsname.h>\\n"
		 "int main(void){struct utsname u; uname(&u); "
		 "printf(\"arm64-dynamic-payload %%%%s\\\\n\", u.machine); return 7;}' > h.c && "
		 "aarch64-linux-gnu-gcc -O2 -o hello h.c && chmod 0755 hello && "
		 "readelf -l hello | grep -q 'ld-linux-aarch64'", e.tmp);
	rc = sh_status(cmd, 60000, &out);
	cr_assert_eq(rc, 0, "building the arm64 payload: %s", out);
	free(out);
	out = NULL;
	snprintf(exe, sizeof(exe), "%s/hello", e.tmp);
	snprintf(yaml, sizeof(yaml), dynamic_suite_fmt, exe);
	snprintf(suite, sizeof(suite), "%s/dynamic.yaml", e.tmp);
	write_text(suite, yaml);
	rc = run_suite_path(&e, suite, NULL, kernel, " --arch arm64 --timeout 300", &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	assert_has(out, "PASS  dynamic_payload_arm64  (");
	rec = json_record(&e, "dynamic_payload_arm64");
	assert_has(rec, "\"exit_status\":7");
	assert_has(rec, "arm64-dynamic-payload aarch64");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* The host-side monitor reads an arm64 guest's runqueues (docs/monitor.md,
 * "arm64 guests"): the layout from the arm64 Image, the translation from
 * the Image's load address and the guest's memstart_addr. scx_cpu0 built
 * for arm64 queues every task on CPU 0: every worker check passes, and only
 * the monitor, reading CPU 0's and CPU 1's runqueues from outside, fails it
 * with the imbalance and both CPUs' counts. */
static const char cpu0_suite[] =
	"schedulers:\n"
	"  - {name: cpu0, binary: scx_cpu0, ops_name: cpu0}\n"
	"tests:\n"
	"  - name: imbalance_cpu0_arm64\n"
	"    scheduler: cpu0\n"
	"    topology: \"1,1,2,1\"\n"
	"    duration: 8s\n"
	"    memory_mb: 512\n"
	"    scenario:\n"
	"      cgroups:\n"
	"        - {name: cg0, workers: 8}\n"
	"    asserts: {max_imbalance_ratio: 4.0, max_spread_pct: 100, max_gap_ms: 3000}\n";

Test(arm64_run, the_monitor_reads_an_arm64_guest_and_fails_scx_cpu0, .timeout = 600)
{
	struct suite_env e;
	char kernel[1024], suite[1200], *out = NULL, *rec;
	int rc;

	if (!arm64_scx_simple())
		test_missing("needs the arm64 schedulers: scripts/build-schedulers --arch arm64 or "
			     "$KTSTR_SCHEDULER_PATH_ARM64");
	boot_env_init(&e, kernel, sizeof(kernel));
	snprintf(suite, sizeof(suite), "%s/cpu0.yaml", e.tmp);
	write_text(suite, cpu0_suite);
	rc = run_suite_path(&e, suite, NULL, kernel, " --arch arm64 --timeout 300", &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	cr_assert_null(strstr(out, "not available for arm64 guests"), "%s", out);
	assert_has(out, "FAIL  imbalance_cpu0_arm64  (");
	assert_has(out, "monitor: imbalance ratio ");
	assert_has(out, "(cpu0 nr_running ");
	assert_has(out, ", cpu1 ");
	rec = json_record(&e, "imbalance_cpu0_arm64");
	assert_has(rec, "\"arch\":\"arm64\"");
	assert_has(rec, "\"monitor\":{\"verdict\":\"MONITOR_FAIL\"");
	assert_has(rec, "\"check\":\"MONITOR_CHECK_IMBALANCE\"");
	free(rec);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* The refusals below start no VM: they need ktstr-orch and nothing else. */
struct refusal_env {
	char orch[1024], tmp[1024], suite[1200], image[1200];
};

static void refusal_env_init(struct refusal_env *r, const char *suite_text)
{
	if (vmtest_bin("ktstr-orch", r->orch, sizeof(r->orch)))
		test_missing("ktstr-orch not built");
	cr_assert_eq(vmtest_tmpdir(r->tmp, sizeof(r->tmp)), 0);
	cr_assert_eq(chmod(r->tmp, 0755), 0);
	snprintf(r->suite, sizeof(r->suite), "%s/s.yaml", r->tmp);
	write_text(r->suite, suite_text);
	snprintf(r->image, sizeof(r->image), "%s/Image", r->tmp);
	fake_image(r->image);
}

static int orch(const struct refusal_env *r, const char *args, char **out)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", r->orch, args);
	return sh_status(cmd, 60000, out);
}

Test(arm64_run, a_topology_arm64_cannot_express_is_a_suite_error_before_any_boot)
{
	struct refusal_env r;
	char args[4096], *out = NULL;
	int rc;

	refusal_env_init(&r, "tests:\n"
			     "  - {name: fits, topology: \"1,2,2,1\"}\n"
			     "  - {name: too_wide, topology: \"1,2,64,1\"}\n");
	snprintf(args, sizeof(args), "run %s --arch arm64 --kernel %s --json %s/r.json", r.suite,
		 r.image, r.tmp);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "arm64 guest: test 'too_wide' (line 3): arm64: 128 vCPUs exceed the 123");
	assert_has(out, "1 test(s) cannot run on an arm64 guest (above); nothing was started");
	cr_assert_null(strstr(out, "# ktstr "), "a run header: something started:\n%s", out);
	snprintf(args, sizeof(args), "%s/r.json", r.tmp);
	cr_assert_neq(access(args, F_OK), 0, "no report is written for a refused suite");
	free(out);

	/* list shows the plan, the refusal in it, and exits as run would. */
	snprintf(args, sizeof(args), "list %s --arch aarch64", r.suite);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "; guest arm64");
	assert_has(out, "refused too_wide");
	assert_has(out, "run  fits");
	assert_has(out, "1 refused (cannot run on an arm64 guest)");
	free(out);

	/* The same suite for x86_64 plans both. */
	snprintf(args, sizeof(args), "list %s", r.suite);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert_null(strstr(out, "refused"), "%s", out);
	free(out);
	vmtest_rm_rf(r.tmp);
}

Test(arm64_run, the_wrong_kernel_engine_or_arch_name_is_refused_before_any_boot)
{
	struct refusal_env r;
	char args[4096], bz[1200], *out = NULL;
	int rc, fd;

	refusal_env_init(&r, "tests:\n  - {name: t, topology: \"1,1,2,1\"}\n");
	/* An x86 bzImage for an arm64 run. */
	snprintf(bz, sizeof(bz), "%s/bzImage", r.tmp);
	fd = open(bz, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	{
		char buf[4096] = { 0 };

		memcpy(buf + 0x202, "HdrS", 4);
		cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	}
	close(fd);
	snprintf(args, sizeof(args), "run %s --arch arm64 --kernel %s", r.suite, bz);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "is an x86_64 kernel");
	assert_has(out, "the run's guest is arm64");
	free(out);
	/* The arm64 Image for an x86_64 run. */
	snprintf(args, sizeof(args), "run %s --kernel %s", r.suite, r.image);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "is an arm64 kernel");
	free(out);
	/* KVM cannot run an arm64 guest on an x86_64 host. */
#if defined(__x86_64__)
	snprintf(args, sizeof(args), "run %s --arch arm64 --engine kvm --kernel %s", r.suite,
		 r.image);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "--engine kvm cannot run an arm64 guest on this x86_64 host");
	free(out);
	snprintf(args, sizeof(args), "shell --arch arm64 --engine kvm --kernel %s --exec true",
		 r.image);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "--engine kvm cannot run an arm64 guest");
	free(out);
#endif
	/* An architecture nobody knows, on each command that takes --arch. */
	for (const char *cmd[] = { "run", "list", "shell", NULL }, **c = cmd; *c; c++) {
		snprintf(args, sizeof(args), "%s %s --arch sparc64", *c,
			 strcmp(*c, "shell") ? r.suite : "");
		rc = orch(&r, args, &out);
		cr_assert_eq(rc, 2, "%s: exit %d:\n%s", *c, rc, out);
		assert_has(out, "--arch takes x86_64 or arm64 (aarch64), got 'sparc64'");
		free(out);
	}
	/* shell: a topology arm64 cannot express, before anything boots. */
	snprintf(args, sizeof(args),
		 "shell --arch arm64 --topology 2,2,1,1 --memory-mb 130 --kernel %s --exec true",
		 r.image);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "multiple of 4 MiB");
	free(out);
	vmtest_rm_rf(r.tmp);
}

/* A scheduler built for x86_64 in an arm64 run: refused before the image
 * is built, naming the file, its machine and the run's architecture. The
 * check runs where the image inputs are checked, after the arm64
 * ktstr-guest and busybox are found: it needs them, not a kernel. */
Test(arm64_run, an_x86_scheduler_in_an_arm64_run_is_refused_before_any_boot)
{
	struct refusal_env r;
	char args[4096], sched[1200], *out = NULL;
	unsigned char eh[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	int rc, fd;

	if (!arm64_busybox() || !arm64_guest())
		test_missing("needs the arm64 busybox and ktstr-guest (scripts/fetch-arm64, make)");
	refusal_env_init(&r, "schedulers:\n  - {name: s, binary: {path: scx_x86}}\n"
			     "tests:\n  - {name: t, scheduler: s, topology: \"1,1,2,1\"}\n");
	snprintf(sched, sizeof(sched), "%s/scx_x86", r.tmp);
	eh[16] = 2;   /* ET_EXEC */
	eh[18] = 62;  /* EM_X86_64 */
	eh[20] = 1;   /* EV_CURRENT */
	eh[52] = 64;  /* e_ehsize */
	fd = open(sched, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, eh, sizeof(eh)), (ssize_t)sizeof(eh));
	close(fd);
	snprintf(args, sizeof(args), "--workers 1 run %s --arch arm64 --kernel %s", r.suite,
		 r.image);
	rc = orch(&r, args, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	assert_has(out, "scheduler 's' binary");
	assert_has(out, "scx_x86 is an ELF file for x86_64, but the run's guest is arm64");
	cr_assert_null(strstr(out, "# ktstr "), "a run header: something started:\n%s", out);
	free(out);
	vmtest_rm_rf(r.tmp);
}
