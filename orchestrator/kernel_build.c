/* `ktstr-orch kernel build` (kernel_build.h, docs/kernels.md). */
#include "kernel_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/sha256.h>
#include <ktstr/util.h>

#include "kconfig_need.h"
#include "kernel_cache.h"
#include "kernel_store.h"
#include "pathjoin.h"
#include "stop.h"
#include "vmlinux_extract.h"

#define WHO "kernel build"
#define TAIL_LINES 40
#define JOBS_MAX 1024u

bool kbuild_make_arg_ok(const char *s)
{
	static const char *const ours[] = { "O", "ARCH", "KBUILD_OUTPUT", "MAKEFLAGS" };
	const char *eq = strchr(s, '=');
	size_t nl;

	if (!eq || eq == s || strlen(s) > 1024)
		return false;
	nl = (size_t)(eq - s);
	for (size_t i = 0; i < nl; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	if (s[0] >= '0' && s[0] <= '9')
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
		if (strlen(ours[i]) == nl && !strncmp(s, ours[i], nl))
			return false;
	for (const char *p = eq + 1; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int kbuild_want(const char *const *frag_names, const char *const *frag_texts, size_t nfrags,
		struct kcfg *want, char *err, size_t errlen)
{
	int ret = kconfig_need_add(want);

	for (size_t i = 0; !ret && i < nfrags; i++)
		ret = kcfg_parse(want, frag_texts[i], strlen(frag_texts[i]), frag_names[i], err,
				 errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

static void hex8(const void *data, size_t len, char out[9])
{
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	sha256_buf(data, len, d);
	sha256_hex(d, hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

int kbuild_key(const char *release, const char *ident, const char *config, size_t cfglen,
	       const char *const *make_args, size_t nmake_args, char *key, size_t keylen,
	       char cfg_hex[65])
{
	char src8[9], rel[128];
	uint8_t d[SHA256_LEN];
	struct sha256 h;
	size_t n = 0;

	/* A release is what the tree's Makefile and LOCALVERSION say: keep
	 * what a cache key may hold, so the key is always a plain name. */
	for (const char *p = release; *p && n < sizeof(rel) - 1; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '+' || c == '_' || c == '~')
			rel[n++] = c;
		else
			rel[n++] = '_';
	}
	rel[n] = '\0';
	if (!n || rel[0] == '.')
		snprintf(rel, sizeof(rel), "linux");
	hex8(ident, strlen(ident), src8);
	sha256_init(&h);
	sha256_update(&h, config, cfglen);
	for (size_t i = 0; i < nmake_args; i++)
		sha256_update(&h, make_args[i], strlen(make_args[i]) + 1);
	sha256_final(&h, d);
	sha256_hex(d, cfg_hex);
	if (snprintf(key, keylen, "%s+src.%s.cfg.%.8s", rel, src8, cfg_hex) >= (int)keylen)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- the build's output: a log file, a progress line, the last lines -------------- */

struct progress {
	FILE *log;		/* <build>/ktstr-build.log, owned by the caller */
	unsigned long steps;	/* kbuild's "  CC  foo.o" lines */
	uint64_t t0, last;
	bool tty;
	char tail[TAIL_LINES][256];
	unsigned ntail;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct progress *p = ctx;
	uint64_t now = ktstr_now_ms();

	if (p->log)
		fprintf(p->log, "%.*s\n", (int)len, line);
	snprintf(p->tail[p->ntail++ % TAIL_LINES], sizeof(p->tail[0]), "%.*s", (int)len, line);
	/* kbuild's quiet lines: two spaces, an upper-case tag, spaces, a path. */
	if (len > 4 && line[0] == ' ' && line[1] == ' ' && line[2] >= 'A' && line[2] <= 'Z')
		p->steps++;
	if (now - p->last >= (p->tty ? 1000u : 30000u)) {
		unsigned s = (unsigned)((now - p->t0) / 1000);

		p->last = now;
		fprintf(stderr, "%sktstr-orch: kernel build: %lu steps, %um%02us%s", p->tty ? "\r" : "",
			p->steps, s / 60, s % 60, p->tty ? "  " : "\n");
		fflush(stderr);
	}
}

static void print_tail(const struct progress *p)
{
	unsigned n = p->ntail < TAIL_LINES ? p->ntail : TAIL_LINES;

	for (unsigned i = p->ntail - n; i < p->ntail; i++)
		fprintf(stderr, "  | %s\n", p->tail[i % TAIL_LINES]);
}

/* ---- the steps ----------------------------------------------------------------- */

struct kb {
	const struct kbuild_opts *o;
	struct kbuild_src src;
	char work[PATH_MAX];	/* <cache>/kernels/.kbuild-<hash>: locked */
	char build[PATH_MAX];	/* work/build: make's O= */
	uint64_t deadline;
	unsigned jobs;
};

static int left_ms(const struct kb *k)
{
	int64_t l = (int64_t)(k->deadline - ktstr_now_ms());

	return l <= 0 ? 1 : l > INT32_MAX ? INT32_MAX : (int)l;
}

/* make -C SRC O=BUILD [-jN] ARGS... TARGET. */
static int run_make(struct kb *k, const char *target, bool jobs, struct progress *p,
		    struct strbuf *out)
{
	char *argv[8 + KBUILD_MAKE_ARGS_MAX];
	char o_arg[PATH_MAX + 8], j_arg[32];
	size_t n = 0;

	snprintf(o_arg, sizeof(o_arg), "O=%s", k->build);
	snprintf(j_arg, sizeof(j_arg), "-j%u", k->jobs);
	argv[n++] = "make";
	if (!jobs)
		argv[n++] = "-s"; /* with jobs, kbuild's step lines are the progress */
	argv[n++] = "-C";
	argv[n++] = k->src.dir;
	argv[n++] = o_arg;
	if (jobs)
		argv[n++] = j_arg;
	for (size_t i = 0; i < k->o->nmake_args; i++)
		argv[n++] = (char *)k->o->make_args[i];
	argv[n++] = (char *)target;
	argv[n] = NULL;
	return kbuild_run(argv, left_ms(k), p ? on_line : NULL, p, out);
}

static int say_fail(const char *what, int r, const struct strbuf *out)
{
	if (r == -ETIMEDOUT)
		fprintf(stderr, "ktstr-orch %s: %s ran past --timeout\n", WHO, what);
	else if (r == -EINTR)
		fprintf(stderr, "ktstr-orch %s: %s stopped by a signal\n", WHO, what);
	else if (r == -ENOENT)
		fprintf(stderr, "ktstr-orch %s: %s: make is not installed (Debian: apt-get install "
				"build-essential flex bison bc libelf-dev libssl-dev dwarves)\n",
			WHO, what);
	else
		fprintf(stderr, "ktstr-orch %s: %s failed (%s %d):\n%s", WHO, what,
			r > 0 ? "exit" : "error", r > 0 ? r : -r, out && out->buf ? out->buf : "");
	return r > 0 ? -EIO : r;
}

static int read_cfg(const char *build, const char *origin, char **text, size_t *len,
		    struct kcfg *c)
{
	char path[PATH_MAX], err[512];
	int r;

	if (path_join(path, sizeof(path), build, ".config", NULL))
		return -ENAMETOOLONG;
	if ((r = read_file(path, text, len, KCFG_TEXT_MAX))) {
		fprintf(stderr, "ktstr-orch %s: cannot read %s: %s\n", WHO, path, strerror(-r));
		return r;
	}
	if ((r = kcfg_parse(c, *text, *len, origin, err, sizeof(err))))
		fprintf(stderr, "ktstr-orch %s: %s\n", WHO, err);
	return r;
}

int kbuild_pahole_check(const struct kcfg *got, const char *srcdir, char *err, size_t errlen)
{
	const struct kcfg_opt *scx = kcfg_get(got, "SCHED_CLASS_EXT");
	const struct kcfg_opt *ph = kcfg_get(got, "PAHOLE_VERSION");
	char path[PATH_MAX], *btf_h = NULL;
	size_t len;
	long v;
	int r = 0;

	if (!scx || strcmp(scx->value, "y"))
		return 0;
	v = ph ? strtol(ph->value, NULL, 10) : 0;
	if (v >= KBUILD_PAHOLE_KFUNC_TAGS)
		return 0;
	if (path_join(path, sizeof(path), srcdir, "include/linux/btf.h", NULL) ||
	    read_file(path, &btf_h, &len, 1u << 20))
		return 0; /* not a tree we can tell about: the BTF check after the build */
	if (strstr(btf_h, "KF_IMPLICIT_ARGS")) {
		char have[32];

		if (v >= 100)
			snprintf(have, sizeof(have), "pahole 1.%ld", v - 100);
		else
			snprintf(have, sizeof(have), "no pahole");
		snprintf(err, errlen,
			 "%s is older than 1.%d: this kernel's sched_ext kfuncs take implicit "
			 "arguments (KF_IMPLICIT_ARGS), which resolve_btfids hides from the BTF only "
			 "with the bpf_kfunc declaration tags of pahole >= 1.%d; built with this "
			 "one, no scheduler would load. Install dwarves >= 1.%d, or pass --make-arg "
			 "PAHOLE=/path/to/pahole (on Debian 12: scripts/pahole-trixie prints one)",
			 have, KBUILD_PAHOLE_KFUNC_TAGS - 100, KBUILD_PAHOLE_KFUNC_TAGS - 100,
			 KBUILD_PAHOLE_KFUNC_TAGS - 100);
		r = -EINVAL;
	}
	free(btf_h);
	return r;
}

/* The base config, then want over it, then olddefconfig; everything want
 * asked must have survived. *final is the config text built with. */
static int configure(struct kb *k, const struct kcfg *want, char **final, size_t *flen)
{
	struct kcfg base = { 0 }, merged = { 0 }, got = { 0 };
	struct strbuf out = { 0 }, txt = { 0 }, unmet = { 0 };
	char path[PATH_MAX], *btxt = NULL;
	size_t blen;
	int r, n;

	r = run_make(k, k->o->base, false, NULL, &out);
	if (r) {
		r = say_fail(k->o->base, r, &out);
		goto out;
	}
	if ((r = read_cfg(k->build, k->o->base, &btxt, &blen, &base)) ||
	    (r = kcfg_overlay(&base, want, &merged)) || (r = kcfg_render(&merged, &txt)))
		goto out;
	/* .config for olddefconfig, and a copy that stays for the user: what
	 * was asked, before Kconfig resolved it. */
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "ktstr-asked.config" : ".config";

		if (path_join(path, sizeof(path), k->build, name, NULL) ||
		    (r = write_file_create(path, txt.buf, txt.len, 0644))) {
			fprintf(stderr, "ktstr-orch %s: cannot write %s/%s\n", WHO, k->build, name);
			r = r ? r : -ENAMETOOLONG;
			goto out;
		}
	}
	out.len = 0;
	r = run_make(k, "olddefconfig", false, NULL, &out);
	if (r) {
		r = say_fail("olddefconfig", r, &out);
		goto out;
	}
	if ((r = read_cfg(k->build, ".config", final, flen, &got)))
		goto out;
	n = kcfg_unmet(want, &got, &unmet);
	if (n < 0) {
		r = n;
		goto out;
	}
	if (n) {
		fprintf(stderr, "ktstr-orch %s: %d option%s asked for did not survive Kconfig "
				"(a dependency is off, or the option does not exist in this "
				"kernel):\n%sAdd what they depend on to a --config fragment (`make "
				"O=%s menuconfig` shows the dependencies), or leave them out.\n",
			WHO, n, n == 1 ? "" : "s", unmet.buf, k->build);
		r = -EINVAL;
		goto out;
	}
	{
		char perr[768];

		if ((r = kbuild_pahole_check(&got, k->src.dir, perr, sizeof(perr)))) {
			fprintf(stderr, "ktstr-orch %s: %s\n", WHO, perr);
			goto out;
		}
	}
	kinfo("config: %s + %zu ktstr options + %zu fragment%s -> %zu options", k->o->base,
	      kconfig_nneeds, k->o->nfrags, k->o->nfrags == 1 ? "" : "s", got.n);
out:
	kcfg_free(&base);
	kcfg_free(&merged);
	kcfg_free(&got);
	sb_free(&out);
	sb_free(&txt);
	sb_free(&unmet);
	free(btxt);
	return r;
}

static int build(struct kb *k)
{
	struct progress p = { .t0 = ktstr_now_ms(), .tty = isatty(STDERR_FILENO) };
	char logpath[PATH_MAX];
	int r;

	if (path_join(logpath, sizeof(logpath), k->build, "ktstr-build.log", NULL))
		return -ENAMETOOLONG;
	p.log = fopen(logpath, "we");
	if (!p.log) {
		r = -errno;
		fprintf(stderr, "ktstr-orch %s: cannot write %s: %s\n", WHO, logpath, strerror(-r));
		return r;
	}
	p.last = p.t0;
	kinfo("building with make -j%u (log: %s)", k->jobs, logpath);
	r = run_make(k, "bzImage", true, &p, NULL);
	fclose(p.log);
	if (p.tty)
		fputc('\n', stderr);
	if (r) {
		fprintf(stderr, "ktstr-orch %s: make bzImage %s after %lu steps; its last lines:\n",
			WHO,
			r == -ETIMEDOUT ? "ran past --timeout"
			: r == -EINTR	? "was stopped by a signal"
					: "failed",
			p.steps);
		print_tail(&p);
		fprintf(stderr, "ktstr-orch %s: the whole log is %s\n", WHO, logpath);
		return r > 0 ? -EIO : r;
	}
	kinfo("built in %llus (%lu steps)", (unsigned long long)((ktstr_now_ms() - p.t0) / 1000),
	      p.steps);
	return 0;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* words joined by spaces, malloc'd (NULL: no memory). */
static char *join_words(const char *const *w, size_t n)
{
	struct strbuf sb = { 0 };

	if (sb_append(&sb, "", 1))
		return NULL;
	sb.len = 0;
	for (size_t i = 0; i < n; i++)
		if (sb_printf(&sb, "%s%s", i ? " " : "", w[i])) {
			sb_free(&sb);
			return NULL;
		}
	return sb.buf;
}

/* Validate what make produced and store it under key. */
static int store(struct kb *k, const char *key, const char *release, const char *config,
		 size_t cfglen, const char *cfg_hex, uint64_t t_build)
{
	char bz[PATH_MAX], vml[PATH_MAX], stripped[PATH_MAX], err[512], missing[512];
	char *img = NULL, *svm = NULL;
	uint8_t *inner = NULL, *btf = NULL;
	size_t imglen, svmlen, innerlen, btflen = 0;
	struct strbuf meta = { 0 }, out = { 0 };
	char *frags = NULL, *margs = NULL;
	int r, nmiss;

	if (path_join(bz, sizeof(bz), k->build, "arch/x86/boot/bzImage", NULL) ||
	    path_join(vml, sizeof(vml), k->build, "vmlinux", NULL) ||
	    path_join(stripped, sizeof(stripped), k->build, "vmlinux.ktstr", NULL))
		return -ENAMETOOLONG;
	if ((r = read_file(bz, &img, &imglen, KTSTR_KERNEL_IMAGE_MAX))) {
		fprintf(stderr, "ktstr-orch %s: make succeeded but %s is unreadable: %s\n", WHO, bz,
			strerror(-r));
		goto out;
	}
	r = bzimage_extract_vmlinux((const uint8_t *)img, imglen, &inner, &innerlen, err,
				    sizeof(err));
	if (r) {
		fprintf(stderr, "ktstr-orch %s: %s is not a bootable bzImage: %s\n", WHO, bz, err);
		goto out;
	}
	/* The DWARF only fed pahole: the cached vmlinux keeps .symtab (the
	 * monitor's symbols) and .BTF, at a tenth of the size. */
	{
		char *a[] = { "objcopy", "--strip-debug", vml, stripped, NULL };

		r = kbuild_run(a, 10 * 60 * 1000, NULL, NULL, &out);
		if (r) {
			r = say_fail("objcopy --strip-debug vmlinux", r, &out);
			goto out;
		}
	}
	if ((r = read_file(stripped, &svm, &svmlen, KTSTR_KERNEL_IMAGE_MAX))) {
		fprintf(stderr, "ktstr-orch %s: %s: %s (larger than %u MiB?)\n", WHO, stripped,
			strerror(-r), KTSTR_KERNEL_IMAGE_MAX >> 20);
		goto out;
	}
	unlink(stripped);
	if (vmlinux_extract_btf((const uint8_t *)svm, svmlen, &btf, &btflen, err, sizeof(err)))
		kwarn("%s: %s (schedulers that need BTF will not load)", key, err);
	nmiss = kconfig_validate(config, missing, sizeof(missing));
	if (nmiss)
		kwarn("kernel %s lacks %s (a --config fragment turned them off): tests that need "
		      "them will fail or be skipped", key, missing);
	if (!(frags = join_words(k->o->frags, k->o->nfrags)) ||
	    !(margs = join_words(k->o->make_args, k->o->nmake_args))) {
		r = -ENOMEM;
		goto out;
	}
	r = sb_printf(&meta,
		      "key=%s\nversion=%s\nsource=build\nsrc=%s\nident=%s\ngit_url=%s\n"
		      "git_ref=%s\nbase=%s\nfragments=%s\nmake_args=%s\nconfig_sha256=%s\n"
		      "sched_ext=%s\nmissing_config=%s\nbuild_seconds=%llu\nbuilt=%lld\n",
		      key, release, k->src.dir, k->src.ident, k->src.git_url, k->src.git_ref,
		      k->o->base, frags, margs, cfg_hex,
		      kconfig_has(config, "SCHED_CLASS_EXT") ? "yes" : "no", missing,
		      (unsigned long long)(t_build / 1000), (long long)time(NULL));
	if (r)
		goto out;
	{
		struct kstore_in si = { .who = WHO, .key = key, .bzimage = img, .bzlen = imglen,
					.vmlinux = svm, .vmllen = svmlen, .config = config,
					.cfglen = cfglen, .btf = btf, .btflen = btflen,
					.metadata = meta.buf, .force = k->o->force };

		r = kcache_store(&si);
	}
	if (!r)
		kinfo("cached %s: bzImage %zu KiB, vmlinux %zu KiB (debug info stripped)", key,
		      imglen >> 10, svmlen >> 10);
out:
	free(img);
	free(svm);
	free(inner);
	free(btf);
	free(frags);
	free(margs);
	sb_free(&meta);
	sb_free(&out);
	return r;
}

/* The work area of this source: the same tree (or URL) always builds in
 * the same place, so a second build is incremental. */
static int work_area(struct kb *k, const char *what, const char *name)
{
	char root[PATH_MAX], h[9];
	struct sha256 s;
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	int r;

	sha256_init(&s);
	sha256_update(&s, what, strlen(what) + 1);
	sha256_update(&s, name, strlen(name));
	sha256_final(&s, d);
	sha256_hex(d, hex);
	memcpy(h, hex, 8);
	h[8] = '\0';
	if ((r = kcache_root(root, sizeof(root))) || (r = mkdir_p(root, 0755)))
		return r;
	if (snprintf(k->work, sizeof(k->work), "%s/.kbuild-%s", root, h) >= (int)sizeof(k->work) ||
	    path_join(k->build, sizeof(k->build), k->work, "build", NULL))
		return -ENAMETOOLONG;
	if ((r = mkdir_p(k->build, 0755)))
		return r;
	return 0;
}

static int check_opts(const struct kbuild_opts *o)
{
	if (!!o->source == !!o->git) {
		fprintf(stderr, "ktstr-orch %s: name the source: --source DIR, or --git URL --ref "
				"REF\n", WHO);
		return -EINVAL;
	}
	if (!!o->git != !!o->ref) {
		fprintf(stderr, "ktstr-orch %s: --git and --ref go together (the branch, tag or "
				"commit to build)\n", WHO);
		return -EINVAL;
	}
	if (o->git && !kbuild_url_ok(o->git)) {
		fprintf(stderr, "ktstr-orch %s: --git '%.200s' is not a URL ktstr fetches (https://, "
				"http://, git://, ssh://, file:// or an absolute path; no spaces, "
				"no remote helper such as ext::)\n", WHO, o->git);
		return -EINVAL;
	}
	if (o->ref && !kbuild_ref_ok(o->ref)) {
		fprintf(stderr, "ktstr-orch %s: --ref '%.200s' is not a branch, tag or commit name "
				"(letters, digits, '.', '_', '-', '/'; no '..')\n", WHO, o->ref);
		return -EINVAL;
	}
	if (strcmp(o->base, "defconfig") && strcmp(o->base, "tinyconfig")) {
		fprintf(stderr, "ktstr-orch %s: --base takes defconfig or tinyconfig, not '%s'\n",
			WHO, o->base);
		return -EINVAL;
	}
	if (o->jobs > JOBS_MAX) {
		fprintf(stderr, "ktstr-orch %s: --jobs %u: at most %u\n", WHO, o->jobs, JOBS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->nmake_args; i++)
		if (!kbuild_make_arg_ok(o->make_args[i])) {
			fprintf(stderr, "ktstr-orch %s: --make-arg '%s' is not VAR=VALUE with VAR "
					"upper-case (O, ARCH, KBUILD_OUTPUT and MAKEFLAGS are "
					"ktstr's own)\n", WHO, o->make_args[i]);
			return -EINVAL;
		}
	if (o->source && has_ctl(o->source)) {
		fprintf(stderr, "ktstr-orch %s: --source has control characters\n", WHO);
		return -EINVAL;
	}
	return 0;
}

/* A tree someone built in place cannot also build out of tree (kbuild
 * refuses), and a directory that is no kernel tree should say so now. */
static int check_tree(const char *dir)
{
	static const char *const must[] = { "Makefile", "Kconfig", "arch/x86/Kconfig" };
	static const char *const inplace[] = { ".config", "include/config/auto.conf" };
	char p[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(must); i++)
		if (path_join(p, sizeof(p), dir, must[i], NULL) || access(p, F_OK)) {
			fprintf(stderr, "ktstr-orch %s: %s has no %s: not a Linux source tree (x86)\n",
				WHO, dir, must[i]);
			return -EINVAL;
		}
	for (size_t i = 0; i < ARRAY_SIZE(inplace); i++)
		if (!path_join(p, sizeof(p), dir, inplace[i], NULL) && !access(p, F_OK)) {
			fprintf(stderr, "ktstr-orch %s: %s was configured in place (%s exists): "
					"ktstr builds out of tree, which kbuild refuses then. Boot "
					"that build as it is with --kernel %s, or run `make "
					"mrproper` there first.\n", WHO, dir, inplace[i], dir);
			return -EINVAL;
		}
	return 0;
}

int kernel_build(const struct kbuild_opts *o, FILE *out)
{
	struct kb k = { .o = o };
	struct kcfg want = { 0 };
	char *texts[KBUILD_FRAGS_MAX] = { 0 };
	char err[1024], key[256], cfg_hex[65], release[256], entry[PATH_MAX], root[PATH_MAX];
	char *final = NULL;
	size_t flen = 0;
	struct strbuf rel = { 0 };
	int lockfd = -1, r;
	uint64_t t0;

	if ((r = check_opts(o)))
		return r;
	for (size_t i = 0; i < o->nfrags; i++) {
		size_t len;

		if ((r = read_file(o->frags[i], &texts[i], &len, KCFG_TEXT_MAX))) {
			fprintf(stderr, "ktstr-orch %s: --config %s: %s\n", WHO, o->frags[i],
				r == -EFBIG ? "larger than a kernel config can be" : strerror(-r));
			r = -EINVAL;
			goto out;
		}
		if (strlen(texts[i]) != len) {
			fprintf(stderr, "ktstr-orch %s: --config %s: a NUL byte: not a config "
					"fragment\n", WHO, o->frags[i]);
			r = -EINVAL;
			goto out;
		}
	}
	if ((r = kbuild_want(o->frags, (const char *const *)texts, o->nfrags, &want, err,
			     sizeof(err)))) {
		fprintf(stderr, "ktstr-orch %s: %s\n", WHO, err);
		r = -EINVAL;
		goto out;
	}
	k.jobs = o->jobs ? o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	k.deadline = ktstr_now_ms() + 1000ull * (o->timeout_s ? o->timeout_s
							       : KBUILD_TIMEOUT_DEFAULT_S);
	if (o->source) {
		char real[PATH_MAX];

		if (!realpath(o->source, real)) {
			r = -errno;
			fprintf(stderr, "ktstr-orch %s: --source %s: %s\n", WHO, o->source,
				strerror(errno));
			goto out;
		}
		if ((r = check_tree(real)) || (r = work_area(&k, "dir", real)))
			goto out;
	} else if ((r = work_area(&k, "git", o->git))) {
		goto out;
	}
	lockfd = kcache_lock(k.work, true);
	if (lockfd < 0) {
		r = lockfd;
		fprintf(stderr, "ktstr-orch %s: %s: %s\n", WHO, k.work,
			r == -EBUSY ? "another `kernel build` of this source is running; wait for "
				      "it (it builds in that directory)"
				    : strerror(-r));
		goto out;
	}
	if (o->source) {
		r = kbuild_src_dir(o->source, &k.src, err, sizeof(err));
	} else {
		char clone[PATH_MAX];

		r = path_join(clone, sizeof(clone), k.work, "src", NULL);
		if (!r)
			r = kbuild_src_git(o->git, o->ref, clone, &k.src, err, sizeof(err));
		if (!r && (r = check_tree(k.src.dir)))
			goto out;
	}
	if (r) {
		fprintf(stderr, "ktstr-orch %s: %s\n", WHO, err);
		goto out;
	}
	if (o->clean) {
		/* The objects of earlier builds go; a clone (--git) stays. */
		if ((r = kcache_rmtree(k.build)) || (r = mkdir_p(k.build, 0755))) {
			fprintf(stderr, "ktstr-orch %s: --clean: cannot empty %s: %s\n", WHO, k.build,
				strerror(-r));
			goto out;
		}
		kinfo("--clean: %s emptied: a full build", k.build);
	}
	kinfo("source %s: %s%s", k.src.dir, k.src.ident,
	      k.src.dirty ? " with uncommitted changes (built, not cached)" : "");
	if ((r = configure(&k, &want, &final, &flen)))
		goto out;
	r = run_make(&k, "kernelrelease", false, NULL, &rel);
	if (r) {
		r = say_fail("make kernelrelease", r, &rel);
		goto out;
	}
	snprintf(release, sizeof(release), "%.*s", (int)strcspn(rel.buf ? rel.buf : "", "\r\n"),
		 rel.buf ? rel.buf : "");
	if ((r = kbuild_key(release, k.src.ident, final, flen, o->make_args, o->nmake_args, key,
			    sizeof(key), cfg_hex)))
		goto out;
	if ((r = kcache_root(root, sizeof(root))) ||
	    (r = path_join(entry, sizeof(entry), root, key, NULL)))
		goto out;
	if (!k.src.dirty && !o->force && !access(entry, F_OK)) {
		kinfo("kernel %s is cached (same source and config): nothing to build", key);
		fprintf(out, "%s\n", key);
		goto out;
	}
	t0 = ktstr_now_ms();
	if ((r = build(&k)))
		goto out;
	if (k.src.dirty) {
		kwarn("the tree has %u uncommitted change%s: built but not cached (its commit does "
		      "not name its content); boot it with --kernel %s", k.src.dirty_count,
		      k.src.dirty_count == 1 ? "" : "s", k.build);
		fprintf(out, "%s\n", k.build);
		goto out;
	}
	if ((r = store(&k, key, release, final, flen, cfg_hex, ktstr_now_ms() - t0)))
		goto out;
	fprintf(out, "%s\n", key);
out:
	if (lockfd >= 0)
		close(lockfd);
	for (size_t i = 0; i < KBUILD_FRAGS_MAX; i++)
		free(texts[i]);
	kcfg_free(&want);
	free(final);
	sb_free(&rel);
	return r;
}
