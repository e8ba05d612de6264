/* Every command and option of ktstr-orch, once. The parser (cli_parse.c),
 * the help text (cli_help.c), the bash completion (cli_complete.c) and the
 * unit test that checks the man pages (man/) all read these tables: an
 * option added here is parsed, helped and completed at once, and the test
 * fails until its man page describes it.
 *
 * Codes are what cli_next returns to the command's switch; they only need
 * to be unique within one command (and below GOPT_USER, cli.h). */
#include <string.h>

#include <ktstr/arch.h>

#include "cli.h"
#include "cli_table.h"

#define END { NULL, 0, 0, NULL, NULL, CLI_C_NONE, NULL }
#define ENGINE_WORDS "auto kvm qemu"

/* ---- options shared by more than one command: one entry each -------------- */
#define O_GAUNTLET                                                                                  \
	{ "gauntlet", 'g', 0, NULL, "expand tests across topology presets x flag profiles",         \
	  CLI_C_NONE, NULL }
#define O_BUDGET                                                                                    \
	{ "budget", 'b', 0, "SECS", "greedy coverage selection within SECS", CLI_C_NONE, NULL }
#define O_FILTER                                                                                    \
	{ "filter", 'f', 0, "SUBSTR", "only variants whose name contains SUBSTR", CLI_C_NONE, NULL }
#define O_PARTITION                                                                                 \
	{ "partition", 'p', 0, "K/N|auto",                                                          \
	  "only shard K of N, balanced by estimated duration;\n"                                    \
	  "auto: from the CI engine's variables (docs/farms.md)",                                   \
	  CLI_C_NONE, NULL }
#define O_ALLOW_EMPTY                                                                               \
	{ "allow-empty", 'E', 0, NULL,                                                              \
	  "selecting no test is not an error (default: exit 2\n"                                    \
	  "naming the closest test names)",                                                         \
	  CLI_C_NONE, NULL }
#define O_ENGINE(code) { "engine", code, 0, "E", "auto, kvm or qemu (default auto)", CLI_C_WORDS, ENGINE_WORDS }
#define O_ARCH                                                                                      \
	{ "arch", 'A', 0, "A",                                                                      \
	  "the guest's architecture: x86_64 or arm64 (alias\n"                                     \
	  "aarch64; default x86_64; docs/aarch64.md)",                                             \
	  CLI_C_WORDS, KTSTR_ARCH_WORDS }
#define O_RUN_KERNEL                                                                                \
	{ "kernel", 'k', 0, "K",                                                                    \
	  "kernel image or directory, cache key, version or\n"                                      \
	  "version prefix (7.2: the newest cached 7.2.x);\n"                                        \
	  "up to 8 times: each test on each, NAME/k=7.2.13",                                        \
	  CLI_C_KERNEL, NULL }

#define O_CPU_CAP                                                                                   \
	{ "cpu-cap", 'P', 0, "N",                                                                   \
	  "reserve N host CPUs, host-wide, and pin every VM\n"                                      \
	  "worker to them (docs/farms.md)",                                                         \
	  CLI_C_NONE, NULL }
#define O_RESERVE_TIMEOUT                                                                           \
	{ "reserve-timeout", 'W', 0, "S",                                                           \
	  "wait at most S s for CPUs or memory other runs hold\n"                                   \
	  "(default 600; 0: do not wait); then host contention:\n"                                  \
	  "an infrastructure error, exit 3",                                                        \
	  CLI_C_NONE, NULL }

static const struct cli_opt run_opts[] = {
	O_GAUNTLET,
	O_BUDGET,
	O_FILTER,
	O_PARTITION,
	O_ALLOW_EMPTY,
	{ "retries", 'r', 0, "N", "rerun a failed test up to N more times", CLI_C_NONE, NULL },
	{ "timeout", 't', 0, "S", "VM timeout for tests that set none (default 60)", CLI_C_NONE,
	  NULL },
	O_ENGINE('e'),
	O_ARCH,
	O_RUN_KERNEL,
	{ "initramfs-compression", 'C', 0, "C",
	  "none, gzip or lz4: how base images are packed\n(default none)", CLI_C_WORDS,
	  "none gzip lz4" },
	{ "junit", 'J', 0, "FILE", "write JUnit XML", CLI_C_FILE, NULL },
	{ "json", 'j', 0, "FILE", "write one JSON record per test", CLI_C_FILE, NULL },
	{ "jsonl", 'L', 0, "FILE",
	  "write JSON Lines as tests end: a header, a line per\n"
	  "test, the totals (docs/results.md)",
	  CLI_C_FILE, NULL },
	{ "html", 'H', 0, "FILE",
	  "write one self-contained HTML page: outcome heatmap,\n"
	  "work shares, CPU and gap lanes (docs/reports.md)",
	  CLI_C_FILE, NULL },
	{ "coverage", 'V', 0, "DIR",
	  "C tests built with coverage: each VM's .gcda or\n"
	  ".profraw files under DIR/TEST/ (docs/c-api.md)",
	  CLI_C_DIR, NULL },
	O_CPU_CAP,
	O_RESERVE_TIMEOUT,
	END,
};

