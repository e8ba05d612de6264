#include "plan.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/arch.h>
#include <ktstr/arm64_check.h>
#include <ktstr/gtopo.h>
#include <ktstr/scenario_rules.h>
#include <ktstr/util.h>

#include "merge.h"
#include "profiles.h"
#include "shard_assign.h"
#include "spec_build.h"

const char *variant_state_name(enum variant_state st)
{
	static const char *const names[] = {
		[VAR_KEPT] = "run",
		[VAR_SKIP_HOST] = "skip",
		[VAR_SKIP_KERNEL] = "skip",
		[VAR_DROP_CONSTRAINT] = "drop",
		[VAR_DROP_HOST] = "drop",
		[VAR_DROP_FILTER] = "drop",
		[VAR_DROP_PARTITION] = "drop",
		[VAR_DROP_BUDGET] = "drop",
		[VAR_REFUSED_ARCH] = "refused",
	};
	return st < ARRAY_SIZE(names) ? names[st] : "?";
}

int plan_parse_partition(const char *s, uint32_t *k, uint32_t *n)
{
	char *end;
	unsigned long a, b;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno || end == s || *end != '/')
		return -EINVAL;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (errno || end == s || *end || b == 0 || a == 0 || a > b || b > SHARD_TOTAL_MAX)
		return -EINVAL;
	*k = (uint32_t)a;
	*n = (uint32_t)b;
	return 0;
}

int variant_profile_name(const struct suite *s, const struct variant *v, char *buf, size_t len)
{
	const struct test_def *t = &s->tests[v->test];

	return profile_name(&s->scheds[t->sched], v->profile, buf, len);
}

