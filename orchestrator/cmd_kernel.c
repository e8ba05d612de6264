/* `ktstr-orch kernel fetch|build|list|path|clean` (docs/kernels.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/arch.h>

#include "cli.h"
#include "guest_arch.h"
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

int cmd_kernel(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *mirrors[KERNEL_MIRRORS_MAX];
	struct kfetch_opts fo = { .mirrors = mirrors };
	struct kbuild_opts bo = { .base = "defconfig" };
	const char *kernel = NULL, *sub = cmd->name + strlen("kernel "), *what = NULL;
	Ktstr__Engine engine = KTSTR__ENGINE__ENGINE_AUTO;
	Ktstr__Arch arch = KTSTR__ARCH__ARCH_X86_64;
	bool all = false, dry_run = false;
	struct cli_parser cp;
	struct host_caps hc;
	char err[2048];
	int c, r;

	/* Each kernel command takes only its own options (cli_table.c): one
	 * that belongs to another is refused by the parser, never ignored. */
	cli_begin(&cp, cmd, g, argc, argv);
	while ((c = cli_next(&cp)) > 0) {
		switch (c) {
		case 'v':
			fo.version = optarg;
			break;
		case 's':
			fo.suite = optarg;
			break;
		case 'A':
			/* fetch: the entry to cache; path: the guest to resolve for. */
			if (guest_arch_parse(optarg, &arch))
				return cli_usage_error(cmd, KTSTR_ARCH_BAD_FMT, optarg);
			fo.arch = guest_arch_name(arch);
			break;
		case 'm':
			if (fo.nmirrors == KERNEL_MIRRORS_MAX)
				return cli_usage_error(cmd, "at most %d --mirror", KERNEL_MIRRORS_MAX);
			mirrors[fo.nmirrors++] = optarg;
			break;
		case 'k':
			kernel = optarg;
			break;
		case 'F':
			fo.force = true;
			bo.force = true;
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
			*(c == 'S' ? &bo.source : c == 'G' ? &bo.git : c == 'R' ? &bo.ref : &bo.base) =
				optarg;
			break;
		case 'C':
		case 'M':
			if ((c == 'C' ? bo.nfrags : bo.nmake_args) ==
			    (c == 'C' ? KBUILD_FRAGS_MAX : KBUILD_MAKE_ARGS_MAX))
				return cli_usage_error(cmd, "at most %d --%s",
						       c == 'C' ? KBUILD_FRAGS_MAX : KBUILD_MAKE_ARGS_MAX,
						       c == 'C' ? "config" : "make-arg");
			if (c == 'C')
				bo.frags[bo.nfrags++] = optarg;
			else
				bo.make_args[bo.nmake_args++] = optarg;
			break;
		case 'c':
			bo.clean = true;
			break;
		case 'j':
		case 'T': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || end == optarg || optarg[0] == '-' || !v ||
			    v > (c == 'j' ? 1024ul : 86400ul))
				return cli_usage_error(cmd, "--%s takes 1..%s, not '%s'",
						       c == 'j' ? "jobs" : "timeout",
						       c == 'j' ? "1024" : "86400 (seconds)", optarg);
			*(c == 'j' ? &bo.jobs : &bo.timeout_s) = (unsigned)v;
			break;
		}
		case 'e':
			if (engine_parse(optarg, &engine))
				return cli_usage_error(cmd, "--engine takes auto, kvm or qemu");
			break;
		}
	}
	if (c == CLI_STOP)
		return cp.exit;
	/* clean takes one KEY|PREFIX (the table bounds the count). */
	if (optind < argc) {
		if (all)
			return cli_usage_error(cmd, "--all or a KEY|PREFIX, not both");
		what = argv[optind];
	}
	if (!strcmp(sub, "build"))
		return exit_of(kernel_build(&bo, stdout));
	if (!strcmp(sub, "fetch"))
		return exit_of(kernel_fetch(&fo, stdout));
	if (!strcmp(sub, "list"))
		return kcache_list(stdout) ? EXIT_USAGE : 0;
	if (!strcmp(sub, "path")) {
		/* The engine as run and shell pick it (an arm64 guest on this
		 * x86_64 host: QEMU), then run's own resolution. */
		if (hostcaps_probe_guest(&engine, arch, &hc, err, sizeof(err)) ||
		    kcache_print_path(stdout, kernel, arch, hc.engine, err, sizeof(err))) {
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
	return cli_usage_error(cmd, "internal: no handler for this command");
}
