/* `ktstr-orch compare` and the HTML page, run as a user runs them.
 *
 * tests/data/compare/gauntlet-{a,b}.json are two real runs of
 *   ktstr-orch --workers 1 run examples/gauntlet.yaml --gauntlet \
 *     --filter simple_steady/tiny --json FILE
 * on QEMU TCG (two presets x four flag profiles). Some variants failed on
 * their own (TCG on a busy 2-CPU host): in A tiny-2llc/fifo
 * (SCHED_NOT_ATTACHED, no metrics), in B tiny-1llc/verbose and
 * tiny-2llc/fifo+verbose. A regression is injected
 * here, with json-c, into a copy of A. The page is rendered by headless
 * Chromium (Debian's chromium; scripts/install-deps), its DOM and its
 * screenshot checked. One test also runs a real VM and pages its result. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zlib.h>

#include "html_report.h"
#include "lib/vmtest.h"

#define CMD_TIMEOUT_MS (120 * 1000)
#define VM_TIMEOUT_MS (420 * 1000)
#define A_FIXTURE "tests/data/compare/gauntlet-a.json"
#define B_FIXTURE "tests/data/compare/gauntlet-b.json"
#define GOLDEN "tests/data/compare/gauntlet-a-b.txt"

struct env {
	char orch[1024], src[1024], tmp[1024];
};

static void env(struct env *e)
{
	if (vmtest_bin("ktstr-orch", e->orch, sizeof(e->orch)))
		test_missing("ktstr-orch not built");
	cr_assert_eq(vmtest_src_dir(e->src, sizeof(e->src)), 0);
	cr_assert_eq(vmtest_tmpdir(e->tmp, sizeof(e->tmp)), 0);
}

/* A shell command line's exit status; stdout+stderr in *out. */
static int sh(const char *cmd, int timeout_ms, char **out)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int status = 0;

	cr_assert_eq(vmtest_run(argv, timeout_ms, out, &status), 0, "command hung: %s", cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Copy of fixture src at dst with one record's field changed: path is a
 * list of keys / array indices ("metrics", "workers", "0", "max_gap_ms"). */
static void inject(const char *src, const char *dst, const char *test, const char *const *path,
		   size_t n, json_object *val)
{
	json_object *root = json_object_from_file(src), *o = NULL;

	cr_assert_not_null(root, "%s", src);
	for (size_t i = 0; i < json_object_array_length(root); i++) {
		json_object *r = json_object_array_get_idx(root, i), *nm;

		if (json_object_object_get_ex(r, "name", &nm) &&
		    !strcmp(json_object_get_string(nm), test))
			o = r;
	}
	cr_assert_not_null(o, "no test %s in %s", test, src);
	for (size_t i = 0; i + 1 < n; i++) {
		json_object *next = NULL;

		if (json_object_is_type(o, json_type_array))
			next = json_object_array_get_idx(o, (size_t)atoi(path[i]));
		else
			json_object_object_get_ex(o, path[i], &next);
		cr_assert_not_null(next, "%s: no %s", test, path[i]);
		o = next;
	}
	json_object_object_add(o, path[n - 1], val);
	cr_assert_eq(json_object_to_file(dst, root), 0);
	json_object_put(root);
}

Test(compare, identical_runs_exit_0)
{
	struct env e;
	char cmd[8192], *out = NULL;
	int rc;

	env(&e);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE " " A_FIXTURE, e.src, e.orch);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "8 matched, 0 only in A, 0 only in B, 0 outcome changes, "
			      "0 regressions\n"), "%s", out);
	cr_assert_null(strstr(out, "REGRESSION"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

Test(compare, injected_regression_exits_1_naming_test_and_metric)
{
	static const char *const gap[] = { "metrics", "workers", "0", "max_gap_ms" };
	struct env e;
	char cmd[8192], b[1200], js[1200], *out = NULL, *doc = NULL;
	int rc;

	env(&e);
	snprintf(b, sizeof(b), "%s/b.json", e.tmp);
	snprintf(js, sizeof(js), "%s/cmp.json", e.tmp);
	/* tiny-1llc/fifo's worst worker waited 383 ms in A; 1500 in B. */
	snprintf(cmd, sizeof(cmd), "%s/" A_FIXTURE, e.src);
	inject(cmd, b, "gauntlet/simple_steady/tiny-1llc/fifo", gap, 4, json_object_new_int(1500));
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare --json %s " A_FIXTURE " %s", e.src, e.orch,
		 js, b);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "REGRESSION  gauntlet/simple_steady/tiny-1llc/fifo  max_gap_ms: "
			      "383 -> 1500 ms (worse by +291.6%; gate 50 ms and 25%, lower is "
			      "better)\n"), "%s", out);
	cr_assert_eq(count(out, "REGRESSION"), 1, "%s", out);
	cr_assert(strstr(out, "8 matched, 0 only in A, 0 only in B, 0 outcome changes, "
			      "1 regressions\n"), "%s", out);
	/* The same in --json, read back. */
	snprintf(cmd, sizeof(cmd), "cat %s", js);
	cr_assert_eq(sh(cmd, CMD_TIMEOUT_MS, &doc), 0);
	json_object *root = json_tokener_parse(doc), *v;
	cr_assert_not_null(root, "%s", doc);
	cr_assert(json_object_object_get_ex(root, "regressions", &v) &&
		  json_object_get_int(v) == 1, "%s", doc);
	cr_assert(strstr(doc, "\"test\":\"gauntlet/simple_steady/tiny-1llc/fifo\",\"regression\":"
			      "true,\"metric\":\"max_gap_ms\""), "%s", doc);
	json_object_put(root);
	free(doc);
	free(out);
	/* A wider gate on that metric lets it through: exit 0. */
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare --gate max_gap_ms=1200,25%% " A_FIXTURE
		 " %s", e.src, e.orch, b);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* Two real runs, the report whole: a golden file (KTSTR_UPDATE_GOLDEN=1
 * rewrites it). */
