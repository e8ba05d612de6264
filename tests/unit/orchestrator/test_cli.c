/* The command line (cli_table.c, cli_parse.c, cli_help.c, cli_complete.c):
 * the table is consistent; options are taken anywhere on the line; help
 * matches tests/golden/cli/ (KTSTR_UPDATE_GOLDEN=1 rewrites it); every
 * option of every command is in its man page and in the bash completion,
 * and the man pages have no groff warning. Also the two things the command
 * line sets up: the default worker count and the helper lookup's check. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "cli.h"
#include "helper_path.h"
#include "helpers.h"
#include "fake_backend.h"
#include "plan.h"
#include "runner.h"
#include "workers_default.h"

/* ---- the table ------------------------------------------------------------ */

Test(cli_table, options_are_unique_and_complete)
{
	for (size_t i = 0; i < cli_ncmds; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		size_t n = 0;

		cr_assert(c->summary[0] && c->about[0] && c->exits && c->exits[0],
			  "%s: summary, about and exit statuses", c->name);
		for (const struct cli_opt *o = c->opts; o->name; o++, n++) {
			cr_expect(o->code > 0 && o->code < GOPT_USER, "%s --%s: code", c->name, o->name);
			cr_expect(o->help && o->help[0], "%s --%s: no help", c->name, o->name);
			cr_expect((o->complete == CLI_C_WORDS) == (o->words != NULL),
				  "%s --%s: words iff CLI_C_WORDS", c->name, o->name);
			cr_expect(o->complete == CLI_C_NONE || o->arg, "%s --%s: completes no argument",
				  c->name, o->name);
			for (const struct cli_opt *p = o + 1; p->name; p++) {
				cr_expect(strcmp(o->name, p->name), "%s: --%s twice", c->name, o->name);
				cr_expect(o->code != p->code, "%s: --%s and --%s share a code", c->name,
					  o->name, p->name);
				cr_expect(!o->short_name || o->short_name != p->short_name,
					  "%s: -%c twice", c->name, o->short_name);
			}
			for (const struct cli_opt *g = cli_globals; g->name; g++)
				cr_expect(strcmp(o->name, g->name), "%s --%s is also global", c->name,
					  o->name);
		}
		cr_expect(n <= CLI_OPTS_MAX, "%s: %zu options, CLI_OPTS_MAX is %d", c->name, n,
			  CLI_OPTS_MAX);
		cr_expect_eq(cli_cmd_find(c->name), c);
	}
	{
		size_t ng = 0;

		for (const struct cli_opt *g = cli_globals; g->name; g++, ng++)
			cr_expect(g->code >= GOPT_USER, "global --%s: code", g->name);
		cr_expect(ng <= CLI_GLOBALS_MAX, "%zu globals, CLI_GLOBALS_MAX is %d", ng,
			  CLI_GLOBALS_MAX);
	}
	cr_expect_null(cli_cmd_find("kernel"));
	cr_expect_null(cli_cmd_find("nope"));
}

/* ---- parsing ----------------------------------------------------------------- */

struct parsed {
	int codes[16];
	const char *args[16];
	size_t n;
	const char *operands[8];
	size_t nops;
	int stop; /* -1: reached CLI_END, else the exit status */
	struct global_opts g;
};

/* Parse words (NULL-terminated) for the command called name. */
static struct parsed parse(const char *name, const char *const *words)
{
	static char *argv[32];
	const struct cli_cmd *cmd = cli_cmd_find(name);
	struct parsed r = { .stop = -1 };
	struct cli_parser p;
	int argc = 0, c;

	cr_assert_not_null(cmd, "%s", name);
	argv[argc++] = (char *)name;
	while (*words)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	cli_begin(&p, cmd, &r.g, argc, argv);
	while ((c = cli_next(&p)) > 0) {
		r.codes[r.n] = c;
		r.args[r.n++] = optarg;
	}
	if (c == CLI_STOP) {
		r.stop = p.exit;
		return r;
	}
	for (int i = optind; i < argc; i++)
		r.operands[r.nops++] = argv[i];
	return r;
}

#define WORDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

