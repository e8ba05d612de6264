/* `ktstr-orch run SUITE` and `ktstr-orch list SUITE`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "cli.h"
#include "images.h"
#include "junit.h"
#include "kernel_cache.h"
#include "plan.h"
#include "report.h"
#include "runner.h"
#include "suite.h"
#include "vm_backend_worker.h"

struct run_opts {
	struct plan_opts plan;
	struct run_settings settings;
	const char *kernel;
	const char *junit, *json;
	unsigned retries;
	const char *suite;
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

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "gauntlet", no_argument, NULL, 'g' },	 { "budget", required_argument, NULL, 'b' },
		{ "filter", required_argument, NULL, 'f' }, { "partition", required_argument, NULL, 'p' },
		{ "retries", required_argument, NULL, 'r' }, { "timeout", required_argument, NULL, 't' },
		{ "engine", required_argument, NULL, 'e' },  { "kernel", required_argument, NULL, 'k' },
		{ "junit", required_argument, NULL, 'J' },   { "json", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			o->plan.gauntlet = true;
			break;
		case 'b':
			if (parse_uint("--budget", optarg, 10u * 86400, &v) || !v) {
				fprintf(stderr, "ktstr-orch: --budget needs a positive number of seconds\n");
				return -EINVAL;
			}
			o->plan.budget_s = (uint32_t)v;
			break;
		case 'f':
			o->plan.filter = optarg;
			break;
		case 'p':
			if (plan_parse_partition(optarg, &o->plan.part_k, &o->plan.part_n)) {
				fprintf(stderr, "ktstr-orch: --partition takes K/N with 1 <= K <= N, "
						"got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'r':
			if (parse_uint("--retries", optarg, 100, &v))
				return -EINVAL;
			o->retries = (unsigned)v;
			break;
		case 't':
			if (parse_uint("--timeout", optarg, 86400, &v) || !v) {
				fprintf(stderr, "ktstr-orch: --timeout needs a positive number of seconds\n");
				return -EINVAL;
			}
			o->settings.timeout_ms = (uint32_t)v * 1000;
			break;
		case 'e':
			if (engine_parse(optarg, &o->settings.engine)) {
				fprintf(stderr, "ktstr-orch: --engine takes auto, kvm or qemu, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case 'J':
			o->junit = optarg;
			break;
		case 'j':
			o->json = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ktstr-orch: %s needs exactly one SUITE file\n", argv[0]);
		return -EINVAL;
	}
	o->suite = argv[optind];
	return 0;
}

static int print_list(const struct suite *s, const struct plan *p, const struct host_caps *hc,
		      const struct kernel_choice *kc)
{
	size_t run = 0, skip = 0, drop = 0;

	printf("# host: %u CPUs, %u LLCs, engine %s%s, kvm %s; kernel %s (sched_ext %s)\n",
	       hc->cpus, hc->llcs, engine_name(hc->engine), hc->emulated ? " (TCG)" : "",
	       hc->kvm_kind, kc && kc->image[0] ? kc->image : "(none)",
	       !kc ? "unknown" : kc->scx == 1 ? "yes" : kc->scx == 0 ? "no" : "unknown");
	for (size_t i = 0; i < p->n; i++) {
		const struct variant *v = &p->v[i];
		char topo[32], prof[256];

		topo_label(&v->topo, topo, sizeof(topo));
		variant_profile_name(s, v, prof, sizeof(prof));
		printf("%-4s %-50s %-10s %-12s %s%s\n", variant_state_name(v->state), v->name, topo,
		       prof, v->reason[0] ? "# " : "", v->reason);
		if (v->state == VAR_KEPT)
			run++;
		else if (v->state == VAR_SKIP_HOST || v->state == VAR_SKIP_KERNEL)
			skip++;
		else
			drop++;
	}
	printf("%zu variants: %zu run, %zu skipped, %zu dropped\n", p->n, run, skip, drop);
	return 0;
}

/* Say when concurrent VMs need more CPUs than the host has: results with
 * timing-sensitive asserts get noisy, and the user should know why. */
static void plan_host_cpus(const struct suite *s, const struct plan *p, const struct host_caps *hc,
			   unsigned workers)
{
	uint32_t top[256] = { 0 }, need = 0;

	(void)s;
	for (size_t i = 0; i < p->n; i++) {
		uint32_t c;

		if (p->v[i].state != VAR_KEPT)
			continue;
		c = topo_cpus(&p->v[i].topo);
		/* keep the `workers` largest (insertion into a small sorted array) */
		for (unsigned k = 0; k < workers && k < 256; k++) {
			if (c > top[k]) {
				uint32_t t = top[k];

				top[k] = c;
				c = t;
			}
		}
	}
	for (unsigned k = 0; k < workers && k < 256; k++)
		need += top[k];
	if (need > hc->cpus && workers > 1 && top[0] <= hc->cpus)
		kwarn("host CPU plan: up to %u concurrent VMs need %u vCPUs but this host has %u "
		      "CPUs: VMs will be oversubscribed (lower --workers to avoid it)",
		      workers, need, hc->cpus);
	else if (need > hc->cpus)
		kwarn("host CPU plan: the largest VM has %u vCPUs and this host %u CPUs: vCPUs will "
		      "be oversubscribed%s; timing checks may be noisy",
		      top[0], hc->cpus, workers > 1 ? ", more so with --workers > 1" : "");
	else
		kinfo("host CPU plan: up to %u vCPUs across %u concurrent VMs on %u host CPUs", need,
		      workers, hc->cpus);
}

