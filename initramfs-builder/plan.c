/* Plan building. Files are opened O_NONBLOCK so a FIFO or device named by
 * mistake fails the regular-file check instead of blocking the builder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/cpio.h"
#include "ktstr/util.h"
#include "closure.h"
#include "elfinfo.h"
#include <ktstr/arch.h>

#include "plan.h"

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

void plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].guest);
		free(p->v[i].data);
	}
	free(p->v);
	for (i = 0; i < p->nlibs; i++)
		free(p->libs[i]);
	free(p->libs);
	memset(p, 0, sizeof(*p));
}

struct plan_entry *plan_find(struct plan *p, const char *guest)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].guest, guest))
			return &p->v[i];
	return NULL;
}

/* Append an entry; takes ownership of data on success and on failure. */
static int plan_push(struct plan *p, enum plan_kind kind, const char *guest, uint32_t mode,
		     uint8_t *data, size_t len, struct plan_entry **out, struct ktstr_error *e)
{
	char norm[CPIO_PATH_MAX + 1];
	struct plan_entry *pe;
	int ret;

	ret = cpio_path_normalize(guest, norm, sizeof(norm));
	if (ret) {
		free(data);
		return ktstr_error_set(e, -ret, "check guest path", guest,
				"use an absolute path without '.', '..' or '//' components",
				"guest path is %s", ret == -ENAMETOOLONG ? "too long" :
				"not absolute or not in canonical form");
	}
	if (plan_find(p, guest)) {
		free(data);
		return ktstr_error_set(e, EEXIST, "add file to image", guest,
				"give every file its own guest path",
				"two entries want the same guest path");
	}
	if (p->n >= PLAN_MAX_ENTRIES) {
		free(data);
		return ktstr_error_set(e, E2BIG, "add file to image", guest, NULL,
				"more than %u entries in one image", PLAN_MAX_ENTRIES);
	}
	if (KTSTR_GROW(p->v, &p->cap, p->n + 1, 32)) {
		free(data);
		return ktstr_error_set(e, ENOMEM, "add file to image", guest, NULL, "out of memory");
	}
	pe = &p->v[p->n];
	memset(pe, 0, sizeof(*pe));
	pe->guest = strdup(guest);
	if (!pe->guest) {
		free(data);
		return ktstr_error_set(e, ENOMEM, "add file to image", guest, NULL, "out of memory");
	}
	pe->kind = kind;
	pe->mode = mode & 07777;
	pe->data = data;
	pe->len = len;
	p->n++;
	if (out)
		*out = pe;
	return 0;
}

int plan_read_host(struct fp_deps *deps, const char *host_path, uint8_t **data, size_t *len,
		   struct stat *st, struct ktstr_error *e)
{
	uint8_t *buf = NULL;
	ssize_t n;
	int fd, ret;

