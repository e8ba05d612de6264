#include "images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/arch.h>
#include <ktstr/log.h>
#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "builder_client.h"
#include "helper_path.h"
#include "kernel_arch.h"
#include "kernel_cache.h"
#include "pathjoin.h"

/* Is dir/name (or name when dir is NULL) an executable? If so, store its
 * real path; else note it in tried. Returns 1 found, 0 not, -ENOMEM. */
static int try_cand(const char *dir, const char *name, struct strbuf *tried, char **found)
{
	char *cand = NULL;
	int r;

	if ((dir ? asprintf(&cand, "%s/%s", dir, name) : asprintf(&cand, "%s", name)) < 0)
		return -ENOMEM;
	if (access(cand, X_OK) == 0) {
		*found = realpath(cand, NULL);
		free(cand);
		return *found ? 1 : -errno;
	}
	r = sb_printf(tried, "%s%s", tried->len ? ", " : "", cand);
	free(cand);
	return r;
}

/* scripts/build-schedulers output: <ktstr cache>/schedulers/<version>/bin
 * (arm64: <version>/arm64/bin); the most recently built version wins. */
static int try_cached_build(const char *name, Ktstr__Arch arch, struct strbuf *tried,
			    char **found)
{
	const char *sub = arch == KTSTR__ARCH__ARCH_ARM64 ? "arm64/bin" : "bin";
	char base[PATH_MAX], dir[PATH_MAX], best[PATH_MAX] = "";
	time_t best_t = 0;
	DIR *d;
	struct dirent *de;

	if (ktstr_cache_base(base, sizeof(base)) ||
	    path_join(dir, sizeof(dir), base, "schedulers", NULL) || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		char cand[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.' ||
		    snprintf(cand, sizeof(cand), "%s/%s/%s/%s", dir, de->d_name, sub, name) >=
			    (int)sizeof(cand))
			continue;
		if (!stat(cand, &st) && S_ISREG(st.st_mode) && !access(cand, X_OK) &&
		    (!best[0] || st.st_mtime > best_t)) {
			memcpy(best, cand, sizeof(best));
			best_t = st.st_mtime;
		}
	}
	closedir(d);
	if (!best[0])
		return sb_printf(tried, "%s%s/*/%s/%s", tried->len ? ", " : "", dir, sub, name);
	return try_cand(NULL, best, tried, found);
}

int scheduler_resolve(const struct suite *s, struct sched_def *sd, char *err, size_t errlen)
{
	return scheduler_resolve_arch(s, sd, KTSTR__ARCH__ARCH_X86_64, err, errlen);
}

