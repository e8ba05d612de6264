/* Stale temporary files in the image cache: what a builder killed mid-write
 * (SIGKILL, OOM, a power cut) left behind. Images are written under their
 * key's lock (imgcache_lock), so a temp file whose key lock is free has no
 * writer: removed at once. Fingerprint temps are written without a lock;
 * they are removed once older than IMGSWEEP_UNLOCKED_AGE_S, longer than any
 * build may take. Verified stamps (<key>.ok and their temps), which builders
 * before nettle's SHA-256 wrote to skip the digest, are read by nothing now:
 * removed, under the key's lock like the images they vouched for. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <ktstr/log.h>

#include "imgcache.h"
#include "imgsweep.h"

/* "<64 hex>.<kind>.tmp.<digits>": kind and the key's length, else 0. */
static size_t tmp_kind(const char *name, const char **kind)
{
	const char *dot = strchr(name, '.'), *tmp;
	size_t klen = dot ? (size_t)(dot - name) : 0;

	if (klen != 64)
		return 0;
	for (size_t i = 0; i < klen; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return 0;
	tmp = strstr(dot, ".tmp.");
	if (!tmp || !tmp[5] || strspn(tmp + 5, "0123456789") != strlen(tmp + 5))
		return 0;
	*kind = dot + 1;
	return klen;
}

/* "<64 hex>.ok": a stamp of an older builder. */
static bool legacy_stamp(const char *name)
{
	if (strlen(name) != 67 || strcmp(name + 64, ".ok"))
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	return true;
}

/* True when nobody holds the lock of the key name[0..klen). */
static bool key_lock_free(int dirfd, const char *name, size_t klen)
{
	char lock[NAME_MAX + 1];
	int fd;
	bool free_ = true;

	snprintf(lock, sizeof(lock), "%.*s.lock", (int)klen, name);
	fd = openat(dirfd, lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT;
	if (flock(fd, LOCK_EX | LOCK_NB))
		free_ = false;
	close(fd); /* drops the lock if we took it */
	return free_;
}

int imgsweep(int dirfd, unsigned *removed)
{
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;
	int fd;

	*removed = 0;
	if (dirfd < 0)
		return 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		return -e;
	}
	while ((de = readdir(d))) {
		const char *kind = "ok.tmp.";
		size_t klen = legacy_stamp(de->d_name) ? 64 : tmp_kind(de->d_name, &kind);
		struct stat st;
		bool stale;

		if (!klen || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!strncmp(kind, "img.tmp.", 8) || !strncmp(kind, "ok.tmp.", 7))
			stale = key_lock_free(dirfd, de->d_name, klen);
		else
			stale = now - st.st_mtime > IMGSWEEP_UNLOCKED_AGE_S;
		if (stale && !unlinkat(dirfd, de->d_name, 0)) {
			kinfo("image cache: removed %s (%lld bytes), %s", de->d_name,
			      (long long)st.st_size,
			      legacy_stamp(de->d_name) ? "a stamp no builder reads any more"
						       : "left by a builder that died while writing it");
			(*removed)++;
		}
	}
	closedir(d);
	return 0;
}
