/* Contention messages: who holds what, from the live records, so the
 * message answers "why am I waiting" without another command. */
#include "hostres_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WHY_NAMED 4 /* holders named in one message; the rest are counted */

static void add(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(char *why, size_t whylen, const char *fmt, ...)
{
	size_t at = strnlen(why, whylen);
	va_list ap;

	if (at + 1 >= whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why + at, whylen - at, fmt, ap);
	va_end(ap);
}

static long long age_s(int64_t since)
{
	int64_t now = (int64_t)time(NULL);

	return now > since ? (long long)(now - since) : 0;
}

void hostres_why_cpus(struct hostres *h, const char *lead, char *why, size_t whylen)
{
	struct hostres_holder *hs = NULL;
	char err[256], list[512];
	size_t n = 0, named = 0, more = 0;

	add(why, whylen, "%s", lead);
	if (hostres_scan_holders(h->dirfd, NULL, false, &hs, &n, err, sizeof(err))) {
		add(why, whylen, " (holders unknown: %s)", err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct hostres_record *r = &hs[i].rec;

		if (!hs[i].ok || !cpuset_count(&r->cpus))
			continue;
		if (named == WHY_NAMED) {
			more++;
			continue;
		}
		if (cpulist_format(&r->cpus, list, sizeof(list)) < 0)
			snprintf(list, sizeof(list), "(%u CPUs)", cpuset_count(&r->cpus));
		add(why, whylen, "%s pid %" PRId32 " (uid %u%s) CPUs %s for %llds: %s",
		    named ? ";" : ":", r->pid, (unsigned)hs[i].uid,
		    r->pid == (int32_t)getpid() ? ", this run" : "", list, age_s(r->since), r->cmd);
		named++;
	}
	if (more)
		add(why, whylen, "; and %zu more", more);
	if (!named)
		add(why, whylen, " (no live record names them: locks of an older ktstr-orch, or "
				 "a co-tenant's)");
	free(hs);
}

void hostres_why_mem(const struct hostres *h, const struct hostres_meminfo *m,
		     const struct hostres_holder *hs, size_t n, uint64_t need, char *why,
		     size_t whylen)
{
	uint64_t declared = h->rec.mem_mib;
	size_t named = 0, more = 0;

	for (size_t i = 0; i < n; i++)
		if (hs[i].ok)
			declared += hs[i].rec.mem_mib;
	add(why, whylen,
	    "this VM needs %" PRIu64 " MiB of guest RAM; room %" PRIu64 " MiB = MemAvailable %" PRIu64
	    " MiB - margin %d MiB - %" PRIu64 " MiB declared by running VMs (this run: %" PRIu64
	    " MiB in %" PRIu32 " VMs",
	    need, hostres_mem_room(m, declared), m->avail_mib, HOSTRES_MEM_MARGIN_MIB, declared,
	    h->rec.mem_mib, h->rec.vms);
	for (size_t i = 0; i < n; i++) {
		const struct hostres_record *r = &hs[i].rec;

		if (!hs[i].ok || !r->mem_mib)
			continue;
		if (named == WHY_NAMED) {
			more++;
			continue;
		}
		named++;
		add(why, whylen, "; pid %" PRId32 " (uid %u): %" PRIu64 " MiB in %" PRIu32 " VMs: %s",
		    r->pid, (unsigned)hs[i].uid, r->mem_mib, r->vms, r->cmd);
	}
	if (more)
		add(why, whylen, "; and %zu more", more);
	add(why, whylen, ")");
}