int scheduler_resolve_arch(const struct suite *s, struct sched_def *sd, Ktstr__Arch arch,
			   char *err, size_t errlen)
{
	/* The scheduler search path per guest architecture (docs/environment.md). */
	static const char *const path_envs[] = { "KTSTR_SCHEDULER_PATH",
						  "KTSTR_SCHEDULER_PATH_ARM64" };
	const bool arm64 = arch == KTSTR__ARCH__ARCH_ARM64;
	const char *path_env = path_envs[arm64];
	const char *build_rel = arm64 ? "/../schedulers/arm64" : "/../schedulers";
	struct strbuf tried = { 0 };
	char self[PATH_MAX];
	const char *env;
	int r = 0;

	if ((sd->kind != SCHED_BIN_NAME && sd->kind != SCHED_BIN_PATH) || sd->resolved_path)
		return 0;
	if (sd->kind == SCHED_BIN_PATH) {
		r = try_cand(sd->binary[0] == '/' ? NULL : s->dir, sd->binary, &tried,
			     &sd->resolved_path);
		if (r == 0)
			snprintf(err, errlen,
				 "scheduler '%s': binary %s is missing or not executable (line %u of %s)",
				 sd->name, tried.buf, sd->line, s->path);
		goto out;
	}
	r = try_cand(s->dir, sd->binary, &tried, &sd->resolved_path);
	if (!r && (env = getenv("KTSTR_SCHEDULER")) && *env)
		r = try_cand(NULL, env, &tried, &sd->resolved_path);
	if (!r && (env = getenv(path_envs[arm64])) && *env) {
		char *dup = strdup(env), *save = NULL;

		if (!dup)
			r = -ENOMEM;
		for (char *d = dup ? strtok_r(dup, ":", &save) : NULL; d && !r;
		     d = strtok_r(NULL, ":", &save))
			r = try_cand(d, sd->binary, &tried, &sd->resolved_path);
		free(dup);
	}
	if (!r && !ktstr_self_dir(self, sizeof(self)) &&
	    strlen(self) + strlen(build_rel) < sizeof(self)) {
		strcat(self, build_rel);
		r = try_cand(self, sd->binary, &tried, &sd->resolved_path);
	}
	if (!r)
		r = try_cached_build(sd->binary, arch, &tried, &sd->resolved_path);
	if (r == 0)
		snprintf(err, errlen,
			 "scheduler '%s' (line %u of %s): %sbinary '%s' not found; looked at %s. Put "
			 "it beside the suite file, set KTSTR_SCHEDULER=/path/to/%s or add its "
			 "directory to %s%s",
			 sd->name, sd->line, s->path, arm64 ? "arm64 " : "", sd->binary,
			 tried.buf ? tried.buf : "nothing", sd->binary, path_env,
			 arm64 ? " (scripts/build-schedulers --arch arm64 builds them)" : "");
out:
	sb_free(&tried);
	if (r < 0)
		snprintf(err, errlen, "scheduler '%s': %s", sd->name, strerror(-r));
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int guest_binary_path(char *buf, size_t len, char *err, size_t errlen)
{
	return guest_binary_path_arch(KTSTR__ARCH__ARCH_X86_64, buf, len, err, errlen);
}

int guest_binary_path_arch(Ktstr__Arch arch, char *buf, size_t len, char *err, size_t errlen)
{
	const bool arm64 = arch == KTSTR__ARCH__ARCH_ARM64;
	/* The one helper lookup (helper_path.h). */
	int ret = helper_path(arm64 ? HELPER_GUEST_ARM64 : HELPER_GUEST, buf, len, err, errlen);

	if (ret) {
		if (arm64 && ret == -ENOENT && strlen(err) + 1 < errlen)
			snprintf(err + strlen(err), errlen - strlen(err),
				 " (make builds it where aarch64-linux-gnu-gcc is installed: "
				 "scripts/install-deps; docs/aarch64.md)");
		return ret;
	}
	if (access(buf, R_OK)) {
		snprintf(err, errlen, "guest init %s is not readable: build it (make) or set %s",
			 buf, arm64 ? "KTSTR_GUEST_ARM64" : "KTSTR_GUEST");
		return -ENOENT;
	}
	return 0;
}

/* arm64: $KTSTR_BUSYBOX_ARM64, else <ktstr cache>/arm64/busybox. */
static int busybox_arm64(char *buf, size_t len, char *err, size_t errlen)
{
	const char *env = getenv("KTSTR_BUSYBOX_ARM64");
	char base[PATH_MAX];

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		if (!access(buf, X_OK))
			return 0;
		snprintf(err, errlen, "KTSTR_BUSYBOX_ARM64=%s is not an executable file", env);
		return -ENOENT;
	}
	if (!ktstr_cache_base(base, sizeof(base)) &&
	    !path_join(buf, len, base, "arm64/busybox", NULL) && !access(buf, X_OK))
		return 0;
	snprintf(err, errlen,
		 "arm64 busybox not found (looked at %s): run scripts/fetch-arm64 (busybox-static "
		 "for arm64 into the ktstr cache) or set KTSTR_BUSYBOX_ARM64",
		 buf[0] ? buf : "<ktstr cache>/arm64/busybox, no cache directory");
	return -ENOENT;
}

int busybox_path_arch(Ktstr__Arch arch, char *buf, size_t len, char *err, size_t errlen)
{
	if (len)
		buf[0] = '\0';
	return arch == KTSTR__ARCH__ARCH_ARM64 ? busybox_arm64(buf, len, err, errlen)
					       : busybox_path(buf, len, err, errlen);
}

int busybox_path(char *buf, size_t len, char *err, size_t errlen)
{
	static const char *const cands[] = { "/bin/busybox", "/usr/bin/busybox" };
	const char *env = getenv("KTSTR_BUSYBOX");

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		if (!access(buf, X_OK))
			return 0;
		snprintf(err, errlen, "KTSTR_BUSYBOX=%s is not an executable file", env);
		return -ENOENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		if (!access(cands[i], X_OK)) {
			snprintf(buf, len, "%s", cands[i]);
			return 0;
		}
	}
	snprintf(err, errlen, "busybox not found (looked at /bin/busybox, /usr/bin/busybox): "
			      "install busybox-static or set KTSTR_BUSYBOX");
	return -ENOENT;
}

