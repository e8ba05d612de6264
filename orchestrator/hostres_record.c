#include "hostres_record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hostres_record_format(const struct hostres_record *r, char *buf)
{
	char cpus[HOSTRES_RECORD_SIZE / 2];
	int n;

	if (cpulist_format(&r->cpus, cpus, sizeof(cpus)) < 0)
		return -ENOSPC;
	n = snprintf(buf, HOSTRES_RECORD_SIZE,
		     HOSTRES_RECORD_MAGIC "\npid %" PRId32 "\nstart %" PRIu64 "\nsince %" PRId64
		     "\ncap %" PRIu32 "\ncpus %s\nmem_mib %" PRIu64 "\nvms %" PRIu32 "\ncmd %s\n",
		     r->pid, r->start_ticks, r->since, r->cap, cpus[0] ? cpus : "-", r->mem_mib,
		     r->vms, r->cmd);
	if (n < 0 || n >= HOSTRES_RECORD_SIZE)
		return -ENOSPC;
	memset(buf + n, '\n', HOSTRES_RECORD_SIZE - (size_t)n);
	return 0;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;

	if (v[0] < '0' || v[0] > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end || *out > max ? -EINVAL : 0;
}

enum { K_PID, K_START, K_SINCE, K_CAP, K_CPUS, K_MEM, K_VMS, K_CMD, K_N };
static const char *const keys[K_N] = { "pid", "start", "since", "cap",
				       "cpus", "mem_mib", "vms", "cmd" };

static int set_field(struct hostres_record *r, int k, const char *v)
{
	uint64_t n = 0;

	switch (k) {
	case K_CPUS:
		cpuset_clear_all(&r->cpus);
		return strcmp(v, "-") ? cpulist_parse(v, &r->cpus) : 0;
	case K_CMD:
		if (strlen(v) > HOSTRES_CMD_MAX)
			return -EINVAL;
		for (const char *p = v; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				return -EINVAL;
		snprintf(r->cmd, sizeof(r->cmd), "%s", v);
		return 0;
	case K_PID:
		if (parse_u64(v, HOSTRES_PID_MAX, &n) || !n)
			return -EINVAL;
		r->pid = (int32_t)n;
		return 0;
	case K_START:
		return parse_u64(v, UINT64_MAX, &r->start_ticks);
	case K_SINCE:
		if (parse_u64(v, INT64_MAX, &n))
			return -EINVAL;
		r->since = (int64_t)n;
		return 0;
	case K_CAP:
		if (parse_u64(v, CPUSET_WORDS * 64, &n))
			return -EINVAL;
		r->cap = (uint32_t)n;
		return 0;
	case K_MEM:
		return parse_u64(v, HOSTRES_MEM_MIB_MAX, &r->mem_mib);
	default: /* K_VMS */
		if (parse_u64(v, HOSTRES_VMS_MAX, &n))
			return -EINVAL;
		r->vms = (uint32_t)n;
		return 0;
	}
}

int hostres_record_parse(const char *text, size_t len, struct hostres_record *r, char *why,
			 size_t whylen)
{
	char line[HOSTRES_RECORD_SIZE + 1]; /* a whole record as one line, and its NUL */
	unsigned seen = 0, lineno = 0;
	size_t at = 0;

	memset(r, 0, sizeof(*r));
	if (len > HOSTRES_RECORD_SIZE) {
		snprintf(why, whylen, "%zu bytes, more than a record's %d", len,
			 HOSTRES_RECORD_SIZE);
		return -EFBIG;
	}
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (text + at)) : len - at;
		char *sp;
		int k;

		memcpy(line, text + at, ll);
		line[ll] = '\0';
		at += ll + 1;
		lineno++;
		if (memchr(line, '\0', ll)) {
			snprintf(why, whylen, "line %u holds a NUL byte", lineno);
			return -EINVAL;
		}
		if (lineno == 1) {
			if (strcmp(line, HOSTRES_RECORD_MAGIC)) {
				snprintf(why, whylen, "does not start with \"%s\"",
					 HOSTRES_RECORD_MAGIC);
				return -EINVAL;
			}
			continue;
		}
		if (!ll)
			continue;
		sp = strchr(line, ' ');
		if (sp)
			*sp = '\0';
		for (k = 0; k < K_N && strcmp(line, keys[k]); k++)
			;
		if (k == K_N)
			continue;
		if (seen & (1u << k) || !sp || set_field(r, k, sp + 1)) {
			snprintf(why, whylen, "line %u: %s '%s'", lineno,
				 seen & (1u << k) ? "repeated" : "bad value for", keys[k]);
			return -EINVAL;
		}
		seen |= 1u << k;
	}
	if (!lineno) {
		snprintf(why, whylen, "empty");
		return -EINVAL;
	}
	for (int k = 0; k < K_N; k++)
		if (!(seen & (1u << k))) {
			snprintf(why, whylen, "no '%s' line", keys[k]);
			return -EINVAL;
		}
	return 0;
}

void hostres_cmd_summary(const char *raw, size_t len, char *out, size_t outlen)
{
	size_t lim, o = 0, i;

	if (!outlen)
		return;
	lim = outlen - 1 < HOSTRES_CMD_MAX ? outlen - 1 : HOSTRES_CMD_MAX;
	while (len && raw[len - 1] == '\0')
		len--;
	for (i = 0; i < len && o < lim; i++) {
		char c = raw[i];

		out[o++] = c == '\0' ? ' ' : (c < 0x20 || c > 0x7e) ? '?' : c;
	}
	if (i < len && o >= 3)
		memcpy(out + o - 3, "...", 3);
	out[o] = '\0';
}
