/* The library closure matches what the host's dynamic linker loads
 * (`ldd`) for real binaries, and follows ld.so's search order. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "closure.h"
#include "plan.h"
#include "th.h"

/* Real paths of every library ldd lists for exe (with env prefix). */
static size_t ldd_set(const char *env, const char *exe, char **v, size_t max)
{
	char *out, *lines[256];
	size_t n, i, k = 0;

	cr_assert_eq(th_sh(&out, "%s ldd %s | grep -oE '/[^ ]+' | xargs -r realpath", env, exe), 0,
		     "ldd %s failed", exe);
	n = th_lines(out, lines, 256);
	for (i = 0; i < n && k < max; i++)
		v[k++] = strdup(lines[i]);
	free(out);
	return k;
}

static void plan_for(struct plan *p, const char *exe, const char *llp)
{
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	struct ktstr_error e = { 0 };
	char msg[1024];
	int ret;

	req.init_path = (char *)exe;
	req.ld_library_path = (char *)llp;
	plan_init(p);
	ret = plan_from_request(p, &req, &e);
	ktstr_error_format(&e, msg, sizeof(msg));
	cr_assert_eq(ret, 0, "plan for %s: %s", exe, msg);
}

static void assert_matches_ldd(const char *env, const char *exe, const char *llp)
{
	char *want[256], rp[PATH_MAX];
	char *got[256];
	size_t nwant, i;
	struct plan p;

	nwant = ldd_set(env, exe, want, 256);
	plan_for(&p, exe, llp);
	cr_assert_gt(nwant, 0);
	for (i = 0; i < p.nlibs; i++) {
		cr_assert(realpath(p.libs[i], rp), "%s does not exist", p.libs[i]);
		got[i] = strdup(rp);
	}
	for (i = 0; i < nwant; i++)
		cr_assert(th_has(got, p.nlibs, want[i]), "%s: ldd loads %s, we did not pack it",
			  exe, want[i]);
	for (i = 0; i < p.nlibs; i++)
		cr_assert(th_has(want, nwant, got[i]), "%s: we packed %s, ldd does not load it",
			  exe, got[i]);
	/* Every listed library is in the image at its path. */
	for (i = 0; i < p.nlibs; i++)
		cr_assert_not_null(plan_find(&p, p.libs[i]), "%s not in the plan", p.libs[i]);
	for (i = 0; i < nwant; i++)
		free(want[i]);
	for (i = 0; i < p.nlibs; i++)
		free(got[i]);
	plan_free(&p);
}

Test(closure, dynamic_binaries_match_ldd)
{
	assert_matches_ldd("", "/bin/ls", NULL);
	if (!access("/usr/bin/qemu-system-x86_64", R_OK))
		assert_matches_ldd("", "/usr/bin/qemu-system-x86_64", NULL);
}

