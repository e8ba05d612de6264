/* Content key of an image: SHA-256 over a format version, the compression,
 * the guest architecture (BuildRequest.arch) and, for every entry in archive order, its kind, guest path, mode, length
 * and bytes (symlink target for symlinks). Host paths, timestamps and the
 * request's ld_library_path are not in the key: two requests that pack the
 * same bytes at the same places share one image. */
#ifndef KTSTR_BUILDER_KEY_H
#define KTSTR_BUILDER_KEY_H

#include "plan.h"
#include <ktstr/sha256.h>

/* Bump when the archive layout or the entry encoding changes, so images
 * written by an older builder are never served for the new layout. */
#define IMAGE_FORMAT_VERSION 1u

void image_key(const struct plan *p, uint32_t compression, uint8_t key[SHA256_LEN]);

#endif
