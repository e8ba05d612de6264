/* `ktstr-orch run SUITE` and `ktstr-orch list SUITE`. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/arch.h>
#include <ktstr/log.h>
#include <ktstr/util.h>

#include "cli.h"
#include "gha.h"
#include "images.h"
#include "jsonl.h"
#include "jsonl_record.h"
#include "junit.h"
#include "cache_owner.h"
#include "coverage.h"
#include "privdrop.h"
#include "html_cmd.h"
#include "report_file.h"
#include "stop.h"
#include "hostres.h"
#include "kernel_cache.h"
#include "kernel_layout.h"
#include "plan.h"
#include "preflight.h"
#include "report.h"
#include "runner.h"
#include "shard_assign.h"
#include "shard_env.h"
#include "shard_info.h"
#include "suite.h"
#include "vm_backend_worker.h"
#include "workers_default.h"

struct run_opts {
	struct plan_opts plan;
	struct run_settings settings;
	const char *kernel[PLAN_KERNELS_MAX]; /* each --kernel, in order */
	size_t nkernel;
	const char *junit, *json, *jsonl, *html;
	const char *coverage; /* --coverage DIR (coverage.h); NULL = none */
	unsigned retries;
	const char *suite;
	bool allow_empty; /* selecting no test is not an error */
	/* Where --partition came from, for the shard's --json element
	 * (shard_info.h): "--partition K/N" or the CI engine's variables. */
	char part_source[192];
	/* Host-wide reservation (hostres.h, docs/farms.md): --cpu-cap (0 =
	 * none) and --reserve-timeout; both start no VM in `list`. */
	unsigned cpu_cap;
	uint32_t reserve_timeout_s;
};

static int parse_uint(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *out > max || s[0] == '-') {
		fprintf(stderr, "ktstr-orch: %s takes a number 0..%lu, got '%s'\n", opt, max, s);
		return -EINVAL;
	}
	return 0;
}

/* none (default: the COW-shared image needs no inflating; docs/initramfs.md
 * has the measurements), gzip, lz4. */
static int compression_parse(const char *s, Ktstr__Compression *out)
{
	if (!strcmp(s, "none"))
		*out = KTSTR__COMPRESSION__COMPRESSION_NONE;
	else if (!strcmp(s, "gzip"))
		*out = KTSTR__COMPRESSION__COMPRESSION_GZIP;
	else if (!strcmp(s, "lz4"))
		*out = KTSTR__COMPRESSION__COMPRESSION_LZ4;
	else
		return -EINVAL;
	return 0;
}

