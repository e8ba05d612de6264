/* `ktstr-orch kernel fetch|list|path`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hostcaps.h"
#include "kernel_cache.h"
#include "kernel_fetch.h"
#include "stop.h"

int cmd_kernel(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel-version", required_argument, NULL, 'v' },
		{ "suite", required_argument, NULL, 's' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "engine", required_argument, NULL, 'e' },
		{ "force", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct kfetch_opts fo = { 0 };
	const char *kernel = NULL, *sub;
	Ktstr__Engine engine = KTSTR__ENGINE__ENGINE_AUTO;
	struct host_caps hc;
	char err[1024];
	int c;

	(void)g;
	if (argc < 2) {
		fprintf(stderr, "ktstr-orch kernel: fetch, list or path?\n");
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
		case 'k':
			kernel = optarg;
			break;
		case 'F':
			fo.force = true;
			break;
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
	if (optind != argc) {
		fprintf(stderr, "ktstr-orch kernel %s: unexpected argument '%s'\n", sub, argv[optind]);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "fetch")) {
		if (kernel_fetch(&fo, stdout))
			return stop_signal() ? EXIT_INTERRUPTED : EXIT_INFRA;
		return 0;
	}
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
	fprintf(stderr, "ktstr-orch kernel: unknown subcommand '%s' (fetch, list, path)\n", sub);
	return EXIT_USAGE;
}
