/* Issue 7 on the orchestrator side: the root drop, fail-closed sandbox
 * reporting (text, JUnit, JSON), preflight messages, report files a dropped
 * user can still deliver, and the live progress line on a TTY only. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "fake_backend.h"
#include "helpers.h"
#include "jsonl_record.h"
#include "junit.h"
#include "report_file.h"
#include "preflight.h"
#include "privdrop.h"
#include "report.h"
#include "runner.h"

static const char *suite2 = "tests:\n  - {name: a}\n  - {name: b}\n";
static const int no_image[4] = { -1, -1, -1, -1 };

/* Run suite2 with b unconfined; text lines into *text. */
static void run2(bool insecure, const int *img_sb, FILE *progress, struct suite **s,
		 struct plan *p, struct test_record **recs, size_t *n, char **text)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	struct fake_backend fb;
	size_t tlen = 0;
	char err[256];
	FILE *out = open_memstream(text, &tlen);
	struct runner_cfg cfg = { .backend = &fb.be, .initrd_fds = no_image,
				  .image_sandboxed = img_sb, .workers = 1, .out = out,
				  .progress = progress };

	fake_backend_init(&fb);
	fb.match[0] = "b";
	fb.how[0] = FAKE_UNSANDBOXED;
	*s = parse_ok(suite2);
	cr_assert_eq(plan_build(*s, &o, p, err, sizeof(err)), 0);
	cfg.suite = *s;
	cfg.plan = p;
	cfg.settings.insecure_no_sandbox = insecure;
	cr_assert_eq(runner_run(&cfg, recs, n), 0);
	report_sandbox(out, *recs, *n);
	fclose(out);
}

Test(privsec, an_unconfined_worker_is_an_infra_error_without_the_flag)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	size_t n;
	char *text = NULL;
	struct run_totals t;

	run2(false, NULL, NULL, &s, &p, &recs, &n, &text);
	cr_assert_eq(recs[0].verdict.kind, V_PASS);
	cr_assert_eq(recs[1].verdict.kind, V_INFRA, "fail closed");
	cr_assert(strstr(recs[1].verdict.detail, "UNSANDBOXED"), "%s", recs[1].verdict.detail);
	cr_assert(strstr(recs[1].verdict.detail, "--insecure-no-sandbox"), "names the opt-out");
	records_totals(recs, n, &t);
	cr_assert_eq(records_exit_code(&t), 3);
	cr_assert(strstr(text, "WARNING: UNSANDBOXED: 1 of 2 VM workers"), "%s", text);
	free(text);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

Test(privsec, with_the_flag_every_report_says_unsandboxed)
{
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	size_t n;
	char *text = NULL;
	struct strbuf j = { 0 }, x = { 0 };
	const int img_sb[1] = { 0 }; /* the builder too ran unconfined */

	run2(true, img_sb, NULL, &s, &p, &recs, &n, &text);
	cr_assert_eq(recs[1].verdict.kind, V_PASS, "accepted with --insecure-no-sandbox: %s %s", verdict_name(recs[1].verdict.kind), recs[1].verdict.detail ? recs[1].verdict.detail : "");
	cr_assert(strstr(text, "PASS  b  (qemu-tcg, 0.") &&
			  strstr(text, ", UNSANDBOXED worker, UNSANDBOXED builder)"),
		  "%s", text);
	cr_assert(strstr(text, "PASS  a  (qemu-tcg, 0.") &&
			  strstr(strstr(text, "PASS  a"), ", UNSANDBOXED builder)\n"),
		  "%s", text);
	cr_assert(strstr(text, "WARNING: UNSANDBOXED"), "%s", text);
	cr_assert_eq(json_render(&j, s, &p, recs, n, NULL), 0);
	cr_assert(strstr(j.buf, "\"worker_sandboxed\":true,\"builder_sandboxed\":false"), "%s", j.buf);
	cr_assert(strstr(j.buf, "\"worker_sandboxed\":false,\"builder_sandboxed\":false"), "%s", j.buf);
	cr_assert_eq(junit_render(&x, s, &p, recs, n, NULL), 0);
	cr_assert(strstr(x.buf, "<property name=\"unsandboxed_tests\" value=\"2\"/>"), "%s", x.buf);
	cr_assert(strstr(x.buf, "<property name=\"worker_sandboxed\" value=\"false\"/>"), "%s", x.buf);
	cr_assert(strstr(x.buf, "<property name=\"builder_sandboxed\" value=\"false\"/>"), "%s", x.buf);
	cr_assert(strstr(x.buf, "<property name=\"engine\" value=\"qemu-tcg\"/>"), "%s", x.buf);
	sb_free(&j);
	sb_free(&x);
	free(text);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

/* A result synthesized after the worker hung says nothing about its
 * confinement: "unknown", never "UNSANDBOXED worker" with the
 * full-authority warning (it was confined). */
Test(privsec, a_synthesized_result_has_an_unknown_sandbox_state)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	struct suite *s = parse_ok(suite2);
	struct fake_backend fb;
	struct test_record *recs;
	struct strbuf j = { 0 };
	struct plan p;
	size_t n, tlen = 0;
	char err[256], *text = NULL;
	FILE *out = open_memstream(&text, &tlen);
	struct runner_cfg cfg = { .backend = &fb.be, .initrd_fds = no_image,
				  .workers = 1, .out = out };

	fake_backend_init(&fb);
	fb.match[0] = "b";
	fb.how[0] = FAKE_WORKER_HUNG;
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0);
	cfg.suite = s;
	cfg.plan = &p;
	cr_assert_eq(runner_run(&cfg, &recs, &n), 0);
	report_sandbox(out, recs, n);
	fclose(out);
	cr_assert_eq(recs[1].verdict.kind, V_INFRA);
	cr_assert_eq(record_worker_sandboxed(&recs[1]), -1);
	cr_assert_null(strstr(text, "UNSANDBOXED"), "%s", text);
	cr_assert(strstr(text, "sandbox: confined: 1 of 1 VM workers (1 more unknown: no result "
			       "from the worker)"),
		  "%s", text);
	cr_assert_eq(json_render(&j, s, &p, recs, n, NULL), 0);
	cr_assert(strstr(j.buf, "\"sandboxed\":null"), "%s", j.buf);
	sb_free(&j);
	free(text);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}

