/* Collect a C test's coverage files and send them through the ring
 * (coverage.h). The tree under the prefix is the tenant binary's doing, so
 * it is walked as untrusted: no link is followed (O_NOFOLLOW), only
 * regular files are read, and depth, path length, entries looked at, file
 * count, file size and the total are bounded; what is over a bound is
 * named in a note. */
#include "coverage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/covmsg.h>
#include <ktstr/guest_contract.h>
#include <ktstr/log.h>
#include <ktstr/ring.h>
#include <ktstr/util.h>

void coverage_env(int on)
{
	if (on) {
		/* GCOV_PREFIX_STRIP=0: keep the whole absolute build path below
		 * the prefix, so the host can put each file where gcov wants. */
		setenv("GCOV_PREFIX", KTSTR_COV_PREFIX, 1);
		setenv("GCOV_PREFIX_STRIP", "0", 1);
		/* clang -fprofile-instr-generate: one .profraw per process. */
		setenv("LLVM_PROFILE_FILE", KTSTR_COV_PREFIX KTSTR_COV_PROFRAW, 1);
	} else {
		unsetenv("GCOV_PREFIX");
		unsetenv("GCOV_PREFIX_STRIP");
		unsetenv("LLVM_PROFILE_FILE");
	}
}

struct walk {
	coverage_send_fn send;
	void *ctx;
	struct coverage_stats *st;
	char path[KTSTR_COV_PATH_MAX + 2]; /* below the prefix, "/..." */
	char note[1024];		   /* what was skipped, first few */
	size_t note_len;
	unsigned entries;		   /* looked at so far */
	bool stopped;			   /* past KTSTR_COV_ENTRIES_MAX */
};

static void skip(struct walk *w, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void skip(struct walk *w, const char *why, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	int n;

	w->st->skipped++;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	/* The first few on the console; all of them are counted. */
	if (w->st->skipped <= 16)
		kwarn("coverage: %s not sent: %s", name, why);
	if (w->note_len >= sizeof(w->note) - 1)
		return;
	n = snprintf(w->note + w->note_len, sizeof(w->note) - w->note_len, "%s%s (%s)",
		     w->note_len ? "; " : "", name, why);
	if (n > 0)
		w->note_len += (size_t)n;
	if (w->note_len >= sizeof(w->note))
		w->note_len = sizeof(w->note) - 1;
}

/* Send the regular file at dfd/name (w->path is its path below the prefix). */
static void send_file(struct walk *w, int dfd, const char *name)
{
	char why[96];
	uint8_t *msg = NULL, *buf = NULL;
	size_t msglen, got = 0;
	struct stat sb;
	int fd, ret;

	if (w->st->sent >= KTSTR_COV_FILES_MAX) {
		snprintf(why, sizeof(why), "over %u files", KTSTR_COV_FILES_MAX);
		skip(w, why, "%s", w->path);
		return;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		skip(w, strerror(errno), "%s", w->path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		skip(w, "not a regular file", "%s", w->path);
		goto out;
	}
	if ((uint64_t)sb.st_size > KTSTR_COV_FILE_MAX) {
		snprintf(why, sizeof(why), "%lld bytes, over %u per file", (long long)sb.st_size,
			 KTSTR_COV_FILE_MAX);
		skip(w, why, "%s", w->path);
		goto out;
	}
	if (w->st->bytes + (uint64_t)sb.st_size > KTSTR_COV_TOTAL_MAX) {
		snprintf(why, sizeof(why), "over %u bytes in all", KTSTR_COV_TOTAL_MAX);
		skip(w, why, "%s", w->path);
		goto out;
	}
	/* One byte more than the size: a file that grew since fstat is cut at
	 * the bound below, never read past it. */
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		skip(w, "out of memory", "%s", w->path);
		goto out;
	}
	while (got <= (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)sb.st_size) {
		skip(w, "its size changed while it was read", "%s", w->path);
		goto out;
	}
	ret = covmsg_build(w->path, strlen(w->path), buf, got, &msg, &msglen);
	if (!ret)
		ret = w->send(w->ctx, msg, msglen);
	if (ret) {
		skip(w, strerror(-ret), "%s", w->path);
		goto out;
	}
	w->st->sent++;
	w->st->bytes += got;
out:
	free(msg);
	free(buf);
	if (fd >= 0)
		close(fd);
}

/* Walk the directory dfd (owned: closed here), w->path its path. */
static void walk_dir(struct walk *w, int dfd, unsigned depth)
{
	size_t base = strlen(w->path);
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		skip(w, strerror(errno), "%s/", w->path);
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (w->stopped)
			break;
		if (++w->entries > KTSTR_COV_ENTRIES_MAX) {
			/* The tree is the tenant's: its size bounds no walk.
			 * Said at the head of the note (coverage_collect). */
			kwarn("coverage: the walk stopped after %u entries, at %s/%s",
			      KTSTR_COV_ENTRIES_MAX, w->path, de->d_name);
			w->st->skipped++;
			w->stopped = true;
			break;
		}
		if (base + 1 + nl > KTSTR_COV_PATH_MAX) {
			char why[64];

			snprintf(why, sizeof(why), "path over %u bytes", KTSTR_COV_PATH_MAX);
			skip(w, why, "%.100s/%.60s...", w->path, de->d_name);
			continue;
		}
		w->path[base] = '/';
		memcpy(w->path + base + 1, de->d_name, nl + 1);
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW)) {
			skip(w, strerror(errno), "%s", w->path);
		} else if (S_ISDIR(sb.st_mode)) {
			int sub;

			if (depth >= KTSTR_COV_DEPTH_MAX) {
				char why[64];

				snprintf(why, sizeof(why), "deeper than %u levels",
					 KTSTR_COV_DEPTH_MAX);
				skip(w, why, "%s/", w->path);
			} else if ((sub = openat(dirfd(d), de->d_name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							 O_CLOEXEC)) < 0) {
				skip(w, strerror(errno), "%s/", w->path);
			} else {
				walk_dir(w, sub, depth + 1);
			}
		} else {
			send_file(w, dirfd(d), de->d_name);
		}
		w->path[base] = '\0';
	}
	closedir(d);
}

