/* The newc writer produces archives Debian's cpio lists and extracts to
 * the exact bytes, with the padding the kernel's unpacker requires. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ktstr/cpio.h"
#include "ktstr/util.h"
#include "th.h"

static void write_archive(struct cpio_writer *w, const char *path)
{
	uint8_t *buf;
	size_t len;

	cpio_take(w, &buf, &len);
	th_write(path, buf, len, 0644);
	free(buf);
}

Test(cpio, lists_and_extracts_identical_bytes)
{
	char *dir = th_tmpdir(), path[PATH_MAX], *out, *lines[64];
	static const char *const expect[] = {
		"etc", "etc/f0", "etc/f1", "etc/f2", "etc/f3", "etc/f4", "etc/f5",
		"etc/big", "etc/fromfd", "etc/link", "TRAILER!!!",
	};
	struct cpio_writer w;
	uint8_t big[70000];
	size_t i, n;
	int fd;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 131 + 7);
	cpio_init(&w, 0);
	cr_assert_eq(cpio_add_dir(&w, "/etc", 0750), 0);
	/* Lengths 0..5 cover every data-padding case. */
	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/etc/f%zu", i);
		cr_assert_eq(cpio_add_file(&w, path, 0640, "abcdef", i), 0);
	}
	cr_assert_eq(cpio_add_file(&w, "/etc/big", 0755, big, sizeof(big)), 0);
	snprintf(path, sizeof(path), "%s/src", dir);
	th_write(path, "from an fd\n", 11, 0600);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_eq(cpio_add_file_fd(&w, "/etc/fromfd", 0600, fd, 1 << 20), 0);
	close(fd);
	cr_assert_eq(cpio_add_symlink(&w, "/etc/link", "/etc/big"), 0);
	cr_assert_eq(w.entries, 10);
	cr_assert_eq(cpio_finish(&w), 0);
	cr_assert_eq(cpio_add_dir(&w, "/late", 0755), -EBUSY, "adds after the trailer must fail");
	cr_assert_eq(cpio_pad(&w, 512), 0);
	cr_assert_eq(w.out.len % 512, 0);
	snprintf(path, sizeof(path), "%s/a.cpio", dir);
	write_archive(&w, path);

	cr_assert_eq(th_sh(&out, "cpio -t --quiet < %s/a.cpio", dir), 0, "cpio -t failed");
	n = th_lines(out, lines, 64);
	cr_assert_eq(n, 10, "cpio -t listed %zu entries", n);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(lines[i], expect[i]);
	free(out);

	cr_assert_eq(th_sh(NULL, "mkdir %s/x && cd %s/x && cpio -idm --quiet < ../a.cpio", dir, dir), 0);
	for (i = 0; i < 6; i++) {
		size_t len;
		uint8_t *got;

		snprintf(path, sizeof(path), "%s/x/etc/f%zu", dir, i);
		got = th_slurp(path, &len);
		cr_assert_eq(len, i);
		cr_assert(!memcmp(got, "abcdef", i));
		free(got);
	}
	{
		struct stat st;
		size_t len;
		uint8_t *got;
		char target[64] = { 0 };

		snprintf(path, sizeof(path), "%s/x/etc/big", dir);
		got = th_slurp(path, &len);
		cr_assert_eq(len, sizeof(big));
		cr_assert(!memcmp(got, big, sizeof(big)), "big file bytes differ after extraction");
		free(got);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0755);
		snprintf(path, sizeof(path), "%s/x/etc/fromfd", dir);
		got = th_slurp(path, &len);
		cr_assert_eq(len, 11);
		cr_assert(!memcmp(got, "from an fd\n", 11));
		free(got);
		snprintf(path, sizeof(path), "%s/x/etc/link", dir);
		cr_assert_gt(readlink(path, target, sizeof(target) - 1), 0);
		cr_assert_str_eq(target, "/etc/big");
		snprintf(path, sizeof(path), "%s/x/etc", dir);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert(S_ISDIR(st.st_mode));
		cr_assert_eq(st.st_mode & 07777, 0750);
	}
	th_rmtree(dir);
	free(dir);
}

/* Walk our own output: every header starts 4-aligned with the newc magic. */
Test(cpio, headers_are_aligned)
{
	struct cpio_writer w;
	size_t off = 0, i;
	uint8_t *buf;
	size_t len;

	cpio_init(&w, 0);
	for (i = 0; i < 9; i++) {
		char name[32];

		snprintf(name, sizeof(name), "/n%.*s", (int)i + 1, "abcdefghijk");
		cr_assert_eq(cpio_add_file(&w, name, 0644, "xyzxyzxyz", i), 0);
	}
	cr_assert_eq(cpio_finish(&w), 0);
	cpio_take(&w, &buf, &len);
	for (i = 0; i < 10; i++) {
		unsigned fsize, nsize;

		cr_assert_eq(off % 4, 0);
		cr_assert(!memcmp(buf + off, "070701", 6), "entry %zu has no magic", i);
		cr_assert_eq(sscanf((char *)buf + off + 54, "%8x", &fsize), 1);
		cr_assert_eq(sscanf((char *)buf + off + 94, "%8x", &nsize), 1);
		off += (110 + nsize + 3) & ~3u;
		off += (fsize + 3) & ~3u;
	}
	cr_assert_eq(off, len, "archive ends right after the trailer");
	free(buf);
	cpio_free(&w);
}

Test(cpio, rejects_bad_guest_paths)
{
	static const char *const bad[] = {
		"relative", "/", "/a/", "/a//b", "/a/../b", "/..", "/./a", "/a/.", "",
	};
	char out[CPIO_PATH_MAX + 1], *longp;
	struct cpio_writer w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(cpio_path_normalize(bad[i], out, sizeof(out)), -EINVAL, "%s", bad[i]);
	cr_assert_eq(cpio_path_normalize("/usr/lib/x.so", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "usr/lib/x.so");
	cr_assert_eq(cpio_path_normalize("/a..b/.c", out, sizeof(out)), 0);
	longp = malloc(CPIO_PATH_MAX + 3);
	longp[0] = '/';
	memset(longp + 1, 'a', CPIO_PATH_MAX + 1);
	longp[CPIO_PATH_MAX + 2] = '\0';
	cr_assert_eq(cpio_path_normalize(longp, out, sizeof(out)), -ENAMETOOLONG);
	free(longp);
	cpio_init(&w, 0);
	cr_assert_eq(cpio_add_file(&w, "/../etc/passwd", 0644, "x", 1), -EINVAL);
	cr_assert_eq(w.out.len, 0, "a rejected entry leaves nothing behind");
	cpio_free(&w);
}

Test(cpio, pad_rounds_to_512)
{
	struct cpio_writer w;

	cpio_init(&w, 0);
	cr_assert_eq(cpio_add_file(&w, "/a", 0644, "x", 1), 0);
	cr_assert_eq(cpio_finish(&w), 0);
	cr_assert_neq(w.out.len % 512, 0);
	cr_assert_eq(cpio_pad(&w, 512), 0);
	cr_assert_eq(w.out.len % 512, 0);
	cr_assert_eq(cpio_pad(&w, 512), 0);
	cr_assert_eq(w.out.len, 512, "padding an aligned archive adds nothing");
	cr_assert_eq(cpio_pad(&w, 300), -EINVAL);
	cpio_free(&w);
}
