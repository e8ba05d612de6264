/* ktstr-orch end to end: real workers, real builder, real VMs (QEMU TCG
 * here). Each test runs the built ktstr-orch as a user would. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/hostkvm.h>
#include <ktstr/util.h>

#include "hostcaps.h"
#include "lib/vmtest.h"

#define ORCH_TIMEOUT_MS (420 * 1000)

struct orch_env {
	char orch[1024], kernel[1024], src[1024], tmp[1024];
};

static void orch_env(struct orch_env *e)
{
	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel("vmlinux", e->kernel, sizeof(e->kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	cr_assert_eq(vmtest_src_dir(e->src, sizeof(e->src)), 0);
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
}

/* Run a shell command line; returns the exit status, output in *out. */
static int sh(const char *cmd, char **out)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int status = 0;

	cr_assert_eq(vmtest_run(argv, ORCH_TIMEOUT_MS, out, &status), 0, "command hung: %s", cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The last line of text (without its newline) must be exactly want. */
static void assert_last_line(const char *out, const char *want)
{
	size_t n = strlen(out), wl = strlen(want);

	cr_assert(n > wl && out[n - 1] == '\n' && !strncmp(out + n - 1 - wl, want, wl) &&
			  (n - 1 - wl == 0 || out[n - 2 - wl] == '\n'),
		  "last line is not exactly '%s':\n%s", want, out);
}

/* Issue 6: three topologies, two VMs at once; issue 7: started as root, the
 * orchestrator drops to nobody and still reads the kernel from root's cache
 * and delivers its reports into a root-only (0700) directory. */
Test(orch, eevdf_suite_passes_on_three_topologies_with_two_workers, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL, *err = NULL;
	int rc;

	orch_env(&e);
	/* stdout alone: the per-test lines, reports and summary; stderr (logs)
	 * apart so the last stdout line can be checked exactly. */
	snprintf(cmd, sizeof(cmd),
		 "%s --workers 2 run %s/examples/eevdf.yaml --kernel %s --junit %s/j.xml "
		 "--json %s/r.json --jsonl %s/r.jsonl 2>%s/err",
		 e.orch, e.src, e.kernel, e.tmp, e.tmp, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	snprintf(cmd, sizeof(cmd), "cat %s/err", e.tmp);
	sh(cmd, &err);
	cr_assert_eq(rc, 0, "exit %d:\n%s\n%s", rc, out, err);
	cr_assert(strstr(out, "PASS  eevdf_steady_1llc  (qemu-"), "engine named:\n%s", out);
	cr_assert(strstr(out, "PASS  eevdf_steady_2llc  (qemu-"), "engine named:\n%s", out);
	cr_assert(strstr(out, "PASS  eevdf_smt  (qemu-"), "engine named:\n%s", out);
	cr_assert_null(strstr(out, "UNSANDBOXED"), "%s", out);
	cr_assert(strstr(out, "sandbox: confined: 3 of 3 VM workers"), "%s", out);
	cr_assert_null(strchr(out, '\r'), "no progress line when not a TTY:\n%s", out);
	assert_last_line(out, "3 passed, 0 failed, 0 skipped");
	if (geteuid() == 0)
		cr_assert(strstr(err, "dropped root to user "), "root is dropped:\n%s", err);
	cr_assert(strstr(err, "host CPU plan:"), "the CPU plan is never silent:\n%s", err);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd),
		 "chmod 700 %s && { xmllint --noout --schema %s/tests/data/junit.xsd %s/j.xml "
		 "2>%s/xsd || { cat %s/xsd; exit 1; }; } && "
		 "grep -c '\"worker_sandboxed\":true,\"builder_sandboxed\":true' %s/r.json && "
		 "grep -c '^  {\"name\":' %s/r.json && "
		 "grep -c 'name=\"worker_sandboxed\" value=\"true\"' %s/j.xml",
		 e.tmp, e.src, e.tmp, e.tmp, e.tmp, e.tmp, e.tmp, e.tmp);
	out = NULL;
	cr_assert_eq(sh(cmd, &out), 0, "JUnit invalid or JSON missing: %s", out);
	cr_assert_str_eq(out, "3\n3\n3\n", "one JSON record and one JUnit testcase per test, "
					    "each sandboxed");
	free(out);
	/* The run's metadata and the CI marks (docs/results.md): JUnit file,
	 * line, timestamp, hostname, the console in system-out; --jsonl a
	 * header, a line per test and the totals; --json the run. */
	snprintf(cmd, sizeof(cmd),
		 "grep -c 'file=\"%s/examples/eevdf.yaml\" line=\"[0-9]*\">' %s/j.xml && "
		 "grep -c '<testsuite .* timestamp=\"[0-9T:-]*Z\" hostname=\"'$(hostname)'\">' %s/j.xml && "
		 "grep -c '<system-out>' %s/j.xml && "
		 "python3 -c 'import json,sys\n"
		 "L=[json.loads(l) for l in open(sys.argv[1])]\n"
		 "assert [l[\"type\"] for l in L]==[\"header\",\"test\",\"test\",\"test\",\"end\"]\n"
		 "h=L[0][\"run\"]; assert len(h[\"suite_sha256\"])==64 and len(h[\"kernels\"][0][\"sha256\"])==64\n"
		 "assert L[-1][\"passed\"]==3 and L[-1][\"exit_code\"]==0\n"
		 "R=json.load(open(sys.argv[2])); assert all(r[\"run\"][\"duration_ms\"]>0 and r[\"schema\"]==1 for r in R)\n"
		 "print(\"ok\")' %s/r.jsonl %s/r.json",
		 e.src, e.tmp, e.tmp, e.tmp, e.tmp, e.tmp);
	out = NULL;
	cr_assert_eq(sh(cmd, &out), 0, "JUnit or JSON Lines lack the run's metadata: %s", out);
	cr_assert_str_eq(out, "3\n1\n3\nok\n", "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* --insecure-no-sandbox reaches builder and worker, and every report says
 * so; on a TTY (script(1) gives it one) the live progress line appears.
 * The spread limit is relaxed: this test is about reporting, and a busy
 * 2-CPU host makes a 1 s EEVDF spread noisy. */
Test(orch, insecure_no_sandbox_is_loud_and_a_tty_gets_the_progress_line, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	orch_env(&e);
	snprintf(cmd, sizeof(cmd),
		 "printf 'tests:\\n  - {name: open_door, duration: 1s, asserts: {max_spread_pct: 100}}\\n' > %s/one.yaml && "
		 "TERM=xterm script -qec '%s --insecure-no-sandbox run %s/one.yaml --kernel %s "
		 "--json %s/r.json --junit %s/j.xml' /dev/null; rc=$?; "
		 "xmllint --noout %s/j.xml || rc=99; cat %s/r.json %s/j.xml; exit $rc",
		 e.tmp, e.orch, e.tmp, e.kernel, e.tmp, e.tmp, e.tmp, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "\r\033[K[0/1] 1 running: open_door"), "progress line:\n%s", out);
	/* Logs of the worker (and of ktstr-orch) while the bar is up are
	 * relayed: the bar is erased first and redrawn after, so nothing is
	 * ever written after the bar's text on its line. */
	cr_assert(strstr(out, "\r\033[Kktstr-vmm-worker: "), "worker log not relayed:\n%s", out);
	for (const char *p = out; (p = strstr(p, "running: open_door")); p++) {
		char next = p[strlen("running: open_door")];

		cr_assert(next == '\r' || next == '\0', "text after the progress bar: \"%.80s\"", p);
	}
	cr_assert(strstr(out, "PASS  open_door  (qemu-"), "%s", out);
	cr_assert(strstr(out, "UNSANDBOXED worker, UNSANDBOXED builder)"), "%s", out);
	cr_assert(strstr(out, "WARNING: UNSANDBOXED: 1 of 1 VM workers"), "%s", out);
	cr_assert(strstr(out, "\"worker_sandboxed\":false,\"builder_sandboxed\":false"), "%s", out);
	cr_assert(strstr(out, "<property name=\"unsandboxed_tests\" value=\"1\"/>"), "%s", out);
	cr_assert(strstr(out, "1 passed, 0 failed, 0 skipped"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* `list` writes no results: a results option given to it is refused, not
 * ignored (and no file is made). */
Test(orch, list_refuses_the_result_options, .timeout = 120)
{
	static const char *const opt[] = { "--junit", "--json", "--jsonl", "--html" };
	struct orch_env e;
	char cmd[8192], *out = NULL;

	orch_env(&e);
	for (size_t i = 0; i < ARRAY_SIZE(opt); i++) {
		snprintf(cmd, sizeof(cmd), "%s list %s/examples/eevdf.yaml %s %s/r 2>&1; echo rc=$?; "
					   "test -e %s/r && echo made",
			 e.orch, e.src, opt[i], e.tmp, e.tmp);
		sh(cmd, &out);
		cr_assert(strstr(out, "ktstr-orch list: unknown option") && strstr(out, opt[i]) &&
			  strstr(out, "(an option of: run"),
			  "%s: %s", opt[i], out);
		cr_assert(strstr(out, "rc=2\n"), "%s", out);
		cr_assert_null(strstr(out, "made"), "%s", out);
		free(out);
		out = NULL;
	}
	vmtest_rm_rf(e.tmp);
}

/* Preflight: an engine that cannot run here fails before any VM with the
 * fix in the message. */
Test(orch, preflight_names_a_missing_kvm_or_kernel, .timeout = 120)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	struct host_caps hc;
	struct stat st;
	bool soft;
	int rc;

	orch_env(&e);

	/* Root drops to nobody, who can use /dev/kvm only when it is world rw;
	 * a /dev/kvm that is not hardware KVM (kvm_pvm) is refused whoever may
	 * open it. */
	hostcaps_probe(KTSTR__ENGINE__ENGINE_KVM, &hc);
	soft = strcmp(hc.kvm_kind, KTSTR_KVM_ABSENT) && !ktstr_kvm_is_hardware(hc.kvm_kind);
	if (!soft && !stat("/dev/kvm", &st) &&
	    ((st.st_mode & 0006) == 0006 || (geteuid() != 0 && !access("/dev/kvm", R_OK | W_OK))))
		cr_skip_test("/dev/kvm is usable hardware KVM here: nothing to refuse");
	snprintf(cmd, sizeof(cmd), "%s run %s/examples/eevdf.yaml --engine kvm --kernel %s 2>&1",
		 e.orch, e.src, e.kernel);
	rc = sh(cmd, &out);
	/* Before any planning: no SKIP for want of host capacity hides it. */
	cr_assert_eq(rc, 3, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, soft ? "the KVM engine needs hardware KVM, and /dev/kvm here is "
				   : "the KVM engine needs /dev/kvm"),
		  "%s", out);
	cr_assert(strstr(out, "ktstr-orch: host: "), "the host line says what is known: %s", out);
	cr_assert_null(strstr(out, "PASS"), "%s", out);
	cr_assert_null(strstr(out, "SKIP"), "%s", out);
	free(out);
	out = NULL;
	/* list starts nothing: it says why the engine cannot run and lists. */
	snprintf(cmd, sizeof(cmd), "%s list %s/examples/eevdf.yaml --engine kvm --kernel %s 2>&1",
		 e.orch, e.src, e.kernel);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "# engine kvm cannot run here: "), "%s", out);
	cr_assert(strstr(out, "# host: "), "%s", out);
	free(out);
	out = NULL;
	snprintf(cmd, sizeof(cmd), "%s run %s/examples/eevdf.yaml --kernel /nonexistent/vmlinux 2>&1",
		 e.orch, e.src);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "/nonexistent/vmlinux"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* A kernel only root may read (0600, as Ubuntu ships /boot/vmlinuz-*): the
 * fd opened before the privilege drop is what the VM boots. Was: every VM
 * ENGINE_ERROR "could not open kernel file '/proc/self/fd/7': Permission
 * denied" (QEMU reopens the fd path as the dropped user), exit 3. */
Test(orch, a_root_only_kernel_boots_from_the_fd_opened_before_the_drop, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	if (geteuid() != 0)
		cr_skip_test("needs root (the kernel must be readable by root only)");
	orch_env(&e);
	snprintf(cmd, sizeof(cmd),
		 "set -e; cp '%s' %s/vmlinux; chmod 600 %s/vmlinux; "
		 "%s run %s/examples/eevdf.yaml --filter eevdf_steady_1llc --kernel %s/vmlinux 2>&1",
		 e.kernel, e.tmp, e.tmp, e.orch, e.src, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "PASS  eevdf_steady_1llc  ("), "%s", out);
	cr_assert(strstr(out, "the VMs get a sealed copy of it"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* Tenant code runs as the dropped user (its workers and QEMU); the cached
 * images every VM boots belong to another account, the cache owner, which
 * only the builder runs as (docs/security.md, "Who owns what"). Was: the
 * builder and every worker shared one uid, so a VM's code that escaped its
 * confinement could rewrite images other tenants' VMs boot. */
Test(orch, the_image_cache_belongs_to_its_owner_never_to_the_vms_uid, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	if (geteuid() != 0)
		cr_skip_test("needs root (only root can start the builder as another account)");
	orch_env(&e);
	snprintf(cmd, sizeof(cmd),
		 "set -e; C=%s/c1; mkdir -p $C; KTSTR_CACHE_DIR=$C %s run %s/examples/eevdf.yaml "
		 "--filter eevdf_steady_1llc --kernel %s --user nobody --cache-user 64123 2>&1; "
		 "echo owner=$(stat -c '%%u:%%a' $C/images); "
		 "echo imgs=$(ls $C/images | grep -c '[.]img$'); "
		 "echo foreign=$(find $C/images ! -user 64123 | wc -l)",
		 e.tmp, e.orch, e.src, e.kernel);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "PASS  eevdf_steady_1llc  ("), "%s", out);
	cr_assert(strstr(out, "dropped root to user nobody (uid 65534"), "%s", out);
	cr_assert(strstr(out, "owner=64123:700\n"), "images/ not the owner's, 0700:\n%s", out);
	cr_assert(strstr(out, "imgs=1\n"), "the builder cached no image:\n%s", out);
	cr_assert(strstr(out, "foreign=0\n"), "a file in images/ is not the owner's:\n%s", out);
	free(out);

	/* A cache the VMs' uid could have written is refused, untouched. */
	snprintf(cmd, sizeof(cmd),
		 "C=%s/c2; mkdir -p $C/images; chown nobody $C/images; KTSTR_CACHE_DIR=$C %s run "
		 "%s/examples/eevdf.yaml --filter eevdf_steady_1llc --kernel %s --user nobody "
		 "--cache-user 64123 2>&1; echo rc=$?; echo files=$(ls -A $C/images | wc -l)",
		 e.tmp, e.orch, e.src, e.kernel);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "rc=3\n"), "%s", out);
	cr_assert(strstr(out, "belongs to uid 65534, not to the cache owner 64123"), "%s", out);
	cr_assert(strstr(out, "Remove the directory"), "%s", out);
	cr_assert(strstr(out, "files=0\n"), "%s", out);
	free(out);

	/* Owners that would defeat the point are usage errors. */
	static const char *const bad[][2] = {
		{ "--user nobody --cache-user 65534", "the uid VM workers run as" },
		{ "--cache-user 0", "must not be root" },
		{ "--cache-user no-such-account-ktstr", "no such account" },
		{ "--cache-user 12x", "expected an account name or UID[:GID]" },
		{ "--no-drop-privileges --cache-user 64123", "only a root ktstr-orch that drops" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(cmd, sizeof(cmd), "%s run %s/examples/eevdf.yaml --kernel %s %s 2>&1; "
			 "echo rc=$?", e.orch, e.src, e.kernel, bad[i][0]);
		rc = sh(cmd, &out);
		cr_assert_eq(rc, 0, "%s", out);
		cr_assert(strstr(out, "rc=2\n") && strstr(out, bad[i][1]), "%s:\n%s", bad[i][0],
			  out);
		free(out);
	}
	vmtest_rm_rf(e.tmp);
}

