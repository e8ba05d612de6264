/* Subcommands of ktstr-orch. Each returns the process exit status:
 * 0 success, 1 test failures, 2 usage or suite errors, 3 infrastructure
 * errors (130 when interrupted). */
#ifndef KTSTR_ORCH_CLI_H
#define KTSTR_ORCH_CLI_H

#include <stdio.h>

#define EXIT_TESTS_FAILED 1
#define EXIT_USAGE 2
#define EXIT_INFRA 3
#define EXIT_INTERRUPTED 130

struct global_opts {
	unsigned workers; /* 0 = not given */
};

int cmd_run(const struct global_opts *g, int argc, char **argv, int list_only);
int cmd_shell(const struct global_opts *g, int argc, char **argv);
int cmd_kernel(const struct global_opts *g, int argc, char **argv);
void usage(FILE *f);

#endif
