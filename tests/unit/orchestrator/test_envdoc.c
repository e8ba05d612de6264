/* docs/environment.md explains every environment variable ktstr reads (the
 * project standard: docs/ explain every one). This suite finds the variables
 * in the sources and fails naming each one the page does not write as `NAME`:
 *
 *  - C sources (.c, .h) under orchestrator/, vmm-worker/, initramfs-builder/,
 *    common/, guest/, sandbox/, schedulers/, tests/ and include/: a getenv
 *    call (secure_getenv too) of a string literal; of a macro that some
 *    "#define MACRO "NAME"" there names; or of ARRAY[i] where the same file
 *    defines "ARRAY[] = { "NAME", ... }". A getenv of anything else (a
 *    variable, an expression) cannot be named, and fails too: resolve it into
 *    one of those forms.
 *  - the files in scripts/ and .ci/run: ${NAME:-, ${NAME:?, ${NAME:+ and
 *    ${NAME:= for upper-case NAMEs (environment variables are upper case by
 *    convention; the scripts' lower-case names are their locals).
 *  - Makefile: "NAME ?=", "$(or $(NAME)," and "ifeq/ifneq ($(NAME),": the
 *    make variables a caller may set.
 *
 * The root is test_srcdir() ($KTSTR_SRC_DIR, else "."). This file spells the
 * call it looks for as GETENV so that its own text holds no such call. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ktstr/util.h>

#include "helpers.h"

#define ENVDOC_PAGE "docs/environment.md"
#define GETENV "getenv" "("
#define FILE_MAX (8u << 20)

/* Names found by the scan that are not caller interfaces: upper-case
 * script variables that happen to use a ${X:-} form on values the script
 * set itself. Each is allowed only in its file, with the reason; an entry
 * whose name no longer occurs there fails (allow_list_entries_still_occur),
 * so the list cannot outlive its reason. */
static const struct {
	const char *file, *name, *why;
} allow[] = {
	/* KVER= starts empty (line "VMLINUX= CONFIG= KVER= ..."), then comes
	 * from --version, the kernel's config or its banner; "${KVER:-nothing}"
	 * only words the error when none of them gave one. */
	{ "scripts/build-schedulers", "KVER", "set from --version/config/vmlinux" },
	/* CLANG22= starts empty; --clang22 FILE or a clang-29..clang-22 found
	 * in PATH sets it; "${CLANG22:+...}" adds its version to the build's
	 * inputs. */
	{ "scripts/build-schedulers", "CLANG22", "set from --clang22 or PATH" },
	/* CONFIG= starts empty; --config FILE or the config beside the vmlinux
	 * sets it; "${CONFIG:+, config $CONFIG}" words a progress line. */
	{ "scripts/build-schedulers", "CONFIG", "set from --config or beside the vmlinux" },
};

struct found {
	char *name;
	char *where; /* file (relative to the root) that first used it */
};

struct scan {
	struct found *v;
	size_t n, cap;
	/* #define IDENT "NAME" from every C file, for a GETENV of IDENT. */
	struct found *defs;
	size_t ndefs, capdefs;
	/* getenv arguments that are no name, no macro and no array of names. */
	struct strbuf unresolved;
	size_t nc, nscript, nmake; /* names found per kind, duplicates included */
};

static bool is_upper_start(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_upper_char(char c)
{
	return is_upper_start(c) || (c >= '0' && c <= '9');
}

static bool is_ident_start(char c)
{
	return is_upper_start(c) || (c >= 'a' && c <= 'z');
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static char *dup_n(const char *s, size_t n)
{
	char *d = strndup(s, n);

	cr_assert_not_null(d);
	return d;
}

static void add_to(struct found **v, size_t *n, size_t *cap, const char *name, size_t len,
		   const char *where)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i].name) == len && !strncmp((*v)[i].name, name, len))
			return;
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*v = realloc(*v, *cap * sizeof(**v));
		cr_assert_not_null(*v);
	}
	(*v)[*n].name = dup_n(name, len);
	(*v)[*n].where = dup_n(where, strlen(where));
	(*n)++;
}

