/* run --coverage DIR (coverage.h). */
#include "coverage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/cleantext.h>
#include <ktstr/covmsg.h>
#include <ktstr/guest_contract.h>
#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "safe_path.h"

int coverage_open(struct coverage_out *co, const char *path, const char *user, char *err,
		  size_t errlen)
{
	char name[NAME_MAX + 1];
	bool made = false;
	int pfd, fd;

	co->path = path;
	co->dirfd = -1;
	co->files = co->vms = co->problems = 0;
	pfd = safe_open_parent(path, name, sizeof(name), err, errlen);
	if (pfd < 0)
		return pfd;
	if (!mkdirat(pfd, name, 0755))
		made = true;
	else if (errno != EEXIST) {
		int ret = -errno;

		snprintf(err, errlen, "--coverage %s: cannot create it: %s", path, strerror(errno));
		close(pfd);
		return ret;
	}
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	if (fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "--coverage %s: %s", path,
			 errno == ENOTDIR || errno == ELOOP ? "exists and is not a directory"
							    : strerror(errno));
		return ret;
	}
	/* A directory root made for a run that drops to another user is
	 * that user's, so the dropped run can fill it. */
	if (made && user) {
		struct passwd *pw = getpwnam(user);

		if (!pw || fchown(fd, pw->pw_uid, pw->pw_gid)) {
			snprintf(err, errlen, "--coverage %s: cannot give it to %s, whom the run "
					      "continues as: %s", path, user,
				 pw ? strerror(errno) : "no such user");
			close(fd);
			return -EPERM;
		}
	}
	co->dirfd = fd;
	return 0;
}