/* --partition K/N, or auto: the CI engine's variables (shard_env.h). */
static int parse_partition(const char *arg, struct run_opts *o)
{
	struct shard_env se;
	char err[1024];

	if (strcmp(arg, "auto")) {
		if (plan_parse_partition(arg, &o->plan.part_k, &o->plan.part_n)) {
			fprintf(stderr, "ktstr-orch: --partition takes K/N with 1 <= K <= N <= %u, "
					"or auto, got '%s'\n", SHARD_TOTAL_MAX, arg);
			return -EINVAL;
		}
		snprintf(o->part_source, sizeof(o->part_source), "--partition %u/%u",
			 o->plan.part_k, o->plan.part_n);
		return 0;
	}
	if (shard_env_resolve(shard_getenv_process, NULL, &se, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch: --partition auto: %s\n", err);
		return -EINVAL;
	}
	o->plan.part_k = se.k;
	o->plan.part_n = se.n;
	snprintf(o->part_source, sizeof(o->part_source), "%s", se.source);
	kinfo("--partition auto: shard %u of %u (%s)", se.k, se.n, se.source);
	return 0;
}

/* The options of run or list (the table in cli_table.c says which a command
 * takes). Returns true to go on; false with *rc the exit status: --help
 * printed (0) or a usage error said (2). */
static bool parse_run_opts(struct cli_parser *cp, struct run_opts *o, int *rc)
{
	unsigned long v;
	int c;

	while ((c = cli_next(cp)) > 0) {
		switch (c) {
		case 'g':
			o->plan.gauntlet = true;
			break;
		case 'b':
			if (parse_uint("--budget", optarg, 10u * 86400, &v) || !v) {
				fprintf(stderr, "ktstr-orch: --budget needs a positive number of seconds\n");
				goto bad;
			}
			o->plan.budget_s = (uint32_t)v;
			break;
		case 'f':
			o->plan.filter = optarg;
			break;
		case 'p':
			if (parse_partition(optarg, o))
				goto bad;
			break;
		case 'r':
			if (parse_uint("--retries", optarg, 100, &v))
				goto bad;
			o->retries = (unsigned)v;
			break;
		case 't':
			if (parse_uint("--timeout", optarg, 86400, &v) || !v) {
				fprintf(stderr, "ktstr-orch: --timeout needs a positive number of seconds\n");
				goto bad;
			}
			o->settings.timeout_ms = (uint32_t)v * 1000;
			break;
		case 'e':
			if (engine_parse(optarg, &o->settings.engine)) {
				fprintf(stderr, "ktstr-orch: --engine takes auto, kvm or qemu, got '%s'\n",
					optarg);
				goto bad;
			}
			break;
		case 'A':
			if (ktstr_arch_parse(optarg, &o->plan.arch)) {
				fprintf(stderr, "ktstr-orch: " KTSTR_ARCH_BAD_FMT "\n", optarg);
				goto bad;
			}
			o->settings.arch = o->plan.arch;
			break;
		case 'k':
			if (o->nkernel == PLAN_KERNELS_MAX) {
				fprintf(stderr, "ktstr-orch: --kernel: at most %d kernels per run\n",
					PLAN_KERNELS_MAX);
				goto bad;
			}
			o->kernel[o->nkernel++] = optarg;
			break;
		case 'C':
			if (compression_parse(optarg, &o->settings.compression)) {
				fprintf(stderr, "ktstr-orch: --initramfs-compression takes none, gzip "
						"or lz4, got '%s'\n", optarg);
				goto bad;
			}
			break;
		case 'E':
			o->allow_empty = true;
			break;
		case 'P':
			if (parse_uint("--cpu-cap", optarg, HOSTRES_MAX_CPUS, &v) || !v) {
				fprintf(stderr, "ktstr-orch: --cpu-cap needs a number of host CPUs, "
						"1..%u\n", HOSTRES_MAX_CPUS);
				goto bad;
			}
			o->cpu_cap = (unsigned)v;
			break;
		case 'W':
			if (parse_uint("--reserve-timeout", optarg, HOSTRES_TIMEOUT_MAX_S, &v))
				goto bad;
			o->reserve_timeout_s = (uint32_t)v;
			break;
		case 'J':
			o->junit = optarg;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'L':
			o->jsonl = optarg;
			break;
		case 'H':
			o->html = optarg;
			break;
		case 'V':
			o->coverage = optarg;
			o->settings.coverage = true;
			break;
		}
	}
	if (c == CLI_STOP) {
		*rc = cp->exit;
		return false;
	}
	o->suite = cp->argv[optind];
	return true;
bad:
	*rc = cli_usage_hint(cp->cmd);
	return false;
}

/* Resolve the report files while still root: the dropped user may not be
 * allowed to reach or create them (report_file.h, docs/security.md). */
static int open_reports(const struct run_opts *o, const struct global_opts *g,
			struct report_file rf[3])
{
	const struct privdrop_opts po = global_privdrop_opts(g);
	const char *user = privdrop_target(&po);
	for (int which = 0; which < 3; which++) {
		const char *path = which == 2 ? o->html : which ? o->json : o->junit;
		char err[1024];
		int ret;

		if (!path)
			continue;
		ret = report_file_open(&rf[which], path, user, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "ktstr-orch: cannot use the %s report path: %s\n",
				which == 2 ? "HTML" : which ? "JSON" : "JUnit", err);
			return ret;
		}
	}
	return 0;
}

