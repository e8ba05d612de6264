#include <errno.h>
#include <lz4.h>
#include <lz4hc.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ktstr/compress.h"
#include "ktstr/le.h"

int compress_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream zs;
	uLong bound;
	uint8_t *buf;
	int zret;

	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16 selects the gzip wrapper. */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, (uLong)len) + 64;
	buf = malloc(bound);
	if (!buf) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	/* avail_in is 32-bit: feed large inputs in slices. */
	do {
		size_t left = len - zs.total_in;
		uInt take = left > (1u << 30) ? (1u << 30) : (uInt)left;

		zs.avail_in = take;
		zret = deflate(&zs, zs.total_in + take == len ? Z_FINISH : Z_NO_FLUSH);
	} while (zret == Z_OK || (zret == Z_BUF_ERROR && zs.avail_out));
	if (zret != Z_STREAM_END) {
		deflateEnd(&zs);
		free(buf);
		return -EIO;
	}
	*outlen = zs.total_out;
	*out = buf;
	deflateEnd(&zs);
	return 0;
}

int compress_lz4_legacy(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	size_t chunks = len / LZ4_LEGACY_CHUNK + 1, cap, o = 4, off;
	uint8_t *buf;

	cap = 4 + chunks * (4 + (size_t)LZ4_compressBound(LZ4_LEGACY_CHUNK));
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	put_le32(buf, LZ4_LEGACY_MAGIC);
	for (off = 0; off < len; off += LZ4_LEGACY_CHUNK) {
		int n = (int)(len - off < LZ4_LEGACY_CHUNK ? len - off : LZ4_LEGACY_CHUNK);
		int c = LZ4_compress_HC((const char *)in + off, (char *)buf + o + 4, n,
					(int)(cap - o - 4), 9);

		if (c <= 0) {
			free(buf);
			return -EIO;
		}
		put_le32(buf + o, (uint32_t)c);
		o += 4 + (size_t)c;
	}
	*out = buf;
	*outlen = o;
	return 0;
}

int decompress_gzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen)
{
	size_t cap = len * 4 + 4096;
	z_stream zs;
	uint8_t *buf;
	int zret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	if (cap > max)
		cap = max;
	buf = malloc(cap ? cap : 1);
	if (!buf)
		goto err_nomem;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		zs.next_out = buf + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out);
		zret = inflate(&zs, Z_NO_FLUSH);
		if (zret == Z_STREAM_END)
			break;
		if (zret != Z_OK && zret != Z_BUF_ERROR)
			goto err_data;
		if (zs.avail_out == 0) {
			uint8_t *nb;

			if (cap >= max)
				goto err_big;
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto err_nomem;
			buf = nb;
		} else if (zret == Z_BUF_ERROR) {
			goto err_data;	/* input ended early */
		}
	}
	*outlen = zs.total_out;
	*out = buf;
	inflateEnd(&zs);
	return 0;
err_big:
	free(buf);
	inflateEnd(&zs);
	return -EFBIG;
err_data:
	free(buf);
	inflateEnd(&zs);
	return -EBADMSG;
err_nomem:
	free(buf);
	inflateEnd(&zs);
	return -ENOMEM;
}

int decompress_lz4_legacy(const uint8_t *in, size_t len, size_t max, uint8_t **out,
			  size_t *outlen)
{
	size_t i = 4, o = 0, cap = 0;
	uint8_t *buf = NULL;

	if (len < 4 || get_le32(in) != LZ4_LEGACY_MAGIC)
		return -EBADMSG;
	while (i < len) {
		uint32_t c;
		int n;

		if (len - i < 4)
			goto err_data;
		c = get_le32(in + i);
		i += 4;
		if (c == LZ4_LEGACY_MAGIC)	/* concatenated stream */
			continue;
		if (c == 0)	/* zero padding ends the stream, as in the kernel */
			break;
		if (c > len - i)
			goto err_data;
		if (o + LZ4_LEGACY_CHUNK > cap) {
			uint8_t *nb;

			if (o + LZ4_LEGACY_CHUNK > max + LZ4_LEGACY_CHUNK)
				goto err_big;
			cap = o + LZ4_LEGACY_CHUNK;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = LZ4_decompress_safe((const char *)in + i, (char *)buf + o, (int)c,
					LZ4_LEGACY_CHUNK);
		if (n < 0)
			goto err_data;
		o += (size_t)n;
		if (o > max)
			goto err_big;
		i += c;
	}
	*out = buf ? buf : malloc(1);
	*outlen = o;
	return *out ? 0 : -ENOMEM;
err_big:
	free(buf);
	return -EFBIG;
err_data:
	free(buf);
	return -EBADMSG;
}
