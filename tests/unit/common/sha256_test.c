/* FIPS 180-4 / NIST example vectors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/sha256.h>

static void check(const void *data, size_t len, const char *hex)
{
	uint8_t d[SHA256_LEN];
	char got[SHA256_HEX_LEN + 1];

	sha256_buf(data, len, d);
	sha256_hex(d, got);
	cr_assert_str_eq(got, hex);
}

Test(sha256, known_vectors)
{
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, incremental_matches_one_shot)
{
	uint8_t *m = malloc(1000000), a[SHA256_LEN], b[SHA256_LEN];
	struct sha256 s;
	size_t off = 0, step = 1;
	char hex[SHA256_HEX_LEN + 1];

	memset(m, 'a', 1000000);
	sha256_init(&s);
	while (off < 1000000) {	/* odd-sized pieces cross block boundaries */
		size_t take = step < 1000000 - off ? step : 1000000 - off;

		sha256_update(&s, m + off, take);
		off += take;
		step = step * 3 % 997 + 1;
	}
	sha256_final(&s, a);
	sha256_buf(m, 1000000, b);
	cr_assert(!memcmp(a, b, SHA256_LEN));
	sha256_hex(a, hex);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(m);
}

/* sha256_fd: the digest of the whole file through pread, the fd's offset
 * left alone, its length reported, and a file past max refused. */
Test(sha256, fd_matches_the_buffer_and_bounds_its_length)
{
	static uint8_t data[200000];
	uint8_t a[SHA256_LEN], b[SHA256_LEN];
	uint64_t len = 0;
	int fd = memfd_create("sha", 0);

	cr_assert_geq(fd, 0);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	cr_assert_eq(lseek(fd, 1234, SEEK_SET), 1234);
	sha256_buf(data, sizeof(data), a);
	cr_assert_eq(sha256_fd(fd, sizeof(data), &len, b), 0);
	cr_assert_eq(memcmp(a, b, SHA256_LEN), 0);
	cr_assert_eq(len, sizeof(data));
	cr_assert_eq(lseek(fd, 0, SEEK_CUR), 1234, "the fd's offset moved");
	cr_assert_eq(sha256_fd(fd, sizeof(data) - 1, &len, b), -EFBIG);
	close(fd);
}
