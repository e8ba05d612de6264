/* The asked-for topology against the one sysfs shows; see topocheck.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topocheck.h"

/* snprintf that appends and keeps counting past the end, so the caller can
 * size a buffer with a first pass over a NULL one. */
struct out {
	char *buf;
	size_t len, off;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->off < o->len ? o->buf + o->off : NULL,
		      o->off < o->len ? o->len - o->off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->off += (size_t)n;
}

static void put_list(struct out *o, const struct cpuset_bits *s)
{
	/* A list of 1024 single CPUs is at most 4.9 KB. */
	char l[6144];

	if (cpulist_format(s, l, sizeof(l)) < 0)
		snprintf(l, sizeof(l), "?");
	put(o, "%s", l);
}

static void put_groups(struct out *o, const char *what, const struct cpuset_bits *g, unsigned n,
		       bool seen)
{
	put(o, "; %s", what);
	if (!seen) {
		put(o, " not in sysfs");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		put(o, " [");
		put_list(o, &g[i]);
		put(o, "]");
	}
}

int gtopo_format(const struct gtopo *t, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (buf && len)
		buf[0] = '\0';
	put(&o, "cpus ");
	put_list(&o, &t->online);
	put_groups(&o, "cores", t->core, t->ncore, t->cores_seen);
	put_groups(&o, "llcs", t->llc, t->nllc, t->llcs_seen);
	put_groups(&o, "nodes", t->node, t->nnode, t->nodes_seen);
	return (int)o.off;
}

static bool same_groups(const struct cpuset_bits *a, unsigned na, const struct cpuset_bits *b,
			unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (!cpuset_equal(&a[i], &b[i]))
			return false;
	return true;
}

static char *format_alloc(const struct gtopo *t)
{
	size_t n = (size_t)gtopo_format(t, NULL, 0) + 1;
	char *s = malloc(n);

	if (s)
		gtopo_format(t, s, n);
	return s;
}

int gtopo_check(const struct ktstr_topo *asked, const struct gtopo *seen, char *msg,
		size_t msglen)
{
	struct gtopo *want;
	struct out o = { msg, msglen, 0 };
	char *ws = NULL, *ss = NULL;
	const char *sep = "";
	int ret;

	if (msglen)
		msg[0] = '\0';
	ret = topo_validate(asked, msg, msglen);
	if (ret)
		return ret;
	want = malloc(sizeof(*want));
	if (!want)
		return -ENOMEM;
	gtopo_from_model(asked, want);
	/* Both sides list groups by lowest CPU and cap them alike (LLCs and
	 * nodes at 64), so equal layouts compare equal element by element. */
	{
		bool cpus = cpuset_equal(&want->online, &seen->online);
		bool cores = !seen->cores_seen ||
			     same_groups(want->core, want->ncore, seen->core, seen->ncore);
		bool llcs = !seen->llcs_seen ||
			    same_groups(want->llc, want->nllc, seen->llc, seen->nllc);
		bool nodes = !seen->nodes_seen ||
			     same_groups(want->node, want->nnode, seen->node, seen->nnode);

		if (cpus && cores && llcs && nodes) {
			free(want);
			return 0;
		}
		ws = format_alloc(want);
		ss = format_alloc(seen);
		if (!ws || !ss) {
			ret = -ENOMEM;
			goto out;
		}
		put(&o, "topology mismatch (a VMM or kernel topology bug): the host asked for "
			"%u,%u,%u,%u (numa_nodes,llcs,cores_per_llc,threads_per_core) but the guest "
			"sees different ",
		    asked->numa_nodes, asked->llcs, asked->cores_per_llc, asked->threads_per_core);
		if (!cpus) {
			put(&o, "%sonline CPUs", sep);
			sep = ", ";
		}
		if (!cores) {
			put(&o, "%scores (SMT siblings)", sep);
			sep = ", ";
		}
		if (!llcs) {
			put(&o, "%sLLCs", sep);
			sep = ", ";
		}
		if (!nodes)
			put(&o, "%sNUMA nodes", sep);
		put(&o, ": asked {%s}, seen {%s}", ws, ss);
	}
	if (o.off >= msglen && msglen > 4)
		memcpy(msg + msglen - 4, "...", 4);
	ret = -EPROTO;
out:
	free(ws);
	free(ss);
	free(want);
	return ret;
}
