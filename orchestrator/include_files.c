/* include_files and config_file of a suite (include_files.h): resolved,
 * walked and bounded when the suite is read, so a typo, a huge file or two
 * files at one guest path are suite errors (file:line:col, exit 2), never a
 * failed image build or a guest that misses a file. */
#include "include_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/payload.h>
#include <ktstr/strv.h>

#include "pathjoin.h"

/* What a file may not be put on, under or above, and why. */
static const struct {
	const char *path, *why;
} reserved[] = {
	{ "/init", "is ktstr's guest init" },
	{ "/scheduler", "is the scheduler under test" },
	{ "/bin/busybox", "is the image's busybox" },
	{ KTSTR_INITRD_OK_PATH, "marks a complete image" },
	{ KTSTR_INITRD_SPEC_DIR, "holds the test's spec (the per-test suffix replaces it)" },
	{ KTSTR_PAYLOAD_DIR, "holds the suite's payloads" },
	{ "/proc", "is mounted over at boot (the file would be hidden)" },
	{ "/sys", "is mounted over at boot (the file would be hidden)" },
	{ "/dev", "is mounted over at boot (the file would be hidden)" },
	{ "/tmp", "is mounted over at boot (the file would be hidden)" },
	{ "/run", "is mounted over at boot (the file would be hidden)" },
};

/* Is a equal to b or below it ("/a/b" below "/a", "/ab" not)? */
static int path_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

int include_dest_check(const char *dest, char *why, size_t whylen)
{
	size_t len = strlen(dest);

	if (dest[0] != '/') {
		snprintf(why, whylen, "'%s' is not an absolute guest path (start it with /)", dest);
		return -EINVAL;
	}
	if (len > INCLUDE_PATH_MAX) {
		snprintf(why, whylen, "a guest path of %zu bytes is longer than the %d allowed", len,
			 INCLUDE_PATH_MAX);
		return -EINVAL;
	}
	for (const char *p = dest; *p;) {
		size_t clen = strcspn(++p, "/");

		if (clen == 0 || clen > NAME_MAX || (clen == 1 && p[0] == '.') ||
		    (clen == 2 && p[0] == '.' && p[1] == '.')) {
			snprintf(why, whylen,
				 "'%s' is not a canonical guest path (no empty, '.' or '..' "
				 "components, no trailing '/', at most %d bytes each)",
				 dest, NAME_MAX);
			return -EINVAL;
		}
		p += clen;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		const char *r = reserved[i].path;

		if (path_within(dest, r) || path_within(r, dest)) {
			snprintf(why, whylen, "'%s' is %s %s, which %s; pick a path elsewhere (e.g. "
					      "under %s)",
				 dest, !strcmp(dest, r) ? "exactly" : path_within(dest, r) ? "under"
											     : "above",
				 r, reserved[i].why, INCLUDE_DIR);
			return -EINVAL;
		}
	}
	return 0;
}