Test(cli_parse, global_options_after_the_operand)
{
	struct parsed r = parse("list", WORDS("x.yaml", "--workers", "2", "--gauntlet"));

	cr_assert_eq(r.stop, -1);
	cr_expect_eq(r.g.workers, 2);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.codes[0], 'g');
	cr_assert_eq(r.nops, 1);
	cr_expect_str_eq(r.operands[0], "x.yaml");
}

Test(cli_parse, j_is_workers_in_every_spelling)
{
	cr_expect_eq(parse("run", WORDS("-j4", "s.yaml")).g.workers, 4);
	cr_expect_eq(parse("run", WORDS("s.yaml", "-j", "5")).g.workers, 5);
	cr_expect_eq(parse("run", WORDS("--workers=6", "s.yaml")).g.workers, 6);
	cr_expect_eq(parse("run", WORDS("s.yaml", "-j", "0")).stop, EXIT_USAGE);
	cr_expect_eq(parse("run", WORDS("s.yaml", "-j", "257")).stop, EXIT_USAGE);
	cr_expect_eq(parse("run", WORDS("s.yaml", "-j", "2x")).stop, EXIT_USAGE);
}

Test(cli_parse, kernel_build_j_is_make_jobs)
{
	struct parsed r = parse("kernel build", WORDS("-j", "3", "--source", "/src"));

	cr_assert_eq(r.stop, -1);
	cr_expect_eq(r.g.workers, 0, "-j is not --workers for kernel build");
	cr_assert_eq(r.n, 2);
	cr_expect_eq(r.codes[0], 'j');
	cr_expect_str_eq(r.args[0], "3");
}

Test(cli_parse, exec_argument_may_look_like_an_option)
{
	struct parsed r = parse("shell", WORDS("--exec", "-v", "--topology", "1,1,2,1"));

	cr_assert_eq(r.stop, -1);
	cr_expect_eq(r.g.verbosity, 0, "-v was --exec's argument");
	cr_assert_eq(r.n, 2);
	cr_expect_eq(r.codes[0], 'x');
	cr_expect_str_eq(r.args[0], "-v");
}

Test(cli_parse, double_dash_ends_the_options)
{
	struct parsed r = parse("merge", WORDS("--json", "out.json", "--", "-odd.json", "--json"));

	cr_assert_eq(r.stop, -1);
	cr_assert_eq(r.nops, 2);
	cr_expect_str_eq(r.operands[0], "-odd.json");
	cr_expect_str_eq(r.operands[1], "--json");
}

/* Operands keep their order wherever the options are, and POSIXLY_CORRECT
 * (which stops GNU getopt's permutation at the first operand) changes
 * nothing. */
Test(cli_parse, operands_in_order_even_with_posixly_correct)
{
	for (int posix = 0; posix < 2; posix++) {
		struct parsed r;

		if (posix)
			setenv("POSIXLY_CORRECT", "1", 1);
		r = parse("merge", WORDS("a.json", "--json", "o.json", "b.json", "-q", "--",
					 "-c.json"));
		unsetenv("POSIXLY_CORRECT");
		cr_assert_eq(r.stop, -1, "posix %d", posix);
		cr_expect_eq(r.g.verbosity, -1, "-q after an operand (posix %d)", posix);
		cr_assert_eq(r.n, 1);
		cr_expect_str_eq(r.args[0], "o.json");
		cr_assert_eq(r.nops, 3, "posix %d", posix);
		cr_expect_str_eq(r.operands[0], "a.json");
		cr_expect_str_eq(r.operands[1], "b.json");
		cr_expect_str_eq(r.operands[2], "-c.json");
	}
	klog_set_level(KLOG_INFO);
	unsetenv("KTSTR_LOG");
}