int coverage_path_check(const char *p, size_t len, char *err, size_t errlen)
{
	size_t i = 0, depth = 0;

	if (!len || p[0] != '/') {
		snprintf(err, errlen, "not an absolute path");
		return -EINVAL;
	}
	if (len > KTSTR_COV_PATH_MAX) {
		snprintf(err, errlen, "longer than %u bytes", KTSTR_COV_PATH_MAX);
		return -EINVAL;
	}
	if (memchr(p, '\0', len)) {
		snprintf(err, errlen, "holds a NUL byte");
		return -EINVAL;
	}
	while (i < len) {
		size_t s = ++i; /* past the '/' */

		while (i < len && p[i] != '/')
			i++;
		if (i == s) {
			snprintf(err, errlen, "has an empty component");
			return -EINVAL;
		}
		if ((i - s == 1 && p[s] == '.') || (i - s == 2 && p[s] == '.' && p[s + 1] == '.')) {
			snprintf(err, errlen, "has a \".\" or \"..\" component");
			return -EINVAL;
		}
		/* Room for the temporary suffix of write_cov_file. */
		if (i - s > NAME_MAX - 16) {
			snprintf(err, errlen, "has a component over %d bytes", NAME_MAX - 16);
			return -EINVAL;
		}
		if (++depth > KTSTR_COV_DEPTH_MAX + 1) {
			snprintf(err, errlen, "deeper than %u components", KTSTR_COV_DEPTH_MAX + 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* Open (creating) directory name in dfd without following a link; -errno. */
static int subdir(int dfd, const char *name)
{
	int fd;

	if (mkdirat(dfd, name, 0755) && errno != EEXIST)
		return -errno;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Write m's data at vmfd + m's path (already checked). 0 or -errno. */
static int write_cov_file(int vmfd, const struct covmsg *m)
{
	char path[KTSTR_COV_PATH_MAX + 1], tmp[NAME_MAX + 1];
	char *comp, *next;
	int dfd = vmfd, fd, ret = 0;

	memcpy(path, m->path, m->path_len);
	path[m->path_len] = '\0';
	comp = path + 1;
	while ((next = strchr(comp, '/'))) {
		int sub;

		*next = '\0';
		sub = subdir(dfd, comp);
		if (dfd != vmfd)
			close(dfd);
		if (sub < 0)
			return sub;
		dfd = sub;
		comp = next + 1;
	}
	/* comp is at most NAME_MAX - 16 bytes (coverage_path_check). */
	if (strlen(comp) > NAME_MAX - 16)
		ret = -ENAMETOOLONG;
	if (ret)
		goto out;
	memcpy(tmp, comp, strlen(comp));
	memcpy(tmp + strlen(comp), ".ktstr-tmp", sizeof(".ktstr-tmp"));
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = write_full(fd, m->data, m->data_len);
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(dfd, tmp, dfd, comp))
		ret = -errno;
	if (ret)
		unlinkat(dfd, tmp, 0);
out:
	if (dfd != vmfd)
		close(dfd);
	return ret;
}

int coverage_write_vm(struct coverage_out *co, const char *label, const Ktstr__VmResult *vr,
		      FILE *log)
{
	char dirname[NAME_MAX + 1], err[128];
	unsigned files = 0, msgs = 0;
	int vmfd = -1;
	size_t i;

	if (!vr)
		return 0;
	/* The variant's name as one component: '/' would nest, a leading
	 * '.' would hide it (or be "." / ".."). */
	snprintf(dirname, sizeof(dirname), "%s%s", label[0] == '.' ? "_" : "", label);
	for (char *c = dirname; *c; c++)
		if (*c == '/')
			*c = '+';
	for (i = 0; i < vr->n_ring; i++) {
		const Ktstr__RingMessage *rm = vr->ring[i];
		struct covmsg m;
		int ret;

		if (rm->type != KTSTR_MSG_PROFRAW)
			continue;
		msgs++;
		if (!rm->crc_ok ||
		    covmsg_parse(rm->payload.data, rm->payload.len, &m)) {
			fprintf(log, "ktstr-orch: coverage: %s: a PROFRAW message %s; ignored\n",
				label, rm->crc_ok ? "that does not decode (docs/c-api.md)"
						  : "with a bad CRC");
			co->problems++;
			continue;
		}
		if (!m.path_len) {
			/* Guest bytes: control characters never reach the terminal. */
			fprintf(log, "ktstr-orch: coverage: %s: the guest says: ", label);
			fput_clean_n(log, (const char *)m.data, m.data_len > 1200 ? 1200 : m.data_len);
			fputc('\n', log);
			co->problems++;
			continue;
		}
		if (coverage_path_check(m.path, m.path_len, err, sizeof(err))) {
			fprintf(log, "ktstr-orch: coverage: %s: refused a file whose path %s\n",
				label, err);
			co->problems++;
			continue;
		}
		if (vmfd < 0) {
			vmfd = subdir(co->dirfd, dirname);
			if (vmfd < 0) {
				fprintf(log, "ktstr-orch: coverage: cannot create %s/%s: %s (the "
					     "directory must be writable by the user ktstr-orch runs "
					     "as)\n", co->path, dirname, strerror(-vmfd));
				co->problems++;
				return vmfd;
			}
		}
		ret = write_cov_file(vmfd, &m);
		if (ret) {
			fprintf(log, "ktstr-orch: coverage: %s: cannot write %s/%s%.*s: %s\n", label,
				co->path, dirname, (int)m.path_len, m.path, strerror(-ret));
			co->problems++;
			continue;
		}
		files++;
	}
	if (vmfd >= 0)
		close(vmfd);
	if (vr->has_ring_host_drops && vr->ring_host_drops && msgs) {
		fprintf(log, "ktstr-orch: coverage: %s: the host dropped %llu ring message(s) over "
			     "its keep budget; coverage files may be missing\n", label,
			(unsigned long long)vr->ring_host_drops);
		co->problems++;
	}
	co->files += files;
	if (files)
		co->vms++;
	return (int)files;
}

void coverage_close(struct coverage_out *co)
{
	if (co->dirfd >= 0)
		close(co->dirfd);
	co->dirfd = -1;
}
