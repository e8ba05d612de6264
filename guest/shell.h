/* Shell mode: run exec_cmd, or an interactive shell on COM2. */
#ifndef KTSTR_GUEST_SHELL_H
#define KTSTR_GUEST_SHELL_H

#include "report.h"

/* Returns the exit status to report (KTSTR_EXEC_EXIT=N is printed here). */
int shell_run(struct report *rep, const char *exec_cmd);

#endif