Test(cli_parse, usage_errors_stop_with_2)
{
	cr_expect_eq(parse("run", WORDS("s.yaml", "--bogus")).stop, EXIT_USAGE);
	cr_expect_eq(parse("run", WORDS("s.yaml", "--budget")).stop, EXIT_USAGE);
	cr_expect_eq(parse("run", WORDS("s.yaml", "--gauntlet=1")).stop, EXIT_USAGE);
	cr_expect_eq(parse("run", WORDS("a.yaml", "b.yaml")).stop, EXIT_USAGE);
	cr_expect_eq(parse("run", WORDS("--gauntlet")).stop, EXIT_USAGE, "no SUITE");
	cr_expect_eq(parse("list", WORDS("s.yaml", "--cpu-cap", "1")).stop, EXIT_USAGE);
	cr_expect_eq(parse("list", WORDS("s.yaml", "-q", "-v")).stop, EXIT_USAGE);
	cr_expect_eq(parse("shell", WORDS("--workers", "2")).stop, EXIT_USAGE);
	cr_expect_eq(parse("kernel list", WORDS("--user", "nobody")).stop, EXIT_USAGE);
	cr_expect_eq(parse("kernel fetch", WORDS("--all")).stop, EXIT_USAGE);
	cr_expect_eq(parse("locks", WORDS("extra")).stop, EXIT_USAGE);
	cr_expect_eq(parse("merge", WORDS("--json", "o.json")).stop, EXIT_USAGE, "no FILE");
	/* An abbreviation that fits two options is refused, not guessed. */
	cr_expect_eq(parse("run", WORDS("s.yaml", "--ver")).stop, EXIT_USAGE);
	cr_expect_eq(parse("run", WORDS("s.yaml", "--gaunt")).stop, -1, "unique prefix");
}

Test(cli_parse, quiet_and_verbose_set_the_log_level_for_the_helpers_too)
{
	enum klog_level was = klog_get_level();
	struct parsed r;

	r = parse("run", WORDS("s.yaml", "-q"));
	cr_assert_eq(r.stop, -1);
	cr_expect_eq(r.g.verbosity, -1);
	cr_expect_eq(klog_get_level(), KLOG_WARN);
	cr_expect_str_eq(getenv("KTSTR_LOG"), "warn");
	r = parse("kernel list", WORDS("--verbose"));
	cr_assert_eq(r.stop, -1);
	cr_expect_eq(klog_get_level(), KLOG_DEBUG);
	cr_expect_str_eq(getenv("KTSTR_LOG"), "debug");
	klog_set_level(was);
	unsetenv("KTSTR_LOG");
}

Test(cli_log, level_names_round_trip)
{
	enum klog_level l;

	for (int i = KLOG_ERR; i <= KLOG_DEBUG; i++) {
		cr_assert_eq(klog_level_parse(klog_level_name((enum klog_level)i), &l), 0);
		cr_expect_eq((int)l, i);
	}
	cr_expect_eq(klog_level_parse("err", &l), 0);
	cr_expect_eq(l, KLOG_ERR);
	cr_expect_eq(klog_level_parse("loud", &l), -EINVAL);
}

/* What the run loop prints per test, quiet (-q) or not: -q keeps the
 * failures' lines (and the skips go), the rest is unchanged. */
static char *run_lines(bool quiet)
{
	static const char yaml[] = "tests:\n  - {name: good}\n  - {name: bad}\n"
				   "  - {name: smt, constraints: {requires_smt: true}}\n";
	static const int no_image[4] = { -1, -1, -1, -1 };
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	struct suite *s = parse_ok(yaml);
	struct fake_backend fb;
	struct test_record *recs = NULL;
	struct plan p;
	char err[256], *buf = NULL;
	size_t n = 0, len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_not_null(out);
	fake_backend_init(&fb);
	fb.match[0] = "bad";
	fb.how[0] = FAKE_FAIL;
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	struct runner_cfg cfg = { .suite = s, .plan = &p, .backend = &fb.be,
				  .initrd_fds = no_image, .workers = 1, .out = out,
				  .quiet = quiet };
	cr_assert_eq(runner_run(&cfg, &recs, &n), 0);
	fclose(out);
	runner_free_records(recs, n);
	plan_free(&p);
	suite_free(s);
	return buf;
}

Test(cli_quiet, run_loop_prints_only_failures)
{
	char *plain = run_lines(false), *quiet = run_lines(true);

	cr_expect(strstr(plain, "PASS  good") && strstr(plain, "FAIL  bad") &&
		  strstr(plain, "SKIP  smt"), "plain: %s", plain);
	cr_expect(!strstr(quiet, "good") && strstr(quiet, "FAIL  bad") && !strstr(quiet, "smt"),
		  "quiet: %s", quiet);
	free(plain);
	free(quiet);
}

