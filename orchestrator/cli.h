/* Subcommands of ktstr-orch. Each returns the process exit status:
 * 0 success, 1 test failures, 2 usage or suite errors, 3 infrastructure
 * errors (130 when interrupted). */
#ifndef KTSTR_ORCH_CLI_H
#define KTSTR_ORCH_CLI_H

#include <stdbool.h>
#include <stdio.h>

#define EXIT_TESTS_FAILED 1
#define EXIT_USAGE 2
#define EXIT_INFRA 3
#define EXIT_INTERRUPTED 130

struct global_opts {
	unsigned workers;	  /* 0 = not given */
	const char *user;	  /* --user: whom root drops to (NULL = default) */
	bool no_drop_privileges;  /* --no-drop-privileges: stay root */
	bool insecure_no_sandbox; /* --insecure-no-sandbox: builder and workers unconfined */
	const char *cache_user;	  /* --cache-user: who owns the image cache (cache_owner.h) */
};

/* Parse one of the options every VM-starting command takes (--user,
 * --cache-user, --no-drop-privileges, --insecure-no-sandbox), as getopt_long code c from
 * global_opt_longopts. Returns 1 if c was one, else 0. */
#define GOPT_USER 0x100
#define GOPT_NO_DROP 0x101
#define GOPT_INSECURE 0x102
#define GOPT_CACHE_USER 0x103
#define GLOBAL_LONGOPTS                                                        \
	{ "user", required_argument, NULL, GOPT_USER },                         \
	{ "cache-user", required_argument, NULL, GOPT_CACHE_USER },             \
	{ "no-drop-privileges", no_argument, NULL, GOPT_NO_DROP },              \
	{ "insecure-no-sandbox", no_argument, NULL, GOPT_INSECURE }
int global_opt(struct global_opts *g, int c, const char *arg);
/* Drop root per g (privdrop.c); prints the error. Returns 0 or -errno. */
int global_drop_privileges(const struct global_opts *g);

int cmd_run(const struct global_opts *g, int argc, char **argv, int list_only);
int cmd_shell(const struct global_opts *g, int argc, char **argv);
int cmd_kernel(const struct global_opts *g, int argc, char **argv);
int cmd_locks(const struct global_opts *g, int argc, char **argv);
int cmd_merge(const struct global_opts *g, int argc, char **argv);
int cmd_compare(const struct global_opts *g, int argc, char **argv);
int cmd_report(const struct global_opts *g, int argc, char **argv);
void usage(FILE *f);

#endif