Test(closure, interp_packed_at_its_path_and_duplicates_are_symlinks)
{
	struct plan p;
	struct plan_entry *pe;

	plan_for(&p, "/bin/ls", NULL);
	pe = plan_find(&p, "/lib64/ld-linux-x86-64.so.2");
	cr_assert_not_null(pe, "PT_INTERP must be packed at its own path");
	cr_assert_eq(pe->kind, PLAN_FILE);
	/* libc's DT_NEEDED on ld-linux is satisfied by the interpreter, like
	 * ld.so does, so no second copy appears. */
	pe = plan_find(&p, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
	cr_assert(!pe || pe->kind == PLAN_SYMLINK);
	pe = plan_find(&p, "/.ktstr_init_ok");
	cr_assert_not_null(pe);
	cr_assert_eq(pe, &p.v[p.n - 1], "the sentinel must be the last entry");
	plan_free(&p);
}

Test(closure, static_binary_has_no_closure)
{
	struct plan p;

	plan_for(&p, "/bin/busybox", NULL);
	cr_assert_eq(p.nlibs, 0, "static busybox got %zu libraries", p.nlibs);
	cr_assert_eq(th_sh(NULL, "ldd /bin/busybox 2>&1 | grep -q 'not a dynamic'"), 0);
	plan_free(&p);
}

/* Two copies of libktstrt.so (lib1, lib2) and executables linked with
 * RUNPATH or RPATH pointing at lib1. */
static char *build_fixture(void)
{
	char *d = th_tmpdir();
	int ret;

	ret = th_sh(NULL,
		    "cd %s && mkdir -p lib1 lib2 bin && "
		    "printf 'int ktstrt(void){return 1;}' > l1.c && "
		    "printf 'int ktstrt(void){return 2;}' > l2.c && "
		    "printf 'int ktstrt(void); int main(void){return ktstrt();}' > m.c && "
		    "gcc -shared -fPIC -Wl,-soname,libktstrt.so -o lib1/libktstrt.so l1.c && "
		    "gcc -shared -fPIC -Wl,-soname,libktstrt.so -o lib2/libktstrt.so l2.c && "
		    "gcc -o bin/runpath m.c -Llib1 -lktstrt "
		    "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib1' && "
		    "gcc -o bin/rpath m.c -Llib1 -lktstrt "
		    "-Wl,--disable-new-dtags,-rpath,%s/lib1 && "
		    "readelf -d bin/runpath | grep -q RUNPATH && readelf -d bin/rpath | grep -q RPATH",
		    d, d);
	cr_assert_eq(ret, 0, "building the RUNPATH fixture failed");
	return d;
}

Test(closure, runpath_with_origin_matches_ldd)
{
	char *d = build_fixture(), exe[PATH_MAX], lib[PATH_MAX], env[PATH_MAX];
	struct plan p;

	snprintf(exe, sizeof(exe), "%s/bin/runpath", d);
	assert_matches_ldd("", exe, NULL);
	plan_for(&p, exe, NULL);
	snprintf(lib, sizeof(lib), "%s/lib1/libktstrt.so", d);
	cr_assert(th_has(p.libs, p.nlibs, lib), "$ORIGIN/../lib1 should resolve to %s", lib);
	plan_free(&p);
	/* LD_LIBRARY_PATH comes before DT_RUNPATH. */
	snprintf(env, sizeof(env), "LD_LIBRARY_PATH=%s/lib2", d);
	snprintf(lib, sizeof(lib), "%s/lib2", d);
	assert_matches_ldd(env, exe, lib);
	th_rmtree(d);
	free(d);
}

Test(closure, rpath_beats_ld_library_path)
{
	char *d = build_fixture(), exe[PATH_MAX], env[PATH_MAX], llp[PATH_MAX], lib[PATH_MAX];
	struct plan p;

	snprintf(exe, sizeof(exe), "%s/bin/rpath", d);
	snprintf(env, sizeof(env), "LD_LIBRARY_PATH=%s/lib2", d);
	snprintf(llp, sizeof(llp), "%s/lib2", d);
	assert_matches_ldd(env, exe, llp);
	plan_for(&p, exe, llp);
	snprintf(lib, sizeof(lib), "%s/lib1/libktstrt.so", d);
	cr_assert(th_has(p.libs, p.nlibs, lib), "DT_RPATH must win over LD_LIBRARY_PATH");
	plan_free(&p);
	th_rmtree(d);
	free(d);
}

Test(closure, missing_library_names_file_and_library)
{
	char *d = build_fixture(), exe[PATH_MAX];
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	struct ktstr_error e = { 0 };
	struct plan p;

	th_sh(NULL, "rm -f %s/lib1/libktstrt.so", d);
	snprintf(exe, sizeof(exe), "%s/bin/runpath", d);
	req.init_path = exe;
	plan_init(&p);
	cr_assert_lt(plan_from_request(&p, &req, &e), 0);
	cr_assert_str_eq(e.where, exe);
	cr_assert(strstr(e.why, "libktstrt.so"), "why should name the library: %s", e.why);
	plan_free(&p);
	th_rmtree(d);
	free(d);
}

Test(closure, clean_path)
{
	char out[PATH_MAX];

	cr_assert_eq(closure_clean_path("/a/b/../c//./d", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/a/c/d");
	cr_assert_eq(closure_clean_path("/../../x", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/x");
	cr_assert_neq(closure_clean_path("rel/x", out, sizeof(out)), 0);
	cr_assert_neq(closure_clean_path("/..", out, sizeof(out)), 0);
}

/* An arm64 guest's dynamically linked program (BuildRequest.arch ARM64):
 * its interpreter and libraries come from Debian's multiarch arm64 libc
 * (/lib/aarch64-linux-gnu, /usr/lib/aarch64-linux-gnu), where the guest's
 * ld-linux-aarch64.so.1 looks without a cache; not one x86_64 file is
 * packed, and $LIB expands to arm64's directory. Needs the cross compiler
 * and libc6:arm64 (scripts/install-deps installs both). */
Test(closure, arm64_program_gets_arm64_libraries)
{
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	struct ktstr_error e = { 0 };
	char exe[PATH_MAX], msg[1024];
	struct plan p;
	struct plan_entry *pe;
	char *d;
	int ret;

	if (th_sh(NULL, "command -v aarch64-linux-gnu-gcc >/dev/null") ||
	    access("/lib/ld-linux-aarch64.so.1", R_OK))
		cr_skip_test("needs aarch64-linux-gnu-gcc and libc6:arm64 (scripts/install-deps)");
	d = th_tmpdir();
	cr_assert_eq(th_sh(NULL, "cd %s && printf '#include <stdio.h>\\nint main(void)"
			   "{puts(\"hi\");return 0;}' > h.c && aarch64-linux-gnu-gcc -o hello h.c "
			   "-Wl,--enable-new-dtags,-rpath,'/nonexistent/$LIB' && "
			   "readelf -d hello | grep -q 'NEEDED.*libc.so.6'", d), 0,
		     "building the arm64 program failed");
	snprintf(exe, sizeof(exe), "%s/hello", d);
	req.init_path = exe;
	req.has_arch = 1;
	req.arch = KTSTR__ARCH__ARCH_ARM64;
	plan_init(&p);
	ret = plan_from_request(&p, &req, &e);
	ktstr_error_format(&e, msg, sizeof(msg));
	cr_assert_eq(ret, 0, "plan for an arm64 program: %s", msg);
	pe = plan_find(&p, "/lib/ld-linux-aarch64.so.1");
	cr_assert(pe && pe->kind == PLAN_FILE, "PT_INTERP must be packed at its own path");
	cr_assert_geq(p.nlibs, 1);
	bool libc = false;
	for (size_t i = 0; i < p.nlibs; i++) {
		const char *l = p.libs[i];
		size_t n = 0;
		uint8_t *b = th_slurp(l, &n);

		cr_assert(!strstr(l, "x86_64"), "an x86_64 library in an arm64 image: %s", l);
		cr_assert(b && n > 20 && b[18] == 183 /* EM_AARCH64 */, "%s is not AArch64", l);
		free(b);
		libc |= !strcmp(strrchr(l, '/'), "/libc.so.6") &&
			(!strncmp(l, "/lib/aarch64-linux-gnu/", 23) ||
			 !strncmp(l, "/usr/lib/aarch64-linux-gnu/", 27));
	}
	cr_assert(libc, "libc.so.6 not taken from the arm64 multiarch directories");
	plan_free(&p);
	th_rmtree(d);
	free(d);
}
