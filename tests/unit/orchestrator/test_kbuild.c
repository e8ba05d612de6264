/* `kernel build`'s parts: config fragments (parse, merge, render, what
 * Kconfig dropped), the options ktstr adds and their documentation, cache
 * keys, source identity (content hash, git commit and dirtiness), option
 * checks, and build trees as --kernel. The whole build of a real kernel is
 * scripts/kernel-build-lane's (run by `make test`). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "helpers.h"
#include "kbuild_src.h"
#include "kconfig_frag.h"
#include "kconfig_need.h"
#include "kernel_build.h"
#include "kernel_cache.h"

static char tmp[64];

static void mktmp(void)
{
	strcpy(tmp, "/tmp/ktstr-kbuild-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void rmtmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	cr_assert_eq(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
	char p[512], d[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	cr_assert_eq(mkdir_p(d, 0755), 0, "%s", d);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

static int parse(struct kcfg *c, const char *text, char *err)
{
	return kcfg_parse(c, text, strlen(text), "frag.config", err, 512);
}

/* ---- fragments ---------------------------------------------------------------- */

Test(kbuild, fragments_parse_every_kconfig_form_and_the_later_setting_wins)
{
	struct kcfg c = { 0 };
	char err[512];

	cr_assert_eq(parse(&c,
			   "# a comment\n\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n"
			   "CONFIG_N=-12\nCONFIG_H=0x1f\nCONFIG_S=\"a \\\"q\\\" \\\\ b\"\n"
			   "  CONFIG_T=y  \r\nCONFIG_A=n\n",
			   err),
		     0, "%s", err);
	cr_assert_eq(c.n, 7);
	cr_assert_str_eq(kcfg_get(&c, "A")->value, "n", "the later setting wins");
	cr_assert_str_eq(kcfg_get(&c, "A")->origin, "frag.config:10");
	cr_assert_str_eq(c.v[0].name, "A", "in first-set order");
	cr_assert_str_eq(kcfg_get(&c, "B")->value, "m");
	cr_assert_str_eq(kcfg_get(&c, "C")->value, "n");
	cr_assert_str_eq(kcfg_get(&c, "N")->value, "-12");
	cr_assert_str_eq(kcfg_get(&c, "H")->value, "0x1f");
	cr_assert_str_eq(kcfg_get(&c, "S")->value, "\"a \\\"q\\\" \\\\ b\"");
	cr_assert_str_eq(kcfg_get(&c, "T")->value, "y", "blanks and CR around a line go");
	cr_assert_null(kcfg_get(&c, "Z"));
	kcfg_free(&c);
}

Test(kbuild, a_bad_fragment_line_is_refused_with_file_and_line)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "CONFIG_A=y\nSCHED_EXT=y\n", "frag.config:2: 'SCHED_EXT=y' is neither" },
		{ "CONFIG_A=y # on\n", "frag.config:1: CONFIG_A: the value must be" },
		{ "CONFIG_A=yes\n", "frag.config:1: CONFIG_A: the value must be" },
		{ "CONFIG_A=\"open\n", "frag.config:1: CONFIG_A: the value must be" },
		{ "CONFIG_A=\"a\"b\"\n", "the value must be" },
		{ "CONFIG_A=\"\\n\"\n", "the value must be" },
		{ "CONFIG_A=\"\x01\"\n", "the value must be" },
		{ "CONFIG_A=\n", "the value must be" },
		{ "CONFIG_A-B=y\n", "the name must be" },
		{ "CONFIG_=y\n", "the name must be" },
		{ "CONFIG_A\n", "is neither" },
		{ "# CONFIG_A-B is not set\n", "is neither" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kcfg c = { 0 };
		char err[512] = "";

		cr_assert_eq(parse(&c, bad[i].text, err), -EINVAL, "%s", bad[i].text);
		cr_assert(strstr(err, bad[i].want), "%s -> %s", bad[i].text, err);
		kcfg_free(&c);
	}
}

