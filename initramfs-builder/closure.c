/* Library resolution. Every candidate is opened through plan_read_host, so
 * the plan module stays the single place that reads host files. */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ktstr/cpio.h"
#include "ktstr/util.h"
#include "closure.h"

#define CL_LDSO_CACHE CLOSURE_LDSO_CACHE
#define CL_MAX_DIRS 5

/* What ld.so of each guest architecture searches without a cache of its
 * own (Debian's glibc: the multiarch directories, then the generic ones),
 * its $LIB and $PLATFORM, and the ld.so.cache entries it may use. The guest
 * has no ld.so.cache, so a library found elsewhere on the host is aliased
 * from the multiarch directory (multiarch[0]). */
struct cl_arch {
	unsigned machine;
	uint32_t ldcache_req;
	const char *lib, *platform;
	const char *dirs[CL_MAX_DIRS]; /* NULL-terminated when shorter */
};
static const struct cl_arch cl_arches[] = {
	{ EM_X86_64, LDCACHE_REQ_X8664_LIB64, "lib/x86_64-linux-gnu", "x86_64",
	  { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/lib" } },
	{ EM_AARCH64, LDCACHE_REQ_AARCH64_LIB64, "lib/aarch64-linux-gnu", "aarch64",
	  { "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib", NULL } },
};

/* The table row of machine; x86_64's for one without a row (plan.c refuses
 * every machine ktstr_arch_elf_machine does not name before this runs). */
static const struct cl_arch *cl_arch_of(unsigned machine)
{
	for (size_t i = 0; i < ARRAY_SIZE(cl_arches); i++)
		if (cl_arches[i].machine == machine)
			return &cl_arches[i];
	return &cl_arches[0];
}

enum cl_source { CL_RPATH, CL_LLP, CL_RUNPATH, CL_CACHE, CL_DEFAULT };

int closure_clean_path(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = in;

	if (!in || in[0] != '/')
		return -EINVAL;
	while (*p) {
		const char *comp;
		size_t clen;

		while (*p == '/')
			p++;
		comp = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - comp);
		if (clen == 0 || (clen == 1 && comp[0] == '.'))
			continue;
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;	/* drop the '/' too */
			continue;
		}
		if (o + 1 + clen + 1 > outlen)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, comp, clen);
		o += clen;
	}
	if (o == 0)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

