#include "runmeta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/arch.h>
#include <ktstr/cleantext.h>
#include <ktstr/version.h>

#include "json_pb.h"

/* pread from offset 0 (sha256_fd) so a shared fd (a kernel the VMs boot)
 * keeps its offset. The caller checked nothing: a FIFO or device is refused
 * here. */
int runmeta_hash_fd(int fd, char hex[SHA256_HEX_LEN + 1])
{
	uint8_t dig[SHA256_LEN];
	struct stat st;
	int ret;

	hex[0] = '\0';
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > RUNMETA_HASH_MAX)
		return -EFBIG;
	ret = sha256_fd(fd, RUNMETA_HASH_MAX, NULL, dig);
	if (ret)
		return ret;
	sha256_hex(dig, hex);
	return 0;
}

/* O_NONBLOCK: a FIFO planted at the path must not hang the run. */
static void hash_path(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) : -1;

	hex[0] = '\0';
	if (fd < 0)
		return;
	runmeta_hash_fd(fd, hex);
	close(fd);
}

void runmeta_iso8601(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int runmeta_init(struct runmeta *m, const struct suite *s, const struct plan *p)
{
	memset(m, 0, sizeof(*m));
	m->tool_version = ktstr_version();
	if (gethostname(m->host, sizeof(m->host)))
		snprintf(m->host, sizeof(m->host), "unknown");
	m->host[sizeof(m->host) - 1] = '\0';
	m->start_ms = wall_ms();
	runmeta_iso8601(m->start_ms, m->started, sizeof(m->started));
	snprintf(m->reservation, sizeof(m->reservation), "none");
	m->arch = ktstr_arch_name(p->arch);
	m->suite = s->path;
	hash_path(s->path, m->suite_sha256);
	for (size_t k = 0; k < p->nkernels && k < PLAN_KERNELS_MAX; k++)
		m->kernels[m->nkernels++].name = p->kernels[k].id ? p->kernels[k].id : "";
	m->scheds = calloc(s->nscheds ? s->nscheds : 1, sizeof(*m->scheds));
	if (!m->scheds)
		return -ENOMEM;
	for (size_t i = 0; i < s->nscheds; i++) {
		m->scheds[i].name = s->scheds[i].name;
		if (s->scheds[i].kind == SCHED_BIN_NAME || s->scheds[i].kind == SCHED_BIN_PATH)
			hash_path(s->scheds[i].resolved_path, m->scheds[i].sha256);
	}
	m->nscheds = s->nscheds;
	return 0;
}

void runmeta_hash_kernel(struct runmeta *m, size_t k, int fd)
{
	if (k < m->nkernels && fd >= 0)
		runmeta_hash_fd(fd, m->kernels[k].sha256);
}

void runmeta_finish(struct runmeta *m)
{
	uint64_t now = wall_ms();

	m->duration_ms = now > m->start_ms ? now - m->start_ms : 0;
	m->finished = true;
}

static int jstr(struct strbuf *sb, const char *key, const char *v)
{
	int ret = sb_printf(sb, "\"%s\":", key);

	if (!ret)
		ret = v && v[0] ? json_str(sb, v, strlen(v)) : sb_printf(sb, "null");
	return ret;
}

static int files_json(struct strbuf *sb, const char *key, const struct runmeta_file *f, size_t n,
		      const char *idkey)
{
	int ret = sb_printf(sb, ",\"%s\":[", key);

	for (size_t i = 0; !ret && i < n; i++) {
		ret = sb_printf(sb, "%s{", i ? "," : "");
		if (!ret)
			ret = jstr(sb, idkey, f[i].name);
		if (!ret)
			ret = sb_printf(sb, ",");
		if (!ret)
			ret = jstr(sb, "sha256", f[i].sha256);
		if (!ret)
			ret = sb_printf(sb, "}");
	}
	return ret ? ret : sb_printf(sb, "]");
}

int runmeta_json(struct strbuf *sb, const struct runmeta *m)
{
	int ret = sb_printf(sb, "{");

	if (!ret)
		ret = jstr(sb, "tool_version", m->tool_version);
	if (!ret)
		ret = sb_printf(sb, ",");
	if (!ret)
		ret = jstr(sb, "host", m->host);
	if (!ret)
		ret = sb_printf(sb, ",\"started\":\"%s\",\"start_ms\":%llu,\"duration_ms\":", m->started,
				(unsigned long long)m->start_ms);
	if (!ret)
		ret = m->finished ? sb_printf(sb, "%llu", (unsigned long long)m->duration_ms)
				  : sb_printf(sb, "null");
	if (!ret)
		ret = sb_printf(sb, ",");
	if (!ret)
		ret = jstr(sb, "arch", m->arch);
	if (!ret)
		ret = sb_printf(sb, ",");
	if (!ret)
		ret = jstr(sb, "suite", m->suite);
	if (!ret)
		ret = sb_printf(sb, ",");
	if (!ret)
		ret = jstr(sb, "suite_sha256", m->suite_sha256);
	if (!ret)
		ret = files_json(sb, "kernels", m->kernels, m->nkernels, "id");
	if (!ret)
		ret = files_json(sb, "schedulers", m->scheds, m->nscheds, "name");
	if (!ret)
		ret = sb_printf(sb, ",");
	if (!ret)
		ret = jstr(sb, "host_cpus", m->host_cpus);
	if (!ret)
		ret = sb_printf(sb, ",");
	if (!ret)
		ret = jstr(sb, "reservation", m->reservation);
	return ret ? ret : sb_printf(sb, "}");
}

static const char *or_unknown(const char *s)
{
	return s && s[0] ? s : "unknown";
}

void runmeta_print(FILE *f, const struct runmeta *m)
{
	fprintf(f, "# ktstr %s on ", m->tool_version);
	fput_clean(f, m->host);
	fprintf(f, ", started %s; suite ", m->started);
	fput_clean(f, m->suite);
	fprintf(f, " (sha256 %s)\n", or_unknown(m->suite_sha256));
	fprintf(f, "# guest architecture: %s\n", or_unknown(m->arch));
	for (size_t k = 0; k < m->nkernels; k++) {
		fputs("# kernel ", f);
		fput_clean(f, or_unknown(m->kernels[k].name));
		fprintf(f, " (sha256 %s)\n", or_unknown(m->kernels[k].sha256));
	}
	for (size_t i = 0; i < m->nscheds; i++)
		if (m->scheds[i].sha256[0]) {
			fputs("# scheduler ", f);
			fput_clean(f, m->scheds[i].name);
			fprintf(f, " (sha256 %s)\n", m->scheds[i].sha256);
		}
	fputs("# host CPUs: ", f);
	fput_clean(f, m->host_cpus[0] ? m->host_cpus : "none reserved");
	fputs(" (", f);
	fput_clean(f, m->reservation);
	fputs(")\n", f);
}

void runmeta_free(struct runmeta *m)
{
	free(m->scheds);
	m->scheds = NULL;
	m->nscheds = 0;
}