static void add_name(struct scan *s, const char *name, size_t len, const char *where)
{
	add_to(&s->v, &s->n, &s->cap, name, len, where);
}

static const struct found *find(const struct found *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].where);
	}
	for (size_t i = 0; i < s->ndefs; i++) {
		free(s->defs[i].name);
		free(s->defs[i].where);
	}
	free(s->v);
	free(s->defs);
	sb_free(&s->unresolved);
	memset(s, 0, sizeof(*s));
}

/* A string literal at p that is a plausible variable name: its length, or 0. */
static size_t name_literal(const char *p)
{
	size_t n = 0;

	if (*p != '"' || !is_ident_start(p[1]))
		return 0;
	while (is_ident_char(p[1 + n]))
		n++;
	return p[1 + n] == '"' ? n : 0;
}

/* Every line "#define IDENT "NAME"" (nothing after but a comment). */
static void collect_defines(struct scan *s, const char *text)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = l, *id, *str;
		size_t idn = 0, n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "#define", 7) || (p[7] != ' ' && p[7] != '\t'))
			continue;
		p += 7;
		while (*p == ' ' || *p == '\t')
			p++;
		id = p;
		while (is_ident_char(id[idn]))
			idn++;
		if (!idn)
			continue;
		p = id + idn;
		if (*p != ' ' && *p != '\t')
			continue; /* a function-like macro, or nothing */
		while (*p == ' ' || *p == '\t')
			p++;
		str = p;
		if (!(n = name_literal(str)))
			continue;
		p = str + n + 2;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '\n' && strncmp(p, "/*", 2) && strncmp(p, "//", 2))
			continue; /* more than one literal: not a name */
		/* defs[].name is the macro, defs[].where the variable it names
		 * (the first definition wins, as add_to keeps it). */
		{
			char *val = dup_n(str + 1, n);

			add_to(&s->defs, &s->ndefs, &s->capdefs, id, idn, val);
			free(val);
		}
	}
}

/* The string literals of "ident[] = { ... }" in text; false when there is
 * no such definition. */
static bool add_array(struct scan *s, const char *text, const char *id, size_t idn,
		      const char *where)
{
	char *ident = dup_n(id, idn);

	for (const char *p = strstr(text, ident); p; p = strstr(p + 1, ident)) {
		const char *q = p + idn;

		if ((p > text && is_ident_char(p[-1])) || strncmp(q, "[]", 2))
			continue;
		q += 2;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ' || *q == '\t' || *q == '\n')
			q++;
		if (*q != '{')
			continue;
		for (q++; *q && *q != '}'; q++) {
			size_t n = name_literal(q);

			if (n) {
				add_name(s, q + 1, n, where);
				s->nc++;
				q += n + 1;
			}
		}
		free(ident);
		return true;
	}
	free(ident);
	return false;
}

/* Every getenv call in one C file, after collect_defines over all of them. */
static void scan_c(struct scan *s, const char *text, const char *where)
{
	for (const char *p = strstr(text, GETENV); p; p = strstr(p + 1, GETENV)) {
		const char *a = p + strlen(GETENV), *id;
		size_t n = 0;

		while (*a == ' ')
			a++;
		if ((n = name_literal(a))) {
			add_name(s, a + 1, n, where);
			s->nc++;
			continue;
		}
		if (*a == ')')
			continue; /* "getenv()" in prose */
		id = a;
		while (is_ident_char(id[n]))
			n++;
		a = id + n;
		if (*a == ')') {
			char *mac = dup_n(id, n);
			const struct found *d = find(s->defs, s->ndefs, mac);

			free(mac);
			if (d) {
				add_name(s, d->where, strlen(d->where), where);
				s->nc++;
				continue;
			}
		} else if (*a == '[' && add_array(s, text, id, n, where)) {
			continue;
		}
		n = strcspn(id, ")\n");
		sb_printf(&s->unresolved, "\n  %s: getenv of '%.*s'", where, (int)(n < 60 ? n : 60),
			  id);
	}
}