static int plan_push(struct plan *p, struct variant **out)
{
	if (KTSTR_GROW(p->v, &p->cap, p->n + 1, 64))
		return -ENOMEM;
	*out = &p->v[p->n++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static void set_reason(struct variant *v, enum variant_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_reason(struct variant *v, enum variant_state st, const char *fmt, ...)
{
	va_list ap;

	v->state = (uint8_t)st;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

bool plan_topo_in_constraints(const struct topo_constraints *c, const struct ktstr_topo *t,
			      char *why, size_t whylen)
{
	uint32_t cpus = topo_cpus(t);

	if (t->numa_nodes < c->min_numa || t->numa_nodes > c->max_numa)
		snprintf(why, whylen, "%u NUMA nodes outside constraints %u..%u", t->numa_nodes,
			 c->min_numa, c->max_numa);
	else if (t->llcs < c->min_llcs || t->llcs > c->max_llcs)
		snprintf(why, whylen, "%u LLCs outside constraints %u..%u", t->llcs, c->min_llcs,
			 c->max_llcs);
	else if (cpus < c->min_cpus || cpus > c->max_cpus)
		snprintf(why, whylen, "%u CPUs outside constraints %u..%u", cpus, c->min_cpus,
			 c->max_cpus);
	else if (c->requires_smt && t->threads_per_core < 2)
		snprintf(why, whylen, "test requires SMT; topology has 1 thread per core");
	else
		return true;
	return false;
}

/* Constraints first (a property of the test), then the host. */
static bool check_constraints(const struct topo_constraints *c, const struct ktstr_topo *t,
			      struct variant *v)
{
	char why[sizeof(v->reason)];

	if (plan_topo_in_constraints(c, t, why, sizeof(why)))
		return true;
	set_reason(v, VAR_DROP_CONSTRAINT, "%s", why);
	return false;
}

/* Whether a test's scenario fits one gauntlet preset, found once per
 * (test, preset) and shared by its profiles: the same resolver the guest
 * runs (ktstr/cpuspec.h) on the topology the variant will boot. */
struct preset_fit {
	int state; /* 0 not known yet, 1 fits, -1 does not (reason says why) */
	char reason[sizeof(((struct variant *)0)->reason)];
};

static bool scenario_fits(const struct test_def *t, const struct ktstr_topo *topo,
			  struct preset_fit *fit)
{
	struct gtopo *g;
	char path[96], why[400];
	int ret;

	if (!fit->state) {
		fit->state = 1;
		if (!ktstr_scenario_has_cpusets(t->scenario))
			return true;
		g = malloc(sizeof(*g));
		if (!g)
			return true; /* unchecked here; the guest still checks it */
		gtopo_from_model(topo, g);
		ret = ktstr_scenario_check(t->scenario, g, path, sizeof(path), why, sizeof(why));
		free(g);
		if (ret) {
			char *advice = strstr(why, "; ");

			/* A drop reason says what does not fit; the advice is
			 * for the test's own topology (a suite error). */
			if (advice)
				*advice = '\0';
			fit->state = -1;
			snprintf(fit->reason, sizeof(fit->reason),
				 "scenario does not fit: %.48s: %.118s", path, why);
		}
	}
	return fit->state > 0;
}

static bool check_host(const struct host_caps *h, const struct ktstr_topo *t, struct variant *v,
		       enum variant_state st)
{
	uint32_t cpus = topo_cpus(t);

	if (h->emulated) {
		if (cpus > h->max_vcpus) {
			set_reason(v, st, "needs %u vCPUs; this host emulates at most %u (QEMU TCG, "
				   "raise with KTSTR_TCG_MAX_VCPUS)", cpus, h->max_vcpus);
			return false;
		}
		return true;
	}
	if (cpus > h->cpus)
		set_reason(v, st, "needs %u CPUs; host has %u", cpus, h->cpus);
	else if (h->llc_unknown)
		return true; /* nothing known to compare with: hostcaps_describe says so */
	else if (t->llcs > h->llcs)
		set_reason(v, st, "needs %u LLCs; host has %u", t->llcs, h->llcs);
	else if (topo_cpus_per_llc(t) > h->max_cpus_per_llc)
		set_reason(v, st, "needs %u CPUs per LLC; host has at most %u", topo_cpus_per_llc(t),
			   h->max_cpus_per_llc);
	else
		return true;
	return false;
}

static int make_name(struct variant *v, const struct suite *s, const struct plan *p,
		     const char *preset)
{
	const struct test_def *t = &s->tests[v->test];
	const char *klabel = p->nkernels > 1 ? p->kernels[v->kernel].label : NULL;
	char prof[512];
	int ret;

	if (!preset) {
		ret = klabel ? asprintf(&v->name, "%s/k=%s", t->name, klabel)
			     : asprintf(&v->name, "%s", t->name);
	} else {
		profile_name(&s->scheds[t->sched], v->profile, prof, sizeof(prof));
		ret = asprintf(&v->name, "gauntlet/%s/%s/%s%s%s", t->name, preset, prof,
			       klabel ? "/k=" : "", klabel ? klabel : "");
	}
	if (ret < 0) {
		v->name = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Whether the guest architecture can express v (host-independent, like
 * the rest of select_one): on arm64 a gauntlet preset not marked arm64 or
 * beyond its limits is dropped (the gauntlet runs the presets that fit),
 * a test's own topology is refused with the reason (a suite error). */
static bool check_arch(const struct suite *s, const struct plan_opts *o, struct variant *v)
{
	const struct test_def *t = &s->tests[v->test];
	char why[sizeof(v->reason)];
	size_t np = 0;
	const struct ktstr_topo_preset *presets = topo_presets(&np);
	bool base = v->preset == VARIANT_BASE_PRESET;

	if (o->arch != KTSTR__ARCH__ARCH_ARM64)
		return true;
	if (!base && v->preset < np && arm64_preset_check(&presets[v->preset], why, sizeof(why)))
		goto refuse;
	if (!arm64_guest_check(&v->topo, (uint64_t)spec_memory_mb(t, &v->topo) << 20, NULL, why,
			       sizeof(why)))
		return true;
refuse:
	if (base)
		set_reason(v, VAR_REFUSED_ARCH, "test '%s' (line %u): %s", t->name, t->line, why);
	else
		set_reason(v, VAR_DROP_CONSTRAINT, "%s", why);
	return false;
}

/* What depends on the suite and the options alone, never on the host, so
 * that every shard of a job selects and weighs the same variants: the
 * filter, the test's constraints, its scenario's fit on v's gauntlet
 * preset (fit; NULL for a base run). */
static void select_one(const struct suite *s, const struct plan_opts *o, struct variant *v,
		       struct preset_fit *fit)
{
	const struct test_def *t = &s->tests[v->test];
	const struct sched_def *sd = &s->scheds[t->sched];
	struct topo_constraints c = merge_constraints(sd, t);

	if (o->filter && !strstr(v->name, o->filter)) {
		set_reason(v, VAR_DROP_FILTER, "name does not contain '%s'", o->filter);
		return;
	}
	if (!check_arch(s, o, v))
		return;
	if (!check_constraints(&c, &v->topo, v)) {
		if (v->preset == VARIANT_BASE_PRESET) /* its own topology breaks them: say so, skip */
			v->state = VAR_SKIP_HOST;
		return;
	}
	if (fit && !scenario_fits(t, &v->topo, fit))
		set_reason(v, VAR_DROP_CONSTRAINT, "%s", fit->reason);
}

/* This host and kernel, for a variant the selection and its shard kept. */
static void check_one(const struct suite *s, const struct plan_opts *o, const struct plan *p,
		      struct variant *v)
{
	const struct plan_kernel *k = &p->kernels[v->kernel];
	const struct test_def *t = &s->tests[v->test];
	const struct sched_def *sd = &s->scheds[t->sched];
	bool base = v->preset == VARIANT_BASE_PRESET;

	if (!check_host(&o->host, &v->topo, v, base ? VAR_SKIP_HOST : VAR_DROP_HOST))
		return;
	/* Performance mode pins every vCPU to a host CPU of its own plus one
	 * service CPU for the worker's control thread (runner.c reserves
	 * them); a host with fewer can never run the test. */
	if (t->performance_mode && topo_cpus(&v->topo) + 1 > o->host.cpus) {
		set_reason(v, base ? VAR_SKIP_HOST : VAR_DROP_HOST,
			   "performance_mode needs %u host CPUs (%u vCPUs + 1 service CPU); host has %u",
			   topo_cpus(&v->topo) + 1, topo_cpus(&v->topo), o->host.cpus);
		return;
	}
	if (k->scx != 0 || sd->kind == SCHED_BIN_NONE)
		return;
	/* With several kernels the reason names the one: the same test
	 * runs on the others. */
	if (p->nkernels > 1)
		set_reason(v, VAR_SKIP_KERNEL,
			   "kernel %.80s has no sched_ext (CONFIG_SCHED_CLASS_EXT); scheduler '%s' "
			   "needs it", k->id ? k->id : k->label, sd->name);
	else
		set_reason(v, VAR_SKIP_KERNEL,
			   "kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT); scheduler '%s' needs it",
			   sd->name);
}

static int expand_test(const struct suite *s, const struct plan_opts *o, uint32_t ti,
		       struct plan *p, char *err, size_t errlen)
{
	const struct test_def *t = &s->tests[ti];
	const struct sched_def *sd = &s->scheds[t->sched];
	uint32_t *masks = NULL;
	size_t nmasks = 0, npresets = 0;
	const struct ktstr_topo_preset *presets = topo_presets(&npresets);
	struct variant *v;
	int ret;

	ret = profiles_generate(sd, t->required_mask, t->excluded_mask, &masks, &nmasks);
	if (ret) {
		snprintf(err, errlen, "test '%s': %s", t->name,
			 ret == -E2BIG ? "more than 16 optional flags: too many profiles"
				       : "out of memory generating flag profiles");
		return ret;
	}
	if (!nmasks) {
		snprintf(err, errlen,
			 "test '%s' (line %u): no flag profile satisfies its required flags' requires",
			 t->name, t->line);
		free(masks);
		return -EINVAL;
	}
	if (!o->gauntlet) {
		/* The base run uses the smallest valid profile: required flags
		 * and whatever they require, nothing optional. */
		for (size_t k = 0; k < p->nkernels && !ret; k++) {
			ret = plan_push(p, &v);
			if (ret)
				break;
			v->test = ti;
			v->preset = VARIANT_BASE_PRESET;
			v->profile = masks[0];
			v->kernel = (uint8_t)k;
			v->topo = merge_topology(sd, t);
			ret = make_name(v, s, p, NULL);
			if (!ret)
				select_one(s, o, v, NULL);
		}
		free(masks);
		return ret;
	}
	for (size_t pi = 0; pi < npresets && !ret; pi++) {
		struct preset_fit fit = { 0 };

		for (size_t m = 0; m < nmasks && !ret; m++) {
			for (size_t k = 0; k < p->nkernels && !ret; k++) {
				ret = plan_push(p, &v);
				if (ret)
					break;
				v->test = ti;
				v->preset = (uint16_t)pi;
				v->profile = masks[m];
				v->kernel = (uint8_t)k;
				v->topo = presets[pi].topo;
				ret = make_name(v, s, p, presets[pi].name);
				if (!ret)
					select_one(s, o, v, &fit);
			}
		}
	}
	free(masks);
	return ret;
}

double variant_est_secs(const struct suite *s, const struct variant *v)
{
	const struct test_def *t = &s->tests[v->test];
	uint32_t cpus = topo_cpus(&v->topo);
	double dur = t->scenario ? t->scenario->duration_ms / 1000.0 : 2.0;

	return 10.0 + (cpus > 16 ? (cpus - 16) / 10.0 : 0.0) + dur + 2.0;
}

static unsigned djb2_mod(const char *s, unsigned m)
{
	unsigned long h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return (unsigned)(h % m);
}

static unsigned bucket(uint32_t v, const uint32_t *limits, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (v <= limits[i])
			return i;
	return n;
}

/* One bit per coverage feature; budget selection maximises new bits. */
uint64_t variant_features(const struct suite *s, const struct variant *v)
{
	static const uint32_t cpu_lim[] = { 4, 8, 16, 32, 64, 128 };      /* 7 buckets */
	static const uint32_t llc_lim[] = { 1, 2, 4, 8 };		  /* 5 */
	static const uint32_t dur_lim[] = { 2000, 5000, 10000 };	  /* 4 */
	static const uint32_t wrk_lim[] = { 2, 4, 8 };			  /* 4 */
	const struct test_def *t = &s->tests[v->test];
	const struct sched_def *sd = &s->scheds[t->sched];
	uint64_t f = 0;
	uint32_t workers = 0, nflags = (uint32_t)__builtin_popcount(v->profile);

	f |= 1ull << djb2_mod(sd->name, 4);				    /* 0-3 */
	for (size_t i = 0; i < sd->nflags; i++)
		if (v->profile & (1u << i))
			f |= 1ull << (4 + i % 8);				    /* 4-11 */
	if (t->required_mask)
		f |= 1ull << 12;
	if (t->excluded_mask)
		f |= 1ull << 13;
	f |= 1ull << (14 + bucket(topo_cpus(&v->topo), cpu_lim, 6));	    /* 14-20 */
	f |= 1ull << (21 + bucket(v->topo.llcs, llc_lim, 4));		    /* 21-25 */
	f |= 1ull << (26 + (v->topo.numa_nodes > 2 ? 2 : v->topo.numa_nodes - 1)); /* 26-28 */
	if (v->topo.threads_per_core > 1)
		f |= 1ull << 29;
	f |= 1ull << (30 + bucket(t->scenario ? t->scenario->duration_ms : 2000, dur_lim, 3)); /* 30-33 */
	for (size_t i = 0; t->scenario && i < t->scenario->n_cgroups; i++)
		workers += t->scenario->cgroups[i]->workers;
	f |= 1ull << (34 + bucket(workers, wrk_lim, 3));			    /* 34-37 */
	if (v->preset != VARIANT_BASE_PRESET)
		f |= 1ull << 38;
	f |= 1ull << (39 + djb2_mod(t->name, 4));				    /* 39-42 */
	f |= 1ull << (43 + (nflags > 3 ? 3 : nflags));				    /* 43-46 */
	if (v->preset != VARIANT_BASE_PRESET)
		f |= 1ull << (47 + v->preset % 16);				    /* 47-62 */
	/* The one bit left tells a kernel from its neighbour in --kernel
	 * order, so that the budget can pick a second kernel at all (0 with
	 * one kernel: its selection is as it was). */
	if (v->kernel % 2)
		f |= 1ull << 63;
	return f;
}

/* Greedy coverage (docs/reference.md, "Budget selection"): each round takes
 * the kept variant adding the most new feature bits per estimated second
 * that still fits; ties go to the smaller name. Every pick adds at least one of 64
 * bits, so there are at most 64 rounds: linear in the number of variants. */
static void apply_budget(const struct suite *s, const struct plan_opts *o, struct plan *p)
{
	uint64_t covered = 0, possible = 0;
	double left = o->budget_s, used = 0;
	size_t total = 0, chosen = 0;
	uint8_t *picked = calloc(p->n ? p->n : 1, 1);
	uint64_t *feat = malloc((p->n ? p->n : 1) * sizeof(*feat));
	double *est = malloc((p->n ? p->n : 1) * sizeof(*est));

	if (!picked || !feat || !est)
		goto out; /* no budget applied: every kept variant runs */
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].state != VAR_KEPT)
			continue;
		feat[i] = variant_features(s, &p->v[i]);
		est[i] = variant_est_secs(s, &p->v[i]);
		possible |= feat[i];
		total++;
	}
	for (;;) {
		long best = -1;
		double best_score = 0;

		for (size_t i = 0; i < p->n; i++) {
			double score;
			int nb;

			if (p->v[i].state != VAR_KEPT || picked[i] || est[i] > left)
				continue;
			nb = __builtin_popcountll(feat[i] & ~covered);
			if (!nb)
				continue;
			score = nb / est[i];
			if (best < 0 || score > best_score ||
			    (score == best_score && strcmp(p->v[i].name, p->v[best].name) < 0)) {
				best = (long)i;
				best_score = score;
			}
		}
		if (best < 0)
			break;
		picked[best] = 1;
		covered |= feat[best];
		left -= est[best];
		used += est[best];
		chosen++;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].state == VAR_KEPT && !picked[i])
			set_reason(&p->v[i], VAR_DROP_BUDGET, "not selected within the %us budget",
				   o->budget_s);
	p->budget_used_s = used;
	p->budget_bits = (unsigned)__builtin_popcountll(covered);
	p->budget_bits_possible = (unsigned)__builtin_popcountll(possible);
	if (!o->quiet)
		fprintf(stderr, "ktstr budget: %zu/%zu tests, %.0f/%u s used, %u/%u configurations "
				"covered\n",
			chosen, total, used, o->budget_s, p->budget_bits, p->budget_bits_possible);
out:
	free(picked);
	free(feat);
	free(est);
}

/* FNV-1a 64, continued from h over len bytes. */
static uint64_t fnv1a(uint64_t h, const void *buf, size_t len)
{
	for (const unsigned char *c = buf; len--; c++) {
		h ^= *c;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Every variant the filter selected gets exactly one shard (docs/farms.md,
 * "Shards"), weighed by the one estimate --budget uses; a variant the
 * selection already dropped or skips costs nothing. Only what select_one
 * decided counts, never the host, so every shard agrees. The fingerprint
 * covers what the assignment depends on (names and weights, in plan
 * order): shards whose fingerprints differ planned different runs. */
static int apply_partition(const struct suite *s, const struct plan_opts *o, struct plan *p)
{
	struct shard_item *it = malloc((p->n ? p->n : 1) * sizeof(*it));
	uint32_t *shard = malloc((p->n ? p->n : 1) * sizeof(*shard));
	size_t *at = malloc((p->n ? p->n : 1) * sizeof(*at));
	uint64_t h = 0xcbf29ce484222325ull;
	size_t n = 0;
	int ret = -ENOMEM;

	if (!it || !shard || !at)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		const struct variant *v = &p->v[i];
		uint64_t ms;

		if (v->state == VAR_DROP_FILTER)
			continue;
		ms = v->state == VAR_KEPT ? (uint64_t)llround(variant_est_secs(s, v) * 1000.0) : 0;
		h = fnv1a(h, v->name, strlen(v->name) + 1);
		h = fnv1a(h, &ms, sizeof(ms));
		it[n] = (struct shard_item){ v->name, ms };
		at[n++] = i;
	}
	p->fingerprint = h;
	p->selected_all = n;
	p->assigned = n;
	ret = o->part_n ? shard_assign(it, n, o->part_n, shard) : 0;
	for (size_t j = 0; !ret && o->part_n && j < n; j++) {
		if (shard[j] == o->part_k - 1)
			continue;
		set_reason(&p->v[at[j]], VAR_DROP_PARTITION, "in partition %u/%u", shard[j] + 1,
			   o->part_n);
		p->assigned--;
	}
out:
	free(it);
	free(shard);
	free(at);
	return ret;
}

/* The last path component of id: of ".../KEY/vmlinux" (or bzImage,
 * vmlinuz*) the directory's name, which names the kernel; at most len-1
 * bytes, anything but [A-Za-z0-9._+-] made '_' so that a name stays one
 * path-like word. */
static void kernel_word(const char *id, char *buf, size_t len)
{
	const char *end = id + strlen(id), *start;
	size_t n = 0;

	while (end > id && end[-1] == '/')
		end--;
	for (start = end; start > id && start[-1] != '/'; start--)
		;
	if ((end - start == 7 && (!strncmp(start, "vmlinux", 7) || !strncmp(start, "bzImage", 7))) ||
	    (end - start >= 7 && !strncmp(start, "vmlinuz", 7))) {
		const char *dend = start;

		while (dend > id && dend[-1] == '/')
			dend--;
		if (dend > id) {
			end = dend;
			for (start = end; start > id && start[-1] != '/'; start--)
				;
		}
	}
	for (; start < end && n + 1 < len; start++, n++) {
		char c = *start;

		buf[n] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				 c == '.' || c == '_' || c == '+' || c == '-'
			 ? c
			 : '_';
	}
	buf[n] = '\0';
}

static bool labels_unique(const struct plan_kernel *k, size_t n, size_t *a, size_t *b)
{
	for (*a = 0; *a < n; (*a)++)
		for (*b = *a + 1; *b < n; (*b)++)
			if (!strcmp(k[*a].label, k[*b].label))
				return false;
	return true;
}

int plan_kernel_labels(struct plan_kernel *k, size_t n, char *err, size_t errlen)
{
	size_t a, b;

	if (n < 2) {
		for (size_t i = 0; i < n; i++)
			k[i].label[0] = '\0';
		return 0;
	}
	/* n <= PLAN_KERNELS_MAX: the pairwise check is a few dozen compares. */
	for (size_t i = 0; i < n; i++) {
		size_t v = 0;

		kernel_word(k[i].id ? k[i].id : "", k[i].label, sizeof(k[i].label));
		while ((k[i].label[v] >= '0' && k[i].label[v] <= '9') || k[i].label[v] == '.')
			v++;
		while (v && k[i].label[v - 1] == '.')
			v--;
		if (v) /* a version: the rest is packaging (+deb14-cloud-amd64) */
			k[i].label[v] = '\0';
	}
	if (labels_unique(k, n, &a, &b))
		return 0;
	for (size_t i = 0; i < n; i++)
		kernel_word(k[i].id ? k[i].id : "", k[i].label, sizeof(k[i].label));
	if (labels_unique(k, n, &a, &b))
		return 0;
	snprintf(err, errlen, "kernels %.200s and %.200s would both be named '%s' in the test "
			      "names: rename one's directory, or run them apart",
		 k[a].id ? k[a].id : "?", k[b].id ? k[b].id : "?", k[a].label);
	return -EEXIST;
}

int plan_build(const struct suite *s, const struct plan_opts *o, struct plan *p, char *err,
	       size_t errlen)
{
	int ret = 0;

	memset(p, 0, sizeof(*p));
	if (o->nkernels > PLAN_KERNELS_MAX) {
		snprintf(err, errlen, "%zu kernels: at most %d per run", o->nkernels,
			 PLAN_KERNELS_MAX);
		return -EINVAL;
	}
	p->nkernels = o->nkernels ? o->nkernels : 1;
	p->part_k = o->part_k;
	p->part_n = o->part_n;
	p->arch = o->arch;
	p->kernels = calloc(p->nkernels, sizeof(*p->kernels));
	if (!p->kernels) {
		snprintf(err, errlen, "out of memory while planning");
		return -ENOMEM;
	}
	if (o->nkernels)
		memcpy(p->kernels, o->kernels, o->nkernels * sizeof(*p->kernels));
	else
		p->kernels[0].scx = o->kernel_scx;
	for (size_t ti = 0; ti < s->ntests && !ret; ti++)
		ret = expand_test(s, o, (uint32_t)ti, p, err, errlen);
	if (!ret)
		ret = apply_partition(s, o, p);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory while planning %zu variants", p->n);
		plan_free(p);
		return ret;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].state == VAR_KEPT)
			check_one(s, o, p, &p->v[i]);
	if (o->budget_s)
		apply_budget(s, o, p);
	for (size_t i = 0; i < p->n; i++) {
		p->kept += p->v[i].state == VAR_KEPT;
		p->refused += p->v[i].state == VAR_REFUSED_ARCH;
	}
	return 0;
}

size_t plan_print_refused(FILE *f, const struct plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].state == VAR_REFUSED_ARCH && ++n)
			fprintf(f, "ktstr-orch: %s guest: %s\n", ktstr_arch_name(p->arch),
				p->v[i].reason);
	return n;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	free(p->kernels);
	memset(p, 0, sizeof(*p));
}

