/* Subcommands of ktstr-orch and the command-line parser they share. Each
 * returns the process exit status: 0 success, 1 test failures, 2 usage or
 * suite errors, 3 infrastructure errors (130 when interrupted).
 *
 * Every option lives in one table (cli_table.c): the parser's getopt
 * options, --help, `ktstr-orch completion bash` and the test that holds the
 * man pages to the table all read it, so adding an option is one entry
 * there, one case in its command's switch and its man page lines. */
#ifndef KTSTR_ORCH_CLI_H
#define KTSTR_ORCH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli_table.h"

#define EXIT_TESTS_FAILED 1
#define EXIT_USAGE 2
#define EXIT_INFRA 3
#define EXIT_INTERRUPTED 130

struct global_opts {
	unsigned workers;	  /* -j/--workers; 0 = not given (the host's default) */
	const char *user;	  /* --user: whom root drops to (NULL = default) */
	bool no_drop_privileges;  /* --no-drop-privileges: stay root */
	bool insecure_no_sandbox; /* --insecure-no-sandbox: builder and workers unconfined */
	const char *cache_user;	  /* --cache-user: who owns the image cache (cache_owner.h) */
	int verbosity;		  /* -1 -q, 0 default, 1 -v (cli_parse.c sets the log level) */
};

/* One command's parse: globals and the command's own options, anywhere on
 * the line ("--" ends the options). argv[0] is the command's name for
 * messages; after CLI_END the operands are argv[optind..argc), in order
 * (cli_next reorders argv, as GNU getopt's permutation would). */
struct cli_parser {
	const struct cli_cmd *cmd;
	struct global_opts *g;
	int argc;
	char **argv;
	int exit; /* the status to exit with after CLI_STOP */
	int nops; /* operands seen so far (cli_next) */
	struct option longs[CLI_OPTS_MAX + CLI_GLOBALS_MAX + 1];
	const struct cli_opt *map[CLI_OPTS_MAX + CLI_GLOBALS_MAX]; /* longs[i]'s entry */
	size_t nmap;
	char shorts[2 * (CLI_OPTS_MAX + CLI_GLOBALS_MAX) + 2];
};

#define CLI_END 0
#define CLI_STOP (-1)

/* Start parsing argv for cmd; global options land in *g. */
void cli_begin(struct cli_parser *p, const struct cli_cmd *cmd, struct global_opts *g, int argc,
	       char **argv);
/* The next option of the command itself: its table code (> 0) with its
 * argument in optarg; CLI_END when the options are done (operands from
 * optind); CLI_STOP when the command must end now with p->exit: --help or
 * --version was printed (0), or a usage error was (2). Globals are handled
 * here and never returned. */
int cli_next(struct cli_parser *p);
/* "usage: ktstr-orch CMD SYNOPSIS" and "see 'ktstr-orch CMD --help'" on
 * stderr, after the one line that named the problem. Returns EXIT_USAGE. */
int cli_usage_hint(const struct cli_cmd *cmd);
/* "ktstr-orch CMD: <problem>" then the hint. Returns EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The help of cmd (NULL: the top level) from the table. */
void cli_help(FILE *f, const struct cli_cmd *cmd);
/* `ktstr-orch completion bash`: the bash completion script, from the table. */
int cli_completion_bash(FILE *f);

/* Codes of the global options every command shares (cli_table.c). */
#define GOPT_USER 0x100
#define GOPT_NO_DROP 0x101
#define GOPT_INSECURE 0x102
#define GOPT_CACHE_USER 0x103
#define GOPT_WORKERS 0x104
#define GOPT_QUIET 0x105
#define GOPT_VERBOSE 0x106
#define GOPT_HELP 0x107
#define GOPT_VERSION 0x108
/* Drop root per g (privdrop.c); prints the error. Returns 0 or -errno. */
int global_drop_privileges(const struct global_opts *g);

int cmd_run(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv, int list_only);
int cmd_shell(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv);
int cmd_kernel(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv);
int cmd_locks(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv);
int cmd_merge(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv);
int cmd_compare(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv);
int cmd_report(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv);

#endif