/* ${NAME:-, ${NAME:?, ${NAME:+, ${NAME:= with NAME upper case. */
static void scan_script(struct scan *s, const char *text, const char *where)
{
	for (const char *p = strstr(text, "${"); p; p = strstr(p + 1, "${")) {
		const char *q = p + 2;
		size_t n = 0;

		if (!is_upper_start(*q))
			continue;
		while (is_upper_char(q[n]))
			n++;
		if (q[n] == ':' && q[n + 1] && strchr("-?+=", q[n + 1])) {
			add_name(s, q, n, where);
			s->nscript++;
		}
	}
}

/* The upper-case name at p ending with one of the bytes of end: its length, or 0. */
static size_t upper_name_before(const char *p, const char *end)
{
	size_t n = 0;

	if (!is_upper_start(*p))
		return 0;
	while (is_upper_char(p[n]))
		n++;
	return p[n] && strchr(end, p[n]) ? n : 0;
}

static void scan_make_form(struct scan *s, const char *text, const char *form, const char *end,
			   const char *where)
{
	for (const char *p = strstr(text, form); p; p = strstr(p + 1, form)) {
		size_t n = upper_name_before(p + strlen(form), end);

		if (n) {
			add_name(s, p + strlen(form), n, where);
			s->nmake++;
		}
	}
}

/* "NAME ?=" at the start of a line, "$(or $(NAME),", "ifeq ($(NAME),". */
static void scan_makefile(struct scan *s, const char *text, const char *where)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		size_t n = upper_name_before(l, " \t?");
		const char *q = l + n;

		if (!n)
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (!strncmp(q, "?=", 2)) {
			add_name(s, l, n, where);
			s->nmake++;
		}
	}
	scan_make_form(s, text, "$(or $(", ")", where);
	scan_make_form(s, text, "ifeq ($(", ")", where);
	scan_make_form(s, text, "ifneq ($(", ")", where);
}

/* buf = a/b; a path too long for buf fails the test. */
static void join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);

	cr_assert(n >= 0 && (size_t)n < len, "path too long: %s/%s", a, b);
}

static char *slurp(const char *root, const char *rel)
{
	char path[4096], *text = NULL;
	size_t len;
	int ret;

	join(path, sizeof(path), root, rel);
	ret = read_file(path, &text, &len, FILE_MAX);
	cr_assert_eq(ret, 0, "cannot read %s: %s (run from the repository root or set KTSTR_SRC_DIR)",
		     path, strerror(-ret));
	return text;
}

static bool is_c_file(const char *name)
{
	size_t n = strlen(name);

	return n > 2 && name[n - 2] == '.' && (name[n - 1] == 'c' || name[n - 1] == 'h');
}

/* rel (a directory under root): every .c/.h below it, depth-first, no
 * links followed, hidden entries skipped. pass 0 collects defines, 1 scans. */
static void walk_c(struct scan *s, const char *root, const char *rel, int pass, int depth)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	cr_assert_lt(depth, 16, "%s: too deep", rel);
	join(path, sizeof(path), root, rel);
	d = opendir(path);
	cr_assert_not_null(d, "cannot open %s (run from the repository root or set KTSTR_SRC_DIR)",
			   path);
	while ((de = readdir(d))) {
		char sub[4096];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		join(sub, sizeof(sub), rel, de->d_name);
		join(path, sizeof(path), root, sub);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk_c(s, root, sub, pass, depth + 1);
		} else if (S_ISREG(st.st_mode) && is_c_file(de->d_name)) {
			char *text = slurp(root, sub);

			if (pass == 0)
				collect_defines(s, text);
			else
				scan_c(s, text, sub);
			free(text);
		}
	}
	closedir(d);
}