static int write_reports(struct report_file rf[3], const struct run_opts *o, const struct suite *s,
			 const struct plan *p, const struct test_record *recs, size_t n,
			 const struct runmeta *m)
{
	int rc = 0;

	for (int which = 0; which < 3; which++) {
		struct strbuf sb = { 0 };
		int ret;

		if (!rf[which].path)
			continue;
		/* The page: drawn from the same records (html_cmd.h). */
		ret = which == 2 ? html_render_run(&sb, s, p, recs, n, m, rf[2].path) :
		      which ? json_render(&sb, s, p, recs, n, m) : junit_render(&sb, s, p, recs, n, m);
		/* A shard's JSON says which shard of which plan it is, so
		 * that merge can tell a missing shard from an empty one. */
		if (!ret && which == 1 && p->part_n)
			ret = shard_info_append(&sb, p, recs, n, o->part_source, s->path);
		if (!ret)
			ret = report_file_write(&rf[which], sb.buf ? sb.buf : "", sb.len);
		if (ret) {
			kerr("cannot write the %s report %s: %s",
			     which == 2 ? "HTML" : which ? "JSON" : "JUnit",
			     rf[which].path, strerror(-ret));
			rc = ret;
		}
		sb_free(&sb);
	}
	return rc;
}

struct readable_ctx {
	const struct suite *s;
	const struct plan *p;
	const char *user;
	char *err;
	size_t errlen;
};

static int check_readable_cb(void *arg)
{
	struct readable_ctx *c = arg;

	return images_check_readable(c->s, c->p, c->user, c->err, c->errlen);
}

static const char *user_name(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &res) || !res)
		snprintf(buf, len, "uid %u", (unsigned)getuid());
	else
		snprintf(buf, len, "%s", pw.pw_name);
	return buf;
}

/* A sched_ext scheduler on a kernel whose config we cannot see: the run
 * goes on (the guest reports SCHED_NOT_ATTACHED, never a pass), but say
 * why it may fail. */
static void warn_unknown_scx(const struct suite *s, const struct plan *p, size_t k,
			     const struct kernel_choice *kc)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct sched_def *sd = &s->scheds[s->tests[p->v[i].test].sched];

		if (p->v[i].kernel == k && p->v[i].state == VAR_KEPT &&
		    sd->kind != SCHED_BIN_NONE) {
			kwarn("cannot tell whether kernel %s has sched_ext (no config beside it): "
			      "tests of scheduler '%s' fail as SCHED_NOT_ATTACHED if it has not; "
			      "put the kernel's config next to it or use a cached kernel",
			      kc->image, sd->name);
			return;
		}
	}
}

/* One run, phase by phase: each phase returns 0 to go on or the exit
 * status; cmd_run releases what the context holds. */
struct run_ctx {
	struct global_opts go;
	struct run_opts o;
	struct suite *s;		/* owned */
	struct plan p;			/* owned */
	/* The kernels (--kernel order; one when none was named), each with
	 * its plan label, its image opened as root (owned, -1 none) and the
	 * monitor's view of it (owned, NULL = none). nkc 0: list without a
	 * kernel. */
	struct kernel_choice kc[PLAN_KERNELS_MAX];
	struct plan_kernel pk[PLAN_KERNELS_MAX];
	int kfd[PLAN_KERNELS_MAX];
	Ktstr__GuestKernelLayout *layout[PLAN_KERNELS_MAX];
	size_t nkc;
	struct cache_owner co;
	struct builder_client bc;	/* started as the cache owner, or pid -1 */
	struct report_file rf[3];	/* --junit, --json, --html */
	struct jsonl jl;		/* --jsonl (jsonl.h) */
	struct coverage_out cov;	/* --coverage (coverage.h); dirfd owned */
	struct runmeta meta;		/* owned (runmeta.h); set before the drop */
	struct image_set images;	/* owned; one set for every kernel (the
					   initramfs does not depend on it) */
	char err[2048], hostline[512], engine_err[1024];
	char workers_why[256]; /* where go.workers came from, for list and -v */
};

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return !strcmp(a, b);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Every --kernel (or the default kernel) into c->kc and c->pk, the plan's
 * kernel dimension. Two that resolve to the same image are refused: they
 * would run every test twice under two names. Returns 0 or the exit
 * status; list without a kernel is nkc 0, not an error. */