void images_free(struct image_set *is)
{
	struct builder_image *imgs = is->imgs_;

	for (size_t i = 0; imgs && i < is->n; i++)
		if (imgs[i].reply_ || imgs[i].fd >= 0)
			builder_image_free(&imgs[i]);
	free(imgs);
	free(is->fds);
	free(is->sandboxed);
	free(is->landlock);
	free(is->uncompressed);
	memset(is, 0, sizeof(*is));
}

/* Which images (suite.h: struct suite, nimages) the kept variants boot. */
static bool *needed_images(const struct suite *s, const struct plan *p)
{
	bool *need = calloc(s->nimages ? s->nimages : 1, sizeof(*need));

	for (size_t i = 0; need && i < p->n; i++)
		if (p->v[i].state == VAR_KEPT)
			need[s->tests[p->v[i].test].image] = true;
	return need;
}

static int resolve_needed(struct suite *s, const bool *need, Ktstr__Arch arch, char *err,
			  size_t errlen)
{
	int ret = 0;

	for (size_t i = 0; i < s->nimages && !ret; i++)
		if (need[i])
			ret = scheduler_resolve_arch(s, &s->scheds[suite_image_sched(s, i)], arch,
						     err, errlen);
	return ret;
}

int images_resolve(struct suite *s, const struct plan *p, char *err, size_t errlen)
{
	bool *need = needed_images(s, p);
	int ret;

	if (!need) {
		snprintf(err, errlen, "out of memory resolving schedulers");
		return -ENOMEM;
	}
	ret = resolve_needed(s, need, p->arch, err, errlen);
	free(need);
	return ret;
}

static int check_readable(const char *what, const char *path, const char *user, char *err,
			  size_t errlen)
{
	/* AT_EACCESS: as the effective ids, which cache_owner_as() sets to
	 * the cache owner's (plain access() asks as the real uid: root). */
	if (!faccessat(AT_FDCWD, path, R_OK, AT_EACCESS))
		return 0;
	snprintf(err, errlen,
		 "%s %s is not readable by user %s (uid %u), whom the initramfs builder runs as "
		 "once ktstr-orch drops root (%s): the builder must read it. Install it where "
		 "that user can read it (e.g. /usr/local or /opt), make the path readable (every "
		 "directory on it needs o+x: chmod o+rx), pass --user (or --cache-user, where "
		 "the builder runs as the image cache's owner) with an account that can, or "
		 "--no-drop-privileges",
		 what, path, user ? user : "?", (unsigned)geteuid(), strerror(errno));
	return -EACCES;
}

static bool any_need(const bool *need, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (need[i])
			return true;
	return false;
}

/* The included files of image img (include_files.h). */
static int check_includes(const struct suite *s, size_t img, const char *user, char *err,
			  size_t errlen)
{
	const struct include_list *lists[4];
	size_t nl = suite_image_lists(s, img, lists);
	char what[300];
	int ret = 0;

	for (size_t l = 0; l < nl && !ret; l++)
		for (size_t k = 0; k < lists[l]->n && !ret; k++) {
			snprintf(what, sizeof(what), "%s file (for %s)", lists[l]->field,
				 lists[l]->v[k].dest);
			ret = check_readable(what, lists[l]->v[k].host, user, err, errlen);
		}
	return ret;
}

int images_check_readable(const struct suite *s, const struct plan *p, const char *user,
			  char *err, size_t errlen)
{
	char guest[PATH_MAX], bb[PATH_MAX], what[300];
	bool *need = needed_images(s, p);
	bool any = false;
	int ret = 0;

	if (!need) {
		snprintf(err, errlen, "out of memory checking the image inputs");
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->npayloads && !ret && any_need(need, s->nimages); i++) {
		snprintf(what, sizeof(what), "payload '%s'", s->payloads[i].spec.name);
		ret = check_readable(what, s->payloads[i].host_path, user, err, errlen);
	}
	for (size_t i = 0; i < s->nimages && !ret; i++) {
		const struct sched_def *sd = &s->scheds[suite_image_sched(s, i)];

		any |= need[i];
		if (!need[i])
			continue;
		ret = check_includes(s, i, user, err, errlen);
		if (ret || !sd->resolved_path)
			continue;
		snprintf(what, sizeof(what), "scheduler '%s' binary", sd->name);
		ret = check_readable(what, sd->resolved_path, user, err, errlen);
	}
	free(need);
	if (ret || !any)
		return ret;
	/* Path lookups fail here with their own message; images_build repeats them. */
	if (!guest_binary_path_arch(p->arch, guest, sizeof(guest), err, errlen))
		ret = check_readable("guest init", guest, user, err, errlen);
	if (!ret && !busybox_path_arch(p->arch, bb, sizeof(bb), err, errlen))
		ret = check_readable("busybox", bb, user, err, errlen);
	return ret;
}

