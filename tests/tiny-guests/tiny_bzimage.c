/* The minimal bzImage both the tiny guests and bench-share wrap their code
 * in: one setup sector, the protected-mode part loaded at 1 MiB with a
 * 0x200-byte 32-bit stub (hlt, never used) before the 64-bit entry. */
#include <stdlib.h>
#include <string.h>

#include <ktstr/le.h>

#include "tiny.h"

uint8_t *tiny_bzimage(const uint8_t *code, size_t clen, size_t *len)
{
	size_t pm = 0x200 + clen;
	uint8_t *img;

	*len = 1024 + pm;
	img = calloc(1, *len);
	if (!img)
		return NULL;
	img[0x1F1] = 1;			/* setup_sects */
	put_le16(img + 0x1FE, 0xAA55);
	img[0x201] = 0x66;		/* header ends at 0x268 */
	put_le32(img + 0x202, 0x53726448); /* "HdrS" */
	put_le16(img + 0x206, 0x020F);	/* protocol 2.15 */
	img[0x211] = 0x01;		/* LOADED_HIGH */
	put_le32(img + 0x214, 0x100000);
	put_le32(img + 0x22C, 0x7fffffff);	/* initrd_addr_max */
	put_le32(img + 0x230, 0x1000);	/* kernel_alignment */
	img[0x234] = 1;			/* relocatable */
	put_le16(img + 0x236, 0x3);	/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put_le32(img + 0x238, 4095);
	put_le64(img + 0x258, 0x100000);	/* pref_address */
	put_le32(img + 0x260, (uint32_t)((pm + 0xfff) & ~0xfffu)); /* init_size */
	memset(img + 1024, 0xf4, 0x200); /* 32-bit entry: hlt (never used) */
	memcpy(img + 1024 + 0x200, code, clen);
	return img;
}
