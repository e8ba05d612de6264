/* Small helpers shared by every process. */
#ifndef KTSTR_UTIL_H
#define KTSTR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The largest kernel image ktstr reads or copies (a vmlinux with debug info
 * is far smaller; anything bigger is not a kernel). */
#define KTSTR_KERNEL_IMAGE_MAX (256u << 20)

/* Monotonic clock in microseconds / milliseconds. */
uint64_t ktstr_now_us(void);
uint64_t ktstr_now_ms(void);
/* CPU time (user+system) of this process in microseconds. */
uint64_t ktstr_cpu_time_us(void);

/* Read/write exactly len bytes, retrying EINTR and short transfers.
 * read_full returns bytes read (< len only at EOF) or -errno. */
ssize_t read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

struct strbuf;
/* Append everything readable from fd (until EOF) to sb, at most max bytes in
 * all. Returns 0 or -errno (-EFBIG past max). sb's contents are left as read
 * so far on error; the caller frees them. */
int read_fd_all(int fd, struct strbuf *sb, size_t max);
/* Append the whole of the regular file at path to sb, at most max bytes; a
 * file another user may have planted (results handed to merge, compare,
 * report) is opened O_NONBLOCK so a FIFO cannot hang the read. 0 or -errno:
 * -EISDIR a directory, -ENODEV another non-regular file, -EFBIG larger than
 * max (by its size, or grown while read). */
int read_regular_bounded(const char *path, size_t max, struct strbuf *sb);

/* Read a whole (small) file into a NUL-terminated malloc'd buffer, at most
 * max bytes. Returns 0 or -errno (-EFBIG if larger than max). */
int read_file(const char *path, char **out, size_t *len, size_t max);
/* Write a whole string to a file (sysfs/cgroupfs/procfs style). */
int write_file(const char *path, const char *s);
/* Create or replace path's content with data (O_CREAT | O_TRUNC, mode for
 * a new file), flushed to disk: unlike write_file, which writes into an
 * existing file (sysfs, cgroupfs) and truncates nothing. 0 or -errno. */
int write_file_create(const char *path, const void *data, size_t len, mode_t mode);

/* Make room for need elements of elem bytes in the malloc'd array *v of
 * *cap elements: a no-op when need <= *cap; else the capacity (first for an
 * empty array, 1 if first is 0) doubles until it holds need and *v is
 * realloc'd. The new elements are not initialised. Returns 0, or -ENOMEM when need * elem overflows or realloc
 * fails; on failure *v and *cap are untouched. -EINVAL for elem 0. */
int ktstr_grow(void **v, size_t *cap, size_t need, size_t elem, size_t first);
/* ktstr_grow for a typed array pointer (arr an lvalue, evaluated twice):
 *	if (KTSTR_GROW(d->v, &d->cap, d->n + 1, 16)) return -ENOMEM; */
#define KTSTR_GROW(arr, capp, need, first) __extension__({				\
	void *ktstr_grow_p_ = (arr);							\
	int ktstr_grow_r_ = ktstr_grow(&ktstr_grow_p_, (capp), (need), sizeof(*(arr)),	\
				       (first));					\
	if (!ktstr_grow_r_)								\
		(arr) = ktstr_grow_p_;							\
	ktstr_grow_r_;									\
})

/* Growable byte buffer. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
int sb_append(struct strbuf *sb, const void *data, size_t len);
int sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct strbuf *sb);

/* Base64 (RFC 4648, no line breaks). Output is NUL-terminated, caller frees.
 * decode ignores whitespace; -EINVAL on bad characters. */
int base64_encode(const void *in, size_t len, char **out);
int base64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen);

/* CRC32 (IEEE, zlib) of a buffer. */
uint32_t ktstr_crc32(const void *buf, size_t len);

/* mkdir -p. */
int mkdir_p(const char *path, mode_t mode);

#endif