Test(privsec, confined_runs_say_so_once_and_stay_quiet_per_test)
{
	struct suite *s = parse_ok(suite2);
	struct test_record r[2] = { { .vidx = 0, .builder_sandboxed = 1 },
				    { .vidx = 1, .builder_sandboxed = -1 } };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	r[0].vm = calloc(1, sizeof(*r[0].vm));
	ktstr__vm_result__init(r[0].vm);
	r[0].vm->has_sandboxed = r[0].vm->sandboxed = 1;
	report_sandbox(f, r, 2);
	fclose(f);
	cr_assert_str_eq(text, "sandbox: confined: 1 of 1 VM workers, the initramfs builder for 1 "
			       "tests\n");
	free(text);
	free(r[0].vm);
	suite_free(s);
}

Test(privsec, preflight_names_a_missing_qemu_and_how_to_get_it)
{
	char dir[] = "/tmp/ktstr-pf-XXXXXX", path[256], err[1024];
	const char *dirs[] = { dir, NULL };
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(preflight_qemu(dirs, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "qemu-system-x86_64") && strstr(err, dir) &&
			  strstr(err, "apt-get install qemu-system-x86"),
		  "%s", err);
	snprintf(path, sizeof(path), "%s/qemu-system-x86_64", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0755);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(preflight_qemu(dirs, err, sizeof(err)), 0);
	unlink(path);
	rmdir(dir);
}

