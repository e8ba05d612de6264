/* Which ktstr-orch the library runs: $KTSTR_ORCH, else ktstr-orch on PATH.
 * One lookup for the dual role (host.c) and the VM builder (vm.c). */
#ifndef KTSTR_LIB_ORCH_H
#define KTSTR_LIB_ORCH_H

/* A name for execvp: never NULL, not owned (the environment's or static). */
const char *ktstr_orch_path(void);

#endif
