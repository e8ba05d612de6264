/* The PROFRAW message codec (ktstr/covmsg.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/covmsg.h>
#include <ktstr/guest_contract.h>
#include <ktstr/le.h>

int covmsg_parse(const uint8_t *payload, size_t len, struct covmsg *m)
{
	uint32_t plen, dlen;

	if (len < KTSTR_COVMSG_HDR)
		return -EBADMSG;
	plen = get_le32(payload);
	dlen = get_le32(payload + 4);
	if (plen > KTSTR_COV_PATH_MAX || (uint64_t)KTSTR_COVMSG_HDR + plen + dlen != len)
		return -EBADMSG;
	m->path = (const char *)payload + KTSTR_COVMSG_HDR;
	m->path_len = plen;
	m->data = payload + KTSTR_COVMSG_HDR + plen;
	m->data_len = dlen;
	return 0;
}

int covmsg_build(const char *path, size_t path_len, const void *data, size_t data_len,
		 uint8_t **out, size_t *len)
{
	uint8_t *b;
	size_t n;

	if (path_len > KTSTR_COV_PATH_MAX || data_len > UINT32_MAX - KTSTR_COVMSG_HDR - path_len)
		return -EMSGSIZE;
	n = KTSTR_COVMSG_HDR + path_len + data_len;
	b = malloc(n);
	if (!b)
		return -ENOMEM;
	put_le32(b, (uint32_t)path_len);
	put_le32(b + 4, (uint32_t)data_len);
	if (path_len)
		memcpy(b + KTSTR_COVMSG_HDR, path, path_len);
	if (data_len)
		memcpy(b + KTSTR_COVMSG_HDR + path_len, data, data_len);
	*out = b;
	*len = n;
	return 0;
}
