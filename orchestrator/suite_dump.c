#include "suite_dump.h"

#include <stdlib.h>

#include "json_pb.h"
#include "merge.h"
#include "profiles.h"

static const char *kind_name(enum sched_binary_kind k)
{
	switch (k) {
	case SCHED_BIN_NONE:
		return "none";
	case SCHED_BIN_NAME:
		return "name";
	case SCHED_BIN_PATH:
		return "path";
	default:
		return "kernel_builtin";
	}
}

static void dump_strv(FILE *f, const char *label, const struct strv *sv)
{
	fprintf(f, "  %s:", label);
	for (size_t i = 0; i < sv->n; i++)
		fprintf(f, " [%s]", sv->v[i]);
	fputc('\n', f);
}

/* Where each included file lands (include_files.h). */
static void dump_includes(FILE *f, const char *indent, const struct include_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s%s %s <- %s (%llu bytes)\n", indent, l->field, l->v[i].dest,
			l->v[i].host, (unsigned long long)l->v[i].size);
}

static void dump_pb(FILE *f, const char *label, const ProtobufCMessage *m)
{
	struct strbuf sb = { 0 };

	if (!json_pb(&sb, m))
		fprintf(f, "  %s: %s\n", label, sb.buf);
	sb_free(&sb);
}

/* A payload, its guest path and arguments, and the metrics read from its
 * runs' output (payload_metric.h). */
static void dump_payload(FILE *f, const struct payload_def *pd)
{
	fprintf(f, "payload %s: %s -> %s\n", pd->spec.name, pd->host_path, pd->spec.path);
	if (pd->args.n)
		dump_strv(f, "args", &pd->args);
	for (size_t k = 0; k < pd->metrics.n; k++) {
		const struct payload_metric *m = &pd->metrics.v[k];
		char min[32] = "-", max[32] = "-";

		if (m->has_min)
			payload_metric_num(m->min, min, sizeof(min));
		if (m->has_max)
			payload_metric_num(m->max, max, sizeof(max));
		fprintf(f, "  metric %s: pattern [%s] min %s max %s\n", m->name, m->pattern, min,
			max);
	}
}

int suite_dump(FILE *f, const struct suite *s)
{
	for (size_t i = 0; i < s->npayloads; i++)
		dump_payload(f, &s->payloads[i]);
	dump_includes(f, "", &s->includes);
	for (size_t i = 0; i < s->nscheds; i++) {
		const struct sched_def *sd = &s->scheds[i];
		char topo[32];
		struct strv cmd = { 0 };

		topo_label(&sd->topo, topo, sizeof(topo));
		fprintf(f, "scheduler %s: binary %s%s%s, topology %s\n", sd->name, kind_name(sd->kind),
			sd->binary ? " " : "", sd->binary ? sd->binary : "", topo);
		for (size_t k = 0; k < sd->nflags; k++) {
			fprintf(f, "  flag %s requires-mask %#x:", sd->flags[k].name,
				sd->flags[k].requires_mask);
			for (size_t a = 0; a < sd->flags[k].args.n; a++)
				fprintf(f, " [%s]", sd->flags[k].args.v[a]);
			fputc('\n', f);
		}
		if (sd->enable.n)
			dump_strv(f, "enable", &sd->enable);
		if (sd->disable.n)
			dump_strv(f, "disable", &sd->disable);
		if (!merge_cmdline(sd, &cmd) && cmd.n)
			dump_strv(f, "cmdline", &cmd);
		strv_free(&cmd);
		dump_includes(f, "  ", &sd->config);
		dump_includes(f, "  ", &sd->includes);
	}
	for (size_t i = 0; i < s->ntests; i++) {
		const struct test_def *t = &s->tests[i];
		const struct sched_def *sd = &s->scheds[t->sched];
		struct ktstr_topo topo = merge_topology(sd, t);
		struct topo_constraints c = merge_constraints(sd, t);
		Ktstr__AssertSpec as;
		uint32_t *masks = NULL;
		size_t n = 0;
		char label[32];

		topo_label(&topo, label, sizeof(label));
		fprintf(f, "test %s (line %u): scheduler %s, topology %s, memory_mb %u, timeout_ms %u\n",
			t->name, t->line, sd->name, label, t->memory_mb, t->timeout_ms);
		if (t->watchdog_timeout_ms || sd->watchdog_timeout_ms)
			fprintf(f, "  watchdog_timeout_ms %u\n", t->watchdog_timeout_ms
								? t->watchdog_timeout_ms
								: sd->watchdog_timeout_ms);
		fprintf(f, "  constraints: numa %u..%u llcs %u..%u cpus %u..%u smt %s\n", c.min_numa,
			c.max_numa, c.min_llcs, c.max_llcs, c.min_cpus, c.max_cpus,
			c.requires_smt ? "required" : "any");
		merge_asserts(sd, t, &as);
		dump_pb(f, "asserts", &as.base);
		if (t->image != t->sched)
			fprintf(f, "  image %zu (its own)\n", t->image);
		dump_includes(f, "  ", &t->includes);
		if (t->c_test_function)
			fprintf(f, "  c_test %s in payload %s\n", t->c_test_function,
				t->c_test_payload);
		if (!profiles_generate(sd, t->required_mask, t->excluded_mask, &masks, &n)) {
			for (size_t m = 0; m < n; m++) {
				struct strv args = { 0 };
				char pname[256];

				profile_name(sd, masks[m], pname, sizeof(pname));
				merge_sched_args(sd, t, masks[m], &args);
				fprintf(f, "  profile %s:", pname);
				for (size_t a = 0; a < args.n; a++)
					fprintf(f, " [%s]", args.v[a]);
				fputc('\n', f);
				strv_free(&args);
			}
			free(masks);
		}
		dump_pb(f, "scenario", &t->scenario->base);
	}
	return 0;
}
