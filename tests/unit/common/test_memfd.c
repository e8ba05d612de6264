/* memfd.c: sealed copies (a kernel the dropped user cannot open by path). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/memfd.h>
#include <ktstr/util.h>

Test(memfd, a_sealed_copy_has_the_bytes_and_cannot_change)
{
	char path[] = "/tmp/ktstr-memfd-XXXXXX", buf[16] = "";
	int src = mkstemp(path), fd;

	cr_assert_geq(src, 0);
	cr_assert_eq(write_full(src, "kernel bytes", 12), 0);
	fd = memfd_sealed_copy("t", src, 1 << 20);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(memfd_check_sealed(fd), 0);
	cr_assert_eq(pread(fd, buf, sizeof(buf), 0), 12);
	cr_assert_eq(memcmp(buf, "kernel bytes", 12), 0);
	cr_assert_lt(write(fd, "x", 1), 0, "sealed against writes");
	cr_assert_eq(lseek(src, 0, SEEK_CUR), 12, "the source offset is untouched");
	close(fd);
	cr_assert_eq(memfd_sealed_copy("t", src, 11), -EFBIG);
	cr_assert_eq(ftruncate(src, 0), 0);
	cr_assert_eq(memfd_sealed_copy("t", src, 1 << 20), -EINVAL, "an empty file is no kernel");
	close(src);
	unlink(path);
}
