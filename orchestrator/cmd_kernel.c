/* `ktstr-orch kernel fetch|build|list|path|clean` (docs/kernels.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hostcaps.h"
#include "kernel_cache.h"
#include "kernel_build.h"
#include "kernel_fetch.h"
#include "stop.h"

#define KERNEL_MIRRORS_MAX 8

/* fetch's and build's status: bad input 2, a stop 130, anything else 3. */
static int exit_of(int r)
{
	if (r == -EINVAL)
		return EXIT_USAGE;
	if (r)
		return stop_signal() ? EXIT_INTERRUPTED : EXIT_INFRA;
	return 0;
}

int cmd_kernel(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel-version", required_argument, NULL, 'v' },
		{ "suite", required_argument, NULL, 's' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "engine", required_argument, NULL, 'e' },
		{ "force", no_argument, NULL, 'F' },
		{ "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "source", required_argument, NULL, 'S' },
		{ "git", required_argument, NULL, 'G' },
		{ "ref", required_argument, NULL, 'R' },
		{ "config", required_argument, NULL, 'C' },
		{ "make-arg", required_argument, NULL, 'M' },
		{ "base", required_argument, NULL, 'B' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "clean", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mirrors[KERNEL_MIRRORS_MAX];
	struct kfetch_opts fo = { .mirrors = mirrors };
	struct kbuild_opts bo = { .base = "defconfig" };
	bool build_opt = false; /* an option only `kernel build` takes */
	const char *kernel = NULL, *sub, *what = NULL;
	Ktstr__Engine engine = KTSTR__ENGINE__ENGINE_AUTO;
	bool all = false, dry_run = false;
	struct host_caps hc;
	char err[2048];
	int c, r;

	(void)g;
	if (argc < 2) {
		fprintf(stderr, "ktstr-orch kernel: fetch, build, list, path or clean?\n");
		return EXIT_USAGE;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			fo.version = optarg;
			break;
		case 's':
			fo.suite = optarg;
			break;
		case 'm':
			if (fo.nmirrors == KERNEL_MIRRORS_MAX) {
				fprintf(stderr, "ktstr-orch kernel: at most %d --mirror\n",
					KERNEL_MIRRORS_MAX);
				return EXIT_USAGE;
			}
			mirrors[fo.nmirrors++] = optarg;
			break;
		case 'k':
			kernel = optarg;
			break;
		case 'F':
			fo.force = true;
			break;
		case 'a':
			all = true;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'S':
		case 'G':
		case 'R':
		case 'B':
			build_opt = true;
			*(c == 'S' ? &bo.source : c == 'G' ? &bo.git : c == 'R' ? &bo.ref : &bo.base) =
				optarg;
			break;
		case 'C':
		case 'M':
			build_opt = true;
			if ((c == 'C' ? bo.nfrags : bo.nmake_args) ==
			    (c == 'C' ? KBUILD_FRAGS_MAX : KBUILD_MAKE_ARGS_MAX)) {
				fprintf(stderr, "ktstr-orch kernel build: at most %d --%s\n",
					c == 'C' ? KBUILD_FRAGS_MAX : KBUILD_MAKE_ARGS_MAX,
					c == 'C' ? "config" : "make-arg");
				return EXIT_USAGE;
			}
			if (c == 'C')
				bo.frags[bo.nfrags++] = optarg;
			else
				bo.make_args[bo.nmake_args++] = optarg;
			break;
		case 'c':
			build_opt = true;
			bo.clean = true;
			break;
		case 'j':
		case 'T': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			build_opt = true;
			if (*end || end == optarg || optarg[0] == '-' || !v ||
			    v > (c == 'j' ? 1024ul : 86400ul)) {
				fprintf(stderr, "ktstr-orch kernel build: --%s takes 1..%s, not '%s'\n",
					c == 'j' ? "jobs" : "timeout",
					c == 'j' ? "1024" : "86400 (seconds)", optarg);
				return EXIT_USAGE;
			}
			*(c == 'j' ? &bo.jobs : &bo.timeout_s) = (unsigned)v;
			break;
		}
		case 'e':
			if (engine_parse(optarg, &engine)) {
				fprintf(stderr, "ktstr-orch kernel: --engine takes auto, kvm or qemu\n");
				return EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* clean takes one KEY|PREFIX; nothing else takes operands. */
	if (!strcmp(sub, "clean") && optind < argc && !all)
		what = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "ktstr-orch kernel %s: unexpected argument '%s'\n", sub, argv[optind]);
		return EXIT_USAGE;
	}
	if (build_opt && strcmp(sub, "build")) {
		fprintf(stderr, "ktstr-orch kernel %s: --source, --git, --ref, --config, "
				"--make-arg, --base, --jobs, --timeout and --clean are `kernel build` "
				"options\n",
			sub);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "build")) {
		if (fo.version || fo.suite || fo.nmirrors || kernel || all || dry_run ||
		    engine != KTSTR__ENGINE__ENGINE_AUTO) {
			fprintf(stderr, "ktstr-orch kernel build: takes --source or --git/--ref, "
					"--config, --make-arg, --base, --jobs, --timeout, --clean, "
					"--force\n");
			return EXIT_USAGE;
		}
		bo.force = fo.force;
		return exit_of(kernel_build(&bo, stdout));
	}
	if (!strcmp(sub, "fetch"))
		return exit_of(kernel_fetch(&fo, stdout));
	if (!strcmp(sub, "list"))
		return kcache_list(stdout) ? EXIT_USAGE : 0;
	if (!strcmp(sub, "path")) {
		hostcaps_probe(engine, &hc);
		if (kcache_print_path(stdout, kernel, hc.engine, err, sizeof(err))) {
			fprintf(stderr, "ktstr-orch: %s\n", err);
			return EXIT_USAGE;
		}
		return 0;
	}
	if (!strcmp(sub, "clean")) {
		/* Nothing named: only what no run boots (kernel_cache.h). */
		r = kcache_clean(stdout, what, all, dry_run);
		return !r ? 0 : r == -ENOENT ? EXIT_USAGE : EXIT_INFRA;
	}
	fprintf(stderr, "ktstr-orch kernel: unknown subcommand '%s' (fetch, build, list, path, clean)\n",
		sub);
	return EXIT_USAGE;
}
