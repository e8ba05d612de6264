/* `ktstr-orch locks [--json]`: who holds what in the host's lock
 * directory (docs/farms.md). Reads only: creates nothing, removes nothing,
 * holds admit.lock shared for the moment it reads so no record is read
 * half written. A record counts only while its writer holds its flock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "cli.h"
#include "hostres.h"
#include "hostres_scan.h"
#include "json_pb.h"

static void utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%" PRId64, t);
}

static void print_text(const char *dir, const struct hostres_holder *hs, size_t n)
{
	printf("lock directory %s: %zu holder%s\n", dir, n, n == 1 ? "" : "s");
	if (!n)
		return;
	printf("%-8s %-6s %-20s %-12s %-8s %-4s %s\n", "PID", "UID", "SINCE", "CPUS", "MEM_MIB",
	       "VMS", "COMMAND");
	for (size_t i = 0; i < n; i++) {
		const struct hostres_record *r = &hs[i].rec;
		char since[32], cpus[HOSTRES_RECORD_SIZE];

		if (!hs[i].ok) {
			printf("%-8s %-6u record %s unreadable: %s\n", "?", (unsigned)hs[i].uid,
			       hs[i].name, hs[i].why);
			continue;
		}
		utc(r->since, since, sizeof(since));
		if (cpulist_format(&r->cpus, cpus, sizeof(cpus)) <= 0)
			snprintf(cpus, sizeof(cpus), "-");
		printf("%-8" PRId32 " %-6u %-20s %-12s %-8" PRIu64 " %-4" PRIu32 " %s\n", r->pid,
		       (unsigned)hs[i].uid, since, cpus, r->mem_mib, r->vms, r->cmd);
	}
}

static int render_json(struct strbuf *sb, const char *dir, const struct hostres_holder *hs,
		       size_t n)
{
	int ret = sb_printf(sb, "{\"lock_dir\":") ?: json_str(sb, dir, strlen(dir)) ?:
		  sb_printf(sb, ",\"holders\":[");

	for (size_t i = 0; i < n && !ret; i++) {
		const struct hostres_record *r = &hs[i].rec;
		char cpus[HOSTRES_RECORD_SIZE];

		ret = sb_printf(sb, "%s{\"record\":", i ? "," : "") ?:
		      json_str(sb, hs[i].name, strlen(hs[i].name)) ?:
		      sb_printf(sb, ",\"uid\":%u", (unsigned)hs[i].uid);
		if (ret)
			break;
		if (!hs[i].ok) {
			ret = sb_printf(sb, ",\"error\":") ?: json_str(sb, hs[i].why, strlen(hs[i].why)) ?:
			      sb_printf(sb, "}");
			continue;
		}
		if (cpulist_format(&r->cpus, cpus, sizeof(cpus)) < 0)
			cpus[0] = '\0';
		ret = sb_printf(sb, ",\"pid\":%" PRId32 ",\"start_ticks\":%" PRIu64
				    ",\"since\":%" PRId64 ",\"cap\":%" PRIu32 ",\"cpus\":",
				r->pid, r->start_ticks, r->since, r->cap) ?:
		      json_str(sb, cpus, strlen(cpus)) ?:
		      sb_printf(sb, ",\"mem_mib\":%" PRIu64 ",\"vms\":%" PRIu32 ",\"cmd\":",
				r->mem_mib, r->vms) ?:
		      json_str(sb, r->cmd, strlen(r->cmd)) ?: sb_printf(sb, "}");
	}
	return ret ?: sb_printf(sb, "]}\n");
}

/* admit.lock shared, bounded: writers hold it for milliseconds. A missing
 * one means nobody ever registered here: nothing to wait for (-ENOENT,
 * kept apart from -EPERM, which is -1: a planted non-file). */
static int admit_shared(int dirfd, char *err, size_t errlen)
{
	uint64_t end = ktstr_now_ms() + HOSTRES_ADMIT_WAIT_MS;
	int fd = hostres_lockfile_open(dirfd, HOSTRES_ADMIT_LOCK, false, err, errlen);

	if (fd < 0)
		return fd;
	while (flock(fd, LOCK_SH | LOCK_NB)) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };

		if (ktstr_now_ms() >= end) {
			snprintf(err, errlen, "%s has been held for %d s: a stuck or hostile holder",
				 HOSTRES_ADMIT_LOCK, HOSTRES_ADMIT_WAIT_MS / 1000);
			close(fd);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	return fd;
}

int cmd_locks(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	struct cli_parser cp;
	struct hostres_holder *hs = NULL;
	char dir[PATH_MAX], err[1024];
	bool json = false;
	size_t n = 0;
	int c, dirfd, admit = -1, ret;

	cli_begin(&cp, cmd, g, argc, argv);
	while ((c = cli_next(&cp)) > 0)
		json = c == 'j' || json; /* its one option (cli_table.c) */
	if (c == CLI_STOP)
		return cp.exit;
	if (hostres_dir_path(dir, sizeof(dir), err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch: %s\n", err);
		return EXIT_USAGE;
	}
	/* A missing directory: nobody has reserved anything here yet. */
	dirfd = hostres_dir_open(dir, false, err, sizeof(err));
	ret = dirfd == -ENOENT ? 0 : dirfd < 0 ? dirfd : 0;
	if (dirfd >= 0) {
		admit = admit_shared(dirfd, err, sizeof(err));
		ret = admit < 0 && admit != -ENOENT ? admit
						     : hostres_scan_holders(dirfd, NULL, false, &hs, &n, err, sizeof(err));
	}
	if (admit >= 0)
		close(admit);
	if (dirfd >= 0)
		close(dirfd);
	if (ret) {
		fprintf(stderr, "ktstr-orch: locks: %s\n", err);
		return EXIT_INFRA;
	}
	if (json) {
		struct strbuf sb = { 0 };

		ret = render_json(&sb, dir, hs, n);
		if (!ret)
			fwrite(sb.buf, 1, sb.len, stdout);
		sb_free(&sb);
	} else {
		print_text(dir, hs, n);
	}
	free(hs);
	if (ret || fflush(stdout)) {
		fprintf(stderr, "ktstr-orch: locks: cannot write the listing\n");
		return EXIT_INFRA;
	}
	return 0;
}