static void scan_tree(struct scan *s, const char *root)
{
	static const char *const c_dirs[] = {
		"orchestrator", "vmm-worker", "initramfs-builder", "common", "guest",
		"sandbox", "schedulers", "tests", "include", "libktstr",
	};
	char path[4096];
	struct dirent *de;
	DIR *d;
	char *text;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < sizeof(c_dirs) / sizeof(c_dirs[0]); i++)
			walk_c(s, root, c_dirs[i], pass, 0);

	join(path, sizeof(path), root, "scripts");
	d = opendir(path);
	cr_assert_not_null(d, "cannot open %s", path);
	while ((de = readdir(d))) {
		char rel[1024];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		join(rel, sizeof(rel), "scripts", de->d_name);
		join(path, sizeof(path), root, rel);
		if (lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		text = slurp(root, rel);
		scan_script(s, text, rel);
		free(text);
	}
	closedir(d);
	text = slurp(root, ".ci/run");
	scan_script(s, text, ".ci/run");
	free(text);
	text = slurp(root, "Makefile");
	scan_makefile(s, text, "Makefile");
	free(text);
}

static bool allowed(const struct found *f)
{
	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		if (!strcmp(allow[i].name, f->name) && !strcmp(allow[i].file, f->where))
			return true;
	return false;
}

static bool documented(const char *page, const char *name)
{
	char quoted[256];

	snprintf(quoted, sizeof(quoted), "`%s`", name);
	return strstr(page, quoted) != NULL;
}

Test(envdoc, every_variable_read_is_documented)
{
	const char *root = test_srcdir();
	struct scan s = { 0 };
	struct strbuf missing = { 0 };
	size_t nmissing = 0;
	char *page;

	scan_tree(&s, root);
	/* A scan that finds next to nothing looked in the wrong place: never
	 * a pass. (Today: about 45 in C, 40 in scripts, 8 in the Makefile.) */
	cr_assert_geq(s.nc, 20, "only %zu getenv names in the C sources under %s", s.nc, root);
	cr_assert_geq(s.nscript, 20, "only %zu ${NAME:-} names in the scripts under %s", s.nscript,
		      root);
	cr_assert_geq(s.nmake, 5, "only %zu caller variables in %s/Makefile", s.nmake, root);
	cr_expect_null(s.unresolved.buf,
		       "getenv calls whose variable this test cannot name (use a string, a "
		       "#define of one, or an array of them in the same file):%s",
		       s.unresolved.buf ? s.unresolved.buf : "");

	page = slurp(root, ENVDOC_PAGE);
	for (size_t i = 0; i < s.n; i++) {
		if (allowed(&s.v[i]) || documented(page, s.v[i].name))
			continue;
		nmissing++;
		sb_printf(&missing, "\n  %s (read in %s)", s.v[i].name, s.v[i].where);
	}
	cr_expect_eq(nmissing, 0,
		     "%zu environment variable(s) read but not documented as `NAME` in "
		     ENVDOC_PAGE " (say who reads it, what it does, its default, its values and "
		     "what a bad value does):%s",
		     nmissing, missing.buf ? missing.buf : "");
	free(page);
	sb_free(&missing);
	scan_free(&s);
}

Test(envdoc, allow_list_entries_still_occur)
{
	const char *root = test_srcdir();

	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++) {
		char *text = slurp(root, allow[i].file);
		struct scan one = { 0 };

		scan_script(&one, text, allow[i].file);
		cr_expect_not_null(find(one.v, one.n, allow[i].name),
				   "allow-list entry %s in %s (%s) no longer occurs there: remove it",
				   allow[i].name, allow[i].file, allow[i].why);
		free(text);
		scan_free(&one);
	}
}

/* The scanners themselves, on made-up text: each form is found, the
 * look-alikes are not. */