	/* Stat before the open, so what is recorded is never newer than what
	 * is read: a change in between makes the later fingerprint check
	 * fail rather than vouch for bytes it did not see. A path that does
	 * not resolve is recorded too: if it appears later, the library
	 * search may find something else. */
	if (fp_deps_add_stat(deps, host_path, NULL))
		return ktstr_error_set(e, ENOMEM, "open input file", host_path, NULL, "out of memory");
	fd = open(host_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ktstr_error_set(e, errno, "open input file", host_path,
				"check the path and its permissions", "%s", strerror(errno));
	if (fstat(fd, st)) {
		ret = ktstr_error_set(e, errno, "stat input file", host_path, NULL, "%s", strerror(errno));
		goto err_close;
	}
	if (!S_ISREG(st->st_mode)) {
		ret = ktstr_error_set(e, EINVAL, "read input file", host_path,
			       "name a regular file", "not a regular file");
		goto err_close;
	}
	if ((uint64_t)st->st_size > PLAN_MAX_FILE) {
		ret = ktstr_error_set(e, EFBIG, "read input file", host_path, NULL,
			       "file is %lld bytes, the limit is %llu", (long long)st->st_size,
			       PLAN_MAX_FILE);
		goto err_close;
	}
	buf = malloc(st->st_size ? (size_t)st->st_size : 1);
	if (!buf) {
		ret = ktstr_error_set(e, ENOMEM, "read input file", host_path, NULL, "out of memory");
		goto err_close;
	}
	n = read_full(fd, buf, (size_t)st->st_size);
	if (n < 0) {
		ret = ktstr_error_set(e, (int)-n, "read input file", host_path, NULL, "%s",
			       strerror((int)-n));
		goto err_free;
	}
	if ((size_t)n != (size_t)st->st_size) {
		ret = ktstr_error_set(e, EIO, "read input file", host_path,
			       "do not modify inputs while a build runs",
			       "file shrank while being read");
		goto err_free;
	}
	close(fd);
	*data = buf;
	*len = (size_t)st->st_size;
	return 0;
err_free:
	free(buf);
err_close:
	close(fd);
	return ret;
}

int plan_add_owned(struct plan *p, const char *guest, uint32_t mode, uint8_t *data,
		   size_t len, const struct stat *st, struct plan_entry **out, struct ktstr_error *e)
{
	struct plan_entry *pe;
	int ret;

	if (p->total_bytes + len > PLAN_MAX_TOTAL) {
		free(data);
		return ktstr_error_set(e, EFBIG, "add file to image", guest,
				"pack fewer or smaller files",
				"image would exceed %llu bytes of file data", PLAN_MAX_TOTAL);
	}
	ret = plan_push(p, PLAN_FILE, guest, mode ? mode : (uint32_t)st->st_mode, data, len,
			&pe, e);
	if (ret)
		return ret;
	pe->dev = st->st_dev;
	pe->ino = st->st_ino;
	p->total_bytes += len;
	if (out)
		*out = pe;
	return 0;
}

int plan_add_host_file(struct plan *p, const char *host_path, const char *guest,
		       uint32_t mode, struct plan_entry **out, struct ktstr_error *e)
{
	struct stat st;
	uint8_t *data;
	size_t len;
	int ret;

	ret = plan_read_host(p->deps, host_path, &data, &len, &st, e);
	if (ret)
		return ret;
	return plan_add_owned(p, guest, mode, data, len, &st, out, e);
}

int plan_add_bytes(struct plan *p, const char *guest, uint32_t mode, const void *data,
		   size_t len, struct ktstr_error *e)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		return ktstr_error_set(e, ENOMEM, "add file to image", guest, NULL, "out of memory");
	memcpy(copy, data, len);
	p->total_bytes += len;
	return plan_push(p, PLAN_FILE, guest, mode, copy, len, NULL, e);
}

int plan_add_symlink(struct plan *p, const char *guest, const char *target, struct ktstr_error *e)
{
	uint8_t *copy = (uint8_t *)strdup(target);

	if (!copy)
		return ktstr_error_set(e, ENOMEM, "add symlink to image", guest, NULL, "out of memory");
	return plan_push(p, PLAN_SYMLINK, guest, 0777, copy, strlen(target), NULL, e);
}

int plan_add_dir(struct plan *p, const char *guest, uint32_t mode, struct ktstr_error *e)
{
	struct plan_entry *pe = plan_find(p, guest);

	if (pe) {
		if (pe->kind == PLAN_DIR)
			return 0;
		return ktstr_error_set(e, ENOTDIR, "add directory to image", guest,
				"do not place a file where a directory is needed",
				"a file or symlink already has this path");
	}
	return plan_push(p, PLAN_DIR, guest, mode, NULL, 0, NULL, e);
}