/* The run options that shape the plan; the rest would be taken and ignored. */
static const struct cli_opt list_opts[] = {
	O_GAUNTLET, O_BUDGET, O_FILTER, O_PARTITION, O_ALLOW_EMPTY, O_ENGINE('e'), O_ARCH, O_RUN_KERNEL,
	END,
};

static const struct cli_opt shell_opts[] = {
	{ "topology", 'T', 0, "N,L,C,T",
	  "NUMA nodes, LLCs per node, cores per LLC, threads\nper core (default 1,1,1,1)",
	  CLI_C_NONE, NULL },
	{ "memory-mb", 'm', 0, "M", "guest RAM, 128..1048576 MiB (default max(64 per\nCPU, 512))",
	  CLI_C_NONE, NULL },
	{ "kernel", 'k', 0, "K", "the kernel to boot (as for run)", CLI_C_KERNEL, NULL },
	O_ARCH,
	{ "include", 'i', 'i', "FILE", "copy FILE into the guest; up to 64 times", CLI_C_FILE,
	  NULL },
	{ "exec", 'x', 0, "CMD", "run CMD in the guest and exit with its status", CLI_C_NONE,
	  NULL },
	{ "result-json", 'R', 0, "FILE",
	  "with --exec: write the outcome, exit code and\noutput tail to FILE as JSON", CLI_C_FILE,
	  NULL },
	O_ENGINE('e'),
	{ "timeout", 't', 0, "S",
	  "stop the VM after S s, 1..86400; exit 124 (default\n300 with --exec, else 12 h)",
	  CLI_C_NONE, NULL },
	{ "watchdog-timeout", 'w', 0, "S",
	  "lower sched_ext's watchdog to S s (1..3600;\ndefault: the kernel's own)", CLI_C_NONE,
	  NULL },
	O_CPU_CAP,
	O_RESERVE_TIMEOUT,
	END,
};

#define O_FORCE(what) { "force", 'F', 0, NULL, what, CLI_C_NONE, NULL }

static const struct cli_opt kfetch_opts[] = {
	{ "kernel-version", 'v', 0, "X", "kernel ABI as in package names (default: the\nsuite's current one)",
	  CLI_C_NONE, NULL },
	{ "suite", 's', 0, "S", "Debian suite: sid or bookworm (default sid)", CLI_C_WORDS,
	  "sid bookworm" },
	{ "mirror", 'm', 0, "URL", "a Debian mirror to try, in order; up to 8 times", CLI_C_NONE,
	  NULL },
	O_FORCE("ask the mirror even when the kernel is cached"),
	O_ARCH,
	END,
};

static const struct cli_opt kbuild_opts[] = {
	{ "source", 'S', 0, "DIR", "a kernel source tree", CLI_C_DIR, NULL },
	{ "git", 'G', 0, "URL", "a git repository to clone (with --ref)", CLI_C_NONE, NULL },
	{ "ref", 'R', 0, "REF", "the branch, tag or commit of --git", CLI_C_NONE, NULL },
	{ "config", 'C', 0, "FRAGMENT", "a config fragment merged last; up to 16 times",
	  CLI_C_FILE, NULL },
	{ "base", 'B', 0, "CFG", "defconfig or tinyconfig (default defconfig)", CLI_C_WORDS,
	  "defconfig tinyconfig" },
	{ "make-arg", 'M', 0, "VAR=VALUE", "passed to make; up to 16 times", CLI_C_NONE, NULL },
	{ "jobs", 'j', 'j', "N", "make -j N, 1..1024 (default: the host's CPUs)", CLI_C_NONE,
	  NULL },
	{ "timeout", 'T', 0, "S", "give up after S s, 1..86400", CLI_C_NONE, NULL },
	{ "clean", 'c', 0, NULL, "empty the build directory first", CLI_C_NONE, NULL },
	O_FORCE("build even when the cache has this kernel"),
	END,
};

static const struct cli_opt kpath_opts[] = {
	{ "kernel", 'k', 0, "K", "the kernel to resolve (as for run)", CLI_C_KERNEL, NULL },
	O_ENGINE('e'),
	O_ARCH,
	END,
};

static const struct cli_opt kclean_opts[] = {
	{ "all", 'a', 0, NULL, "every cached kernel no run is booting", CLI_C_NONE, NULL },
	{ "dry-run", 'n', 0, NULL, "say what would be removed, remove nothing", CLI_C_NONE, NULL },
	END,
};

