#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/cpio.h"
#include "builder.pb-c.h"
#include "ktstr/compress.h"
#include "image.h"

void image_free(struct image *img)
{
	free(img->data);
	memset(img, 0, sizeof(*img));
}

static int image_cpio(const struct plan *p, uint8_t **buf, size_t *len, uint32_t *count,
		      struct ktstr_error *e)
{
	struct cpio_writer w;
	size_t i;
	int ret = 0;

	cpio_init(&w, 0);
	for (i = 0; i < p->n && !ret; i++) {
		const struct plan_entry *pe = &p->v[i];

		switch (pe->kind) {
		case PLAN_DIR:
			ret = cpio_add_dir(&w, pe->guest, pe->mode);
			break;
		case PLAN_FILE:
			ret = cpio_add_file(&w, pe->guest, pe->mode, pe->data, pe->len);
			break;
		case PLAN_SYMLINK:
			ret = cpio_add_symlink(&w, pe->guest, (const char *)pe->data);
			break;
		}
		if (ret)
			ktstr_error_set(e, ret, "write cpio entry", pe->guest, NULL, "%s", strerror(-ret));
	}
	if (!ret && (ret = cpio_finish(&w)))
		ktstr_error_set(e, ret, "write cpio trailer", NULL, NULL, "%s", strerror(-ret));
	if (!ret && (ret = cpio_pad(&w, IMAGE_ALIGN)))
		ktstr_error_set(e, ret, "pad cpio archive", NULL, NULL, "%s", strerror(-ret));
	if (ret) {
		cpio_free(&w);
		return ret;
	}
	*count = w.entries;
	cpio_take(&w, buf, len);
	return 0;
}

int image_build(const struct plan *p, uint32_t compression, struct image *out, struct ktstr_error *e)
{
	uint8_t *raw, *packed = NULL;
	size_t rawlen, packedlen = 0, padded;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = image_cpio(p, &raw, &rawlen, &out->file_count, e);
	if (ret)
		return ret;
	out->uncompressed = rawlen;
	switch (compression) {
	case KTSTR__COMPRESSION__COMPRESSION_NONE:
		out->data = raw;
		out->len = rawlen;
		return 0;
	case KTSTR__COMPRESSION__COMPRESSION_GZIP:
		ret = compress_gzip(raw, rawlen, &packed, &packedlen);
		break;
	case KTSTR__COMPRESSION__COMPRESSION_LZ4:
		ret = compress_lz4_legacy(raw, rawlen, &packed, &packedlen);
		break;
	default:
		ret = -EINVAL;
	}
	free(raw);
	if (ret)
		return ktstr_error_set(e, ret, "compress image", NULL,
				ret == -EINVAL ? "use NONE, GZIP or LZ4" : NULL,
				ret == -EINVAL ? "unknown compression %u" : "compression %u failed",
				compression);
	padded = (packedlen + IMAGE_ALIGN - 1) & ~(size_t)(IMAGE_ALIGN - 1);
	out->data = realloc(packed, padded);
	if (!out->data) {
		free(packed);
		return ktstr_error_set(e, ENOMEM, "compress image", NULL, NULL, "out of memory");
	}
	memset(out->data + packedlen, 0, padded - packedlen);
	out->len = padded;
	return 0;
}
