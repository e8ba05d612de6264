/* imgsweep.c: a builder killed mid-write leaves "<key>.img.tmp.<pid>" files
 * (18-31 MB each) that nothing removed; the next builder's start does, and
 * removes the "<key>.ok" stamps older builders wrote. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imgcache.h"
#include "imgsweep.h"

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define KEY_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char dir[64];
static int dirfd = -1;

static void mk(const char *name, time_t age_s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct timespec t[2];

	cr_assert_geq(fd, 0, "%s", name);
	cr_assert_eq(write(fd, "partial", 7), 7);
	if (age_s) {
		clock_gettime(CLOCK_REALTIME, &t[0]);
		t[0].tv_sec -= age_s;
		t[1] = t[0];
		cr_assert_eq(futimens(fd, t), 0);
	}
	close(fd);
}

static void rm_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static bool exists(const char *name)
{
	struct stat st;

	return !fstatat(dirfd, name, &st, 0);
}

Test(imgsweep, temps_of_dead_writers_go_and_live_ones_stay)
{
	unsigned removed = 0;
	int lockfd;

	snprintf(dir, sizeof(dir), "/tmp/ktstr-sweep-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	mk(KEY_A ".img.tmp.4242", 0);	/* killed mid-write: no lock held */
	mk(KEY_A ".ok.tmp.4242", 0);
	mk(KEY_B ".img.tmp.77", 0);	/* a live writer holds B's lock */
	mk(KEY_B ".lock", 0);
	lockfd = openat(dirfd, KEY_B ".lock", O_RDWR | O_CLOEXEC);
	cr_assert_eq(flock(lockfd, LOCK_EX), 0);
	mk(KEY_C ".fp.tmp.9", IMGSWEEP_UNLOCKED_AGE_S + 60);	/* unlocked and old */
	mk(KEY_A ".fp.tmp.10", 5);			/* unlocked, may be live */
	mk(KEY_A ".img", 0);				/* a finished entry */
	mk(KEY_C ".ok", 0);				/* an older builder's stamp */
	mk(KEY_A ".okay", 0);				/* not a cache name */
	mk("notes.tmp.1", 0);				/* not a cache name */
	cr_assert_eq(imgsweep(dirfd, &removed), 0);
	cr_assert_eq(removed, 4);
	cr_assert_not(exists(KEY_C ".ok"), "a stamp nothing reads any more stayed");
	cr_assert(exists(KEY_A ".okay"));
	cr_assert_not(exists(KEY_A ".img.tmp.4242"));
	cr_assert_not(exists(KEY_A ".ok.tmp.4242"));
	cr_assert_not(exists(KEY_C ".fp.tmp.9"));
	cr_assert(exists(KEY_B ".img.tmp.77"), "a live writer's temp was removed");
	cr_assert(exists(KEY_A ".fp.tmp.10"));
	cr_assert(exists(KEY_A ".img"));
	cr_assert(exists("notes.tmp.1"));
	/* Once B's writer is gone, the next start removes its temp too. */
	close(lockfd);
	cr_assert_eq(imgsweep(dirfd, &removed), 0);
	cr_assert_eq(removed, 1);
	cr_assert_not(exists(KEY_B ".img.tmp.77"));
	close(dirfd);
	rm_dir();
}

/* The sweep runs on every builder start (imgcache_init). */
Test(imgsweep, a_builder_start_sweeps_its_cache)
{
	struct imgcache c;

	snprintf(dir, sizeof(dir), "/tmp/ktstr-sweep-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mk(KEY_A ".img.tmp.4242", 0);
	cr_assert_eq(imgcache_init(&c, dir), 0);
	cr_assert_not(exists(KEY_A ".img.tmp.4242"));
	imgcache_free(&c);
	close(dirfd);
	rm_dir();
}
