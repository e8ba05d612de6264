/* `ktstr-orch run SUITE` and `ktstr-orch list SUITE`. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/util.h>

#include "cli.h"
#include "images.h"
#include "junit.h"
#include "cache_owner.h"
#include "privdrop.h"
#include "report_file.h"
#include "stop.h"
#include "kernel_cache.h"
#include "plan.h"
#include "preflight.h"
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

static int parse_run_opts(int argc, char **argv, struct run_opts *o, struct global_opts *g)
{
	static const struct option opts[] = {
		{ "gauntlet", no_argument, NULL, 'g' },	 { "budget", required_argument, NULL, 'b' },
		{ "filter", required_argument, NULL, 'f' }, { "partition", required_argument, NULL, 'p' },
		{ "retries", required_argument, NULL, 'r' }, { "timeout", required_argument, NULL, 't' },
		{ "engine", required_argument, NULL, 'e' },  { "kernel", required_argument, NULL, 'k' },
		{ "junit", required_argument, NULL, 'J' },   { "json", required_argument, NULL, 'j' },
		{ "initramfs-compression", required_argument, NULL, 'C' },
		GLOBAL_LONGOPTS,			     { NULL, 0, NULL, 0 },
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
		case 'C':
			if (compression_parse(optarg, &o->settings.compression)) {
				fprintf(stderr, "ktstr-orch: --initramfs-compression takes none, gzip "
						"or lz4, got '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'J':
			o->junit = optarg;
			break;
		case 'j':
			o->json = optarg;
			break;
		default:
			if (global_opt(g, c, optarg))
				break;
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

/* Resolve the report files while still root: the dropped user may not be
 * allowed to reach or create them (report_file.h, docs/security.md). */
static int open_reports(const struct run_opts *o, const struct global_opts *g,
			struct report_file rf[2])
{
	const struct privdrop_opts po = global_privdrop_opts(g);
	const char *user = privdrop_target(&po);
	for (int which = 0; which < 2; which++) {
		const char *path = which ? o->json : o->junit;
		char err[1024];
		int ret;

		if (!path)
			continue;
		ret = report_file_open(&rf[which], path, user, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "ktstr-orch: cannot use the %s report path: %s\n",
				which ? "JSON" : "JUnit", err);
			return ret;
		}
	}
	return 0;
}