static int resolve_kernels(struct run_ctx *c, bool list_only)
{
	size_t n = c->o.nkernel ? c->o.nkernel : 1;

	for (size_t i = 0; i < n; i++) {
		const char *arg = c->o.nkernel ? c->o.kernel[i] : NULL;
		struct kernel_choice *kc = &c->kc[i];

		if (kernel_resolve_arch(arg, ktstr_arch_name(c->o.plan.arch), c->o.settings.engine,
					kc, c->err, sizeof(c->err))) {
			if (list_only && !arg)
				return 0;
			fprintf(stderr, "ktstr-orch: %s\n", c->err);
			return EXIT_USAGE;
		}
		c->nkc++;
		for (size_t j = 0; j < i; j++) {
			if (!same_file(c->kc[j].image, kc->image))
				continue;
			fprintf(stderr, "ktstr-orch: --kernel %s and --kernel %s are the same "
					"kernel (%s): name each kernel once\n",
				c->o.kernel[j], arg, kc->image);
			return EXIT_USAGE;
		}
		c->pk[i] = (struct plan_kernel){ .id = kc->key[0] ? kc->key : kc->image,
						 .scx = kc->scx };
	}
	if (plan_kernel_labels(c->pk, c->nkc, c->err, sizeof(c->err))) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return EXIT_USAGE;
	}
	c->o.plan.kernels = c->pk;
	c->o.plan.nkernels = c->nkc;
	return 0;
}

/* --coverage: every VM's PROFRAW files under DIR/TEST/, with a line that
 * says where (and, when nothing came, why to look). */
static void write_coverage(struct run_ctx *c, const struct test_record *recs, size_t nrecs)
{
	for (size_t i = 0; i < nrecs; i++) {
		const char *name = c->p.v[recs[i].vidx].name;

		if (!recs[i].vm || !c->s->tests[c->p.v[recs[i].vidx].test].c_test_function)
			continue;
		if (coverage_write_vm(&c->cov, name, recs[i].vm, stderr) == 0)
			fprintf(stderr, "ktstr-orch: coverage: %s sent no coverage files (not "
					"built with coverage, or it did not exit normally: the "
					"coverage runtime writes at exit)\n", name);
	}
	printf("coverage: %u file(s) from %u VM(s) under %s/TEST/ (merge: docs/c-api.md, "
	       "\"Coverage\")%s\n", c->cov.files, c->cov.vms, c->o.coverage,
	       c->cov.problems ? "; see the notes above" : "");
	fflush(stderr);
}

