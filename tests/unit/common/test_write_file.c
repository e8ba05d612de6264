/* write_file writes into what exists (sysfs, cgroupfs); write_file_create
 * replaces a file's whole content: a shorter text leaves no old tail (a
 * .config written with write_file kept the base's tail, whose options
 * then won). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/util.h>

Test(write_file, create_replaces_the_whole_content_and_write_file_creates_nothing)
{
	char dir[] = "/tmp/ktstr-wf-XXXXXX", path[64], *text = NULL;
	size_t len;
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	cr_assert_eq(write_file(path, "x"), -ENOENT, "write_file never creates");
	cr_assert_eq(write_file_create(path, "a long first text\n", 18, 0600), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(write_file_create(path, "short\n", 6, 0644), 0);
	cr_assert_eq(read_file(path, &text, &len, 1024), 0);
	cr_assert_eq(len, 6);
	cr_assert_str_eq(text, "short\n", "no tail of the longer text");
	free(text);
	unlink(path);
	rmdir(dir);
}
