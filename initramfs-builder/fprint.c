#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ktstr/le.h>
#include <ktstr/util.h>

#include "fprint.h"
#include "key.h"

static void fp_u64(struct sha256 *s, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	sha256_update(s, b, sizeof(b));
}

/* Length-prefixed, with absent (NULL) distinct from empty, so no two
 * different requests produce the same stream. */
static void fp_str(struct sha256 *s, const char *str)
{
	if (!str) {
		fp_u64(s, UINT64_MAX);
		return;
	}
	fp_u64(s, strlen(str));
	sha256_update(s, str, strlen(str));
}

void fp_request_key(const Ktstr__BuildRequest *req, uint32_t compression,
		    uint8_t out[SHA256_LEN])
{
	static const char domain[] = "ktstr-initramfs-fingerprint";
	struct sha256 s;
	size_t i;

	sha256_init(&s);
	sha256_update(&s, domain, sizeof(domain));
	fp_u64(&s, FP_FORMAT_VERSION);
	fp_u64(&s, IMAGE_FORMAT_VERSION);
	fp_u64(&s, compression);
	fp_u64(&s, req->has_arch ? (uint64_t)req->arch : 0);
	fp_str(&s, req->init_path);
	fp_str(&s, req->scheduler_path);
	fp_str(&s, req->ld_library_path);
	fp_u64(&s, req->n_files);
	for (i = 0; i < req->n_files; i++) {
		const Ktstr__FileSpec *fs = req->files[i];

		fp_str(&s, fs->host_path);
		fp_str(&s, fs->guest_path);
		fp_u64(&s, fs->has_mode);
		fp_u64(&s, fs->has_mode ? fs->mode : 0);
		fp_u64(&s, fs->has_resolve_libs);
		fp_u64(&s, fs->resolve_libs);
	}
	sha256_final(&s, out);
}

void fp_stat_from(struct fp_stat *fs, const struct stat *st)
{
	memset(fs, 0, sizeof(*fs));
	fs->mode = (uint32_t)st->st_mode;
	fs->dev = (uint64_t)st->st_dev;
	fs->ino = (uint64_t)st->st_ino;
	fs->size = (uint64_t)st->st_size;
	fs->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	fs->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

static void fp_stat_path(struct fp_stat *fs, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		memset(fs, 0, sizeof(*fs));
		fs->err = (uint32_t)errno;
		return;
	}
	fp_stat_from(fs, &st);
}

static int fp_find(const struct fp_deps *d, uint32_t kind, const char *path)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].kind == kind && !strcmp(d->v[i].path, path))
			return 1;
	return 0;
}

static struct fp_dep *fp_push(struct fp_deps *d, uint32_t kind, const char *path)
{
	struct fp_dep *dep;

	if (KTSTR_GROW(d->v, &d->cap, d->n + 1, 32))
		return NULL;
	dep = &d->v[d->n];
	memset(dep, 0, sizeof(*dep));
	dep->kind = kind;
	dep->path = strdup(path);
	if (!dep->path)
		return NULL;
	d->n++;
	return dep;
}

int fp_deps_add_stat(struct fp_deps *d, const char *path, const struct stat *st)
{
	struct fp_dep *dep;

	if (!d || fp_find(d, FP_DEP_STAT, path))
		return 0;
	dep = fp_push(d, FP_DEP_STAT, path);
	if (!dep)
		return -ENOMEM;
	if (st)
		fp_stat_from(&dep->st, st);
	else
		fp_stat_path(&dep->st, path);
	return 0;
}

int fp_deps_add_realpath(struct fp_deps *d, const char *path, const char *real)
{
	struct fp_dep *dep;

	if (!d || fp_find(d, FP_DEP_REALPATH, path))
		return 0;
	dep = fp_push(d, FP_DEP_REALPATH, path);
	if (!dep)
		return -ENOMEM;
	dep->real = strdup(real);
	if (!dep->real) {
		free(dep->path);
		d->n--;
		return -ENOMEM;
	}
	return 0;
}

int fp_deps_check(const struct fp_deps *d, const char **changed)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct fp_dep *dep = &d->v[i];
		struct fp_stat now;
		char rp[PATH_MAX];
		int same;

		if (dep->kind == FP_DEP_STAT) {
			fp_stat_path(&now, dep->path);
			same = !memcmp(&now, &dep->st, sizeof(now));
		} else {
			/* realpath() failing now where it worked before is
			 * a change too. */
			same = realpath(dep->path, rp) && !strcmp(rp, dep->real);
		}
		if (!same) {
			if (changed)
				*changed = dep->path;
			return 0;
		}
	}
	return 1;
}

int fp_deps_racy(const struct fp_deps *d, int64_t now_ns, int64_t window_ns)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct fp_stat *s = &d->v[i].st;

		if (d->v[i].kind != FP_DEP_STAT || s->err)
			continue;
		if (s->mtime_ns > now_ns - window_ns || s->ctime_ns > now_ns - window_ns)
			return 1;
	}
	return 0;
}

void fp_deps_free(struct fp_deps *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].path);
		free(d->v[i].real);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void fp_record_free(struct fp_record *r)
{
	size_t i;

	fp_deps_free(&r->deps);
	for (i = 0; i < r->nlibs; i++)
		free(r->libs[i]);
	free(r->libs);
	memset(r, 0, sizeof(*r));
}