size_t plan_selected(const struct plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->v[i].state != VAR_DROP_FILTER && p->v[i].state != VAR_DROP_PARTITION;
	return n;
}

/* Edit distance from pat to the closest substring of s (Sellers'
 * algorithm): how far a --filter, which matches substrings, is from
 * matching s at all. O(|pat| |s|); pat is cut at 255 characters. */
static unsigned substr_distance(const char *pat, const char *s)
{
	unsigned col[256];
	size_t m = strnlen(pat, 255);
	unsigned best;

	for (size_t i = 0; i <= m; i++)
		col[i] = (unsigned)i;
	best = col[m];
	for (; *s; s++) {
		unsigned diag = col[0];

		col[0] = 0; /* a match may start anywhere in s */
		for (size_t i = 1; i <= m; i++) {
			unsigned up = col[i], v = diag + (pat[i - 1] != *s);

			if (up + 1 < v)
				v = up + 1;
			if (col[i - 1] + 1 < v)
				v = col[i - 1] + 1;
			col[i] = v;
			diag = up;
		}
		if (col[m] < best)
			best = col[m];
	}
	return best;
}

#define CLOSE_NAMES 5

struct close {
	const char *name[CLOSE_NAMES];
	unsigned dist[CLOSE_NAMES];
	size_t n;
};