Test(kbuild, fragment_bounds_are_refused_with_their_figure)
{
	struct kcfg c = { 0 };
	char err[512];
	size_t big = KCFG_TEXT_MAX + 1;
	char *text = malloc(big + 1);
	struct strbuf sb = { 0 };

	cr_assert_not_null(text);
	memset(text, '#', big);
	text[big] = '\0';
	cr_assert_eq(kcfg_parse(&c, text, big, "f", err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "at most 4194304"), "%s", err);
	/* one line past KCFG_LINE_MAX */
	memset(text, 'x', KCFG_LINE_MAX + 1);
	memcpy(text, "CONFIG_A=\"", 10);
	text[KCFG_LINE_MAX + 1] = '\0';
	cr_assert_eq(kcfg_parse(&c, text, strlen(text), "f", err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "f:1: line of 4097 bytes (at most 4096)"), "%s", err);
	/* a NUL inside the text */
	cr_assert_eq(kcfg_parse(&c, "CONFIG_A=y\n\0CONFIG_B=y\n", 23, "f", err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "f:2: a NUL byte"), "%s", err);
	kcfg_free(&c);
	/* options past KCFG_OPTS_MAX; settings of a known name stay allowed */
	for (unsigned i = 0; i <= KCFG_OPTS_MAX; i++)
		cr_assert_eq(sb_printf(&sb, "CONFIG_O%u=y\n", i), 0);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(kcfg_parse(&c, sb.buf, sb.len, "f", err, sizeof(err)), -E2BIG);
	cr_assert(strstr(err, "f:32769: more than 32768 options"), "%s", err);
	cr_assert_eq(c.n, KCFG_OPTS_MAX);
	cr_assert_eq(kcfg_set(&c, "O1", "n", "x"), 0, "overriding needs no room");
	kcfg_free(&c);
	sb_free(&sb);
	free(text);
}

Test(kbuild, render_writes_what_parse_reads)
{
	struct kcfg a = { 0 }, b = { 0 };
	struct strbuf sb = { 0 };
	char err[512];

	cr_assert_eq(parse(&a, "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"x y\"\n"
			       "CONFIG_N=512\n", err), 0);
	cr_assert_eq(kcfg_render(&a, &sb), 0);
	cr_assert_str_eq(sb.buf, "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"x y\"\n"
				 "CONFIG_N=512\n");
	cr_assert_eq(kcfg_parse(&b, sb.buf, sb.len, "again", err, sizeof(err)), 0);
	cr_assert_eq(b.n, a.n);
	for (size_t i = 0; i < a.n; i++)
		cr_assert_str_eq(kcfg_get(&b, a.v[i].name)->value, a.v[i].value);
	kcfg_free(&a);
	kcfg_free(&b);
	sb_free(&sb);
}

/* A choice member asked for must be read after the base's member: kconfig
 * takes the last y of a choice (HZ_1000 over defconfig's HZ_250). */