int coverage_collect(const char *dir, coverage_send_fn send, void *ctx,
		     struct coverage_stats *st)
{
	struct walk *w = calloc(1, sizeof(*w));
	int dfd;

	if (!w)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		int ret = -errno;

		free(w);
		return ret;
	}
	w->send = send;
	w->ctx = ctx;
	w->st = st;
	walk_dir(w, dfd, 0);
	if (st->skipped) {
		char text[1200];
		uint8_t *msg;
		size_t len;
		char stop[96] = "";
		int n;

		if (w->stopped)
			snprintf(stop, sizeof(stop), " (the walk stopped after %u entries; what "
						     "follows was not looked at)",
				 KTSTR_COV_ENTRIES_MAX);
		n = snprintf(text, sizeof(text), "%u coverage file(s) not sent%s: %s", st->skipped,
			     stop, w->note);
		if (n > (int)sizeof(text) - 1)
			n = (int)sizeof(text) - 1;
		if (!covmsg_build(NULL, 0, text, (size_t)n, &msg, &len)) {
			if (send(ctx, msg, len))
				kwarn("coverage: the note on skipped files could not be sent");
			free(msg);
		}
	}
	free(w);
	return 0;
}

static int ring_send(void *ctx, const uint8_t *msg, size_t len)
{
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	return report_msg(ctx, KTSTR_MSG_PROFRAW, msg, (uint32_t)len);
}

void coverage_send(struct report *r)
{
	struct coverage_stats st;
	int ret;

	if (!r->have_ring) {
		kwarn("coverage: no SHM ring in this VM; the coverage files stay in the guest");
		return;
	}
	ret = coverage_collect(KTSTR_COV_PREFIX, ring_send, r, &st);
	if (ret == -ENOENT) {
		/* Built without --coverage, or it crashed before exit (gcov
		 * writes at exit): nothing to send, and the host says so. */
		kwarn("coverage: the test binary left nothing under " KTSTR_COV_PREFIX
		      " (not built with --coverage, or it did not exit normally)");
		return;
	}
	if (ret) {
		kwarn("coverage: cannot read " KTSTR_COV_PREFIX ": %s", strerror(-ret));
		return;
	}
	kinfo("coverage: sent %u file(s), %llu bytes; %u not sent", st.sent,
	      (unsigned long long)st.bytes, st.skipped);
}
