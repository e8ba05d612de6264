/* Private to ktstr-vmm-worker: the control-socket state machine once a VM
 * runs (worker_ctl_service() is declared in engine.h for the engines).
 * Confinement is worker_sandbox.h. */
#ifndef KTSTR_WORKER_CTL_H
#define KTSTR_WORKER_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Why a stop was requested through the control socket, or NULL: "StopVm",
 * "orchestrator closed the control socket", "second RunVm refused", ... */
const char *worker_ctl_stop_reason(void);
/* True when the orchestrator broke the protocol (garbage, second RunVm). */
bool worker_ctl_protocol_error(void);

#endif