static int cl_split(const char *list, char ***out, size_t *n)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char **nv;

		if (len) {	/* empty element = cwd for ld.so: meaningless here */
			nv = realloc(*out, (*n + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			*out = nv;
			nv[*n] = strndup(p, len);
			if (!nv[*n])
				return -ENOMEM;
			(*n)++;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int closure_init(struct closure *c, const char *ld_library_path, struct ktstr_error *e)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->machine = EM_X86_64;
	ret = ldcache_load(&c->cache, CL_LDSO_CACHE);
	if (ret && ret != -ENOENT)
		return ktstr_error_set(e, ret, "read dynamic linker cache", CL_LDSO_CACHE,
				"run ldconfig to regenerate it", "%s",
				ret == -EINVAL ? "not a glibc-ld.so.cache1.1 file" : strerror(-ret));
	if (cl_split(ld_library_path, &c->llp, &c->nllp))
		return ktstr_error_set(e, ENOMEM, "parse LD_LIBRARY_PATH", NULL, NULL, "out of memory");
	return 0;
}

void closure_free(struct closure *c)
{
	size_t i;

	ldcache_free(&c->cache);
	for (i = 0; i < c->nllp; i++)
		free(c->llp[i]);
	free(c->llp);
	for (i = 0; i < c->nobjs; i++) {
		free(c->objs[i].host);
		free(c->objs[i].origin);
		elf_info_free(&c->objs[i].ei);
	}
	free(c->objs);
	for (i = 0; i < c->nseen; i++)
		free(c->seen[i]);
	free(c->seen);
	memset(c, 0, sizeof(*c));
}

/* Takes ownership of *ei (cleared) on success and on failure. */
static int cl_push_obj(struct closure *c, const char *host, struct elf_info *ei, size_t root)
{
	struct closure_obj *o;
	char *slash;

	if (KTSTR_GROW(c->objs, &c->cap, c->nobjs + 1, 16))
		goto err;
	o = &c->objs[c->nobjs];
	memset(o, 0, sizeof(*o));
	o->host = strdup(host);
	o->origin = strdup(host);
	if (!o->host || !o->origin) {
		free(o->host);
		free(o->origin);
		goto err;
	}
	slash = strrchr(o->origin, '/');
	if (slash)
		*(slash == o->origin ? slash + 1 : slash) = '\0';
	o->ei = *ei;
	memset(ei, 0, sizeof(*ei));
	o->root = root == (size_t)-1 ? c->nobjs : root;
	c->nobjs++;
	return 0;
err:
	elf_info_free(ei);
	return -ENOMEM;
}

int closure_add_root(struct closure *c, struct plan *p, const struct plan_entry *pe,
		     const char *host, struct ktstr_error *e)
{
	char rp[PATH_MAX], why[256];
	struct elf_info ei;
	int ret;

	ret = elf_inspect(pe->data, pe->len, c->machine, &ei, why, sizeof(why));
	if (ret)
		return ktstr_error_set(e, ret, "inspect ELF", host,
				       "pass an ELF binary of the guest's architecture", "%s", why);
	/* The main program's $ORIGIN is its real location (ld.so reads
	 * /proc/self/exe), so resolve symlinks for roots. The answer decides
	 * where RPATH/RUNPATH $ORIGIN points, so the fingerprint keeps it; a
	 * failed realpath cannot be checked later, so it disables the record. */
	if (!realpath(host, rp)) {
		snprintf(rp, sizeof(rp), "%s", host);
		if (p->deps)
			p->deps->uncacheable = 1;
	} else if (fp_deps_add_realpath(p->deps, host, rp)) {
		elf_info_free(&ei);
		return ktstr_error_set(e, ENOMEM, "inspect ELF", host, NULL, "out of memory");
	}
	ret = cl_push_obj(c, rp, &ei, (size_t)-1);
	if (ret)
		return ktstr_error_set(e, ret, "inspect ELF", host, NULL, "out of memory");
	c->nroots++;
	return 0;
}

/* Expand $ORIGIN/$LIB/$PLATFORM in one search directory. Returns 0, or
 * -ENOENT for an unknown token (ld.so ignores such an element). */
static int cl_expand(const char *dir, const char *origin, const struct cl_arch *a, char *out,
		     size_t outlen)
{
	const struct { const char *tok; const char *val; } toks[] = {
		{ "ORIGIN", NULL }, { "LIB", a->lib }, { "PLATFORM", a->platform },
	};
	size_t o = 0;
	const char *p = dir;

	while (*p) {
		const char *val = NULL;
		size_t i, vlen, skip = 0;

		if (*p != '$') {
			if (o + 2 > outlen)
				return -ENAMETOOLONG;
			out[o++] = *p++;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(toks); i++) {
			size_t tl = strlen(toks[i].tok);

			if (!strncmp(p + 1, toks[i].tok, tl) &&
			    (p[1 + tl] == '/' || p[1 + tl] == '\0')) {
				skip = 1 + tl;
			} else if (p[1] == '{' && !strncmp(p + 2, toks[i].tok, tl) && p[2 + tl] == '}') {
				skip = 3 + tl;
			}
			if (skip) {
				val = toks[i].val ? toks[i].val : origin;
				break;
			}
		}
		if (!val)
			return -ENOENT;
		vlen = strlen(val);
		if (o + vlen + 1 > outlen)
			return -ENAMETOOLONG;
		memcpy(out + o, val, vlen);
		o += vlen;
		p += skip;
	}
	out[o] = '\0';
	return 0;
}

struct cl_found {
	char guest[PATH_MAX];	/* cleaned path where the library was found */
	uint8_t *data;		/* its bytes; owned */
	size_t len;
	struct stat st;
	struct elf_info ei;	/* owned */
	enum cl_source src;
	struct fp_deps *deps;	/* plan's recorder (may be NULL); not owned */
	unsigned machine;	/* the guest's ELF machine (closure.machine) */
};

/* Try dir/name. 1 = found (f filled), 0 = not here, <0 = hard error. */
static int cl_try(const char *dir, const char *name, const char *origin, enum cl_source src,
		  struct cl_found *f)
{
	char expanded[PATH_MAX], joined[PATH_MAX + NAME_MAX + 2], why[256];
	struct ktstr_error ignore = { 0 };
	int ret;

	if (cl_expand(dir, origin, cl_arch_of(f->machine), expanded, sizeof(expanded)))
		return 0;
	if (expanded[0] != '/')
		return 0;	/* relative search dirs depend on ld.so's cwd */
	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", expanded, name) >= sizeof(joined))
		return 0;
	if (closure_clean_path(joined, f->guest, sizeof(f->guest)))
		return 0;
	ret = plan_read_host(f->deps, f->guest, &f->data, &f->len, &f->st, &ignore);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return 0;	/* absent or unreadable here: keep searching, like ld.so */
	if (elf_inspect(f->data, f->len, f->machine, &f->ei, why, sizeof(why))) {
		free(f->data);	/* wrong class/machine or not ELF: skip it */
		f->data = NULL;
		return 0;
	}
	f->src = src;
	return 1;
}

static int cl_try_list(const char *list, const char *name, const char *origin,
		       enum cl_source src, struct cl_found *f)
{
	char **dirs = NULL;
	size_t n = 0, i;
	int ret = 0;

	if (!list)
		return 0;
	if (cl_split(list, &dirs, &n))
		ret = -ENOMEM;
	for (i = 0; !ret && i < n; i++)
		ret = cl_try(dirs[i], name, origin, src, f);
	for (i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	return ret;
}

/* Search for name on behalf of object idx. */
static int cl_search(struct closure *c, size_t idx, const char *name, struct cl_found *f)
{
	const struct closure_obj *o = &c->objs[idx], *r = &c->objs[o->root];
	const struct cl_arch *a = cl_arch_of(c->machine);
	const char *hit;
	size_t i;
	int ret;

	if (strchr(name, '/')) {
		/* A DT_NEEDED with a slash is a path, used as is. */
		if (name[0] != '/')
			return 0;
		return cl_try("/", name + 1, o->origin, CL_RPATH, f);
	}
	if (!o->ei.runpath) {
		ret = cl_try_list(o->ei.rpath, name, o->origin, CL_RPATH, f);
		if (ret)
			return ret;
		if (r != o && !r->ei.runpath) {
			ret = cl_try_list(r->ei.rpath, name, r->origin, CL_RPATH, f);
			if (ret)
				return ret;
		}
	}
	for (i = 0; i < c->nllp; i++) {
		ret = cl_try(c->llp[i], name, r->origin, CL_LLP, f);
		if (ret)
			return ret;
	}
	ret = cl_try_list(o->ei.runpath, name, o->origin, CL_RUNPATH, f);
	if (ret)
		return ret;
	if (c->cache.buf && (hit = ldcache_lookup(&c->cache, name, a->ldcache_req))) {
		const char *slash = strrchr(hit, '/');
		char dir[PATH_MAX];

		if (slash && (size_t)(slash - hit) < sizeof(dir)) {
			memcpy(dir, hit, (size_t)(slash - hit));
			dir[slash - hit] = '\0';
			ret = cl_try(dir[0] ? dir : "/", slash + 1, o->origin, CL_CACHE, f);
			if (ret)
				return ret;
		}
	}
	for (i = 0; i < CL_MAX_DIRS && a->dirs[i]; i++) {
		ret = cl_try(a->dirs[i], name, o->origin, CL_DEFAULT, f);
		if (ret)
			return ret;
	}
	return 0;
}

/* Record (root, name); returns 1 if it was already there. */
static int cl_seen(struct closure *c, size_t root, const char *name)
{
	char key[NAME_MAX + 32];
	char **nv;
	size_t i;

	snprintf(key, sizeof(key), "%zu\n%s", root, name);
	for (i = 0; i < c->nseen; i++)
		if (!strcmp(c->seen[i], key))
			return 1;
	nv = realloc(c->seen, (c->nseen + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->seen = nv;
	nv[c->nseen] = strdup(key);
	if (!nv[c->nseen])
		return -ENOMEM;
	c->nseen++;
	return 0;
}

static struct plan_entry *cl_find_identity(struct plan *p, const struct stat *st)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].kind == PLAN_FILE && p->v[i].dev == st->st_dev &&
		    p->v[i].ino == st->st_ino)
			return &p->v[i];
	return NULL;
}

static int cl_lib_listed(const struct plan *p, const char *guest)
{
	size_t i;

	for (i = 0; i < p->nlibs; i++)
		if (!strcmp(p->libs[i], guest))
			return 1;
	return 0;
}

/* Put a found library into the plan. *added = 1 if it is new there (so its
 * own DT_NEEDED must be followed). Takes f->data. */
static int cl_place(struct plan *p, struct cl_found *f, int *added, const char *name,
		    struct ktstr_error *e)
{
	struct plan_entry *same = plan_find(p, f->guest), *twin;
	int ret;

	*added = 0;
	if (same) {
		free(f->data);
		f->data = NULL;
		if (same->kind == PLAN_FILE && same->dev == f->st.st_dev &&
		    same->ino == f->st.st_ino)
			goto listed;
		if (same->kind == PLAN_SYMLINK)
			goto listed;	/* an alias we made earlier */
		return ktstr_error_set(e, EEXIST, "pack shared library", f->guest,
				"do not pack a different file at a library's path",
				"another file already occupies this guest path");
	}
	twin = cl_find_identity(p, &f->st);
	if (twin) {
		char target[PATH_MAX];

		snprintf(target, sizeof(target), "%s", twin->guest);
		free(f->data);
		f->data = NULL;
		ret = plan_add_symlink(p, f->guest, target, e);
	} else {
		ret = plan_add_owned(p, f->guest, 0, f->data, f->len, &f->st, NULL, e);
		f->data = NULL;
		*added = 1;
	}
	if (ret)
		return ret;
	/* Found through the host's cache or LD_LIBRARY_PATH in a directory the
	 * guest's ld.so does not search (it has neither): alias it from the
	 * multiarch directory so the guest finds it by name. */
	if (f->src == CL_CACHE || f->src == CL_LLP) {
		size_t i, dlen = (size_t)(strrchr(f->guest, '/') - f->guest);
		int is_default = 0;
		char alias[PATH_MAX + NAME_MAX + 2];

		const struct cl_arch *a = cl_arch_of(f->machine);

		for (i = 0; i < CL_MAX_DIRS && a->dirs[i]; i++)
			if (strlen(a->dirs[i]) == dlen && !strncmp(a->dirs[i], f->guest, dlen))
				is_default = 1;
		snprintf(alias, sizeof(alias), "%s/%s", a->dirs[0], name);
		if (!is_default && !strchr(name, '/') && !plan_find(p, alias)) {
			ret = plan_add_symlink(p, alias, f->guest, e);
			if (ret)
				return ret;
		}
	}
listed:
	if (!cl_lib_listed(p, f->guest) && plan_add_lib_name(p, f->guest))
		return ktstr_error_set(e, ENOMEM, "pack shared library", f->guest, NULL, "out of memory");
	return 0;
}

static int cl_add_interp(struct closure *c, struct plan *p, size_t idx, struct ktstr_error *e)
{
	const struct closure_obj *o = &c->objs[idx];
	const char *interp = o->ei.interp, *base;
	struct cl_found f = { .deps = p->deps, .machine = c->machine };
	int ret, added;

	if (!interp)
		return 0;
	if (closure_clean_path(interp, f.guest, sizeof(f.guest)))
		return ktstr_error_set(e, EINVAL, "resolve program interpreter", o->host,
				NULL, "PT_INTERP '%s' is not an absolute path", interp);
	ret = plan_read_host(f.deps, f.guest, &f.data, &f.len, &f.st, e);
	if (ret) {
		snprintf(e->what, sizeof(e->what), "read program interpreter of %s", o->host);
		return ret;
	}
	f.src = CL_RPATH;	/* packed at its own path, no alias */
	ret = cl_place(p, &f, &added, interp, e);
	if (ret)
		return ret;
	/* ld.so satisfies DT_NEEDED "ld-linux-x86-64.so.2" with itself. */
	base = strrchr(f.guest, '/') + 1;
	ret = cl_seen(c, o->root, base);
	return ret < 0 ? ktstr_error_set(e, ENOMEM, "resolve libraries", NULL, NULL, "out of memory") : 0;
}

int closure_resolve(struct closure *c, struct plan *p, struct ktstr_error *e)
{
	size_t idx, i;
	int ret;

	for (idx = 0; idx < c->nroots; idx++) {
		ret = cl_add_interp(c, p, idx, e);
		if (ret)
			return ret;
	}
	/* Breadth-first, the order ld.so loads in; objs grows as we go. */
	for (idx = 0; idx < c->nobjs; idx++) {
		for (i = 0; i < c->objs[idx].ei.nneeded; i++) {
			const char *name = c->objs[idx].ei.needed[i];
			struct cl_found f = { .deps = p->deps, .machine = c->machine };
			int added;

			ret = cl_seen(c, c->objs[idx].root, name);
			if (ret < 0)
				return ktstr_error_set(e, ENOMEM, "resolve libraries", NULL, NULL, "out of memory");
			if (ret)
				continue;
			ret = cl_search(c, idx, name, &f);
			if (ret < 0)
				return ktstr_error_set(e, ret, "resolve libraries", NULL, NULL, "out of memory");
			if (!ret)
				return ktstr_error_set(e, ENOENT, "resolve shared library", c->objs[idx].host,
						"install the library, set LD_LIBRARY_PATH for "
						"ktstr, or pass the file with resolve_libs=false",
						"needs %s, which is not in its RPATH/RUNPATH, "
						"LD_LIBRARY_PATH, /etc/ld.so.cache or the default "
						"library directories", name);
			ret = cl_place(p, &f, &added, name, e);
			if (ret) {
				elf_info_free(&f.ei);
				return ret;
			}
			if (added) {
				ret = cl_push_obj(c, f.guest, &f.ei, c->objs[idx].root);
				if (ret)
					return ktstr_error_set(e, ret, "resolve libraries", NULL, NULL,
							"out of memory");
			} else {
				elf_info_free(&f.ei);
			}
		}
	}
	return 0;
}