Test(kbuild, the_overlay_puts_what_is_asked_after_the_base)
{
	struct kcfg base = { 0 }, over = { 0 }, out = { 0 };
	struct strbuf sb = { 0 };
	char err[512];
	const char *b = "CONFIG_A=y\nCONFIG_HZ_250=y\n# CONFIG_HZ_1000 is not set\nCONFIG_Z=1\n";

	cr_assert_eq(kcfg_parse(&base, b, strlen(b), "base", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(parse(&over, "CONFIG_HZ_1000=y\n# CONFIG_A is not set\n", err), 0);
	cr_assert_eq(kcfg_overlay(&base, &over, &out), 0);
	cr_assert_eq(kcfg_render(&out, &sb), 0);
	cr_assert_str_eq(sb.buf, "CONFIG_HZ_250=y\nCONFIG_Z=1\nCONFIG_HZ_1000=y\n"
				 "# CONFIG_A is not set\n");
	cr_assert_str_eq(kcfg_get(&out, "A")->origin, "frag.config:2");
	kcfg_free(&base);
	kcfg_free(&over);
	kcfg_free(&out);
	sb_free(&sb);
}

Test(kbuild, what_kconfig_dropped_is_named_with_who_asked)
{
	struct kcfg want = { 0 }, got = { 0 };
	struct strbuf r = { 0 };
	char err[512];

	cr_assert_eq(parse(&want, "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n"
				  "# CONFIG_D is not set\nCONFIG_E=y\nCONFIG_F=64\n", err), 0);
	const char *g = "CONFIG_A=y\nCONFIG_B=m\nCONFIG_D=y\nCONFIG_F=32\n";

	cr_assert_eq(kcfg_parse(&got, g, strlen(g), ".config", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(kcfg_unmet(&want, &got, &r), 4, "%s", r.buf);
	cr_assert(strstr(r.buf, "CONFIG_B=y (set by frag.config:2) became: m"), "%s", r.buf);
	cr_assert(strstr(r.buf, "CONFIG_D=n (set by frag.config:4) became: y"), "%s", r.buf);
	cr_assert(strstr(r.buf, "CONFIG_E=y (set by frag.config:5) became: not set"), "%s", r.buf);
	cr_assert(strstr(r.buf, "CONFIG_F=64 (set by frag.config:6) became: 32"), "%s", r.buf);
	cr_assert_null(strstr(r.buf, "CONFIG_C"), "n asked, absent: kept");
	cr_assert_null(strstr(r.buf, "CONFIG_A"), "%s", r.buf);
	kcfg_free(&want);
	kcfg_free(&got);
	sb_free(&r);
}

Test(kbuild, ktstr_needs_come_first_and_a_fragment_may_override_them)
{
	const char *names[] = { "one.config", "two.config" };
	const char *texts[] = { "# CONFIG_SCHED_CLASS_EXT is not set\nCONFIG_X=y\n", "CONFIG_X=m\n" };
	struct kcfg want = { 0 };
	char err[512];
	const struct kcfg_opt *o;

	cr_assert_eq(kbuild_want(names, texts, 2, &want, err, sizeof(err)), 0, "%s", err);
	size_t nx86 = 0;

	/* `kernel build` builds x86_64: the arm64-only options stay out. */
	for (size_t i = 0; i < kconfig_nneeds; i++)
		if (kconfig_need_for(&kconfig_needs[i], KTSTR__ARCH__ARCH_X86_64))
			cr_assert_str_eq(want.v[nx86++].name, kconfig_needs[i].name,
					 "table order first");
	cr_assert_eq(want.n, nx86 + 1);
	cr_assert_null(kcfg_get(&want, "SERIAL_AMBA_PL011_CONSOLE"));
	o = kcfg_get(&want, "SCHED_CLASS_EXT");
	cr_assert_str_eq(o->value, "n");
	cr_assert_str_eq(o->origin, "one.config:1");
	cr_assert_str_eq(kcfg_get(&want, "X")->value, "m", "later fragment wins");
	cr_assert_str_eq(kcfg_get(&want, "X")->origin, "two.config:1");
	cr_assert_str_eq(kcfg_get(&want, "PVH")->origin, "ktstr");
	kcfg_free(&want);

	texts[1] = "CONFIG_X=maybe\n";
	memset(&want, 0, sizeof(want));
	cr_assert_eq(kbuild_want(names, texts, 2, &want, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "two.config:1: CONFIG_X"), "%s", err);
	kcfg_free(&want);
}

/* Every option of the table is in docs/kernels.md's table with its value,
 * and the docs name no option the table lacks: one fact, two views. */
Test(kbuild, the_documented_options_are_the_table)
{
	char path[512], *doc = NULL, *sec, *end;
	size_t len;
	unsigned rows = 0;

	snprintf(path, sizeof(path), "%s/docs/kernels.md", test_srcdir());
	cr_assert_eq(read_file(path, &doc, &len, 1u << 20), 0, "%s", path);
	sec = strstr(doc, "### What ktstr adds");
	cr_assert_not_null(sec, "docs/kernels.md has a 'What ktstr adds' section");
	end = strstr(sec + 4, "\n#");
	if (end)
		*end = '\0';
	for (size_t i = 0; i < kconfig_nneeds; i++) {
		char cell[160];

		snprintf(cell, sizeof(cell), "| `%s=%s` |", kconfig_needs[i].name,
			 kconfig_needs[i].value);
		cr_assert(strstr(sec, cell), "docs/kernels.md lacks the row %s", cell);
	}
	for (char *p = strstr(sec, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
		char name[160];
		bool found = false;

		if (sscanf(p, "\n| `%159[A-Z0-9_]=", name) != 1)
			continue;
		rows++;
		for (size_t i = 0; i < kconfig_nneeds && !found; i++)
			found = !strcmp(kconfig_needs[i].name, name);
		cr_assert(found, "docs/kernels.md lists CONFIG_%s, which kconfig_need.c lacks", name);
	}
	cr_assert_eq(rows, kconfig_nneeds);
	free(doc);
}

/* ---- keys, arguments ------------------------------------------------------------- */

Test(kbuild, the_cache_key_follows_source_config_and_make_arguments)
{
	const char *cfg = "CONFIG_A=y\n", *cfg2 = "CONFIG_A=n\n";
	const char *args[] = { "LLVM=1" };
	char k1[256], k2[256], h1[65], h2[65];

	cr_assert_eq(kbuild_key("7.2.13", "git:aaaa", cfg, strlen(cfg), NULL, 0, k1, sizeof(k1), h1), 0);
	cr_assert_eq(kbuild_key("7.2.13", "git:aaaa", cfg, strlen(cfg), NULL, 0, k2, sizeof(k2), h2), 0);
	cr_assert_str_eq(k1, k2, "deterministic");
	cr_assert_eq(strncmp(k1, "7.2.13+src.", 11), 0, "%s", k1);
	cr_assert(strstr(k1, ".cfg."), "%s", k1);
	cr_assert(kver_prefix("7.2", k1), "a version prefix still names it: %s", k1);
	cr_assert_eq(strncmp(strstr(k1, ".cfg.") + 5, h1, 8), 0, "the key shows the config hash");
	cr_assert_eq(kbuild_key("7.2.13", "git:bbbb", cfg, strlen(cfg), NULL, 0, k2, sizeof(k2), h2), 0);
	cr_assert_str_neq(k1, k2, "another source");
	cr_assert_str_eq(h1, h2, "same config hash");
	cr_assert_eq(kbuild_key("7.2.13", "git:aaaa", cfg2, strlen(cfg2), NULL, 0, k2, sizeof(k2), h2), 0);
	cr_assert_str_neq(k1, k2, "another config");
	cr_assert_eq(kbuild_key("7.2.13", "git:aaaa", cfg, strlen(cfg), args, 1, k2, sizeof(k2), h2), 0);
	cr_assert_str_neq(k1, k2, "make arguments change what is built");
	cr_assert_eq(kbuild_key("7.2/../x y", "git:aaaa", cfg, strlen(cfg), NULL, 0, k2, sizeof(k2), h2), 0);
	cr_assert_null(strchr(k2, '/'), "%s", k2);
	cr_assert_null(strchr(k2, ' '), "%s", k2);
	cr_assert_eq(kbuild_key("", "git:aaaa", cfg, strlen(cfg), NULL, 0, k2, sizeof(k2), h2), 0);
	cr_assert_eq(strncmp(k2, "linux+src.", 10), 0, "%s", k2);
}

Test(kbuild, make_arguments_urls_and_refs_are_checked)
{
	cr_assert(kbuild_make_arg_ok("LLVM=1"));
	cr_assert(kbuild_make_arg_ok("CC=clang-19"));
	cr_assert(kbuild_make_arg_ok("KCFLAGS=-O2 -g"));
	cr_assert_not(kbuild_make_arg_ok("O=/tmp/x"), "ktstr's own");
	cr_assert_not(kbuild_make_arg_ok("ARCH=arm64"));
	cr_assert_not(kbuild_make_arg_ok("-j8"));
	cr_assert_not(kbuild_make_arg_ok("bzImage"), "a target");
	cr_assert_not(kbuild_make_arg_ok("cc=x"));
	cr_assert_not(kbuild_make_arg_ok("1X=y"));
	cr_assert_not(kbuild_make_arg_ok("=y"));
	cr_assert_not(kbuild_make_arg_ok("CC=a\nb"));

	cr_assert(kbuild_url_ok("https://git.kernel.org/pub/scm/linux/kernel/git/tj/sched_ext.git"));
	cr_assert(kbuild_url_ok("file:///srv/linux.git"));
	cr_assert(kbuild_url_ok("/srv/linux"));
	cr_assert(kbuild_url_ok("ssh://git@example.org/linux.git"));
	cr_assert_not(kbuild_url_ok("ext::sh -c touch% /tmp/pwned"), "a remote helper runs commands");
	cr_assert_not(kbuild_url_ok("fd::3"));
	cr_assert_not(kbuild_url_ok("--upload-pack=touch /tmp/x"));
	cr_assert_not(kbuild_url_ok("linux"), "relative: depends on the cwd");
	cr_assert_not(kbuild_url_ok("https://"));
	cr_assert_not(kbuild_url_ok("https://a b"));

	cr_assert(kbuild_ref_ok("for-next"));
	cr_assert(kbuild_ref_ok("v7.2"));
	cr_assert(kbuild_ref_ok("refs/heads/for-7.3"));
	cr_assert(kbuild_ref_ok("0123456789abcdef0123456789abcdef01234567"));
	cr_assert_not(kbuild_ref_ok("--upload-pack=x"));
	cr_assert_not(kbuild_ref_ok("a..b"));
	cr_assert_not(kbuild_ref_ok("/abs"));
	cr_assert_not(kbuild_ref_ok("a b"));
	cr_assert_not(kbuild_ref_ok("x:y"), "a refspec would write a local ref");
	cr_assert_not(kbuild_ref_ok(""));
}

/* ---- source identity --------------------------------------------------------------- */

static void tree_hash(const char *rel, char hex[65])
{
	char dir[256], err[512];

	snprintf(dir, sizeof(dir), "%s/%s", tmp, rel);
	cr_assert_eq(kbuild_tree_hash(dir, hex, err, sizeof(err)), 0, "%s", err);
}

Test(kbuild, a_plain_tree_is_named_by_its_content)
{
	char h0[65], h1[65], p[256], err[512];

	mktmp();
	put("a/Makefile", "all:\n");
	put("a/kernel/sched/ext.c", "int x;\n");
	put("b/Makefile", "all:\n");
	put("b/kernel/sched/ext.c", "int x;\n");
	tree_hash("a", h0);
	tree_hash("b", h1);
	cr_assert_str_eq(h0, h1, "same content, another place: same identity");
	put("b/kernel/sched/ext.c", "int y;\n");
	tree_hash("b", h1);
	cr_assert_str_neq(h0, h1, "a changed byte (same size)");
	put("b/kernel/sched/ext.c", "int x;\n");
	snprintf(p, sizeof(p), "%s/b/kernel/sched/ext.c", tmp);
	chmod(p, 0755);
	tree_hash("b", h1);
	cr_assert_str_neq(h0, h1, "the executable bit");
	chmod(p, 0644);
	tree_hash("b", h1);
	cr_assert_str_eq(h0, h1);
	snprintf(p, sizeof(p), "%s/b/kernel/sched/ext2.c", tmp);
	cr_assert_eq(symlink("ext.c", p), 0);
	tree_hash("b", h1);
	cr_assert_str_neq(h0, h1, "a new link");
	unlink(p);
	put("b/kernel/sched/exu.c", "");
	tree_hash("b", h1);
	cr_assert_str_neq(h0, h1, "a new empty file");
	snprintf(p, sizeof(p), "%s/b/kernel/sched/exu.c", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/b/kernel/sched/fifo", tmp);
	cr_assert_eq(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/b", tmp);
	cr_assert_eq(kbuild_tree_hash(p, h1, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "kernel/sched/fifo is neither a file"), "%s", err);
	rmtmp();
}

static void git(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "git -C %s -c user.name=t -c user.email=t@example.org -c init.defaultBranch=main "
		 "%s >/dev/null 2>&1", tmp, args);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(kbuild, a_git_tree_is_named_by_its_commit_and_changes_make_it_dirty)
{
	struct kbuild_src s = { 0 };
	char err[512], sub[256], h[65];

	if (system("git --version >/dev/null 2>&1"))
		cr_skip_test("git is not installed");
	mktmp();
	put("Makefile", "all:\n");
	put("kernel/a.c", "int a;\n");
	put(".gitignore", "*.o\n");
	git("init -q");
	git("add -A");
	git("commit -q -m one");
	cr_assert_eq(kbuild_src_dir(tmp, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strncmp(s.ident, "git:", 4), 0, "%s", s.ident);
	cr_assert_eq(strlen(s.ident), 44, "%s", s.ident);
	cr_assert_not(s.dirty);
	put("kernel/a.o", "ignored build output");
	cr_assert_eq(kbuild_src_dir(tmp, &s, err, sizeof(err)), 0);
	cr_assert_not(s.dirty, "ignored files do not count");
	put("kernel/a.c", "int b;\n");
	put("kernel/new.c", "int n;\n");
	cr_assert_eq(kbuild_src_dir(tmp, &s, err, sizeof(err)), 0);
	cr_assert(s.dirty);
	cr_assert_eq(s.dirty_count, 2, "a change and an untracked file: %u", s.dirty_count);
	/* A directory inside a work tree is not that tree: its content names it. */
	snprintf(sub, sizeof(sub), "%s/kernel", tmp);
	cr_assert_eq(kbuild_src_dir(sub, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strncmp(s.ident, "tree:", 5), 0, "%s", s.ident);
	tree_hash("kernel", h);
	cr_assert_str_eq(s.ident + 5, h);
	cr_assert_not(s.dirty);
	rmtmp();
}

Test(kbuild, a_git_ref_is_fetched_into_a_private_clone)
{
	struct kbuild_src s = { 0 };
	char err[1024], url[256], clone[256], first[96];

	if (system("git --version >/dev/null 2>&1"))
		cr_skip_test("git is not installed");
	mktmp();
	put("up/Makefile", "all:\n");
	snprintf(url, sizeof(url), "file://%s/up", tmp);
	snprintf(clone, sizeof(clone), "%s/clone", tmp);
	git("init -q up");
	git("-C up add -A");
	git("-C up commit -q -m one");
	git("-C up tag v1");
	cr_assert_eq(kbuild_src_git(url, "main", clone, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.dir, clone);
	cr_assert_str_eq(s.git_ref, "main");
	cr_assert_not(s.dirty);
	snprintf(first, sizeof(first), "%s", s.ident);
	put("up/Makefile", "all: x\n");
	git("-C up commit -q -a -m two");
	cr_assert_eq(kbuild_src_git(url, "main", clone, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_neq(s.ident, first, "the branch moved: another commit");
	cr_assert_eq(kbuild_src_git(url, "v1", clone, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.ident, first, "the tag names the first commit");
	cr_assert_eq(kbuild_src_git(url, "no-such-branch", clone, &s, err, sizeof(err)), -EIO);
	cr_assert(strstr(err, "git fetch") && strstr(err, "no-such-branch"), "%s", err);
	cr_assert_eq(kbuild_src_git("ext::sh -c id", "main", clone, &s, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "not a URL ktstr fetches"), "%s", err);
	rmtmp();
}

/* ---- the command's checks before anything runs ---------------------------------------- */

Test(kbuild, options_and_trees_are_checked_before_make_runs)
{
	struct kbuild_opts o = { .base = "defconfig" };
	char cache[128];

	mktmp();
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	setenv("KTSTR_CACHE_DIR", cache, 1);
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "no source");
	o.source = tmp;
	o.git = "https://example.org/x.git";
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "two sources");
	o.source = NULL;
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "--git without --ref");
	o.git = NULL;
	o.source = tmp;
	o.base = "allyesconfig";
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "--base");
	o.base = "tinyconfig";
	o.make_args[o.nmake_args++] = "O=/elsewhere";
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "O= is ktstr's");
	o.nmake_args = 0;
	o.frags[o.nfrags++] = "/nonexistent/frag.config";
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "an unreadable fragment");
	put("bad.config", "CONFIG_X=perhaps\n");
	snprintf(cache, sizeof(cache), "%s/bad.config", tmp);
	o.frags[0] = cache;
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "a bad fragment");
	o.nfrags = 0;
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "not a kernel tree");
	put("Makefile", "");
	put("Kconfig", "");
	put("arch/x86/Kconfig", "");
	put(".config", "CONFIG_A=y\n");
	cr_assert_eq(kernel_build(&o, stdout), -EINVAL, "configured in place");
	unsetenv("KTSTR_CACHE_DIR");
	rmtmp();
}

/* ---- a build tree as --kernel ---------------------------------------------------------- */

Test(kbuild, a_build_tree_boots_as_it_is_with_its_dot_config)
{
	struct kernel_choice kc;
	char err[1024], p[256];
	int fd;

	mktmp();
	put("arch/x86/boot/bzImage", "bz");
	put(".config", "CONFIG_SCHED_CLASS_EXT=y\n");
	put("vmlinux", "elf");
	cr_assert_eq(kernel_resolve(tmp, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(strstr(kc.image, "/vmlinux"), "%s", kc.image);
	cr_assert(strstr(kc.config, "/.config"), "%s", kc.config);
	cr_assert_eq(kc.scx, 1);
	cr_assert_eq(kernel_resolve(tmp, KTSTR__ENGINE__ENGINE_KVM, &kc, err, sizeof(err)), 0);
	cr_assert(strstr(kc.image, "arch/x86/boot/bzImage"), "%s", kc.image);
	/* A vmlinux with its debug info, past what a VM accepts: QEMU boots the
	 * bzImage instead. */
	snprintf(p, sizeof(p), "%s/vmlinux", tmp);
	fd = open(p, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)KTSTR_KERNEL_IMAGE_MAX + 1), 0);
	close(fd);
	cr_assert_eq(kernel_resolve(tmp, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0);
	cr_assert(strstr(kc.image, "arch/x86/boot/bzImage"), "%s", kc.image);
	rmtmp();
}

/* ---- pahole ------------------------------------------------------------------------- */

Test(kbuild, an_old_pahole_is_refused_where_kfuncs_take_implicit_arguments)
{
	struct kcfg c = { 0 };
	char err[1024];

	mktmp();
	put("include/linux/btf.h", "#define KF_IMPLICIT_ARGS (1 << 16)\n");
	cr_assert_eq(parse(&c, "CONFIG_SCHED_CLASS_EXT=y\nCONFIG_PAHOLE_VERSION=124\n", err), 0);
	cr_assert_eq(kbuild_pahole_check(&c, tmp, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "pahole 1.24 is older than 1.26"), "%s", err);
	cr_assert(strstr(err, "--make-arg PAHOLE="), "says what to do: %s", err);
	cr_assert_eq(kcfg_set(&c, "PAHOLE_VERSION", "130", "x"), 0);
	cr_assert_eq(kbuild_pahole_check(&c, tmp, err, sizeof(err)), 0, "1.30 emits the tags");
	cr_assert_eq(kcfg_set(&c, "PAHOLE_VERSION", "0", "x"), 0);
	cr_assert_eq(kbuild_pahole_check(&c, tmp, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "no pahole is older"), "%s", err);
	cr_assert_eq(kcfg_set(&c, "SCHED_CLASS_EXT", "n", "x"), 0);
	cr_assert_eq(kbuild_pahole_check(&c, tmp, err, sizeof(err)), 0, "no sched_ext: no kfuncs");
	cr_assert_eq(kcfg_set(&c, "SCHED_CLASS_EXT", "y", "x"), 0);
	put("include/linux/btf.h", "/* an older kernel */\n");
	cr_assert_eq(kbuild_pahole_check(&c, tmp, err, sizeof(err)), 0, "no implicit arguments");
	kcfg_free(&c);
	rmtmp();
}