/* Keep the CLOSE_NAMES nearest names, ties to the smaller name. */
static void close_offer(struct close *c, const char *name, unsigned d)
{
	size_t i = c->n < CLOSE_NAMES ? c->n : CLOSE_NAMES;

	for (size_t k = 0; k < c->n; k++)
		if (!strcmp(c->name[k], name))
			return;
	while (i > 0 && (d < c->dist[i - 1] ||
			 (d == c->dist[i - 1] && strcmp(name, c->name[i - 1]) < 0))) {
		if (i < CLOSE_NAMES) {
			c->name[i] = c->name[i - 1];
			c->dist[i] = c->dist[i - 1];
		}
		i--;
	}
	if (i < CLOSE_NAMES) {
		c->name[i] = name;
		c->dist[i] = d;
		if (c->n < CLOSE_NAMES)
			c->n++;
	}
}

void plan_explain_empty(const struct suite *s, const struct plan *p, const struct plan_opts *o,
			char *msg, size_t msglen)
{
	/* A typo of a few characters in a name of any length: a third of the
	 * filter, at least one. */
	unsigned limit = o->filter ? (unsigned)strnlen(o->filter, 255) / 3 : 0;
	size_t matched = 0, off, near;
	struct close c = { 0 };

	if (!s->ntests) {
		snprintf(msg, msglen, "the suite has no tests; add some under tests:, or pass "
				      "--allow-empty to accept an empty run");
		return;
	}
	for (size_t i = 0; i < p->n; i++)
		matched += p->v[i].state != VAR_DROP_FILTER;
	if (!o->filter || matched) {
		snprintf(msg, msglen,
			 "--partition %u/%u holds none of the %zu variants selected (more shards "
			 "than variants: docs/farms.md, \"Shards\"); use fewer shards, or pass "
			 "--allow-empty where a shard may be empty",
			 o->part_k, o->part_n, matched);
		return;
	}
	if (limit < 1)
		limit = 1;
	for (size_t i = 0; i < s->ntests; i++)
		close_offer(&c, s->tests[i].name, substr_distance(o->filter, s->tests[i].name));
	/* A kernel's label is a filter too (it ends every name). */
	for (size_t k = 0; p->nkernels > 1 && k < p->nkernels; k++)
		close_offer(&c, p->kernels[k].label,
			    substr_distance(o->filter, p->kernels[k].label));
	if (o->gauntlet) {
		size_t np;
		const struct ktstr_topo_preset *pr = topo_presets(&np);

		for (size_t i = 0; i < np; i++)
			close_offer(&c, pr[i].name, substr_distance(o->filter, pr[i].name));
	}
	off = (size_t)snprintf(msg, msglen, "--filter '%.200s' matches no %s name", o->filter,
			       o->gauntlet ? "variant" : "test");
	/* The close ones when there are (a typo); else the nearest few. */
	for (near = c.n; near > 0 && c.dist[near - 1] > limit; near--)
		;
	if (near)
		c.n = near;
	for (size_t i = 0; i < c.n && off < msglen; i++)
		off += (size_t)snprintf(msg + off, msglen - off, "%s'%s'",
					i ? ", " : near ? "; closest: " : "; nearest: ",
					c.name[i]);
	if (off < msglen)
		snprintf(msg + off, msglen - off,
			 " (`ktstr-orch list SUITE%s` shows them all); fix the filter, or pass "
			 "--allow-empty to accept an empty selection",
			 o->gauntlet ? " --gauntlet" : "");
}
