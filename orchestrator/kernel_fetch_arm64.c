/* An arm64 kernel into the cache (kernel_fetch.h, kcache_install_arm64):
 * Debian's vmlinuz is the Image itself (sid) or its gzip (bookworm); the
 * worker's own header parser decides that it is one; the raw BTF comes out
 * of it by btf_cut, since an Image is not ELF. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/compress.h>
#include <ktstr/log.h>
#include <ktstr/util.h>

#include "arm64-guest/arm64_image.h"
#include "btf_cut.h"
#include "kconfig_need.h"
#include "kernel_cache.h"
#include "kernel_fetch.h"
#include "kernel_store.h"

#define KCONFIG_FILE_MAX (16u << 20)

/* The Image in *img (owned, replaced by its inflated copy when gzip),
 * checked by arm64_image_parse. 0 or -ENOEXEC / -EINVAL / -EFBIG with the
 * reason on stderr. */
static int image_of(const char *path, char **img, size_t *len)
{
	struct arm64_image_info info;
	char err[512];
	int ret;

	if (*len >= 2 && (uint8_t)(*img)[0] == 0x1f && (uint8_t)(*img)[1] == 0x8b) {
		uint8_t *raw = NULL;
		size_t rawlen = 0;

		ret = decompress_gzip((const uint8_t *)*img, *len, KTSTR_KERNEL_IMAGE_MAX, &raw, &rawlen);
		if (ret) {
			fprintf(stderr, "ktstr-orch kernel fetch: %s: gzip data that does not inflate "
					"into at most %u MiB: %s\n",
				path, KTSTR_KERNEL_IMAGE_MAX >> 20, strerror(-ret));
			return ret;
		}
		free(*img);
		*img = (char *)raw;
		*len = rawlen;
	}
	ret = arm64_image_parse(*img, *len, *len, &info, err, sizeof(err));
	if (ret)
		fprintf(stderr, "ktstr-orch kernel fetch: %s: %s\n", path, err);
	return ret;
}

int kcache_install_arm64(const char *tree, const char *suite, const char *packages, bool force,
			 char *key, size_t keylen)
{
	char image[PATH_MAX], config[PATH_MAX], err[512], missing[512];
	char *img = NULL, *cfg = NULL;
	size_t imglen = 0, cfglen = 0, btfoff = 0, btflen = 0;
	struct strbuf meta = { 0 };
	bool scx;
	int ret, nmiss;

	if ((ret = kfetch_tree_files(tree, packages, image, sizeof(image), config, sizeof(config),
				     key, keylen)))
		return ret;
	if ((ret = read_file(image, &img, &imglen, KTSTR_KERNEL_IMAGE_MAX)) ||
	    (ret = read_file(config, &cfg, &cfglen, KCONFIG_FILE_MAX))) {
		fprintf(stderr, "ktstr-orch kernel fetch: cannot read %s: %s\n", img ? config : image,
			strerror(-ret));
		goto out;
	}
	if ((ret = image_of(image, &img, &imglen)))
		goto out;
	scx = kconfig_has(cfg, "SCHED_CLASS_EXT");
	nmiss = kconfig_validate_arm64(cfg, missing, sizeof(missing));
	if (nmiss == 1 && !scx)
		kwarn("kernel %s has no sched_ext (CONFIG_SCHED_CLASS_EXT): fine for EEVDF tests, "
		      "sched_ext schedulers will be skipped", key);
	else if (nmiss)
		kwarn("kernel %s lacks %s: tests that need them will fail", key, missing);
	/* A blob that is not the kernel's BTF (no sched_ext_ops where the
	 * config has sched_ext) is worse than none: schedulers would build
	 * against it. Without it the entry still boots EEVDF tests. */
	if (btf_cut((const uint8_t *)img, imglen, &btfoff, &btflen, err, sizeof(err)) ||
	    btf_check((const uint8_t *)img + btfoff, btflen, scx, err, sizeof(err))) {
		kwarn("%s: %s (schedulers that need BTF will not load)", key, err);
		btflen = 0;
	}
	if ((ret = kfetch_metadata(&meta, key, suite, packages, cfg, missing, "arm64")))
		goto out;
	{
		struct kstore_in si = { .who = "kernel fetch", .key = key, .image = img,
					.imglen = imglen, .config = cfg, .cfglen = cfglen,
					.btf = btflen ? img + btfoff : NULL, .btflen = btflen,
					.metadata = meta.buf, .force = force };

		ret = kcache_store(&si);
	}
out:
	sb_free(&meta);
	free(img);
	free(cfg);
	return ret;
}
