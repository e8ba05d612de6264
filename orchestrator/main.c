/* ktstr-orch: the unprivileged front end. Parses the command line and hands
 * off to one subcommand; never opens /dev/kvm, never runs tenant code. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/log.h>

#include "cli.h"
#include "stop.h"
#include "privdrop.h"

void usage(FILE *f)
{
	fputs("usage: ktstr-orch [--workers N] [--user NAME | --no-drop-privileges]\n"
	      "                  [--cache-user NAME|UID[:GID]] [--insecure-no-sandbox]\n"
	      "                  COMMAND [options]\n"
	      "\n"
	      "  --user NAME             started as root, run as NAME once the kernel and the\n"
	      "                          report files are open (default: $SUDO_USER, else nobody)\n"
	      "  --cache-user NAME       started as root, build images as NAME, the image\n"
	      "                          cache's owner, never the uid VMs run as (default:\n"
	      "                          the account ktstr where it exists)\n"
	      "  --no-drop-privileges    started as root, stay root (not recommended)\n"
	      "  --insecure-no-sandbox   run the builder and VM workers unconfined (every\n"
	      "                          report then says UNSANDBOXED)\n"
	      "  (these four are also accepted after `run`, `list` and `shell`)\n"
	      "\n"
	      "commands:\n"
	      "  run SUITE      run a suite file (docs/suite-format.md)\n"
	      "      --gauntlet            expand tests across topology presets x flag profiles\n"
	      "      --budget SECS         greedy coverage selection within SECS\n"
	      "      --filter SUBSTR       only variants whose name contains SUBSTR\n"
	      "      --partition K/N|auto  only shard K of N, balanced by estimated duration;\n"
	      "                            auto: from the CI engine's variables (docs/farms.md)\n"
	      "      --allow-empty         selecting no test is not an error (default: exit 2\n"
	      "                            naming the closest test names)\n"
	      "      --retries N           rerun a failed test up to N more times\n"
	      "      --timeout S           VM timeout for tests that set none (default 60)\n"
	      "      --engine auto|kvm|qemu\n"
	      "      --kernel K            kernel image or directory, cache key, version or\n"
	      "                            version prefix (7.2: the newest cached 7.2.x);\n"
	      "                            up to 8 times: each test on each, NAME/k=7.2.13\n"
	      "      --initramfs-compression none|gzip|lz4\n"
	      "                            how base images are packed (default none)\n"
	      "      --junit FILE          write JUnit XML\n"
	      "      --json FILE           write one JSON record per test\n"
	      "      --cpu-cap N           reserve N host CPUs for the run, host-wide, and pin\n"
	      "                            every VM worker to them (docs/farms.md)\n"
	      "      --reserve-timeout S   wait at most S s for CPUs or memory other runs hold\n"
	      "                            (default 600; 0: do not wait); then host\n"
	      "                            contention: an infrastructure error, exit 3\n"
	      "  list SUITE     show every variant and why it is kept or dropped, and every\n"
	      "                 scheduler binary `run` would not find (takes the run options\n"
	      "                 that shape the plan)\n"
	      "  shell --topology N,L,C,T [--memory-mb M] [--kernel K] [--include FILE]...\n"
	      "        [--exec 'CMD'] [--engine E] [--timeout S] [--watchdog-timeout S]\n"
	      "        [--cpu-cap N] [--reserve-timeout S]\n"
	      "                 boot a VM with busybox; --exec runs CMD and exits with its status;\n"
	      "                 --watchdog-timeout lowers sched_ext's watchdog (monitor, 1..3600 s);\n"
	      "                 --cpu-cap, --reserve-timeout: reserved host-wide as `run`\n"
	      "  kernel fetch [--kernel-version X] [--suite sid|bookworm] [--mirror URL]...\n"
	      "               [--force]\n"
	      "                 a Debian cloud kernel into the cache; a cached one answers\n"
	      "                 offline, --force asks the mirror again\n"
	      "  kernel build --source DIR | --git URL --ref REF [--config FRAGMENT]...\n"
	      "               [--base defconfig|tinyconfig] [--make-arg VAR=VALUE]...\n"
	      "               [--jobs N] [--timeout S] [--clean] [--force]\n"
	      "                 configure for ktstr, build, validate and cache a kernel\n"
	      "                 (key: source identity + config); a dirty tree is built,\n"
	      "                 not cached\n"
	      "  kernel list    cached kernels: version, suite, sched_ext, size\n"
	      "  kernel path [--kernel K] [--engine E]\n"
	      "                 the image a run would boot\n"
	      "  kernel clean [KEY|PREFIX|--all] [--dry-run]\n"
	      "                 remove those kernels (never one in use); alone: apt state\n"
	      "                 and leftovers only\n"
	      "  locks [--json] the runs holding CPUs or memory on this host: pid, command,\n"
	      "                 CPUs, guest RAM, since ($KTSTR_LOCK_DIR, default\n"
	      "                 /tmp/ktstr-locks)\n"
	      "  merge [--json OUT] [--junit OUT] [--expect-shards N] FILE...\n"
	      "                 one report from the --json files of a sharded run's shards;\n"
	      "                 a shard no file carries is an infrastructure error (exit 3)\n"
	      "\n"
	      "exit status: 0 all passed, 1 test failures, 2 usage/suite errors,\n"
	      "             3 infrastructure errors, 130 interrupted\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct global_opts g = { 0 };
	const char *cmd;
	int c;

	/* First: a signal from here on is a stop request (stop.h), never a
	 * kill in the middle of a build or with a terminal left raw. */
	if (stop_init())
		fprintf(stderr, "ktstr-orch: warning: cannot arm the stop-signal handling; "
				"SIGINT/SIGTERM kill at once\n");
	klog_init("ktstr-orch");
	/* '+': stop at the command so its options are its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > 256) {
				fprintf(stderr, "ktstr-orch: --workers takes 1..256, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			g.workers = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (global_opt(&g, c, optarg))
				break;
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 0; /* re-initialise getopt for the subcommand */
	if (!strcmp(cmd, "run"))
		return cmd_run(&g, argc, argv, 0);
	if (!strcmp(cmd, "list"))
		return cmd_run(&g, argc, argv, 1);
	if (!strcmp(cmd, "shell"))
		return cmd_shell(&g, argc, argv);
	/* kernel fetch/list/path manage the cache of whoever runs them (root's
	 * own cache when root): they start no VM and no builder, so they keep
	 * their ids (docs/security.md). */
	if (!strcmp(cmd, "kernel"))
		return cmd_kernel(&g, argc, argv);
	/* locks only reads the shared lock directory: keeps its ids too. */
	if (!strcmp(cmd, "locks"))
		return cmd_locks(&g, argc, argv);
	/* merge only reads result files and writes the merged ones. */
	if (!strcmp(cmd, "merge"))
		return cmd_merge(&g, argc, argv);
	fprintf(stderr, "ktstr-orch: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