Test(envdoc, scanners_find_every_form_and_nothing_else)
{
	static const char c_text[] =
		"#define ENVDOC_M \"ENVDOC_MACRO\" /* its name */\n"
		"#define ENVDOC_TWO \"NOT\" \"ONE\"\n"
		"static const char *const envdoc_list[] = {\n\t\"ENVDOC_ARR1\", \"ENVDOC_ARR2\",\n};\n"
		"a = " GETENV "\"ENVDOC_LITERAL\");\n"
		"b = secure_" GETENV " \"ENVDOC_SECURE\");\n"
		"c = " GETENV "ENVDOC_M);\n"
		"for (i = 0; i < 2; i++) d = " GETENV "envdoc_list[i]);\n"
		"/* the guest reads these with " GETENV ") first */\n"
		"e = " GETENV "name_in_a_variable);\n"
		"f = " GETENV "(const char *)cast);\n";
	static const char script_text[] =
		"A=${ENVDOC_DASH:-x} B=${ENVDOC_Q:?need it} C=${ENVDOC_PLUS:+y} D=${ENVDOC_EQ:=z}\n"
		"e=${lower_local:-1} f=${1:-2} g=${ENVDOC_PLAIN} h=${ENVDOC_SUB//a/b} i=${#ENVDOC_LEN}\n";
	static const char make_text[] =
		"ENVDOC_QM ?= 1\nENVDOC_SET := 2\nENVDOC_ASSIGN = 3\n"
		"x: ; echo $(or $(ENVDOC_OR),10)\nifeq ($(ENVDOC_IFEQ),1)\nendif\n"
		"ifneq ($(ENVDOC_IFNEQ),)\nendif\n";
	static const char *const want[] = {
		"ENVDOC_MACRO", "ENVDOC_ARR1", "ENVDOC_ARR2", "ENVDOC_LITERAL", "ENVDOC_SECURE",
		"ENVDOC_DASH", "ENVDOC_Q", "ENVDOC_PLUS", "ENVDOC_EQ", "ENVDOC_QM",
		"ENVDOC_OR", "ENVDOC_IFEQ", "ENVDOC_IFNEQ",
	};
	static const char *const not_want[] = {
		"NOT", "ONE", "lower_local", "1", "ENVDOC_PLAIN", "ENVDOC_SUB", "ENVDOC_LEN",
		"ENVDOC_SET", "ENVDOC_ASSIGN", "ENVDOC_M", "envdoc_list", "name_in_a_variable",
	};
	struct scan s = { 0 };

	collect_defines(&s, c_text);
	scan_c(&s, c_text, "made-up.c");
	scan_script(&s, script_text, "made-up.sh");
	scan_makefile(&s, make_text, "Makefile");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_not_null(find(s.v, s.n, want[i]), "%s not found", want[i]);
	for (size_t i = 0; i < sizeof(not_want) / sizeof(not_want[0]); i++)
		cr_expect_null(find(s.v, s.n, not_want[i]), "%s found, but is no variable read",
			       not_want[i]);
	cr_assert_eq(s.n, sizeof(want) / sizeof(want[0]), "found %zu names", s.n);
	/* The getenv of a run-time variable is reported, the prose is not. */
	cr_assert_not_null(s.unresolved.buf);
	cr_expect_not_null(strstr(s.unresolved.buf, "name_in_a_variable"), "%s", s.unresolved.buf);
	cr_expect_not_null(strstr(s.unresolved.buf, "(const char *"), "%s", s.unresolved.buf);
	cr_expect_null(strstr(s.unresolved.buf, "first"), "%s", s.unresolved.buf);
	/* And a name the page lacks is what the real test reports. */
	cr_expect(documented("`ENVDOC_X` and more", "ENVDOC_X"));
	cr_expect(!documented("ENVDOC_X without backticks, `ENVDOC_XY`", "ENVDOC_X"));
	scan_free(&s);
}
