/* Storing a kernel into the cache (kernel_store.h). */
#include "kernel_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "kernel_cache.h"
#include "pathjoin.h"

static int write_blob(const char *dir, const char *name, const void *data, size_t len)
{
	char p[PATH_MAX];

	if (path_join(p, sizeof(p), dir, name, NULL))
		return -ENAMETOOLONG;
	return write_file_create(p, data, len, 0644);
}

int kcache_store(const struct kstore_in *in)
{
	char root[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX];
	int tmpfd = -1; /* the lock of tmp, a work area (kernel_cache.h); owned */
	int ret;

	if (!in->key[0] || in->key[0] == '.' || strchr(in->key, '/') ||
	    strlen(in->key) >= 256) {
		fprintf(stderr, "ktstr-orch %s: '%s' cannot name a cache entry\n", in->who,
			in->key);
		return -EINVAL;
	}
	if ((ret = kcache_root(root, sizeof(root))) || (ret = mkdir_p(root, 0755)))
		goto fail;
	if (path_join(final, sizeof(final), root, in->key, NULL) ||
	    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%d", root, in->key, (int)getpid()) >=
		    (int)sizeof(tmp)) {
		ret = -ENAMETOOLONG;
		goto fail;
	}
	if (!access(final, F_OK) && !in->force) {
		kinfo("kernel %s is already cached at %s (use --force to replace it)", in->key,
		      final);
		return 0;
	}
	kcache_rmtree(tmp); /* a leftover of an earlier process with our pid */
	if ((ret = mkdir_p(tmp, 0755)))
		goto fail;
	tmpfd = kcache_lock(tmp, true);
	if (tmpfd < 0) {
		ret = tmpfd;
		goto fail_tmp;
	}
	if (in->bzimage && (ret = write_blob(tmp, "bzImage", in->bzimage, in->bzlen)))
		goto fail_tmp;
	if (in->vmlinux && (ret = write_blob(tmp, "vmlinux", in->vmlinux, in->vmllen)))
		goto fail_tmp;
	if (in->image && (ret = write_blob(tmp, "Image", in->image, in->imglen)))
		goto fail_tmp;
	if (in->config && (ret = write_blob(tmp, "config", in->config, in->cfglen)))
		goto fail_tmp;
	if (in->btf && (ret = write_blob(tmp, "vmlinux.btf", in->btf, in->btflen)))
		goto fail_tmp;
	if ((ret = write_blob(tmp, "metadata", in->metadata, strlen(in->metadata))))
		goto fail_tmp;
	if (in->force && !access(final, F_OK)) {
		ret = kcache_remove(root, in->key);
		if (ret == -EBUSY) {
			fprintf(stderr, "ktstr-orch %s: %s is in use (a run, shell or `kernel path` "
					"holds its lock): not replaced; try again once it ends\n",
				in->who, in->key);
			goto fail_quiet;
		}
		if (ret)
			goto fail_tmp;
	}
	/* Readers see either no entry or a whole one. */
	if (rename(tmp, final)) {
		ret = -errno;
		goto fail_tmp;
	}
	close(tmpfd);
	return 0;

fail_tmp:
	fprintf(stderr, "ktstr-orch %s: cannot store the entry %s: %s\n", in->who, final,
		strerror(-ret));
fail_quiet:
	kcache_rmtree(tmp);
	if (tmpfd >= 0)
		close(tmpfd);
	return ret;
fail:
	fprintf(stderr, "ktstr-orch %s: cannot store %s in the kernel cache: %s\n", in->who,
		in->key, strerror(-ret));
	return ret;
}