/* Suite, host, kernels and plan: nothing started, ids unchanged. */
static int run_plan(struct run_ctx *c, bool list_only)
{
	struct privdrop_opts po;
	int rc;

	/* After the command's own options: --cache-user may follow `run`. */
	po = global_privdrop_opts(&c->go);
	c->o.settings.insecure_no_sandbox = c->go.insecure_no_sandbox;
	if (cache_owner_resolve(&po, &c->co, c->err, sizeof(c->err)) ||
	    suite_load(c->o.suite, &c->s, c->err, sizeof(c->err))) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return EXIT_USAGE;
	}
	/* An arm64 guest on an x86_64 host runs under QEMU only. */
	if (hostcaps_probe_guest(&c->o.settings.engine, c->o.plan.arch, &c->o.plan.host, c->err,
				 sizeof(c->err))) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return EXIT_USAGE;
	}
	hostcaps_describe(&c->o.plan.host, c->hostline, sizeof(c->hostline));
	if (c->o.cpu_cap > c->o.plan.host.cpus) {
		fprintf(stderr, "ktstr-orch: --cpu-cap %u: the host has %u CPUs\n", c->o.cpu_cap,
			c->o.plan.host.cpus);
		return EXIT_USAGE;
	}
	/* An engine the user named that cannot run on this host is an
	 * infrastructure error before any planning: skipping every test for
	 * want of host capacity would hide it. (As root this checks the
	 * device; the dropped user is checked again before the first VM.) */
	if (c->o.settings.engine == KTSTR__ENGINE__ENGINE_AUTO ||
	    !preflight_engine(&c->o.plan.host, NULL, c->engine_err, sizeof(c->engine_err))) {
		c->engine_err[0] = '\0';
	} else if (!list_only) {
		fprintf(stderr, "ktstr-orch: host: %s\nktstr-orch: %s\n", c->hostline,
			c->engine_err);
		return EXIT_INFRA;
	}
	c->o.settings.engine = c->o.plan.host.engine;
	rc = resolve_kernels(c, list_only);
	if (rc)
		return rc;
	c->o.plan.kernel_scx = -1; /* for list without a kernel (nkernels 0) */
	c->o.plan.quiet = false;
	if (plan_build(c->s, &c->o.plan, &c->p, c->err, sizeof(c->err))) {
		fprintf(stderr, "ktstr-orch: %s: %s\n", c->o.suite, c->err);
		return EXIT_USAGE;
	}
	/* A test whose own topology the guest architecture cannot express is
	 * a suite error before any boot; `list` shows the plan first. */
	if (c->p.refused && !list_only) {
		plan_print_refused(stderr, &c->p);
		fprintf(stderr, "ktstr-orch: %s: %zu test(s) cannot run on an %s guest (above); "
				"nothing was started\n", c->o.suite, c->p.refused,
			ktstr_arch_name(c->p.arch));
		return EXIT_USAGE;
	}
	/* A filter that matches nothing is almost always a typo, and a run
	 * of nothing would pass: refused unless asked for. */
	if (!plan_selected(&c->p) && !c->o.allow_empty) {
		plan_explain_empty(c->s, &c->p, &c->o.plan, c->err, sizeof(c->err));
		fprintf(stderr, "ktstr-orch: %s: no test selected: %s\n", c->o.suite, c->err);
		return EXIT_USAGE;
	}
	if (c->o.coverage) {
		size_t t = 0;

		while (t < c->s->ntests && !c->s->tests[t].c_test_function)
			t++;
		if (t == c->s->ntests) {
			fprintf(stderr, "ktstr-orch: --coverage: %s has no c_test test; coverage is "
					"collected only from C test binaries (docs/c-api.md, "
					"\"Coverage\")\n", c->o.suite);
			return EXIT_USAGE;
		}
	}
	if (c->go.workers) {
		snprintf(c->workers_why, sizeof(c->workers_why), "--workers");
	} else {
		struct workers_host wh;

		workers_host_probe(&wh);
		c->go.workers = workers_default(c->s, &c->p, &wh, c->workers_why,
						sizeof(c->workers_why));
	}
	kdbg("plan: %zu variants, %zu kept; workers %u (%s)", c->p.n, c->p.kept, c->go.workers,
	     c->workers_why);
	return 0;
}

/* `list`: starts nothing, but it too runs unprivileged. */
static int run_list(struct run_ctx *c)
{
	/* Looked up as run looks them up, before the drop (images_resolve).
	 * A line, not an error: list is for exploring, and run stops on a
	 * missing binary with exit 2 anyway. */
	preflight_scheduler_binaries(c->s, &c->p, stdout);
	if (global_drop_privileges(&c->go))
		return EXIT_INFRA;
	if (c->engine_err[0])
		printf("# engine %s cannot run here: %s\n", engine_name(c->o.plan.host.engine),
		       c->engine_err);
	if (report_list(stdout, c->s, &c->p, &c->o.plan.host, c->kc, c->nkc))
		return EXIT_INFRA;
	if (c->p.refused) {
		fflush(stdout);
		plan_print_refused(stderr, &c->p);
		fprintf(stderr, "ktstr-orch: %s: %zu test(s) cannot run on an %s guest: `run` "
				"would refuse the suite\n", c->o.suite, c->p.refused,
			ktstr_arch_name(c->p.arch));
		return EXIT_USAGE;
	}
	/* What `run` would add: its concurrency and whether it oversubscribes. */
	printf("# workers: %u (%s)\n", c->go.workers, c->workers_why);
	if (c->p.kept && preflight_cpu_plan(&c->p, &c->o.plan.host, c->go.workers, c->err,
					    sizeof(c->err)))
		printf("# %s\n", c->err);
	return fflush(stdout) ? EXIT_INFRA : 0;
}