int images_check_arch(const struct suite *s, const struct plan *p, char *err, size_t errlen)
{
	char path[PATH_MAX], what[300];
	bool *need = needed_images(s, p);
	int ret = 0;

	if (!need) {
		snprintf(err, errlen, "out of memory checking the image inputs");
		return -ENOMEM;
	}
	if (!any_need(need, s->nimages))
		goto out;
	/* The suite's own files first: a missing ktstr-guest or busybox is
	 * the build's to report, and must not hide a wrong binary. */
	for (size_t i = 0; i < s->npayloads && !ret; i++) {
		snprintf(what, sizeof(what), "payload '%s'", s->payloads[i].spec.name);
		ret = elf_check_arch(what, s->payloads[i].host_path, p->arch, err, errlen);
	}
	for (size_t i = 0; i < s->nimages && !ret; i++) {
		const struct sched_def *sd = &s->scheds[suite_image_sched(s, i)];
		const struct include_list *lists[4];
		size_t nl;

		if (!need[i])
			continue;
		if (sd->resolved_path) {
			snprintf(what, sizeof(what), "scheduler '%s' binary", sd->name);
			ret = elf_check_arch(what, sd->resolved_path, p->arch, err, errlen);
		}
		nl = suite_image_lists(s, i, lists);
		for (size_t l = 0; l < nl && !ret; l++)
			for (size_t k = 0; k < lists[l]->n && !ret; k++) {
				snprintf(what, sizeof(what), "%s file (for %s)", lists[l]->field,
					 lists[l]->v[k].dest);
				ret = elf_check_arch(what, lists[l]->v[k].host, p->arch, err,
						     errlen);
			}
	}
	if (!ret && !guest_binary_path_arch(p->arch, path, sizeof(path), err, errlen))
		ret = elf_check_arch("guest init", path, p->arch, err, errlen);
	if (ret == -ENOEXEC)
		goto out;
	ret = 0;
	if (!busybox_path_arch(p->arch, path, sizeof(path), err, errlen))
		ret = elf_check_arch("busybox", path, p->arch, err, errlen);
out:
	free(need);
	return ret;
}

static const char *compression_name(uint32_t c)
{
	return c == KTSTR__COMPRESSION__COMPRESSION_GZIP  ? "gzip"
	       : c == KTSTR__COMPRESSION__COMPRESSION_LZ4 ? "lz4"
							  : "uncompressed";
}

int images_build(struct suite *s, const struct plan *p, uint32_t compression,
		 bool insecure_no_sandbox, struct image_set *out, char *err, size_t errlen)
{
	return images_build_with(s, p, compression, insecure_no_sandbox, NULL, out, err, errlen);
}