Test(orch, a_failing_test_exits_1_with_a_useful_report, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	orch_env(&e);
	/* As a GitHub Actions job runs it: the failure is annotated at the
	 * test's line and summarised (docs/results.md). */
	/* The summary is appended as the user the run drops to: a file that
	 * user may write, as GitHub's runner user owns its own. */
	snprintf(cmd, sizeof(cmd),
		 "sd=$(mktemp -d) && chmod 755 $sd && : > $sd/s.md && chmod 666 $sd/s.md && "
		 "env GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$sd/s.md "
		 "%s run %s/examples/failing.yaml --kernel %s 2>&1; rc=$?; cp $sd/s.md %s/summary.md; "
		 "rm -rf $sd; exit $rc",
		 e.orch, e.src, e.kernel, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "\n::error file="), "no annotation:\n%s", out);
	cr_assert(strstr(out, "examples/failing.yaml,line="), "%s", out);
	cr_assert(strstr(out, ",title=FAIL eevdf_impossible_spread::"), "%s", out);
	{
		char path[1100], *md = NULL;
		size_t len;

		snprintf(path, sizeof(path), "%s/summary.md", e.tmp);
		cr_assert_eq(read_file(path, &md, &len, 1 << 20), 0);
		cr_assert(strstr(md, "**0 passed, 1 failed, 0 skipped**"), "%s", md);
		cr_assert(strstr(md, "| eevdf\\_impossible\\_spread | FAIL | "), "%s", md);
		free(md);
	}
	cr_assert(strstr(out, "FAIL  eevdf_impossible_spread"), "%s", out);
	cr_assert(strstr(out, "--- failed checks ---"), "%s", out);
	/* Each failed check with what it was held to (examples/failing.yaml). */
	cr_assert(strstr(out, "(limit 0.0001 %)") || strstr(out, "(limit 1 ms)"), "%s", out);
	cr_assert_null(strstr(out, "===KTSTR_TEST_RESULT_START==="), "base64 shown:\n%s", out);
	cr_assert(strstr(out, "--- stats ---"), "%s", out);
	cr_assert(strstr(out, "--- timeline ---"), "%s", out);
	cr_assert(strstr(out, "--- console COM1 (tail) ---"), "%s", out);
	cr_assert(strstr(out, "\n0 passed, 1 failed, 0 skipped\n"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* The first worker is killed a few seconds into its VM; the run must report
 * an infrastructure error for that test and still run the other one. */
Test(orch, a_worker_killed_mid_run_is_reported_and_the_run_completes, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], worker[1024], *out = NULL;
	int rc;
	FILE *f;

	orch_env(&e);
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", worker, sizeof(worker)), 0);
	snprintf(cmd, sizeof(cmd), "%s/killer-worker", e.tmp);
	f = fopen(cmd, "w");
	cr_assert_not_null(f);
	/* First call: run the real worker in the background with the control
	 * socket (fd 3), drop our copy so EOF reaches the orchestrator, then
	 * SIGKILL it mid-boot. Later calls: the real worker. */
	fprintf(f, "#!/bin/sh\n"
		   "if mkdir %s/first 2>/dev/null; then\n"
		   "  %s & p=$!\n"
		   "  exec 3<&-\n"
		   "  sleep 3; kill -KILL $p; wait $p; exit 137\n"
		   "fi\n"
		   "exec %s\n",
		e.tmp, worker, worker);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 /* Started as root, ktstr-orch runs as nobody: the fake worker and
		  * its marker directory must be reachable for that user. Sticky:
		  * a helper in a directory others may write is refused unless
		  * they cannot replace it (helper_path.h). */
		 "chmod 1777 %s && chmod +x %s/killer-worker && printf 'tests:\\n  - {name: victim, duration: 1s}\\n"
		 "  - {name: survivor, duration: 1s}\\n' > %s/two.yaml && "
		 "KTSTR_VMM_WORKER=%s/killer-worker %s --workers 1 run %s/two.yaml --kernel %s 2>&1",
		 e.tmp, e.tmp, e.tmp, e.tmp, e.orch, e.tmp, e.kernel);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 3, "infrastructure errors exit 3, got %d:\n%s", rc, out);
	cr_assert(strstr(out, "FAIL  victim"), "%s", out);
	cr_assert(strstr(out, "INFRA_ERROR"), "%s", out);
	cr_assert(strstr(out, "PASS  survivor"), "the run went on:\n%s", out);
	cr_assert(strstr(out, "\n1 passed, 1 failed, 0 skipped\n"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* SIGINT mid-run: exit 130 and nothing of the run left behind. */
/* SIGTERM in any phase (planning, the image build, VMs starting or
 * running): exit 130, no process and no temporary image left. Was: 143
 * during the build, and killed builds left <key>.img.tmp.<pid> behind.
 * A fresh image cache makes every run build its images. */
Test(orch, sigterm_in_any_phase_exits_130_and_leaves_nothing, .timeout = 600)
{
	static const char *const delays[] = { "0.02", "0.05", "0.1", "0.4", "2.5" };
	struct orch_env e;

	orch_env(&e);
	for (size_t i = 0; i < ARRAY_SIZE(delays); i++) {
		char cmd[16384], *out = NULL;
		int rc;

		snprintf(cmd, sizeof(cmd),
			 "set -u; C=%s/cache%zu; mkdir -p $C; "
			 "chown -R %s $C 2>/dev/null; chmod -R a+rwX $C; "
			 "KTSTR_CACHE_DIR=$C setsid %s run %s/examples/eevdf.yaml "
			 "--filter eevdf_steady_1llc --kernel %s >%s/out%zu 2>&1 & P=$!; "
			 /* The delays count from main()'s first instruction (stop_init
			  * blocks the signals there), not from the exec: the dynamic
			  * loader's time before it is not ours to bound. */
			 "for i in $(seq 500); do grep -q '^SigBlk:.*[1-9a-f]' /proc/$P/status "
			 "2>/dev/null && break; sleep 0.01; done; "
			 "sleep %s; kill -TERM $P; wait $P; echo rc=$?; sleep 1; "
			 "if pgrep -g $P >/dev/null; then echo LEFTOVER; pgrep -a -g $P; fi; "
			 "ls $C/images | grep -E '[.]tmp[.]' && echo TMPLEFT; cat %s/out%zu",
			 e.tmp, i, geteuid() == 0 ? "nobody" : "$(id -un)", e.orch, e.src, e.kernel,
			 e.tmp, i, delays[i], e.tmp, i);
		rc = sh(cmd, &out);
		cr_assert_eq(rc, 0, "%s", out);
		cr_assert(strstr(out, "rc=130"), "SIGTERM after %s s: not 130:\n%s", delays[i], out);
		cr_assert_null(strstr(out, "LEFTOVER"), "processes left behind:\n%s", out);
		cr_assert_null(strstr(out, "TMPLEFT"), "temporary images left behind:\n%s", out);
		free(out);
	}
	vmtest_rm_rf(e.tmp);
}

Test(orch, sigint_stops_every_vm_and_leaves_no_process, .timeout = 600)
{
	struct orch_env e;
	char cmd[16384], *out = NULL;
	int rc;

	orch_env(&e);
	/* `&` in a non-interactive sh: the orchestrator is not a group leader,
	 * so setsid makes it one without forking: its pid is the group id that
	 * every worker and QEMU it starts inherits. */
	snprintf(cmd, sizeof(cmd),
		 "setsid %s run %s/examples/eevdf.yaml --kernel %s >%s/out 2>&1 & P=$!; "
		 "sleep 4; kill -INT $P; wait $P; echo rc=$?; sleep 1; "
		 "if pgrep -g $P >/dev/null; then echo LEFTOVER; pgrep -a -g $P; fi; cat %s/out",
		 e.orch, e.src, e.kernel, e.tmp, e.tmp);
	rc = sh(cmd, &out);
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "rc=130"), "interrupted runs exit 130:\n%s", out);
	cr_assert_null(strstr(out, "LEFTOVER"), "processes left behind:\n%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* A CI engine's stop (Slurm's scancel, a killed GitLab job) signals the
 * whole process group: the workers and QEMU get SIGTERM with ktstr-orch, so
 * every VM may end before the run loop sees the signal. The run was still
 * interrupted: exit 130 (was: 1 in 4 of 7 tries, found by integ-slurm). */
Test(orch, sigterm_to_the_whole_group_mid_vm_exits_130, .timeout = 600)
{
	static const char *const delays[] = { "3", "6", "10" };
	struct orch_env e;
	char suite[1200];
	FILE *f;

	orch_env(&e);
	/* One test that runs well past every delay. */
	snprintf(suite, sizeof(suite), "%s/long.yaml", e.tmp);
	f = fopen(suite, "w");
	cr_assert_not_null(f);
	fputs("tests:\n  - {name: long_steady, scenario: steady, duration: 40s, "
	      "topology: \"1,1,2,1\"}\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(suite, 0644), 0);
	for (size_t i = 0; i < ARRAY_SIZE(delays); i++) {
		char cmd[16384], *out = NULL;
		int rc;

		snprintf(cmd, sizeof(cmd),
			 "setsid %s run %s --kernel %s >%s/out%zu 2>&1 & P=$!; "
			 "sleep %s; kill -TERM -$P; wait $P; echo rc=$?; sleep 1; "
			 "if pgrep -g $P >/dev/null; then echo LEFTOVER; pgrep -a -g $P; fi; "
			 "cat %s/out%zu",
			 e.orch, suite, e.kernel, e.tmp, i, delays[i], e.tmp, i);
		rc = sh(cmd, &out);
		cr_assert_eq(rc, 0, "%s", out);
		cr_assert(strstr(out, "rc=130"), "group SIGTERM after %s s: not 130:\n%s", delays[i],
			  out);
		cr_assert_null(strstr(out, "LEFTOVER"), "processes left behind:\n%s", out);
		free(out);
	}
	vmtest_rm_rf(e.tmp);
}