Test(compare, two_recorded_runs_golden)
{
	struct env e;
	char cmd[8192], path[1200], *out = NULL, *want = NULL;
	int rc;

	env(&e);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE " " B_FIXTURE " 2>&1", e.src,
		 e.orch);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 1, "B's failure is a regression; exit %d:\n%s", rc, out);
	snprintf(path, sizeof(path), "%s/" GOLDEN, e.src);
	if (getenv("KTSTR_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		cr_assert_not_null(f);
		fputs(out, f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "cat %s", path);
	cr_assert_eq(sh(cmd, CMD_TIMEOUT_MS, &want), 0, "golden file %s missing (run with "
							"KTSTR_UPDATE_GOLDEN=1)", path);
	cr_assert_str_eq(out, want);
	cr_assert(strstr(out, "REGRESSION  gauntlet/simple_steady/tiny-1llc/verbose  PASS -> SCHED_NOT_ATTACHED\n"), "%s", out);
	/* A fix is reported, not a regression. */
	cr_assert(strstr(out, "outcome     gauntlet/simple_steady/tiny-2llc/fifo  SCHED_NOT_ATTACHED -> PASS\n"), "%s", out);
	free(out);
	free(want);
	vmtest_rm_rf(e.tmp);
}

Test(compare, bad_input_exit_codes_and_bounds)
{
	struct env e;
	char cmd[8192], p[1200], *out = NULL;
	FILE *f;
	int rc;

	env(&e);
	/* Usage: one file, a bad gate. */
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE, e.src, e.orch);
	cr_assert_eq(sh(cmd, CMD_TIMEOUT_MS, &out), 2, "%s", out);
	cr_assert(strstr(out, "usage: ktstr-orch compare [options] A B"), "%s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare --gate max_gap_ms=nan,1%% " A_FIXTURE " "
		 A_FIXTURE, e.src, e.orch);
	cr_assert_eq(sh(cmd, CMD_TIMEOUT_MS, &out), 2, "%s", out);
	free(out);
	/* Unreadable: exit 3. */
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE " %s/none.json", e.src, e.orch,
		 e.tmp);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 3, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "none.json: cannot open or read: No such file"), "%s", out);
	free(out);
	/* A FIFO with no writer: refused at once, never waited on. */
	snprintf(p, sizeof(p), "%s/fifo.json", e.tmp);
	cr_assert_eq(mkfifo(p, 0600), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE " %s", e.src, e.orch, p);
	rc = sh(cmd, 20000, &out);
	cr_assert_eq(rc, 3, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "not a regular file"), "%s", out);
	free(out);
	/* Not JSON: exit 2 with file, line and column. */
	snprintf(p, sizeof(p), "%s/bad.json", e.tmp);
	f = fopen(p, "w");
	fputs("[\n{\"name\":\"t\",\n \"verdict\":PASS}\n]\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE " %s", e.src, e.orch, p);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "bad.json:3:") && strstr(out, "not JSON"), "%s", out);
	free(out);
	/* Past 64 MiB by size: refused unread. */
	snprintf(p, sizeof(p), "%s/big.json", e.tmp);
	f = fopen(p, "w");
	fclose(f);
	cr_assert_eq(truncate(p, (64 << 20) + 1), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE " %s", e.src, e.orch, p);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "more than the 67108864"), "%s", out);
	free(out);
	/* 100001 records: past the count. */
	snprintf(p, sizeof(p), "%s/many.json", e.tmp);
	f = fopen(p, "w");
	fputc('[', f);
	for (int i = 0; i <= 100000; i++)
		fprintf(f, "%s{\"name\":\"t%d\",\"verdict\":\"PASS\"}", i ? "," : "", i);
	fputc(']', f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare %s %s", e.src, e.orch, p, p);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "more than 100000 test records"), "%s", out);
	free(out);
	/* A test name past 4096 bytes. */
	snprintf(p, sizeof(p), "%s/long.json", e.tmp);
	f = fopen(p, "w");
	fputs("[{\"name\":\"", f);
	for (int i = 0; i < 4097; i++)
		fputc('x', f);
	fputs("\",\"verdict\":\"PASS\"}]", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare %s %s", e.src, e.orch, p, p);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 2, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "1..4096 bytes"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* ---- the page in a browser ---------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

struct png {
	uint32_t w, h;
	uint8_t *px; /* RGB(A) rows, bpp bytes a pixel */
	unsigned bpp;
};

/* Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)
 * with zlib. */
static void png_decode(const char *path, struct png *img)
{
	struct strbuf sb = { 0 }, idat = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 8, stride, rawlen;
	uint8_t *raw;
	uLongf got;

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(read_fd_all(fd, &sb, 64u << 20), 0);
	close(fd);
	cr_assert(sb.len > 8 && !memcmp(sb.buf, "\x89PNG\r\n\x1a\n", 8), "%s is not a PNG", path);
	memset(img, 0, sizeof(*img));
	while (off + 12 <= sb.len) {
		const uint8_t *c = (const uint8_t *)sb.buf + off;
		uint32_t len = be32(c);

		cr_assert(off + 12 + len <= sb.len, "truncated chunk");
		if (!memcmp(c + 4, "IHDR", 4)) {
			img->w = be32(c + 8);
			img->h = be32(c + 12);
			cr_assert_eq(c[16], 8, "bit depth %u", c[16]);
			cr_assert(c[17] == 2 || c[17] == 6, "colour type %u", c[17]);
			cr_assert_eq(c[20], 0, "interlaced");
			img->bpp = c[17] == 6 ? 4 : 3;
		} else if (!memcmp(c + 4, "IDAT", 4)) {
			cr_assert_eq(sb_append(&idat, c + 8, len), 0);
		}
		off += 12 + len;
	}
	cr_assert(img->w && img->h && img->w < 10000 && img->h < 10000);
	stride = (size_t)img->w * img->bpp;
	rawlen = (stride + 1) * img->h;
	raw = malloc(rawlen);
	img->px = malloc(stride * img->h);
	cr_assert(raw && img->px);
	got = rawlen;
	cr_assert_eq(uncompress(raw, &got, (const Bytef *)idat.buf, idat.len), Z_OK);
	cr_assert_eq(got, rawlen);
	for (uint32_t y = 0; y < img->h; y++) {
		const uint8_t *in = raw + y * (stride + 1) + 1;
		uint8_t *row = img->px + y * stride, *up = y ? row - stride : NULL;

		for (size_t x = 0; x < stride; x++) {
			int a = x >= img->bpp ? row[x - img->bpp] : 0, b = up ? up[x] : 0;
			int c = up && x >= img->bpp ? up[x - img->bpp] : 0, v;

			switch (in[-1]) {
			case 0: v = in[x]; break;
			case 1: v = in[x] + a; break;
			case 2: v = in[x] + b; break;
			case 3: v = in[x] + (a + b) / 2; break;
			case 4: v = in[x] + paeth(a, b, c); break;
			default: cr_assert_fail("filter %u", in[-1]); v = 0;
			}
			row[x] = (uint8_t)v;
		}
	}
	free(raw);
	sb_free(&sb);
	sb_free(&idat);
}

/* Pixels of exactly colour "#rrggbb". */
static size_t png_count(const struct png *img, const char *hex)
{
	unsigned r, g, b;
	size_t n = 0;

	cr_assert_eq(sscanf(hex, "#%2x%2x%2x", &r, &g, &b), 3);
	for (size_t i = 0; i < (size_t)img->w * img->h; i++) {
		const uint8_t *p = img->px + i * img->bpp;

		n += p[0] == r && p[1] == g && p[2] == b;
	}
	return n;
}

/* The page at html rendered by headless Chromium: its DOM into *dom, its
 * 1000x1400 screenshot at png. Skips (fails in CI) without chromium. */
static void chromium(const struct env *e, const char *html, char **dom, const char *png)
{
	char cmd[8192], *out = NULL;
	const char *bin = NULL;
	int rc;

	if (!access("/usr/bin/chromium", X_OK))
		bin = "/usr/bin/chromium";
	else if (!access("/usr/bin/chromium-browser", X_OK))
		bin = "/usr/bin/chromium-browser";
	if (!bin)
		test_missing("chromium not installed (scripts/install-deps installs Debian's "
			     "chromium): the HTML page cannot be rendered");
	/* Its own profile and HOME in the test's directory; --no-sandbox:
	 * root in CI containers; timeout: a browser that hangs must not. */
	snprintf(cmd, sizeof(cmd),
		 "HOME=%s timeout -k 5 90 %s --headless --no-sandbox --disable-gpu "
		 "--hide-scrollbars --user-data-dir=%s/chrome --window-size=1000,1400 "
		 "--dump-dom file://%s 2>/dev/null",
		 e->tmp, bin, e->tmp, html);
	rc = sh(cmd, CMD_TIMEOUT_MS, dom);
	cr_assert_eq(rc, 0, "chromium --dump-dom exit %d", rc);
	snprintf(cmd, sizeof(cmd),
		 "HOME=%s timeout -k 5 90 %s --headless --no-sandbox --disable-gpu "
		 "--hide-scrollbars --user-data-dir=%s/chrome --window-size=1000,1400 "
		 "--screenshot=%s file://%s 2>&1",
		 e->tmp, bin, e->tmp, png, html);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "chromium --screenshot exit %d:\n%s", rc, out);
	free(out);
}

Test(html, report_page_rendered_by_chromium, .timeout = 300)
{
	static const char *const verdict[] = { "verdict" };
	struct env e;
	char cmd[8192], b[1200], html[1200], png[1200], *out = NULL, *dom = NULL;
	struct png img;
	int rc;

	env(&e);
	snprintf(b, sizeof(b), "%s/b.json", e.tmp);
	snprintf(html, sizeof(html), "%s/page.html", e.tmp);
	snprintf(png, sizeof(png), "%s/page.png", e.tmp);
	snprintf(cmd, sizeof(cmd), "%s/" A_FIXTURE, e.src);
	/* Six passes, A's own SCHED_NOT_ATTACHED and one injected FAIL. */
	inject(cmd, b, "gauntlet/simple_steady/tiny-1llc/verbose", verdict, 1,
	       json_object_new_string("FAIL"));
	snprintf(cmd, sizeof(cmd), "%s report --html %s %s", e.orch, html, b);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	free(out);
	chromium(&e, html, &dom, png);
	/* The heatmap: 2 presets x 4 profiles, each cell its test's outcome. */
	cr_assert(strstr(dom, "<table class=\"heatmap\" data-group=\"simple_steady\">"), "%s", dom);
	cr_assert_eq(count(dom, "<td class=\"cell "), 8, "%s", dom);
	cr_assert_eq(count(dom, "<td class=\"cell pass\" data-verdict=\"PASS\""), 6, "%s", dom);
	cr_assert(strstr(dom, "<td class=\"cell fail\" data-verdict=\"SCHED_NOT_ATTACHED\" "
			      "data-test=\"gauntlet/simple_steady/tiny-2llc/fifo\""), "%s", dom);
	cr_assert(strstr(dom, "<td class=\"cell fail\" data-verdict=\"FAIL\" data-test=\"gauntlet/"
			      "simple_steady/tiny-1llc/verbose\" title=\"gauntlet/simple_steady/"
			      "tiny-1llc/verbose: FAIL"), "%s", dom);
	cr_assert(strstr(dom, "<th class=\"row\">tiny-2llc</th>"), "%s", dom);
	cr_assert(strstr(dom, "<th class=\"col\">fifo+verbose</th>"), "%s", dom);
	/* Work shares: a bar of two cgroups for each test that has metrics
	 * (not the one whose scheduler never attached). */
	cr_assert_eq(count(dom, "<figure class=\"shares\""), 7);
	cr_assert_eq(count(dom, "<g class=\"share\" data-cgroup=\"cg0\""), 7);
	cr_assert_eq(count(dom, "<g class=\"share\" data-cgroup=\"cg1\""), 7);
	/* Gap lanes: four vCPUs each (tiny-1llc 1n1l4c1t, tiny-2llc 1n2l2c1t),
	 * and each worker's longest gap on one. */
	cr_assert_eq(count(dom, "<figure class=\"lanes\""), 7);
	cr_assert_eq(count(dom, "<g class=\"lane\" data-cpu=\"3\">"), 7, "%s", dom);
	cr_assert_eq(count(dom, "<g class=\"lane\" data-cpu=\"4\">"), 0);
	cr_assert_geq(count(dom, "<rect class=\"gap\""), 7);
	/* CPU lanes from the monitor: four CPUs a test, a cell per bucket,
	 * the scenario's step marked (not in tiny-2llc/fifo: its scheduler
	 * never attached, its scenario never started). */
	cr_assert_eq(count(dom, "<figure class=\"cpu-lanes\""), 8, "%s", dom);
	cr_assert_eq(count(dom, "<g class=\"cpu-lane\" data-cpu=\"3\">"), 8);
	cr_assert_eq(count(dom, "<g class=\"cpu-lane\" data-cpu=\"4\">"), 0);
	cr_assert_geq(count(dom, "<rect class=\"bucket\""), 8 * 4 * 8);
	cr_assert_eq(count(dom, "<line class=\"step\""), 7, "%s", dom);
	/* The screenshot: the window's size, both colours on it. */
	png_decode(png, &img);
	cr_assert_eq(img.w, 1000);
	cr_assert_eq(img.h, 1400);
	/* A cell is 44x28 pixels, the legend's swatches smaller. */
	cr_assert_gt(png_count(&img, HTML_COLOR_PASS), 6 * 40 * 24, "pass colour missing");
	cr_assert_gt(png_count(&img, HTML_COLOR_FAIL), 2 * 40 * 24, "fail colour missing");
	cr_assert_lt(png_count(&img, HTML_COLOR_FAIL), png_count(&img, HTML_COLOR_PASS));
	free(img.px);
	free(dom);
	vmtest_rm_rf(e.tmp);
}

/* The monitor's lanes of a real run say what the guest did: after the
 * scenario's step began (its workers started: 2 cgroups x 2 workers on 2
 * CPUs), some CPU had 2 or more tasks runnable; the lanes cover the step. */
static void lanes_show_the_workload(json_object *rec)
{
	json_object *vm, *mon, *lanes, *phases, *v;
	uint64_t bucket, step_ns = 0;
	size_t busy = 0, n = 0;
	bool stepped = false;

	cr_assert(json_object_object_get_ex(rec, "vm", &vm) &&
		  json_object_object_get_ex(vm, "monitor", &mon), "no monitor report");
	cr_assert(json_object_object_get_ex(mon, "lane_bucket_ns", &v));
	bucket = (uint64_t)json_object_get_int64(v);
	cr_assert_geq(bucket, 250000000ull);
	cr_assert(json_object_object_get_ex(mon, "phases", &phases));
	for (size_t i = 0; i < json_object_array_length(phases); i++) {
		json_object *p = json_object_array_get_idx(phases, i), *s;

		if (json_object_object_get_ex(p, "step_index", &s) &&
		    json_object_object_get_ex(p, "start_ns", &s)) {
			step_ns = (uint64_t)json_object_get_int64(s);
			stepped = true;
			break;
		}
	}
	cr_assert(stepped, "the monitor saw no step");
	cr_assert(json_object_object_get_ex(mon, "cpu_lanes", &lanes));
	cr_assert_eq(json_object_array_length(lanes), 2, "1n1l2c1t: two CPUs");
	for (size_t c = 0; c < 2; c++) {
		json_object *nr;

		cr_assert(json_object_object_get_ex(json_object_array_get_idx(lanes, c),
						    "max_nr_running", &nr));
		n = json_object_array_length(nr);
		cr_assert_gt((uint64_t)n * bucket, step_ns, "the lanes end before the step");
		for (size_t b = step_ns / bucket; b < n; b++)
			busy += json_object_get_int(json_object_array_get_idx(nr, b)) >= 2;
	}
	cr_assert_gt(busy, 0, "no bucket after the step with 2 tasks runnable");
}

/* A real run: `run --json --html` of one VM test; its page shows its
 * outcome, compare of the run with itself exits 0, and with the recorded
 * gauntlet matches nothing (other tests) and says so. */
Test(html, real_run_page_and_compare, .timeout = 600)
{
	struct env e;
	char kernel[1024], cmd[8192], html[1200], png[1200], json[1200], *out = NULL, *dom = NULL;
	char verdict[64] = "", cell[256];
	struct png img;
	json_object *root, *v;
	int rc;

	env(&e);
	if (vmtest_kernel("vmlinux", kernel, sizeof(kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	snprintf(html, sizeof(html), "%s/run.html", e.tmp);
	snprintf(png, sizeof(png), "%s/run.png", e.tmp);
	snprintf(json, sizeof(json), "%s/run.json", e.tmp);
	snprintf(cmd, sizeof(cmd),
		 "%s --workers 1 run %s/examples/eevdf.yaml --filter eevdf_steady_1llc --kernel %s "
		 "--json %s --html %s 2>&1", e.orch, e.src, kernel, json, html);
	rc = sh(cmd, VM_TIMEOUT_MS, &out);
	cr_assert(rc == 0 || rc == 1, "exit %d:\n%s", rc, out);
	free(out);
	root = json_object_from_file(json);
	cr_assert(root && json_object_array_length(root) == 1, "%s", json);
	cr_assert(json_object_object_get_ex(json_object_array_get_idx(root, 0), "verdict", &v));
	snprintf(verdict, sizeof(verdict), "%s", json_object_get_string(v));
	lanes_show_the_workload(json_object_array_get_idx(root, 0));
	json_object_put(root);
	chromium(&e, html, &dom, png);
	snprintf(cell, sizeof(cell), "data-verdict=\"%s\" data-test=\"eevdf_steady_1llc\"", verdict);
	cr_assert(strstr(dom, cell), "no cell %s in:\n%s", cell, dom);
	cr_assert_eq(count(dom, "<figure class=\"lanes\""), 1, "%s", dom);
	/* The monitor's lanes: the smallest topology's 2 CPUs (1n1l2c1t). */
	cr_assert_eq(count(dom, "<figure class=\"cpu-lanes\""), 1, "%s", dom);
	cr_assert_eq(count(dom, "<g class=\"cpu-lane\" data-cpu=\"1\">"), 1, "%s", dom);
	png_decode(png, &img);
	cr_assert_eq(img.w, 1000);
	cr_assert_gt(png_count(&img, !strcmp(verdict, "PASS") ? HTML_COLOR_PASS : HTML_COLOR_FAIL),
		     40 * 24);
	free(img.px);
	free(dom);
	snprintf(cmd, sizeof(cmd), "%s compare %s %s", e.orch, json, json);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "1 matched, 0 only in A, 0 only in B, 0 outcome changes, "
			      "0 regressions\n"), "%s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "cd %s && %s compare " A_FIXTURE " %s", e.src, e.orch, json);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	cr_assert(strstr(out, "only in B   eevdf_steady_1llc\n"), "%s", out);
	cr_assert(strstr(out, "0 matched, 8 only in A, 1 only in B"), "%s", out);
	free(out);
	vmtest_rm_rf(e.tmp);
}

/* A shard's --json ends with its shard element; its --html page is a page,
 * without that element, and `report --html` reads the shard file (the
 * element shown as metadata). Shard 2 of 2 of one test runs no VM. */
Test(html, shard_run_page_and_report)
{
	struct env e;
	char kernel[1024], cmd[8192], html[1200], json[1200], page2[1200], *out = NULL;
	char *doc = NULL;
	int rc;

	env(&e);
	if (vmtest_kernel("vmlinux", kernel, sizeof(kernel)))
		test_missing("no kernel to boot (set KTSTR_TEST_KERNEL)");
	snprintf(html, sizeof(html), "%s/s.html", e.tmp);
	snprintf(json, sizeof(json), "%s/s.json", e.tmp);
	snprintf(page2, sizeof(page2), "%s/r.html", e.tmp);
	snprintf(cmd, sizeof(cmd),
		 "%s run %s/examples/eevdf.yaml --partition 2/2 --filter eevdf_smt --allow-empty "
		 "--kernel %s --json %s --html %s 2>&1", e.orch, e.src, kernel, json, html);
	rc = sh(cmd, CMD_TIMEOUT_MS, &out);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
	free(out);
	snprintf(cmd, sizeof(cmd), "cat %s", html);
	cr_assert_eq(sh(cmd, CMD_TIMEOUT_MS, &doc), 0);
	cr_assert(!strncmp(doc, "<!DOCTYPE html>", 15), "%s", doc);
	cr_assert_null(strstr(doc, "ktstr_shard"), "%s", doc);
	cr_assert(strstr(doc, "0 passed, 0 failed, 0 skipped, 0 other (0 tests)"), "%s", doc);
	cr_assert(strstr(doc, "</body></html>\n"), "%s", doc);
	free(doc);
	snprintf(cmd, sizeof(cmd), "%s report --html %s %s && cat %s", e.orch, page2, json, page2);
	rc = sh(cmd, CMD_TIMEOUT_MS, &doc);
	cr_assert_eq(rc, 0, "exit %d:\n%s", rc, doc);
	cr_assert(strstr(doc, "<tr><th>ktstr_shard.index</th><td>2</td></tr>"), "%s", doc);
	free(doc);
	vmtest_rm_rf(e.tmp);
}
