/* The exit status of `ktstr-orch shell` once its VM has ended: the
 * command's (--exec) or the shell's own status, 124 when --timeout stopped
 * it (as timeout(1)), EXIT_INFRA when the status never arrived. Each
 * non-status outcome is explained on stderr. */
#ifndef KTSTR_ORCH_SHELL_STATUS_H
#define KTSTR_ORCH_SHELL_STATUS_H

#include <stdbool.h>

#include "shell_exec.h"
#include "vm_backend.h"

/* Exit status of a command stopped by --timeout, as timeout(1) uses. */
#define SHELL_EXIT_TIMEOUT 124

/* Interactive: the guest shell's status (KTSTR_EXIT=N after the shell,
 * VmResult.guest_exit_code). */
int shell_interactive_status(const struct vm_job_result *res, unsigned timeout_s);
/* --exec: the status from the trailer of the live stream es, else of the
 * full COM2 capture in res (shown only if nothing was shown live). */
int shell_exec_status(struct exec_stream *es, const struct vm_job_result *res,
		      unsigned timeout_s);
/* One line on stderr about the host-side monitor (docs/shell.md): its
 * verdict ("FAIL: " and the first violation when it failed), or why it was
 * off; with the sched_ext watchdog when it lowered it, or, when
 * watchdog_asked (--watchdog-timeout), why it never did. It never changes
 * the exit status: that is the command's or the shell's. Nothing when the
 * worker sent no result. */
void shell_monitor_line(const struct vm_job_result *res, bool watchdog_asked);

#endif
