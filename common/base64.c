/* RFC 4648 base64. Used to mirror binary protobuf results on COM2 (a text
 * channel) when the SHM ring is unavailable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/util.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *in, size_t len, char **out)
{
	const unsigned char *p = in;
	size_t olen = 4 * ((len + 2) / 3);
	char *o, *q;

	o = malloc(olen + 1);
	if (!o)
		return -ENOMEM;
	q = o;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*q++ = b64_alphabet[(v >> 18) & 63];
		*q++ = b64_alphabet[(v >> 12) & 63];
		*q++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*q++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*q = '\0';
	*out = o;
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t *o;
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0, pad = 0;

	o = malloc(len / 4 * 3 + 3);
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		/* Data after padding is malformed. */
		if (pad)
			goto err_inval;
		v = b64_value(c);
		if (v < 0)
			goto err_inval;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2)
		goto err_inval;
	*out = o;
	*outlen = n;
	return 0;
err_inval:
	free(o);
	return -EINVAL;
}
