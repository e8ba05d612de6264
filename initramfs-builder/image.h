/* Turn a finished plan into the bytes of one initramfs image. */
#ifndef KTSTR_BUILDER_IMAGE_H
#define KTSTR_BUILDER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <ktstr/error.h>
#include "plan.h"

/* Images are padded with zeros to this multiple, so an archive appended by
 * the orchestrator (the per-test suffix) starts aligned; the kernel skips
 * zero padding between archives. */
#define IMAGE_ALIGN 512u

struct image {
	uint8_t *data;		/* image bytes; owned (free()) */
	size_t len;
	uint64_t uncompressed;	/* cpio bytes before compression */
	uint32_t file_count;	/* archive entries, trailer excluded */
};

/* compression is a KTSTR__COMPRESSION__* value. */
int image_build(const struct plan *p, uint32_t compression, struct image *out, struct ktstr_error *e);
void image_free(struct image *img);

#endif