/* Encoding: a growable buffer, every integer little-endian. */
struct fp_buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void fb_put(struct fp_buf *b, const void *data, size_t len)
{
	if (b->err)
		return;
	if (len > SIZE_MAX - b->len || KTSTR_GROW(b->p, &b->cap, b->len + len, 4096)) {
		b->err = -ENOMEM;
		return;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void fb_u32(struct fp_buf *b, uint32_t v)
{
	uint8_t x[4];

	put_le32(x, v);
	fb_put(b, x, sizeof(x));
}

static void fb_u64(struct fp_buf *b, uint64_t v)
{
	fb_u32(b, (uint32_t)v);
	fb_u32(b, (uint32_t)(v >> 32));
}

static void fb_str(struct fp_buf *b, const char *s)
{
	fb_u32(b, (uint32_t)strlen(s));
	fb_put(b, s, strlen(s));
}

int fp_encode(const struct fp_record *r, uint8_t **out, size_t *len)
{
	struct fp_buf b = { 0 };
	size_t i;

	fb_put(&b, r->req, SHA256_LEN);
	fb_put(&b, r->key, SHA256_LEN);
	fb_u32(&b, r->meta.compression);
	fb_u32(&b, r->meta.file_count);
	fb_u64(&b, r->meta.size);
	fb_u64(&b, r->meta.uncompressed);
	fb_u32(&b, (uint32_t)r->deps.n);
	fb_u32(&b, (uint32_t)r->nlibs);
	for (i = 0; i < r->deps.n; i++) {
		const struct fp_dep *d = &r->deps.v[i];

		fb_u32(&b, d->kind);
		fb_str(&b, d->path);
		if (d->kind == FP_DEP_REALPATH) {
			fb_str(&b, d->real);
			continue;
		}
		fb_u32(&b, d->st.err);
		fb_u32(&b, d->st.mode);
		fb_u64(&b, d->st.dev);
		fb_u64(&b, d->st.ino);
		fb_u64(&b, d->st.size);
		fb_u64(&b, (uint64_t)d->st.mtime_ns);
		fb_u64(&b, (uint64_t)d->st.ctime_ns);
	}
	for (i = 0; i < r->nlibs; i++)
		fb_str(&b, r->libs[i]);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* Decoding: a cursor that turns any overrun into -EBADMSG. */
struct fp_cur {
	const uint8_t *p;
	size_t left;
	int err;
};

static const uint8_t *fc_take(struct fp_cur *c, size_t len)
{
	const uint8_t *p = c->p;

	if (c->err || len > c->left) {
		c->err = -EBADMSG;
		return NULL;
	}
	c->p += len;
	c->left -= len;
	return p;
}

static uint32_t fc_u32(struct fp_cur *c)
{
	const uint8_t *p = fc_take(c, 4);

	return p ? get_le32(p) : 0;
}

static uint64_t fc_u64(struct fp_cur *c)
{
	uint64_t lo = fc_u32(c);

	return lo | (uint64_t)fc_u32(c) << 32;
}

/* A path: 1..PATH_MAX-1 bytes, no NUL inside. NULL on error (c->err). */
static char *fc_str(struct fp_cur *c)
{
	uint32_t n = fc_u32(c);
	const uint8_t *p;
	char *s;

	if (!c->err && (n == 0 || n >= PATH_MAX))
		c->err = -EBADMSG;
	p = fc_take(c, n);
	if (!p)
		return NULL;
	if (memchr(p, '\0', n)) {
		c->err = -EBADMSG;
		return NULL;
	}
	s = strndup((const char *)p, n);
	if (!s)
		c->err = -ENOMEM;
	return s;
}

int fp_decode(const uint8_t *buf, size_t len, struct fp_record *r)
{
	struct fp_cur c = { buf, len, 0 };
	const uint8_t *p;
	uint32_t ndeps, nlibs, i;

	memset(r, 0, sizeof(*r));
	if ((p = fc_take(&c, SHA256_LEN)))
		memcpy(r->req, p, SHA256_LEN);
	if ((p = fc_take(&c, SHA256_LEN)))
		memcpy(r->key, p, SHA256_LEN);
	r->meta.compression = fc_u32(&c);
	r->meta.file_count = fc_u32(&c);
	r->meta.size = fc_u64(&c);
	r->meta.uncompressed = fc_u64(&c);
	ndeps = fc_u32(&c);
	nlibs = fc_u32(&c);
	if (c.err || ndeps > FP_MAX_DEPS || nlibs > FP_MAX_LIBS)
		goto err_bad;
	r->deps.v = calloc(ndeps ? ndeps : 1, sizeof(*r->deps.v));
	r->libs = calloc(nlibs ? nlibs : 1, sizeof(*r->libs));
	if (!r->deps.v || !r->libs) {
		c.err = -ENOMEM;
		goto err;
	}
	r->deps.cap = ndeps;
	for (i = 0; i < ndeps && !c.err; i++) {
		struct fp_dep *d = &r->deps.v[i];

		d->kind = fc_u32(&c);
		d->path = fc_str(&c);
		r->deps.n++;	/* owned from here, freed on error */
		if (c.err)
			break;
		if (d->kind == FP_DEP_REALPATH) {
			d->real = fc_str(&c);
			continue;
		}
		if (d->kind != FP_DEP_STAT) {
			c.err = -EBADMSG;
			break;
		}
		d->st.err = fc_u32(&c);
		d->st.mode = fc_u32(&c);
		d->st.dev = fc_u64(&c);
		d->st.ino = fc_u64(&c);
		d->st.size = fc_u64(&c);
		d->st.mtime_ns = (int64_t)fc_u64(&c);
		d->st.ctime_ns = (int64_t)fc_u64(&c);
	}
	for (i = 0; i < nlibs && !c.err; i++) {
		r->libs[i] = fc_str(&c);
		if (r->libs[i])
			r->nlibs++;
	}
	if (!c.err && c.left)
		c.err = -EBADMSG;	/* trailing bytes: not what we wrote */
	if (c.err)
		goto err;
	return 0;
err_bad:
	c.err = -EBADMSG;
err:
	fp_record_free(r);
	return c.err;
}