static int write_reports(struct report_file rf[2], const struct suite *s, const struct plan *p,
			 const struct test_record *recs, size_t n)
{
	int rc = 0;

	for (int which = 0; which < 2; which++) {
		struct strbuf sb = { 0 };
		int ret;

		if (!rf[which].path)
			continue;
		ret = which ? json_render(&sb, s, p, recs, n) : junit_render(&sb, s, p, recs, n);
		if (!ret)
			ret = report_file_write(&rf[which], sb.buf ? sb.buf : "", sb.len);
		if (ret) {
			kerr("cannot write the %s report %s: %s", which ? "JSON" : "JUnit",
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

/* As root, before the drop: start the builder as the image cache's owner
 * (cache_owner.h), after checking that account can read what it packs. The
 * builder then waits on its socket for the dropped orchestrator's
 * requests. Returns 0 or -errno with err set. */
static int start_owner_builder(const struct suite *s, const struct plan *p,
			       const struct cache_owner *co, bool insecure,
			       struct builder_client *bc, char *err, size_t errlen)
{
	struct readable_ctx rc = { s, p, co->name, err, errlen };
	struct builder_client_opts bo = { .stderr_fd = -2, .insecure_no_sandbox = insecure,
					  .owner = co, .cache_dirfd = -1 };
	char dir[PATH_MAX];
	int ret;

	ret = cache_owner_as(co, check_readable_cb, &rc);
	if (ret)
		return ret;
	ret = cache_owner_open_images(co, &bo.cache_dirfd, dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	ret = builder_client_start(bc, &bo, err, errlen);
	close(bo.cache_dirfd);
	if (!ret)
		kinfo("image cache %s belongs to %s (uid %u); the builder runs as that account, "
		      "VM workers never do", dir, co->name, (unsigned)co->uid);
	return ret;
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
static void warn_unknown_scx(const struct suite *s, const struct plan *p,
			     const struct kernel_choice *kc)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct sched_def *sd = &s->scheds[s->tests[p->v[i].test].sched];

		if (p->v[i].state == VAR_KEPT && sd->kind != SCHED_BIN_NONE) {
			kwarn("cannot tell whether kernel %s has sched_ext (no config beside it): "
			      "tests of scheduler '%s' fail as SCHED_NOT_ATTACHED if it has not; "
			      "put the kernel's config next to it or use a cached kernel",
			      kc->image, sd->name);
			return;
		}
	}
}

int cmd_run(const struct global_opts *g, int argc, char **argv, int list_only)
{
	struct global_opts go = *g;
	struct run_opts o = { 0 };
	struct suite *s = NULL;
	struct plan p = { 0 };
	struct kernel_choice kc;
	struct image_set images = { 0 };
	struct report_file rf[2] = { REPORT_FILE_INIT, REPORT_FILE_INIT };
	struct vm_backend be;
	struct vm_backend_worker_cfg wcfg = { 0 };
	struct builder_client bc = { .pid = -1, .sock = -1 };
	struct cache_owner co;
	struct test_record *recs = NULL;
	size_t nrecs = 0;
	struct run_totals tot;
	char err[2048], user[256], hostline[512], engine_err[1024];
	int kfd = -1, ret, rc = EXIT_USAGE;
	bool have_kernel;

	if (parse_run_opts(argc, argv, &o, &go)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o.settings.insecure_no_sandbox = go.insecure_no_sandbox;
	{
		const struct privdrop_opts po = global_privdrop_opts(&go);

		if (cache_owner_resolve(&po, &co, err, sizeof(err))) {
			fprintf(stderr, "ktstr-orch: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (suite_load(o.suite, &s, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch: %s\n", err);
		return EXIT_USAGE;
	}
	hostcaps_probe(o.settings.engine, &o.plan.host);
	hostcaps_describe(&o.plan.host, hostline, sizeof(hostline));
	/* An engine the user named that cannot run on this host is an
	 * infrastructure error before any planning: skipping every test for
	 * want of host capacity would hide it. (As root this checks the
	 * device; the dropped user is checked again before the first VM.) */
	if (o.settings.engine != KTSTR__ENGINE__ENGINE_AUTO &&
	    preflight_engine(&o.plan.host, NULL, engine_err, sizeof(engine_err))) {
		if (!list_only) {
			fprintf(stderr, "ktstr-orch: host: %s\nktstr-orch: %s\n", hostline, engine_err);
			rc = EXIT_INFRA;
			goto out;
		}
	} else {
		engine_err[0] = '\0';
	}
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
		/* list starts nothing, but it too runs unprivileged. */
		if (global_drop_privileges(&go)) {
			rc = EXIT_INFRA;
			goto out;
		}
		if (engine_err[0])
			printf("# engine %s cannot run here: %s\n", engine_name(o.plan.host.engine),
			       engine_err);
		rc = report_list(stdout, s, &p, &o.plan.host, have_kernel ? &kc : NULL) ? EXIT_INFRA
											 : 0;
		goto out;
	}
	kinfo("host: %s", hostline);
	if (kc.scx == 0)
		kwarn("kernel %s has no sched_ext (CONFIG_SCHED_CLASS_EXT): only EEVDF tests can run",
		      kc.image);
	else if (kc.scx < 0)
		warn_unknown_scx(s, &p, &kc);
	/* Root-only preparation: everything below may need root's view of the
	 * filesystem (a kernel in /root/.cache, reports in a root-owned dir). */
	kfd = open(kc.image, O_RDONLY | O_CLOEXEC);
	if (kfd < 0) {
		fprintf(stderr, "ktstr-orch: cannot open kernel %s: %s\n", kc.image, strerror(errno));
		goto out;
	}
	if (open_reports(&o, &go, rf))
		goto out;
	ret = images_resolve(s, &p, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ktstr-orch: %s\n", err);
		rc = ret == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
		goto out;
	}
	rc = EXIT_INFRA;
	if (p.kept && co.set &&
	    start_owner_builder(s, &p, &co, go.insecure_no_sandbox, &bc, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch: %s\n", err);
		goto out;
	}
	if (p.kept && !co.set && geteuid() == 0 && !go.no_drop_privileges)
		kwarn("the image cache and every VM worker share one uid: a VM's code that "
		      "escapes its confinement could rewrite cached images other VMs boot; "
		      "create the system account %s (scripts/install-deps does) or pass "
		      "--cache-user", CACHE_OWNER_ACCOUNT);
	if (global_drop_privileges(&go))
		goto out;
	user_name(user, sizeof(user));
	if (p.kept && kernel_fd_for_vms(kc.image, o.settings.engine, &kfd, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch: %s\n", err);
		goto out;
	}
	if (p.kept) {
		/* Preflight as the user the builder (unless it runs as the
		 * cache owner, checked above) and the workers run as. */
		ret = co.set ? 0 : images_check_readable(s, &p, user, err, sizeof(err));
		if (!ret)
			ret = preflight_engine(&o.plan.host, user, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "ktstr-orch: %s\n", err);
			goto out;
		}
		if (preflight_cpu_plan(&p, &o.plan.host, go.workers ? go.workers : 1, err,
				       sizeof(err)))
			kwarn("%s", err);
		else
			kinfo("%s", err);
		ret = images_build_with(s, &p, o.settings.compression, go.insecure_no_sandbox,
					co.set ? &bc : NULL, &images, err, sizeof(err));
		if (bc.pid >= 0)
			builder_client_stop(&bc);
		if (ret && stop_signal()) {
			fprintf(stderr, "ktstr-orch: %s while the initramfs images were built: "
					"stopped before any VM\n", strsignal(stop_signal()));
			rc = EXIT_INTERRUPTED;
			goto out;
		}
		if (ret) {
			fprintf(stderr, "ktstr-orch: %s\n", err);
			rc = ret == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
			goto out;
		}
	} else {
		images.fds = NULL;
	}
	if (stop_signal()) {
		fprintf(stderr, "ktstr-orch: %s before the first VM: stopped\n",
			strsignal(stop_signal()));
		rc = EXIT_INTERRUPTED;
		goto out;
	}
	if (go.insecure_no_sandbox)
		kwarn("--insecure-no-sandbox: the initramfs builder and every VM worker run "
		      "UNCONFINED; every report says so");
	vm_backend_worker_init(&be, &wcfg);
	{
		int none = -1;
		const int *fds = images.fds ? images.fds : &none;
		struct runner_cfg rcfg = {
			.suite = s, .plan = &p, .settings = o.settings, .backend = &be,
			.kernel_fd = kfd, .initrd_fds = fds, .image_sandboxed = images.sandboxed,
			.image_landlock = images.landlock,
			.workers = go.workers ? go.workers : 1, .retries = o.retries, .out = stdout,
			.progress = isatty(STDERR_FILENO) ? stderr : NULL, .handle_signals = true,
		};

		rcfg.settings.base_uncompressed = images.uncompressed;
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
		if (write_reports(rf, s, &p, recs, nrecs))
			tot.infra++;
		report_sandbox(stdout, recs, nrecs);
		report_summary(stdout, &tot);
		fflush(stdout);
		rc = ret == -EINTR ? EXIT_INTERRUPTED : records_exit_code(&tot);
	}
out:
	if (bc.pid >= 0)
		builder_client_stop(&bc);
	if (recs)
		runner_free_records(recs, nrecs);
	images_free(&images);
	report_file_close(&rf[0]);
	report_file_close(&rf[1]);
	if (kfd >= 0)
		close(kfd);
	plan_free(&p);
	suite_free(s);
	return rc;
}