/* Root-only preparation: everything here may need root's view of the
 * filesystem (a kernel in /root/.cache, reports in a root-owned dir) or
 * root's right to start the builder as the cache owner. Ends with the
 * privilege drop. */
static int run_as_root(struct run_ctx *c)
{
	int ret;

	kinfo("host: %s", c->hostline);
	for (size_t k = 0; k < c->nkc; k++) {
		const struct kernel_choice *kc = &c->kc[k];

		if (kc->scx == 0)
			kwarn("kernel %s has no sched_ext (CONFIG_SCHED_CLASS_EXT): only EEVDF "
			      "tests can run%s", kc->image, c->nkc > 1 ? " on it" : "");
		else if (kc->scx < 0)
			warn_unknown_scx(c->s, &c->p, k, kc);
		c->kfd[k] = open(kc->image, O_RDONLY | O_CLOEXEC);
		if (c->kfd[k] < 0) {
			fprintf(stderr, "ktstr-orch: cannot open kernel %s: %s\n", kc->image,
				strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (open_reports(&c->o, &c->go, c->rf))
		return EXIT_USAGE;
	if (c->o.coverage) {
		const struct privdrop_opts cpo = global_privdrop_opts(&c->go);

		if (coverage_open(&c->cov, c->o.coverage, privdrop_target(&cpo), c->err,
				  sizeof(c->err))) {
			fprintf(stderr, "ktstr-orch: %s\n", c->err);
			return EXIT_USAGE;
		}
	}
	if (c->o.jsonl && jsonl_open(&c->jl, c->o.jsonl, c->err, sizeof(c->err))) {
		fprintf(stderr, "ktstr-orch: cannot use the JSON Lines report path: %s\n", c->err);
		return EXIT_USAGE;
	}
	ret = images_resolve(c->s, &c->p, c->err, sizeof(c->err));
	if (ret) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return ret == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
	}
	/* Run metadata (runmeta.h): the files are hashed as they were
	 * resolved, as root; the kernels through the fds the VMs get. */
	if (runmeta_init(&c->meta, c->s, &c->p)) {
		fprintf(stderr, "ktstr-orch: out of memory\n");
		return EXIT_INFRA;
	}
	for (size_t k = 0; k < c->nkc; k++)
		runmeta_hash_kernel(&c->meta, k, c->kfd[k]);
	struct readable_ctx rd = { c->s, &c->p, c->co.name, c->err, sizeof(c->err) };

	if (c->p.kept && c->co.set &&
	    cache_owner_start_builder(&c->co, c->go.insecure_no_sandbox, check_readable_cb, &rd,
				      &c->bc, c->err, sizeof(c->err))) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return EXIT_INFRA;
	}
	if (c->p.kept && !c->co.set && geteuid() == 0 && !c->go.no_drop_privileges)
		kwarn("the image cache and every VM worker share one uid: a VM's code that "
		      "escapes its confinement could rewrite cached images other VMs boot; "
		      "create the system account %s (scripts/install-deps does) or pass "
		      "--cache-user", CACHE_OWNER_ACCOUNT);
	return global_drop_privileges(&c->go) ? EXIT_INFRA : 0;
}

/* The host-side monitor's view of each kernel (docs/monitor.md), derived
 * once per kernel, not per VM, as the dropped user: a kernel image is
 * untrusted input and is never parsed as root. Without it that kernel's
 * tests run unmonitored and the run says why, once. */
static void monitor_layouts(struct run_ctx *c)
{
	for (size_t k = 0; k < c->nkc; k++)
		c->layout[k] = kernel_layout_for_monitor(c->kc[k].image, c->p.arch);
}

/* As the dropped user: preflight what the builder and workers need, then
 * build every image the plan keeps. */
static int run_images(struct run_ctx *c)
{
	char user[256];
	int ret;

	if (!c->p.kept)
		return 0;
	user_name(user, sizeof(user));
	ret = 0;
	for (size_t k = 0; k < c->nkc && !ret; k++)
		ret = kernel_fd_for_vms(c->kc[k].image, c->o.settings.engine, &c->kfd[k], c->err,
					sizeof(c->err));
	/* The builder reads as the cache owner where there is one (checked
	 * before the drop), else as this user. */
	if (!ret && !c->co.set)
		ret = images_check_readable(c->s, &c->p, user, c->err, sizeof(c->err));
	/* Every ELF the images hold is for the guest's architecture: read as
	 * this user, never as root. */
	if (!ret && images_check_arch(c->s, &c->p, c->err, sizeof(c->err)) == -ENOEXEC) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return EXIT_USAGE;
	}
	if (!ret)
		ret = preflight_engine(&c->o.plan.host, user, c->err, sizeof(c->err));
	if (ret) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return EXIT_INFRA;
	}
	if (preflight_cpu_plan(&c->p, &c->o.plan.host, c->go.workers, c->err,
			       sizeof(c->err)))
		kwarn("%s", c->err);
	else
		kinfo("%s", c->err);
	monitor_layouts(c);
	ret = images_build_with(c->s, &c->p, c->o.settings.compression, c->go.insecure_no_sandbox,
				c->co.set ? &c->bc : NULL, &c->images, c->err, sizeof(c->err));
	if (c->bc.pid >= 0)
		builder_client_stop(&c->bc);
	if (ret && stop_signal()) {
		fprintf(stderr, "ktstr-orch: %s while the initramfs images were built: "
				"stopped before any VM\n", strsignal(stop_signal()));
		return EXIT_INTERRUPTED;
	}
	if (ret) {
		fprintf(stderr, "ktstr-orch: %s\n", c->err);
		return ret == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
	}
	return c->images.fds ? 0 : EXIT_INFRA;
}