void include_list_free(struct include_list *l)
{
	for (size_t i = 0; l->v && i < l->n; i++) {
		free(l->v[i].host);
		free(l->v[i].dest);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void label_of(const char *field, unsigned idx, char *buf, size_t len)
{
	if (!strcmp(field, "config_file"))
		snprintf(buf, len, "%s", field);
	else
		snprintf(buf, len, "%s[%u]", field, idx);
}

/* The count, byte and guest-path rules of one image, for one more file. */
static int acc_add(struct ys_ctx *c, struct include_acc *acc, const char *field,
		   const struct include_file *f)
{
	struct ynode at = { .line = f->line, .col = f->col };
	char me[40], other[40];

	label_of(field, f->idx, me, sizeof(me));
	if (acc->n >= INCLUDE_MAX_FILES)
		return ys_fail(c, &at,
			       "%s: %s would be file %zu of %s, more than the %d one image may "
			       "carry (a directory counts every file it holds)",
			       me, f->host, acc->n + 1, acc->whose, INCLUDE_MAX_FILES);
	if (acc->bytes + f->size > INCLUDE_MAX_TOTAL_BYTES)
		return ys_fail(c, &at,
			       "%s: %s (%llu bytes) would bring the included files of %s to %llu "
			       "bytes, more than the %llu MiB one image may carry",
			       me, f->host, (unsigned long long)f->size, acc->whose,
			       (unsigned long long)(acc->bytes + f->size),
			       INCLUDE_MAX_TOTAL_BYTES >> 20);
	for (size_t i = 0; i < acc->n; i++) {
		const char *d = acc->f[i].dest;

		if (!path_within(f->dest, d) && !path_within(d, f->dest))
			continue;
		label_of(acc->f[i].field, acc->f[i].idx, other, sizeof(other));
		if (!strcmp(d, f->dest))
			return ys_fail(c, &at,
				       "%s: %s would land at %s in %s, where %s (line %u, column "
				       "%u) already puts %s; give one of them another dest",
				       me, f->host, f->dest, acc->whose, other, acc->f[i].line,
				       acc->f[i].col, acc->f[i].host);
		return ys_fail(c, &at,
			       "%s: %s would land at %s in %s, but %s (line %u, column %u) puts "
			       "%s at %s: one guest path cannot be both a file and a directory",
			       me, f->host, f->dest, acc->whose, other, acc->f[i].line,
			       acc->f[i].col, acc->f[i].host, d);
	}
	acc->f[acc->n].dest = f->dest;
	acc->f[acc->n].host = f->host;
	acc->f[acc->n].field = field;
	acc->f[acc->n].line = f->line;
	acc->f[acc->n].col = f->col;
	acc->f[acc->n].idx = f->idx;
	acc->n++;
	acc->bytes += f->size;
	return 0;
}

int include_acc_add_list(struct ys_ctx *c, struct include_acc *acc,
			 const struct include_list *l)
{
	int ret = 0;

	for (size_t i = 0; i < l->n && !ret; i++)
		ret = acc_add(c, acc, l->field, &l->v[i]);
	return ret;
}

/* What one entry is being parsed into, for the file and directory steps. */
struct entry {
	struct ys_ctx *c;
	const struct ynode *at;	/* the path as written */
	struct include_acc *acc;
	struct include_list *out;
	unsigned idx;
	char label[40];		/* "include_files[3]" or "config_file" */
	size_t seen;		/* directory entries looked at */
	size_t added;		/* files this entry packed */
};

/* A regular file at host, checked and added at dest. */
static int add_file(struct entry *e, const char *host, const char *dest, const struct stat *st)
{
	struct include_file f;
	char why[INCLUDE_PATH_MAX + 300];
	int ret;

	if ((uint64_t)st->st_size > INCLUDE_MAX_FILE_BYTES)
		return ys_fail(e->c, e->at, "%s: %s is %llu bytes, more than the %llu MiB one "
					    "included file may have",
			       e->label, host, (unsigned long long)st->st_size,
			       INCLUDE_MAX_FILE_BYTES >> 20);
	/* As the effective ids: who reads it now (the builder's user is
	 * checked again before the build, images_check_readable). */
	if (faccessat(AT_FDCWD, host, R_OK, AT_EACCESS))
		return ys_fail(e->c, e->at, "%s: %s is not readable: %s", e->label, host,
			       strerror(errno));
	if (include_dest_check(dest, why, sizeof(why)))
		return ys_fail(e->c, e->at, "%s: %s: %s", e->label, host, why);
	if (!e->out->v && !(e->out->v = calloc(INCLUDE_MAX_FILES, sizeof(*e->out->v))))
		return -ENOMEM;
	f.size = (uint64_t)st->st_size;
	f.line = e->at->line;
	f.col = e->at->col;
	f.idx = e->idx;
	f.host = strdup(host);
	f.dest = strdup(dest);
	/* acc holds this list's files too: once it took f, v has room. */
	ret = !f.host || !f.dest ? -ENOMEM : acc_add(e->c, e->acc, e->out->field, &f);
	if (ret) {
		free(f.host);
		free(f.dest);
		return ret;
	}
	e->out->v[e->out->n++] = f;
	e->added++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file below host, at the same place below dest, in name order (the
 * image must not depend on readdir's order). Links are followed (stat);
 * anything that is neither a file nor a directory is refused. depth: how
 * many directories below the named one host is (that one: 0). */
static int walk_dir(struct entry *e, const char *host, const char *dest, unsigned depth)
{
	struct strv names = { 0 };
	struct dirent *de;
	DIR *d = opendir(host);
	int ret = 0;

	if (!d)
		return ys_fail(e->c, e->at, "%s: cannot read directory %s: %s", e->label, host,
			       strerror(errno));
	while (!ret && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++e->seen > INCLUDE_DIR_ENTRIES_MAX)
			ret = ys_fail(e->c, e->at,
				      "%s: the directory holds more than %d entries (every level "
				      "counted); name fewer, smaller directories",
				      e->label, INCLUDE_DIR_ENTRIES_MAX);
		else
			ret = strv_push(&names, de->d_name);
	}
	if (!ret && errno)
		ret = ys_fail(e->c, e->at, "%s: cannot read directory %s: %s", e->label, host,
			      strerror(errno));
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; !ret && i < names.n; i++) {
		char chost[PATH_MAX], cdest[INCLUDE_PATH_MAX + 2];
		struct stat st;

		if (path_join(chost, sizeof(chost), host, names.v[i], NULL) ||
		    snprintf(cdest, sizeof(cdest), "%s/%s", dest, names.v[i]) >=
			    (int)sizeof(cdest)) {
			ret = ys_fail(e->c, e->at, "%s: %s/%s: the path is too long (a guest path "
						   "may have %d bytes)",
				      e->label, host, names.v[i], INCLUDE_PATH_MAX);
		} else if (stat(chost, &st)) {
			ret = ys_fail(e->c, e->at, "%s: %s: %s", e->label, chost, strerror(errno));
		} else if (S_ISREG(st.st_mode)) {
			ret = add_file(e, chost, cdest, &st);
		} else if (!S_ISDIR(st.st_mode)) {
			ret = ys_fail(e->c, e->at, "%s: %s is neither a regular file nor a "
						   "directory (FIFOs, sockets and devices cannot be "
						   "packed)",
				      e->label, chost);
		} else if (depth >= INCLUDE_DIR_DEPTH_MAX) {
			ret = ys_fail(e->c, e->at, "%s: %s is more than %d directories deep below "
						   "the one named (a link loop?)",
				      e->label, chost, INCLUDE_DIR_DEPTH_MAX);
		} else {
			ret = walk_dir(e, chost, cdest, depth + 1);
		}
	}
	strv_free(&names);
	return ret;
}

/* The host path of what a `path` node names: as written when absolute,
 * else below the suite's directory. */
static int host_path(struct entry *e, const char *dir, char *buf, size_t len)
{
	const char *p = e->at->value;

	if (!*p)
		return ys_fail(e->c, e->at, "%s: the path is empty", e->label);
	if (strlen(p) > INCLUDE_PATH_MAX)
		return ys_fail(e->c, e->at, "%s: the path is %zu bytes, more than the %d allowed",
			       e->label, strlen(p), INCLUDE_PATH_MAX);
	if ((p[0] == '/' ? snprintf(buf, len, "%s", p) >= (int)len
			 : path_join(buf, len, dir, p, NULL) != 0))
		return ys_fail(e->c, e->at, "%s: the path is too long once joined to the suite's "
					    "directory %s",
			       e->label, dir);
	/* "dir/" names the directory: its files are dir/NAME, not dir//NAME. */
	for (size_t n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--)
		buf[n - 1] = '\0';
	return 0;
}

/* INCLUDE_DIR/BASENAME of the path as written (trailing '/' ignored). */
static int default_dest(struct entry *e, char *buf, size_t len)
{
	const char *p = e->at->value, *end = p + strlen(p), *base;

	while (end > p + 1 && end[-1] == '/')
		end--;
	for (base = end; base > p && base[-1] != '/'; base--)
		;
	if (base == end || (end - base == 1 && base[0] == '.') ||
	    (end - base == 2 && base[0] == '.' && base[1] == '.'))
		return ys_fail(e->c, e->at, "%s: '%s' has no name to put under %s; give it a dest",
			       e->label, p, INCLUDE_DIR);
	snprintf(buf, len, "%s/%.*s", INCLUDE_DIR, (int)(end - base), base);
	return 0;
}

static int parse_entry(struct ys_ctx *c, const struct ynode *item, const char *dir,
		       struct include_acc *acc, struct include_list *out, unsigned idx)
{
	static const char *const keys[] = { "path", "dest", NULL };
	struct entry e = { .c = c, .at = item, .acc = acc, .out = out, .idx = idx };
	const struct ynode *dn = NULL;
	char host[PATH_MAX], dest[INCLUDE_PATH_MAX + 2], why[INCLUDE_PATH_MAX + 300];
	struct stat st;
	int ret;

	label_of(out->field, idx, e.label, sizeof(e.label));
	if (item->kind == YNODE_SEQ)
		return ys_fail(c, item, "%s must be a path or {path, dest}, found a list", e.label);
	if (item->kind == YNODE_MAP) {
		if ((ret = ys_check_keys(c, item, e.label, keys)))
			return ret;
		if (!(e.at = ymap_get(item, "path")))
			return ys_fail(c, item, "%s: missing required key 'path' (the file or "
						"directory on this host, relative to the suite file)",
				       e.label);
		dn = ymap_get(item, "dest");
	}
	if ((ret = ys_expect(c, e.at, YNODE_SCALAR, e.label)) ||
	    (ret = host_path(&e, dir, host, sizeof(host))))
		return ret;
	if (dn) {
		if ((ret = ys_expect(c, dn, YNODE_SCALAR, "dest")))
			return ret;
		if (include_dest_check(dn->value, why, sizeof(why)))
			return ys_fail(c, dn, "%s.dest: %s", e.label, why);
		snprintf(dest, sizeof(dest), "%s", dn->value);
	} else if ((ret = default_dest(&e, dest, sizeof(dest)))) {
		return ret;
	}
	if (stat(host, &st))
		return ys_fail(c, e.at, "%s: %s: %s", e.label, host, strerror(errno));
	if (S_ISREG(st.st_mode))
		return add_file(&e, host, dest, &st);
	if (!S_ISDIR(st.st_mode))
		return ys_fail(c, e.at, "%s: %s is neither a regular file nor a directory (FIFOs, "
					"sockets and devices cannot be packed)",
			       e.label, host);
	if (!strcmp(out->field, "config_file"))
		return ys_fail(c, e.at, "config_file: %s is a directory; name the file the "
					"scheduler reads",
			       host);
	ret = walk_dir(&e, host, dest, 0);
	if (!ret && !e.added)
		return ys_fail(c, e.at, "%s: directory %s holds no files: nothing would be packed",
			       e.label, host);
	return ret;
}

int include_parse(struct ys_ctx *c, const struct ynode *n, const char *dir,
		  struct include_acc *acc, struct include_list *out)
{
	int ret = 0;

	out->field = "include_files";
	if (n->kind != YNODE_SEQ)
		return parse_entry(c, n, dir, acc, out, 0);
	if (!n->n)
		return ys_fail(c, n, "include_files: the list is empty; name a file or remove the "
				     "key");
	for (size_t i = 0; i < n->n && !ret; i++)
		ret = parse_entry(c, n->items[i], dir, acc, out, (unsigned)i);
	return ret;
}

int include_parse_config(struct ys_ctx *c, const struct ynode *n, const char *dir,
			 struct include_acc *acc, struct include_list *out)
{
	out->field = "config_file";
	if (n->kind != YNODE_SCALAR)
		return ys_fail(c, n, "config_file must be a path (the file on this host, relative "
				     "to the suite file), found %s",
			       n->kind == YNODE_MAP ? "a mapping" : "a list");
	return parse_entry(c, n, dir, acc, out, 0);
}
