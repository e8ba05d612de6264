/* cpio newc writer. Format (see the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte
 * ASCII header of "070701" and 13 eight-digit hex fields, the NUL-terminated
 * name, padding to a multiple of 4, the data, padding to a multiple of 4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/cpio.h"

#define CPIO_HDR_LEN 110
#define CPIO_TRAILER "TRAILER!!!"

void cpio_init(struct cpio_writer *w, uint32_t first_ino)
{
	memset(w, 0, sizeof(*w));
	w->next_ino = first_ino ? first_ino : 1;
}

int cpio_path_normalize(const char *guest_path, char *out, size_t outlen)
{
	const char *p = guest_path, *comp;
	size_t len;

	if (!guest_path || guest_path[0] != '/')
		return -EINVAL;
	len = strlen(guest_path);
	if (len > CPIO_PATH_MAX)
		return -ENAMETOOLONG;
	if (len < 2 || guest_path[len - 1] == '/')
		return -EINVAL;
	/* Walk the components after the leading '/': each must be non-empty
	 * and neither "." nor "..", so the path cannot escape the root or
	 * alias another entry. */
	for (p = guest_path + 1; *p; ) {
		size_t clen;

		comp = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - comp);
		if (clen == 0 || (clen == 1 && comp[0] == '.') ||
		    (clen == 2 && comp[0] == '.' && comp[1] == '.'))
			return -EINVAL;
		if (*p == '/')
			p++;
	}
	if (len > outlen)	/* out needs len-1 bytes + NUL */
		return -ENAMETOOLONG;
	memcpy(out, guest_path + 1, len);
	return 0;
}

static int cpio_put_pad(struct cpio_writer *w, size_t align)
{
	static const char zeros[512];
	size_t rem = w->out.len & (align - 1);

	if (!rem)
		return 0;
	return sb_append(&w->out, zeros, align - rem);
}

/* Header + name + padding; the caller appends data and its padding. */
static int cpio_put_header(struct cpio_writer *w, const char *name, uint32_t mode,
			   uint32_t nlink, size_t filesize)
{
	char hdr[CPIO_HDR_LEN + 1];
	size_t namesize = strlen(name) + 1;
	int ret;

	if (filesize > UINT32_MAX)	/* newc sizes are 32-bit */
		return -EFBIG;
	if (w->finished)
		return -EBUSY;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 w->next_ino++, mode, 0u, 0u, nlink, 0u, (uint32_t)filesize,
		 0u, 0u, 0u, 0u, (uint32_t)namesize, 0u);
	ret = sb_append(&w->out, hdr, CPIO_HDR_LEN);
	if (!ret)
		ret = sb_append(&w->out, name, namesize);
	if (!ret)
		ret = cpio_put_pad(w, 4);
	return ret;
}

/* Normalise guest_path into name[] (CPIO_PATH_MAX+1 bytes). */
static int cpio_name(const char *guest_path, char *name)
{
	return cpio_path_normalize(guest_path, name, CPIO_PATH_MAX + 1);
}

int cpio_add_dir(struct cpio_writer *w, const char *guest_path, mode_t mode)
{
	char name[CPIO_PATH_MAX + 1];
	size_t mark = w->out.len;
	int ret;

	ret = cpio_name(guest_path, name);
	if (ret)
		return ret;
	ret = cpio_put_header(w, name, S_IFDIR | (mode & 07777), 2, 0);
	if (ret) {
		w->out.len = mark;	/* never leave a half entry behind */
		return ret;
	}
	w->entries++;
	return 0;
}

int cpio_add_file(struct cpio_writer *w, const char *guest_path, mode_t mode,
		  const void *data, size_t len)
{
	char name[CPIO_PATH_MAX + 1];
	size_t mark = w->out.len;
	int ret;

	ret = cpio_name(guest_path, name);
	if (ret)
		return ret;
	ret = cpio_put_header(w, name, S_IFREG | (mode & 07777), 1, len);
	if (!ret)
		ret = sb_append(&w->out, data, len);
	if (!ret)
		ret = cpio_put_pad(w, 4);
	if (ret) {
		w->out.len = mark;
		return ret;
	}
	w->entries++;
	return 0;
}

int cpio_add_file_fd(struct cpio_writer *w, const char *guest_path, mode_t mode,
		     int fd, size_t max_len)
{
	struct strbuf data = { 0 };
	int ret;

	ret = read_fd_all(fd, &data, max_len);
	if (ret)
		goto out;
	ret = cpio_add_file(w, guest_path, mode, data.buf ? data.buf : "", data.len);
out:
	sb_free(&data);
	return ret;
}

int cpio_add_symlink(struct cpio_writer *w, const char *guest_path, const char *target)
{
	char name[CPIO_PATH_MAX + 1];
	size_t mark = w->out.len, tlen;
	int ret;

	ret = cpio_name(guest_path, name);
	if (ret)
		return ret;
	tlen = strlen(target);
	if (tlen == 0 || tlen > CPIO_PATH_MAX)
		return -EINVAL;
	/* The link target is the entry's data, without a NUL. */
	ret = cpio_put_header(w, name, S_IFLNK | 0777, 1, tlen);
	if (!ret)
		ret = sb_append(&w->out, target, tlen);
	if (!ret)
		ret = cpio_put_pad(w, 4);
	if (ret) {
		w->out.len = mark;
		return ret;
	}
	w->entries++;
	return 0;
}

int cpio_finish(struct cpio_writer *w)
{
	size_t mark = w->out.len;
	uint32_t ino = w->next_ino;
	int ret;

	/* The trailer conventionally has inode 0. */
	w->next_ino = 0;
	ret = cpio_put_header(w, CPIO_TRAILER, 0, 1, 0);
	w->next_ino = ino;
	if (ret) {
		w->out.len = mark;
		return ret;
	}
	w->finished = 1;
	return 0;
}

int cpio_pad(struct cpio_writer *w, size_t align)
{
	if (align == 0 || (align & (align - 1)) || align > 512)
		return -EINVAL;
	return cpio_put_pad(w, align);
}

void cpio_take(struct cpio_writer *w, uint8_t **buf, size_t *len)
{
	*buf = (uint8_t *)w->out.buf;
	*len = w->out.len;
	memset(&w->out, 0, sizeof(w->out));
}

void cpio_free(struct cpio_writer *w)
{
	sb_free(&w->out);
	memset(w, 0, sizeof(*w));
}