/* Become a holder in the host's lock directory (hostres.h), as the
 * dropped user, with the images built: a run that waits for CPUs holds
 * nothing else meanwhile. Returns 0 or the exit status: contention (the
 * wait ran out) and a lock directory that cannot be used are
 * infrastructure errors, a cap this process can never have a usage error. */
static int run_reserve(struct run_ctx *c, struct hostres *hr)
{
	const struct hostres_opts ho = { .cap = c->o.cpu_cap,
					 .timeout_s = c->o.reserve_timeout_s };

	return hostres_start(hr, &ho, "ktstr-orch");
}

/* The VMs, the report on stdout and the report files. */
static int run_tests(struct run_ctx *c)
{
	struct vm_backend be;
	struct vm_backend_worker_cfg wcfg = { 0 };
	struct hostres hr;
	struct test_record *recs = NULL;
	struct run_totals tot;
	size_t nrecs = 0;
	int none = -1, ret, code;
	struct runner_cfg rcfg = {
		.suite = c->s, .plan = &c->p, .settings = c->o.settings, .backend = &be,
		.kernel_fds = c->kfd,
		.kernel_layouts = (const Ktstr__GuestKernelLayout *const *)c->layout,
		.initrd_fds = c->images.fds ? c->images.fds : &none,
		.image_sandboxed = c->images.sandboxed, .image_landlock = c->images.landlock,
		.workers = c->go.workers, .retries = c->o.retries,
		.out = stdout, .progress = isatty(STDERR_FILENO) ? stderr : NULL,
		.quiet = c->go.verbosity < 0,
		.handle_signals = true,
	};

	if (stop_signal()) {
		fprintf(stderr, "ktstr-orch: %s before the first VM: stopped\n",
			strsignal(stop_signal()));
		return EXIT_INTERRUPTED;
	}
	if (c->go.insecure_no_sandbox)
		kwarn("--insecure-no-sandbox: the initramfs builder and every VM worker run "
		      "UNCONFINED; every report says so");
	if (c->p.kept) {
		int rc = run_reserve(c, &hr);

		if (rc) {
			hostres_close(&hr);
			return rc;
		}
		wcfg.hostres = &hr;
		hostres_cap_list(&hr, c->meta.host_cpus, sizeof(c->meta.host_cpus));
		snprintf(c->meta.reservation, sizeof(c->meta.reservation), "%s",
			 c->o.cpu_cap ? "--cpu-cap: these CPUs for the whole run"
				      : "none for the run: each VM pinned to CPUs free when it started");
	}
	runmeta_print(stdout, &c->meta);
	fflush(stdout);
	if (c->o.jsonl && jsonl_start(&c->jl, c->s, &c->p, &c->meta))
		kerr("cannot write the JSON Lines report %s", c->o.jsonl);
	if (c->o.jsonl) {
		rcfg.on_done = jsonl_on_done;
		rcfg.on_done_ctx = &c->jl;
	}
	vm_backend_worker_init(&be, &wcfg);
	rcfg.settings.base_uncompressed = c->images.uncompressed;
	ret = runner_run(&rcfg, &recs, &nrecs);
	runmeta_finish(&c->meta);
	if (wcfg.hostres)
		hostres_close(&hr);
	if (ret && ret != -EINTR) {
		fprintf(stderr, "ktstr-orch: the run loop failed: %s\n", strerror(-ret));
		if (recs)
			runner_free_records(recs, nrecs);
		return EXIT_INFRA;
	}
	if (c->o.coverage)
		write_coverage(c, recs, nrecs);
	records_totals(recs, nrecs, &tot);
	for (size_t i = 0; i < nrecs; i++)
		if (verdict_is_failure(recs[i].verdict.kind) && recs[i].verdict.kind != V_STOPPED)
			report_failure(stdout, c->s, &c->p, &recs[i]);
	if (tot.failed)
		putchar('\n');
	if (write_reports(c->rf, &c->o, c->s, &c->p, recs, nrecs, &c->meta))
		tot.infra++;
	code = ret == -EINTR ? EXIT_INTERRUPTED : records_exit_code(&tot);
	if (c->o.jsonl && jsonl_finish(&c->jl, recs, nrecs, code, ret == -EINTR) &&
	    code != EXIT_INTERRUPTED)
		code = EXIT_INFRA;
	gha_report(stdout, c->s, &c->p, recs, nrecs, &c->meta);
	report_sandbox(stdout, recs, nrecs);
	report_summary(stdout, &tot);
	fflush(stdout);
	if (recs)
		runner_free_records(recs, nrecs);
	return code;
}