int plan_add_lib_name(struct plan *p, const char *guest)
{
	char **nv = realloc(p->libs, (p->nlibs + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	p->libs = nv;
	nv[p->nlibs] = strdup(guest);
	if (!nv[p->nlibs])
		return -ENOMEM;
	p->nlibs++;
	return 0;
}

static int plan_dir_first_cmp(const void *a, const void *b)
{
	const struct plan_entry *x = a, *y = b;

	return strcmp(x->guest, y->guest);
}

int plan_finalize(struct plan *p, struct ktstr_error *e)
{
	size_t i, ndirs = 0, nfirst, n = p->n;
	struct plan_entry *sorted;
	int ret;

	/* Every ancestor of every entry must be a directory. */
	for (i = 0; i < n; i++) {
		char path[CPIO_PATH_MAX + 1];
		char *slash;

		memcpy(path, p->v[i].guest, strlen(p->v[i].guest) + 1);
		while ((slash = strrchr(path, '/')) && slash != path) {
			*slash = '\0';
			ret = plan_add_dir(p, path, 0755, e);
			if (ret) {
				snprintf(e->where, sizeof(e->where), "%s (parent of %s)", path,
					 p->v[i].guest);
				return ret;
			}
		}
	}
	ret = plan_add_bytes(p, PLAN_SENTINEL, 0444, PLAN_SENTINEL_DATA,
			     strlen(PLAN_SENTINEL_DATA), e);
	if (ret)
		return ret;
	/* Stable reorder: sorted dirs, then the rest in insertion order. */
	sorted = malloc(p->n * sizeof(*sorted));
	if (!sorted)
		return ktstr_error_set(e, ENOMEM, "order image entries", NULL, NULL, "out of memory");
	for (i = 0; i < p->n; i++)
		if (p->v[i].kind == PLAN_DIR)
			sorted[ndirs++] = p->v[i];
	qsort(sorted, ndirs, sizeof(*sorted), plan_dir_first_cmp);
	nfirst = ndirs;
	for (i = 0; i < p->n; i++)
		if (p->v[i].kind != PLAN_DIR)
			sorted[nfirst++] = p->v[i];
	free(p->v);
	p->v = sorted;
	p->cap = p->n;
	return 0;
}

/* Read one ELF that must be ELF (init, scheduler, explicit resolve_libs). */
static int plan_add_root(struct plan *p, struct closure *c, const char *host, const char *guest,
			 uint32_t mode, int must_be_elf, int resolve, struct ktstr_error *e)
{
	struct plan_entry *pe;
	int ret;

	ret = plan_add_host_file(p, host, guest, mode, &pe, e);
	if (ret)
		return ret;
	if (!elf_is_elf(pe->data, pe->len)) {
		if (must_be_elf)
			return ktstr_error_set(e, ENOEXEC, "check executable", host,
					"pass an ELF binary built for x86-64 (or set "
					"resolve_libs=false for data files)",
					"not an ELF file; %s must be an ELF executable", guest);
		return 0;
	}
	if (!resolve)
		return 0;
	return closure_add_root(c, p, pe, host, e);
}

int plan_from_request(struct plan *p, const Ktstr__BuildRequest *req, struct ktstr_error *e)
{
	static const struct { const char *path; uint32_t mode; } std_dirs[] = {
		{ "/bin", 0755 }, { "/dev", 0755 }, { "/proc", 0555 },
		{ "/sys", 0555 }, { "/tmp", 01777 },
	};
	struct closure c;
	size_t i;
	int ret;

	/* Before closure_init reads it: see plan_read_host. */
	if (fp_deps_add_stat(p->deps, CLOSURE_LDSO_CACHE, NULL))
		return ktstr_error_set(e, ENOMEM, "read dynamic linker cache", CLOSURE_LDSO_CACHE, NULL,
				"out of memory");
	ret = closure_init(&c, req->ld_library_path, e);
	if (ret)
		return ret;
	p->arch = req->has_arch ? (uint32_t)req->arch : KTSTR__ARCH__ARCH_X86_64;
	if (!ktstr_arch_elf_machine((Ktstr__Arch)p->arch)) {
		ret = ktstr_error_set(e, EINVAL, "read the request", NULL, NULL,
				      "unknown guest architecture %u", p->arch);
		goto out;
	}
	c.machine = ktstr_arch_elf_machine((Ktstr__Arch)p->arch);
	for (i = 0; i < ARRAY_SIZE(std_dirs); i++) {
		ret = plan_add_dir(p, std_dirs[i].path, std_dirs[i].mode, e);
		if (ret)
			goto out;
	}
	ret = plan_add_root(p, &c, req->init_path, "/init", 0755, 1, 1, e);
	if (ret)
		goto out;
	if (req->scheduler_path && req->scheduler_path[0]) {
		ret = plan_add_root(p, &c, req->scheduler_path, "/scheduler", 0755, 1, 1, e);
		if (ret)
			goto out;
	}
	for (i = 0; i < req->n_files; i++) {
		const Ktstr__FileSpec *fs = req->files[i];
		/* resolve_libs defaults to true; only an explicit true demands
		 * ELF, so data files can be listed without extra fields. */
		int explicit_elf = fs->has_resolve_libs && fs->resolve_libs;

		if (!strcmp(fs->guest_path, PLAN_SENTINEL)) {
			ret = ktstr_error_set(e, EEXIST, "add file to image", fs->guest_path,
				       "pick another guest path",
				       "reserved for the completeness sentinel");
			goto out;
		}
		ret = plan_add_root(p, &c, fs->host_path, fs->guest_path,
				    fs->has_mode ? fs->mode : 0, explicit_elf,
				    fs->resolve_libs, e);
		if (ret)
			goto out;
	}
	ret = closure_resolve(&c, p, e);
	if (ret)
		goto out;
	ret = plan_finalize(p, e);
out:
	closure_free(&c);
	return ret;
}