/* ---- help -------------------------------------------------------------------- */

static char *help_of(const struct cli_cmd *cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cli_help(f, cmd);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static void golden(const char *name, const char *got)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/golden/cli/%s", test_srcdir(), name);
	test_golden(path, got);
}

/* Every line fits 80 columns; every option the command takes is named. */
static void check_help(const struct cli_cmd *cmd, const char *text)
{
	const char *line = text;

	while (*line) {
		size_t n = strcspn(line, "\n");

		cr_expect(n <= 80, "%s help: line of %zu columns: %.*s", cmd ? cmd->name : "top", n,
			  (int)n, line);
		line += n + (line[n] ? 1 : 0);
	}
	for (const struct cli_opt *o = cmd ? cmd->opts : cli_globals; o->name; o++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s", o->name);
		cr_expect(strstr(text, want), "%s help lacks %s", cmd ? cmd->name : "top", want);
	}
}

Test(cli_help, matches_golden_and_fits_80_columns)
{
	char *top = help_of(NULL);

	check_help(NULL, top);
	golden("help-top.txt", top);
	free(top);
	for (size_t i = 0; i < cli_ncmds; i++) {
		char name[64], *text = help_of(&cli_cmds[i]);

		snprintf(name, sizeof(name), "help-%s.txt", cli_cmds[i].name);
		for (char *c = name; *c; c++)
			if (*c == ' ')
				*c = '-';
		check_help(&cli_cmds[i], text);
		golden(name, text);
		free(text);
	}
}

/* ---- man pages --------------------------------------------------------------- */

static char *man_page(const char *page)
{
	char path[1024], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/man/%s.1", test_srcdir(), page);
	cr_assert_eq(read_file(path, &text, &len, 1 << 20), 0, "cannot read %s", path);
	return text;
}

/* "--dry-run" as roff writes it: every '-' as "\-". */
static bool roff_has(const char *text, const char *opt)
{
	char want[128];
	size_t n = 0;

	for (const char *c = opt; *c && n + 3 < sizeof(want); c++) {
		if (*c == '-')
			want[n++] = '\\';
		want[n++] = *c;
	}
	want[n] = '\0';
	return strstr(text, want) != NULL;
}

Test(cli_man, every_option_is_in_its_commands_page)
{
	char *top = man_page("ktstr-orch");

	for (const struct cli_opt *g = cli_globals; g->name; g++) {
		char opt[64];

		snprintf(opt, sizeof(opt), "--%s", g->name);
		cr_expect(roff_has(top, opt), "man/ktstr-orch.1 lacks %s", opt);
	}
	for (size_t i = 0; i < cli_ncmds; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		char page[64], *text;

		snprintf(page, sizeof(page), "ktstr-orch-%.*s", (int)strcspn(c->name, " "), c->name);
		text = man_page(page);
		/* The kernel page has one section per command. */
		if (strchr(c->name, ' ')) {
			char sec[64];

			snprintf(sec, sizeof(sec), ".SS %s", c->name);
			cr_expect(strstr(text, sec), "man/%s.1 has no section '%s'", page, sec);
		}
		cr_expect(roff_has(top, page), "man/ktstr-orch.1 does not point at %s", page);
		for (const struct cli_opt *o = c->opts; o->name; o++) {
			char opt[64];

			snprintf(opt, sizeof(opt), "--%s", o->name);
			cr_expect(roff_has(text, opt), "man/%s.1 lacks %s of %s", page, opt, c->name);
		}
		free(text);
	}
	free(top);
}

Test(cli_man, pages_have_no_groff_warning)
{
	char cmd[2048], *out = NULL;
	size_t len = 0;
	FILE *f;
	int st;

	/* -ww: every warning; -z: no output but the diagnostics. */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s/man' && for p in *.1; do groff -ww -z -man \"$p\" 2>&1 | sed \"s|^|$p: |\"; "
		 "done; command -v groff >/dev/null || echo 'groff is missing (scripts/install-deps)'",
		 test_srcdir());
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	{
		char buf[4096];
		size_t n;
		FILE *m = open_memstream(&out, &len);

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		fclose(m);
	}
	st = pclose(f);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_expect_eq(len, 0, "groff warnings:\n%s", out);
	free(out);
}

