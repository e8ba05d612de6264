#include <string.h>

#include "key.h"

static void key_u64(struct sha256 *s, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)	/* little-endian: host-independent key */
		b[i] = (uint8_t)(v >> (8 * i));
	sha256_update(s, b, sizeof(b));
}

void image_key(const struct plan *p, uint32_t compression, uint8_t key[SHA256_LEN])
{
	static const char domain[] = "ktstr-initramfs-image";
	struct sha256 s;
	size_t i;

	sha256_init(&s);
	sha256_update(&s, domain, sizeof(domain));
	key_u64(&s, IMAGE_FORMAT_VERSION);
	key_u64(&s, compression);
	key_u64(&s, p->arch);
	key_u64(&s, p->n);
	for (i = 0; i < p->n; i++) {
		const struct plan_entry *pe = &p->v[i];

		/* Length-prefixed fields: no two different entry lists can
		 * produce the same byte stream. */
		key_u64(&s, pe->kind);
		key_u64(&s, strlen(pe->guest));
		sha256_update(&s, pe->guest, strlen(pe->guest));
		key_u64(&s, pe->mode);
		key_u64(&s, pe->len);
		if (pe->len)
			sha256_update(&s, pe->data, pe->len);
	}
	sha256_final(&s, key);
}