static const struct cli_opt locks_opts[] = {
	{ "json", 'j', 0, NULL, "one JSON document instead of the table", CLI_C_NONE, NULL },
	END,
};

static const struct cli_opt merge_opts[] = {
	{ "json", 'j', 0, "OUT", "write the merged JSON", CLI_C_FILE, NULL },
	{ "junit", 'J', 0, "OUT", "write the merged JUnit XML", CLI_C_FILE, NULL },
	{ "expect-shards", 'n', 0, "N", "the run had N shards (default: what the files say)",
	  CLI_C_NONE, NULL },
	END,
};

static const struct cli_opt compare_opts[] = {
	{ "json", 'j', 0, "OUT", "also write the comparison as JSON", CLI_C_FILE, NULL },
	{ "gate", 'g', 0, "METRIC=ABS,REL%[,lower|higher]",
	  "a metric's regression gate: worse by more than both\n"
	  "ABS and REL% (default gates: docs/reports.md); up to\n"
	  "64 times. -v prints every metric, not only changes",
	  CLI_C_NONE, NULL },
	END,
};

static const struct cli_opt report_opts[] = {
	{ "html", 'H', 0, "OUT", "write the HTML page to OUT (required)", CLI_C_FILE, NULL },
	END,
};

static const struct cli_opt completion_opts[] = { END };
static const struct cli_opt none_opts[] = { END };

#define K_EXITS                                                                                     \
	"0 done, 2 usage errors or no such kernel, 3 infrastructure errors\n"                      \
	"(a download or build that failed), 130 interrupted"

const struct cli_cmd cli_cmds[] = {
	{ "run", "SUITE", "run a suite file's tests, each in its own VM",
	  "Plans the suite (docs/suite-format.md), builds its images, runs every kept\n"
	  "test in a VM, --workers at a time, and reports on stdout.",
	  CLI_G_WORKERS | CLI_G_PRIV | CLI_G_SANDBOX, 1, 1, CLI_C_FILE, run_opts,
	  "0 all passed, 1 test failures, 2 usage or suite errors,\n"
	  "3 infrastructure errors, 130 interrupted" },
	{ "list", "SUITE", "show the plan: every variant, kept or dropped and why",
	  "Shows every variant and why it is kept or dropped, every scheduler binary\n"
	  "`run` would not find, and the workers a run would use. Starts nothing.",
	  CLI_G_WORKERS | CLI_G_PRIV, 1, 1, CLI_C_FILE, list_opts,
	  "0 the plan was shown, 2 usage or suite errors (no test selected\n"
	  "included), 3 infrastructure errors" },
	{ "shell", "", "boot a VM with busybox, interactive or --exec",
	  "Boots one VM whose guest runs busybox. With --exec the command's output is\n"
	  "printed and its exit status becomes ours; otherwise the terminal is the\n"
	  "guest's shell.",
	  CLI_G_PRIV | CLI_G_SANDBOX, 0, 0, CLI_C_NONE, shell_opts,
	  "the command's or the shell's own, 124 at --timeout, 2 usage errors,\n"
	  "3 infrastructure errors, 130 interrupted" },
	{ "kernel fetch", "", "a Debian cloud kernel into the cache",
	  "Downloads a Debian cloud kernel into the cache; a cached one answers offline.",
	  0, 0, 0, CLI_C_NONE, kfetch_opts, K_EXITS },
	{ "kernel build", "", "configure, build, validate and cache a kernel",
	  "Configures a kernel tree for ktstr, builds, validates and caches it (key:\n"
	  "source identity + config). Takes --source DIR or --git URL --ref REF. A\n"
	  "dirty tree is built, not cached.",
	  0, 0, 0, CLI_C_NONE, kbuild_opts, K_EXITS },
	{ "kernel list", "", "cached kernels: version, suite, sched_ext, size, arch",
	  "Lists the cached kernels: key, version, suite, sched_ext, size, arch.", 0, 0, 0, CLI_C_NONE,
	  none_opts, K_EXITS },
	{ "kernel path", "", "the kernel image a run would boot",
	  "Prints the path of the kernel image `run` with the same --kernel, --engine\n"
	  "and --arch would boot (the same resolution; --arch arm64 looks only at arm64\n"
	  "kernels).",
	  0, 0, 0, CLI_C_NONE,
	  kpath_opts, K_EXITS },
	{ "kernel clean", "[KEY|PREFIX]", "remove cached kernels (never one in use)",
	  "Removes the kernels named (never one in use); with nothing named only the apt\n"
	  "state and leftovers.",
	  0, 0, 1, CLI_C_KERNEL, kclean_opts, K_EXITS },
	{ "locks", "", "the runs holding CPUs or memory on this host",
	  "Lists the runs holding CPUs or memory on this host: pid, command, CPUs, guest\n"
	  "RAM, since ($KTSTR_LOCK_DIR, default /tmp/ktstr-locks).",
	  0, 0, 0, CLI_C_NONE, locks_opts,
	  "0 listed, 2 usage errors, 3 the lock directory could not be read" },
	{ "merge", "FILE...", "one report from the --json files of a sharded run",
	  "Merges the --json files of a sharded run's shards into one report; a shard\n"
	  "no file carries is an infrastructure error (exit 3).",
	  0, 1, -1, CLI_C_FILE, merge_opts,
	  "0 all passed, 1 test failures, 2 usage errors, 3 infrastructure\n"
	  "errors (a shard no file carries, a file that cannot be read)" },
	{ "compare", "A B", "two --json files test by test; exit 1 on a regression",
	  "Matches the tests of two result files (run's or merge's --json; A the\n"
	  "baseline) by full variant name and reports tests only in one, outcome\n"
	  "changes and each metric's change. A regression: a test that passed in A and\n"
	  "fails in B, or a metric worse in B than both its gate's thresholds.",
	  0, 2, 2, CLI_C_FILE, compare_opts,
	  "0 no regression, 1 regressions, 2 usage errors or a file that is\n"
	  "not a result file, 3 a file that cannot be read or written" },
	{ "report", "FILE", "the HTML page of a --json file (run's or merge's)",
	  "Draws the self-contained HTML page of `run --html` from a --json file of\n"
	  "`run` or `merge`.",
	  0, 1, 1, CLI_C_FILE, report_opts,
	  "0 written, 2 usage errors or a file that is not a result file,\n"
	  "3 a file that cannot be read or written" },
	{ "completion", "bash", "print the bash completion script",
	  "Prints the bash completion script (make install puts it where bash-completion\n"
	  "finds it).",
	  0, 1, 1, CLI_C_NONE, completion_opts, "0 printed, 2 usage errors" },
};
const size_t cli_ncmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]);

