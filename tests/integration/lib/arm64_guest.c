/* arm64 test guests (arm64_guest.h): shared by integ-arm64_boot (QEMU with
 * ktstr's tree, no worker), integ-arm64_worker (ktstr-vmm-worker) and
 * tests/arm64/kvm-worker-cases (the worker with fake KVM). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/cpio.h>
#include <ktstr/le.h>
#include <ktstr/util.h>

#include "arm64_guest.h"

int arm64_cache_dir(char *buf, size_t len)
{
	const char *cache = getenv("KTSTR_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	int n;

	if (cache && *cache)
		n = snprintf(buf, len, "%s", cache);
	else if (xdg && *xdg)
		n = snprintf(buf, len, "%s/ktstr", xdg);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.cache/ktstr", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int arm64_busybox(char *buf, size_t len)
{
	const char *env = getenv("KTSTR_BUSYBOX_ARM64");
	char dir[900];

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (arm64_cache_dir(dir, sizeof(dir)) == 0)
		snprintf(buf, len, "%s/arm64/busybox", dir);
	else
		return -ENOENT;
	return access(buf, R_OK) == 0 ? 0 : -ENOENT;
}

int arm64_initramfs(const char *busybox, const char *script, const char *out)
{
	struct cpio_writer w;
	uint8_t *buf = NULL; /* cpio_take's, freed here */
	size_t len;
	int fd = open(busybox, O_RDONLY | O_CLOEXEC), ofd, rc;

	if (fd < 0)
		return -errno;
	cpio_init(&w, 0);
	rc = cpio_add_dir(&w, "/bin", 0755);
	if (rc == 0)
		rc = cpio_add_file_fd(&w, "/bin/busybox", 0755, fd, 16u << 20);
	if (rc == 0)
		rc = cpio_add_file(&w, "/init", 0755, script, strlen(script));
	if (rc == 0)
		rc = cpio_finish(&w);
	close(fd);
	if (rc < 0) {
		cpio_free(&w);
		return rc;
	}
	cpio_take(&w, &buf, &len);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ofd < 0) {
		rc = -errno;
		free(buf);
		return rc;
	}
	rc = write_full(ofd, buf, len);
	close(ofd);
	free(buf);
	return rc;
}

void arm64_fake_image(uint8_t *b, size_t len, uint64_t image_size)
{
	memset(b, 0, len);
	put_le64(b + 16, image_size);
	put_le64(b + 24, 0xa);
	memcpy(b + 56, "ARM\x64", 4);
}