int cmd_run(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv, int list_only)
{
	struct run_ctx *c = calloc(1, sizeof(*c));
	struct cli_parser cp;
	int rc;

	if (!c) {
		fprintf(stderr, "ktstr-orch: out of memory\n");
		return EXIT_INFRA;
	}
	c->go = *g;
	c->bc = (struct builder_client){ .pid = -1, .sock = -1 };
	c->rf[0] = c->rf[1] = c->rf[2] = (struct report_file)REPORT_FILE_INIT;
	c->jl = (struct jsonl)JSONL_INIT;
	c->cov.dirfd = -1;
	for (size_t k = 0; k < PLAN_KERNELS_MAX; k++)
		c->kfd[k] = -1;
	c->o.reserve_timeout_s = HOSTRES_TIMEOUT_DEFAULT_S;
	cli_begin(&cp, cmd, &c->go, argc, argv);
	if (!parse_run_opts(&cp, &c->o, &rc))
		goto out;
	rc = run_plan(c, list_only);
	if (!rc && list_only)
		rc = run_list(c);
	else if (!rc)
		rc = run_as_root(c) ?: run_images(c) ?: run_tests(c);
out:
	if (c->bc.pid >= 0)
		builder_client_stop(&c->bc);
	images_free(&c->images);
	report_file_close(&c->rf[0]);
	report_file_close(&c->rf[1]);
	jsonl_close(&c->jl);
	runmeta_free(&c->meta);
	report_file_close(&c->rf[2]);
	coverage_close(&c->cov);
	for (size_t k = 0; k < PLAN_KERNELS_MAX; k++) {
		if (c->kfd[k] >= 0)
			close(c->kfd[k]);
		if (c->layout[k])
			ktstr__guest_kernel_layout__free_unpacked(c->layout[k], NULL);
	}
	plan_free(&c->p);
	suite_free(c->s);
	free(c);
	return rc;
}
