#include <errno.h>
#include <string.h>
#include <time.h>

#include <ktstr/le.h>

#include "imgstamp.h"

#define IS_MAGIC "KTSTROK1"
enum { IS_OFF_VER = 8, IS_OFF_KEY = 16, IS_OFF_SUM = 48, IS_OFF_DEV = 80,
       IS_OFF_INO = 88, IS_OFF_SIZE = 96, IS_OFF_MTIME = 104, IS_OFF_CTIME = 112,
       IS_OFF_VERIFIED = 120 };

static int64_t is_ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

int64_t imgstamp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return is_ts_ns(&ts);
}

void imgstamp_make(struct imgstamp *s, const uint8_t key[SHA256_LEN],
		   const uint8_t sum[SHA256_LEN], const struct stat *st, int64_t now_ns)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->key, key, SHA256_LEN);
	memcpy(s->sum, sum, SHA256_LEN);
	s->dev = (uint64_t)st->st_dev;
	s->ino = (uint64_t)st->st_ino;
	s->size = (uint64_t)st->st_size;
	s->mtime_ns = is_ts_ns(&st->st_mtim);
	s->ctime_ns = is_ts_ns(&st->st_ctim);
	s->verified_ns = now_ns;
}

void imgstamp_encode(const struct imgstamp *s, uint8_t out[IMGSTAMP_LEN])
{
	memset(out, 0, IMGSTAMP_LEN);
	memcpy(out, IS_MAGIC, 8);
	out[IS_OFF_VER] = (uint8_t)IMGSTAMP_VERSION;
	memcpy(out + IS_OFF_KEY, s->key, SHA256_LEN);
	memcpy(out + IS_OFF_SUM, s->sum, SHA256_LEN);
	put_le64(out + IS_OFF_DEV, s->dev);
	put_le64(out + IS_OFF_INO, s->ino);
	put_le64(out + IS_OFF_SIZE, s->size);
	put_le64(out + IS_OFF_MTIME, (uint64_t)s->mtime_ns);
	put_le64(out + IS_OFF_CTIME, (uint64_t)s->ctime_ns);
	put_le64(out + IS_OFF_VERIFIED, (uint64_t)s->verified_ns);
}

int imgstamp_decode(const uint8_t in[IMGSTAMP_LEN], struct imgstamp *s)
{
	memset(s, 0, sizeof(*s));
	/* u32 version + u32 zero read as one little-endian u64 */
	if (memcmp(in, IS_MAGIC, 8) || get_le64(in + IS_OFF_VER) != IMGSTAMP_VERSION)
		return -EBADMSG;
	memcpy(s->key, in + IS_OFF_KEY, SHA256_LEN);
	memcpy(s->sum, in + IS_OFF_SUM, SHA256_LEN);
	s->dev = get_le64(in + IS_OFF_DEV);
	s->ino = get_le64(in + IS_OFF_INO);
	s->size = get_le64(in + IS_OFF_SIZE);
	s->mtime_ns = (int64_t)get_le64(in + IS_OFF_MTIME);
	s->ctime_ns = (int64_t)get_le64(in + IS_OFF_CTIME);
	s->verified_ns = (int64_t)get_le64(in + IS_OFF_VERIFIED);
	return 0;
}

int imgstamp_worth_writing(const struct stat *st, int64_t now_ns, int64_t window_ns)
{
	return now_ns - is_ts_ns(&st->st_ctim) >= window_ns;
}

int imgstamp_trusts(const struct imgstamp *s, const uint8_t key[SHA256_LEN],
		    const uint8_t sum[SHA256_LEN], const struct stat *st, int64_t window_ns)
{
	if (memcmp(s->key, key, SHA256_LEN) || memcmp(s->sum, sum, SHA256_LEN))
		return 0;
	if (s->dev != (uint64_t)st->st_dev || s->ino != (uint64_t)st->st_ino ||
	    s->size != (uint64_t)st->st_size || s->mtime_ns != is_ts_ns(&st->st_mtim) ||
	    s->ctime_ns != is_ts_ns(&st->st_ctim))
		return 0;
	/* Racily clean: taken within the entry's last timestamp granule, a
	 * later same-size write could have kept every field above. */
	return s->verified_ns - s->ctime_ns >= window_ns;
}