static int write_reports(const struct run_opts *o, const struct suite *s, const struct plan *p,
			 const struct test_record *recs, size_t n)
{
	int rc = 0;

	for (int which = 0; which < 2; which++) {
		const char *path = which ? o->json : o->junit;
		struct strbuf sb = { 0 };
		int ret;

		if (!path)
			continue;
		ret = which ? json_render(&sb, s, p, recs, n) : junit_render(&sb, s, p, recs, n);
		if (!ret)
			ret = write_file_atomic(path, sb.buf ? sb.buf : "", sb.len);
		if (ret) {
			kerr("cannot write the %s report %s: %s", which ? "JSON" : "JUnit", path,
			     strerror(-ret));
			rc = ret;
		}
		sb_free(&sb);
	}
	return rc;
}

int cmd_run(const struct global_opts *g, int argc, char **argv, int list_only)
{
	struct run_opts o = { 0 };
	struct suite *s = NULL;
	struct plan p = { 0 };
	struct kernel_choice kc;
	struct image_set images = { 0 };
	struct vm_backend be;
	struct vm_backend_worker_cfg wcfg = { 0 };
	struct test_record *recs = NULL;
	size_t nrecs = 0;
	struct run_totals tot;
	char err[2048];
	int kfd = -1, ret, rc = EXIT_USAGE;
	bool have_kernel;

	if (parse_run_opts(argc, argv, &o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (suite_load(o.suite, &s, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch: %s\n", err);
		return EXIT_USAGE;
	}
	hostcaps_probe(o.settings.engine, &o.plan.host);
	o.settings.engine = o.plan.host.engine;
	have_kernel = !kernel_resolve(o.kernel, o.settings.engine, &kc, err, sizeof(err));
	if (!have_kernel && (!list_only || o.kernel)) {
		fprintf(stderr, "ktstr-orch: %s\n", err);
		goto out;
	}
	o.plan.kernel_scx = have_kernel ? kc.scx : -1;
	o.plan.quiet = false;
	if (plan_build(s, &o.plan, &p, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch: %s: %s\n", o.suite, err);
		goto out;
	}
	if (list_only) {
		print_list(s, &p, &o.plan.host, have_kernel ? &kc : NULL);
		rc = 0;
		goto out;
	}
	if (have_kernel && kc.scx == 0)
		kwarn("kernel %s has no sched_ext (CONFIG_SCHED_CLASS_EXT): only EEVDF tests can run",
		      kc.image);
	kfd = open(kc.image, O_RDONLY | O_CLOEXEC);
	if (kfd < 0) {
		fprintf(stderr, "ktstr-orch: cannot open kernel %s: %s\n", kc.image, strerror(errno));
		goto out;
	}
	plan_host_cpus(s, &p, &o.plan.host, g->workers ? g->workers : 1);
	if (p.kept) {
		ret = images_build(s, &p, &images, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "ktstr-orch: %s\n", err);
			rc = ret == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
			goto out;
		}
	} else {
		images.fds = NULL;
	}
	vm_backend_worker_init(&be, &wcfg);
	{
		int none = -1;
		const int *fds = images.fds ? images.fds : &none;
		struct runner_cfg rcfg = {
			.suite = s, .plan = &p, .settings = o.settings, .backend = &be,
			.kernel_fd = kfd, .initrd_fds = fds, .workers = g->workers ? g->workers : 1,
			.retries = o.retries, .out = stdout,
			.progress = isatty(STDERR_FILENO) ? stderr : NULL, .handle_signals = true,
		};

		if (!images.fds && p.kept) {
			rc = EXIT_INFRA;
			goto out;
		}
		ret = runner_run(&rcfg, &recs, &nrecs);
		if (ret && ret != -EINTR) {
			fprintf(stderr, "ktstr-orch: the run loop failed: %s\n", strerror(-ret));
			rc = EXIT_INFRA;
			goto out;
		}
		records_totals(recs, nrecs, &tot);
		for (size_t i = 0; i < nrecs; i++)
			if (verdict_is_failure(recs[i].verdict.kind) &&
			    recs[i].verdict.kind != V_STOPPED)
				report_failure(stdout, s, &p, &recs[i]);
		if (tot.failed)
			putchar('\n');
		if (write_reports(&o, s, &p, recs, nrecs))
			tot.infra++;
		report_summary(stdout, &tot);
		fflush(stdout);
		rc = ret == -EINTR ? EXIT_INTERRUPTED : records_exit_code(&tot);
	}
out:
	if (recs)
		runner_free_records(recs, nrecs);
	images_free(&images);
	if (kfd >= 0)
		close(kfd);
	plan_free(&p);
	suite_free(s);
	return rc;
}