/* ---- bash completion --------------------------------------------------------- */

/* COMPREPLY for the words (the last is the one being completed), one per
 * line, from the generated script run by bash. */
static char *complete(const char *words)
{
	char script[] = "/tmp/ktstr-compl-XXXXXX", cmd[4096], *out = NULL;
	size_t len = 0;
	int fd = mkstemp(script);
	FILE *f;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(cli_completion_bash(f), 0);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "bash --norc -c 'source %s; COMP_WORDS=(ktstr-orch %s); "
		 "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ktstr_orch; printf \"%%s\\n\" "
		 "\"${COMPREPLY[@]}\"' 2>&1",
		 script, words);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	{
		char buf[4096];
		size_t n;
		FILE *m = open_memstream(&out, &len);

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		fclose(m);
	}
	pclose(f);
	unlink(script);
	return out;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

Test(cli_completion, offers_every_option_of_every_command)
{
	for (size_t i = 0; i < cli_ncmds; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		char words[128], *got;

		snprintf(words, sizeof(words), "%s -", c->name);
		got = complete(words);
		for (const struct cli_opt *o = c->opts; o->name; o++) {
			char opt[64];

			snprintf(opt, sizeof(opt), "--%s", o->name);
			cr_expect(has_line(got, opt), "%s: %s not offered:\n%s", c->name, opt, got);
		}
		for (const struct cli_opt *g = cli_globals; g->name; g++) {
			unsigned cls = cli_global_class(g->code);
			char opt[64];

			snprintf(opt, sizeof(opt), "--%s", g->name);
			cr_expect(has_line(got, opt) == (!cls || (c->globals & cls)),
				  "%s: global %s offered iff the command takes it:\n%s", c->name, opt,
				  got);
		}
		free(got);
	}
}

Test(cli_completion, commands_choices_and_options_after_operands)
{
	char *got = complete("\"\"");

	cr_expect(has_line(got, "run") && has_line(got, "kernel") && has_line(got, "merge"), "%s",
		  got);
	free(got);
	got = complete("--workers 2 kernel \"\"");
	cr_expect(has_line(got, "fetch") && has_line(got, "clean") && !has_line(got, "run"), "%s",
		  got);
	free(got);
	got = complete("run --engine \"\"");
	cr_expect(has_line(got, "auto") && has_line(got, "kvm") && has_line(got, "qemu"), "%s",
		  got);
	free(got);
	got = complete("run x.yaml --user roo");
	cr_expect(has_line(got, "root"), "accounts: %s", got);
	free(got);
	got = complete("list x.yaml --wor");
	cr_expect_str_eq(got, "--workers\n");
	free(got);
	got = complete("kernel build --ba");
	cr_expect_str_eq(got, "--base\n");
	free(got);
}

/* ---- the default worker count ------------------------------------------------- */

static const char two_tests[] =
	"tests:\n"
	"  - {name: a, duration: 1s, memory_mb: 1024,\n"
	"     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 2, threads_per_core: 1}}\n"
	"  - {name: b, duration: 1s,\n"
	"     topology: {numa_nodes: 1, llcs: 1, cores_per_llc: 4, threads_per_core: 1}}\n";

static unsigned workers_for(const char *yaml, uint32_t cpus, uint64_t mib, char *why, size_t len)
{
	struct suite *s = parse_ok(yaml);
	struct plan p = { 0 };
	struct plan_opts o = {
		.kernel_scx = 1, .quiet = true,
		.host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
			  .engine = KTSTR__ENGINE__ENGINE_QEMU, .max_vcpus = 64 },
	};
	struct workers_host h = { .usable_cpus = cpus, .avail_mib = mib };
	char err[1024];
	unsigned w;

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	w = workers_default(s, &p, &h, why, len);
	plan_free(&p);
	suite_free(s);
	return w;
}

