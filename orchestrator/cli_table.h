/* The one home of ktstr-orch's commands and options (cli_table.c). */
#ifndef KTSTR_ORCH_CLI_TABLE_H
#define KTSTR_ORCH_CLI_TABLE_H

#include <stddef.h>

#define CLI_OPTS_MAX 24	  /* options of one command */
#define CLI_GLOBALS_MAX 12 /* global options */

/* Completion of an option's argument or of a command's operands. */
enum cli_complete {
	CLI_C_NONE,   /* a free word: nothing to offer */
	CLI_C_FILE,   /* a file name */
	CLI_C_DIR,    /* a directory */
	CLI_C_KERNEL, /* a cached kernel's key (`kernel list`), or a file */
	CLI_C_WORDS,  /* one of cli_opt.words */
	CLI_C_USER,   /* an account name */
};

struct cli_opt {
	const char *name; /* long name, without "--" */
	int code;	  /* what cli_next returns for it (unique in its command) */
	char short_name;  /* 0: none */
	const char *arg;  /* its argument's name in help ("N"), NULL: takes none */
	const char *help; /* what it does; "\n" starts a continuation line */
	enum cli_complete complete;
	const char *words; /* CLI_C_WORDS: the choices, space separated */
};

/* Which global options a command evaluates (an option nothing evaluates is
 * refused, not ignored). -q, -v, -h and --version: every command. */
#define CLI_G_WORKERS 0x1u
#define CLI_G_PRIV 0x2u /* --user, --cache-user, --no-drop-privileges */
#define CLI_G_SANDBOX 0x4u /* --insecure-no-sandbox: only commands that start helpers */

struct cli_cmd {
	const char *name;     /* "run", "kernel build" */
	const char *operands; /* synopsis after "[options]": "SUITE", "" */
	const char *summary;  /* one line for the top-level help */
	const char *about;    /* a paragraph for the command's own help */
	unsigned globals;     /* CLI_G_* */
	int min_operands, max_operands; /* max -1: any number */
	enum cli_complete operand_complete;
	const struct cli_opt *opts; /* ends with a NULL name */
	const char *exits;	    /* its exit statuses, for --help */
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;
/* Before any command: only the global options, all taken (a usage error
 * says "ktstr-orch: ..."). Its name is "". */
extern const struct cli_cmd cli_top;
extern const struct cli_opt cli_globals[]; /* ends with a NULL name */
/* Global option codes a command without CLI_G_* bits still refuses. */
unsigned cli_global_class(int code);
/* The command named name ("run", "kernel build"), or NULL. */
const struct cli_cmd *cli_cmd_find(const char *name);
/* The exit statuses of ktstr-orch as a whole (the top-level help). */
extern const char cli_exit_status_help[];

#endif