const struct cli_cmd cli_top = { "", "COMMAND [ARGS]", "", "",
				 CLI_G_WORKERS | CLI_G_PRIV | CLI_G_SANDBOX,
				 0, 0, CLI_C_NONE, none_opts, "" };

const struct cli_opt cli_globals[] = {
	{ "workers", GOPT_WORKERS, 'j', "N",
	  "concurrent VMs, 1..256 (default: what the host can\n"
	  "run: usable CPUs / vCPUs of the largest VM, bounded\n"
	  "by memory; `list` shows it)",
	  CLI_C_NONE, NULL },
	{ "user", GOPT_USER, 0, "NAME",
	  "started as root, run as NAME once the kernel and\n"
	  "the report files are open (default: $SUDO_USER,\n"
	  "else nobody)",
	  CLI_C_USER, NULL },
	{ "cache-user", GOPT_CACHE_USER, 0, "NAME|UID[:GID]",
	  "started as root, build images as NAME, the image\n"
	  "cache's owner, never the uid VMs run as (default:\n"
	  "the account ktstr where it exists)",
	  CLI_C_USER, NULL },
	{ "no-drop-privileges", GOPT_NO_DROP, 0, NULL, "started as root, stay root (not recommended)",
	  CLI_C_NONE, NULL },
	{ "insecure-no-sandbox", GOPT_INSECURE, 0, NULL,
	  "run the builder and VM workers unconfined (every\nreport then says UNSANDBOXED)",
	  CLI_C_NONE, NULL },
	{ "quiet", GOPT_QUIET, 'q', NULL,
	  "only failures, warnings and the summary (log level\nwarn, for the helpers too)",
	  CLI_C_NONE, NULL },
	{ "verbose", GOPT_VERBOSE, 'v', NULL,
	  "more detail: each test as it starts and debug log\nlines (log level debug)",
	  CLI_C_NONE, NULL },
	{ "help", GOPT_HELP, 'h', NULL, "show this help and exit", CLI_C_NONE, NULL },
	{ "version", GOPT_VERSION, 0, NULL, "print the version and exit", CLI_C_NONE, NULL },
	END,
};

const char cli_exit_status_help[] =
	"exit status: 0 all passed, 1 test failures, 2 usage/suite errors,\n"
	"             3 infrastructure errors, 130 interrupted\n";

unsigned cli_global_class(int code)
{
	switch (code) {
	case GOPT_WORKERS:
		return CLI_G_WORKERS;
	case GOPT_USER:
	case GOPT_CACHE_USER:
	case GOPT_NO_DROP:
		return CLI_G_PRIV;
	case GOPT_INSECURE:
		return CLI_G_SANDBOX;
	default:
		return 0;
	}
}

const struct cli_cmd *cli_cmd_find(const char *name)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].name, name))
			return &cli_cmds[i];
	return NULL;
}