Test(cli_workers, cpus_over_the_largest_vm_bounded_by_memory_and_tests)
{
	char why[256];

	/* Largest VM: 4 vCPUs and (default 2048 MiB) RAM. */
	cr_expect_eq(workers_for(two_tests, 16, 0, why, sizeof(why)), 2, "kept tests bound: %s", why);
	cr_expect_eq(workers_for(two_tests, 7, 0, why, sizeof(why)), 1, "%s", why);
	cr_expect(strstr(why, "7 usable CPUs / 4 vCPUs of the largest VM"), "%s", why);
	cr_expect_eq(workers_for(two_tests, 2, 0, why, sizeof(why)), 1, "at least 1: %s", why);
	cr_expect(strstr(why, "at least 1"), "%s", why);
	/* 512 MiB margin: 2048 + 512 fits one 2048 MiB VM, not two. */
	cr_expect_eq(workers_for(two_tests, 64, 2048 + 512 + 2047, why, sizeof(why)), 1, "%s",
		     why);
	cr_expect(strstr(why, "memory for 1 VMs of 2048 MiB"), "%s", why);
	cr_expect_eq(workers_for(two_tests, 64, 2 * 2048 + 512, why, sizeof(why)), 2, "%s", why);
}

/* ---- the helpers' safety check ------------------------------------------------ */

Test(cli_helper, writable_by_others_is_refused)
{
	char dir[] = "/tmp/ktstr-helper-XXXXXX", file[512], sub[128], link[128], err[1024];
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/libexec", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(chmod(sub, 0755), 0);
	snprintf(file, sizeof(file), "%s/ktstr-vmm-worker", sub);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0755);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(chmod(file, 0755), 0);
	cr_expect_eq(helper_check_safe(file, err, sizeof(err)), 0, "%s", err);

	cr_assert_eq(chmod(file, 0757), 0);
	cr_expect_eq(helper_check_safe(file, err, sizeof(err)), -EPERM);
	cr_expect(strstr(err, "writable by every user"), "%s", err);
	cr_assert_eq(chmod(file, 0755), 0);

	/* A directory above it that others may write: the file can be swapped. */
	cr_assert_eq(chmod(sub, 0777), 0);
	cr_expect_eq(helper_check_safe(file, err, sizeof(err)), -EPERM);
	cr_expect(strstr(err, sub), "names the directory: %s", err);
	/* ... unless it is sticky, as /tmp is: then only the owner may. */
	cr_assert_eq(chmod(sub, 01777), 0);
	cr_expect_eq(helper_check_safe(file, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(chmod(sub, 0755), 0);

	/* Group-writable for a group that is not the owner's own. */
	if (geteuid() == 0 && chown(file, 0, 1) == 0) {
		cr_assert_eq(chmod(file, 0775), 0);
		cr_expect_eq(helper_check_safe(file, err, sizeof(err)), -EPERM);
		cr_expect(strstr(err, "writable by group 1"), "%s", err);
		cr_assert_eq(chmod(file, 0755), 0);
	}

	/* A symbolic link is judged by what it points at too. */
	snprintf(link, sizeof(link), "%s/link", dir);
	cr_assert_eq(symlink(file, link), 0);
	cr_expect_eq(helper_check_safe(link, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(chmod(file, 0777), 0);
	cr_expect_eq(helper_check_safe(link, err, sizeof(err)), -EPERM);

	unlink(link);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

Test(cli_helper, env_override_is_checked_and_missing_names_the_places)
{
	char dir[] = "/tmp/ktstr-helper-XXXXXX", file[256], buf[4096], err[8192];
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0777), 0);
	snprintf(file, sizeof(file), "%s/guest", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	setenv("KTSTR_GUEST", file, 1);
	cr_expect_eq(helper_path(HELPER_GUEST, buf, sizeof(buf), err, sizeof(err)), -EPERM);
	cr_expect(strstr(err, "$KTSTR_GUEST") && strstr(err, "writable by every user"), "%s", err);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_expect_eq(helper_path(HELPER_GUEST, buf, sizeof(buf), err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(buf, file);
	unsetenv("KTSTR_GUEST");
	/* The unit test binary has no ktstr-guest beside it nor in
	 * ../libexec/ktstr: the error names both places and the variable. */
	cr_expect_eq(helper_path(HELPER_GUEST, buf, sizeof(buf), err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "neither beside ktstr-orch") && strstr(err, HELPER_LIBEXEC_REL) &&
		  strstr(err, "KTSTR_GUEST"), "%s", err);
	unlink(file);
	rmdir(dir);
}