Test(privsec, preflight_kvm_missing_and_not_writable)
{
	char err[1024], path[] = "/tmp/ktstr-kvm-XXXXXX";
	int fd, st;
	pid_t pid;

	cr_assert_eq(preflight_kvm("/nonexistent/kvm", "alice", err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "modprobe") && strstr(err, "--engine qemu"), "%s", err);
	if (geteuid() != 0)
		cr_skip_test("needs root to play an unprivileged user");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	fchmod(fd, 0600);
	close(fd);
	pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(preflight_kvm(path, "nobody", err, sizeof(err)) == -EACCES &&
				      strstr(err, "setfacl -m u:nobody:rw") &&
				      strstr(err, "usermod -aG kvm")
			      ? 0
			      : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	unlink(path);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

Test(privsec, oversubscribed_cpus_warn)
{
	struct suite *s = parse_ok("tests:\n  - {name: a, topology: \"1,1,4,1\"}\n"
				   "  - {name: b, topology: \"1,1,4,1\"}\n");
	struct plan_opts o = { .host = { .cpus = 6, .llcs = 1, .max_cpus_per_llc = 6,
					 .max_vcpus = 24 },
			       .kernel_scx = 1 };
	struct plan p;
	char err[512];

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0);
	cr_assert_eq(preflight_cpu_plan(&p, &o.host, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(preflight_cpu_plan(&p, &o.host, 2, err, sizeof(err)), 1);
	cr_assert(strstr(err, "8 vCPUs") && strstr(err, "lower --workers"), "%s", err);
	o.host.cpus = 2;
	cr_assert_eq(preflight_cpu_plan(&p, &o.host, 1, err, sizeof(err)), 1);
	cr_assert(strstr(err, "oversubscribed"), "%s", err);
	plan_free(&p);
	suite_free(s);
}

/* In a child: the process this leaves behind is no longer root. */
static int drop_child(const char *user, bool keep_root, char *err, size_t len)
{
	struct privdrop_opts po = { .user = user, .keep_root = keep_root };
	int ret = orch_drop_privileges(&po, NULL, err, len);
	char *status = NULL;
	size_t sl;

	if (ret)
		return ret == -ENOENT ? 10 : 11;
	if (keep_root)
		return geteuid() == 0 ? 0 : 12;
	if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534 || !setuid(0))
		return 13;
	if (read_file("/proc/self/status", &status, &sl, 1 << 16))
		return 14;
	ret = strstr(status, "NoNewPrivs:\t1") && strstr(status, "CapEff:\t0000000000000000") &&
			      strstr(status, "CapPrm:\t0000000000000000")
		      ? 0
		      : 15;
	free(status);
	return ret;
}

Test(privsec, root_drops_to_the_user_with_no_new_privs_and_no_caps)
{
	char err[1024] = "";
	int st;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	pid = fork();
	if (pid == 0)
		_exit(drop_child("nobody", false, err, sizeof(err)));
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "drop: status %d", WEXITSTATUS(st));
	pid = fork();
	if (pid == 0)
		_exit(drop_child(NULL, true, err, sizeof(err)));
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "--no-drop-privileges keeps root");
	pid = fork();
	if (pid == 0) {
		int r = drop_child("no-such-user-ktstr", false, err, sizeof(err));

		_exit(r == 10 && strstr(err, "--user") && strstr(err, "--no-drop-privileges") ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unknown user: clear error, status %d",
		  WEXITSTATUS(st));
}

Test(privsec, default_user_is_sudo_user_else_nobody)
{
	setenv("SUDO_USER", "daemon", 1);
	cr_assert_str_eq(orch_default_user(), "daemon");
	setenv("SUDO_USER", "root", 1);
	cr_assert_str_eq(orch_default_user(), "nobody", "root is no drop");
	setenv("SUDO_USER", "no-such-user-ktstr", 1);
	cr_assert_str_eq(orch_default_user(), "nobody");
	unsetenv("SUDO_USER");
	cr_assert_str_eq(orch_default_user(), "nobody");
}

/* A report in a root-only directory: made before the drop, written after. */
Test(privsec, a_report_file_opened_as_root_is_written_after_the_drop)
{
	char dir[] = "/tmp/ktstr-rep-XXXXXX", path[256], *got = NULL;
	size_t len;
	int st;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	cr_assert_not_null(mkdtemp(dir)); /* 0700 root */
	snprintf(path, sizeof(path), "%s/r.json", dir);
	pid = fork();
	if (pid == 0) {
		struct report_file rf = REPORT_FILE_INIT;
		struct privdrop_opts po = { .user = "nobody" };
		char err[512];

		if (report_file_open(&rf, path, "nobody", err, sizeof(err)) ||
		    orch_drop_privileges(&po, NULL, err, sizeof(err)))
			_exit(2);
		if (rf.fd < 0) /* the fallback is needed: nobody cannot write dir */
			_exit(3);
		_exit(report_file_write(&rf, "[\n]\n", 4) ? 4 : 0);
	}
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", WEXITSTATUS(st));
	cr_assert_eq(read_file(path, &got, &len, 4096), 0);
	cr_assert_str_eq(got, "[\n]\n");
	free(got);
	unlink(path);
	rmdir(dir);
}

static char *drain(int fd)
{
	static char buf[65536];
	size_t n = 0;
	ssize_t r;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	return buf;
}

Test(privsec, progress_line_only_on_a_tty)
{
	int master, slave, pfd[2];
	struct suite *s;
	struct plan p;
	struct test_record *recs;
	size_t n;
	char *text = NULL, *tty;
	FILE *f;

	setenv("TERM", "xterm", 1);
	cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	f = fdopen(slave, "w");
	run2(true, NULL, f, &s, &p, &recs, &n, &text);
	fclose(f);
	tty = drain(master);
	cr_assert(strstr(tty, "\r\033[K[0/2] 1 running: a"), "live line: %s", tty);
	cr_assert(strstr(tty, "[2/2] 0 running"), "final count: %s", tty);
	cr_assert_null(strchr(text, '\r'), "per-test lines stay plain: %s", text);
	close(master);
	free(text);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);

	cr_assert_eq(pipe(pfd), 0);
	f = fdopen(pfd[1], "w");
	run2(true, NULL, f, &s, &p, &recs, &n, &text);
	fclose(f);
	cr_assert_str_eq(drain(pfd[0]), "", "no progress line on a pipe");
	cr_assert(strstr(text, "PASS  a  (qemu-tcg"), "%s", text);
	close(pfd[0]);
	free(text);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
}