int images_build_with(struct suite *s, const struct plan *p, uint32_t compression,
		      bool insecure_no_sandbox, struct builder_client *started,
		      struct image_set *out, char *err, size_t errlen)
{
	struct builder_client own = { .pid = -1, .sock = -1 };
	struct builder_client_opts bo = { .stderr_fd = -2,
					  .insecure_no_sandbox = insecure_no_sandbox,
					  .cache_dirfd = -1 };
	struct builder_client *bcp = started ? started : &own;
	struct builder_image *imgs;
	char guest[PATH_MAX], bb[PATH_MAX];
	bool *need;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	need = needed_images(s, p);
	imgs = calloc(s->nimages, sizeof(*imgs));
	out->fds = malloc(s->nimages * sizeof(*out->fds));
	out->sandboxed = malloc(s->nimages * sizeof(*out->sandboxed));
	out->landlock = malloc(s->nimages * sizeof(*out->landlock));
	out->uncompressed = calloc(s->nimages ? s->nimages : 1, sizeof(*out->uncompressed));
	out->imgs_ = imgs;
	out->n = s->nimages;
	if (!need || !imgs || !out->fds || !out->sandboxed || !out->landlock || !out->uncompressed) {
		free(need);
		images_free(out);
		snprintf(err, errlen, "out of memory planning images");
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->nimages; i++) {
		out->fds[i] = -1;
		out->sandboxed[i] = -1;
		out->landlock[i] = -1;
		imgs[i].fd = -1;
	}
	ret = resolve_needed(s, need, p->arch, err, errlen);
	if (!ret)
		ret = guest_binary_path_arch(p->arch, guest, sizeof(guest), err, errlen);
	if (!ret)
		ret = busybox_path_arch(p->arch, bb, sizeof(bb), err, errlen);
	if (ret)
		goto out;
	for (size_t i = 0; i < s->nimages && !ret; i++) {
		const struct sched_def *sd = &s->scheds[suite_image_sched(s, i)];
		Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
		Ktstr__FileSpec bbspec = KTSTR__FILE_SPEC__INIT;
		Ktstr__FileSpec pspec[KTSTR_PAYLOAD_MAX + INCLUDE_MAX_FILES];
		Ktstr__FileSpec *files[1 + KTSTR_PAYLOAD_MAX + INCLUDE_MAX_FILES] = { &bbspec };
		const struct include_list *lists[4];
		size_t nl = suite_image_lists(s, i, lists), np = 0;
		char label[300];
		uint64_t t0;

		if (!need[i])
			continue;
		if (i < s->nscheds)
			snprintf(label, sizeof(label), "scheduler %s", sd->name);
		else
			snprintf(label, sizeof(label), "scheduler %s + include_files of test %s",
				 sd->name, s->tests[s->image_test[i - s->nscheds]].name);
		if (bcp->pid < 0) {
			ret = builder_client_start(bcp, &bo, err, errlen);
			if (ret)
				break;
		}
		req.init_path = guest;
		req.scheduler_path = sd->resolved_path;
		bbspec.host_path = bb;
		bbspec.guest_path = "/bin/busybox";
		bbspec.has_resolve_libs = 1;
		bbspec.resolve_libs = 0; /* busybox-static: nothing to resolve */
		req.n_files = 1;
		/* Payloads: at their guest paths, ELF ones with their DT_NEEDED
		 * closure (resolve_libs defaults to true; a script goes in as
		 * data), mode kept. In every image: the suite declares them once
		 * for all its tests, and a suite without them builds the image
		 * it always did. */
		for (size_t k = 0; k < s->npayloads && k < KTSTR_PAYLOAD_MAX; k++) {
			ktstr__file_spec__init(&pspec[np]);
			pspec[np].host_path = s->payloads[k].host_path;
			pspec[np].guest_path = s->payloads[k].spec.path;
			files[req.n_files++] = &pspec[np++];
		}
		/* Included files the same way (include_files.h: the suite read
		 * checked that one image holds at most INCLUDE_MAX_FILES). */
		for (size_t l = 0; l < nl; l++)
			for (size_t k = 0; k < lists[l]->n && np < ARRAY_SIZE(pspec); k++) {
				ktstr__file_spec__init(&pspec[np]);
				pspec[np].host_path = lists[l]->v[k].host;
				pspec[np].guest_path = lists[l]->v[k].dest;
				files[req.n_files++] = &pspec[np++];
			}
		req.files = files;
		req.has_compression = 1;
		req.compression = compression;
		if (p->arch != KTSTR__ARCH__ARCH_X86_64) {
			req.has_arch = 1;
			req.arch = p->arch;
		}
		t0 = ktstr_now_ms();
		ret = builder_client_build(bcp, &req, 0, &imgs[i], err, errlen);
		if (!ret) {
			bool conf = imgs[i].ok->has_sandboxed && imgs[i].ok->sandboxed;

			out->sandboxed[i] = conf;
			out->landlock[i] = imgs[i].ok->has_landlock && imgs[i].ok->landlock;
			if (!conf && !insecure_no_sandbox) {
				/* Fail closed: never boot an image an unconfined builder made
				 * unless the user said so. */
				snprintf(err, errlen,
					 "initramfs builder ran UNSANDBOXED (BuildOk.sandboxed=false) "
					 "for the %s image although --insecure-no-sandbox was not "
					 "given: its confinement (seccomp, namespaces, capability "
					 "drop) is missing; check its log above, fix the host "
					 "(docs/security.md, \"Host support\") or pass "
					 "--insecure-no-sandbox",
					 label);
				ret = -EPERM;
				break;
			}
			out->fds[i] = imgs[i].fd;
			out->uncompressed[i] = imgs[i].ok->has_uncompressed_size
						       ? imgs[i].ok->uncompressed_size
						       : 0;
			kinfo("image for %s: %llu bytes (%s), %s in %llums%s",
			      label, (unsigned long long)imgs[i].ok->image_size,
			      compression_name(compression), imgs[i].ok->key,
			      (unsigned long long)(ktstr_now_ms() - t0),
			      conf ? "" : " (builder UNSANDBOXED)");
		}
	}
out:
	if (own.pid >= 0)
		builder_client_stop(&own);
	free(need);
	if (ret)
		images_free(out);
	return ret;
}
