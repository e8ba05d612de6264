/* The contract of `ktstr-orch shell --result-json FILE` (docs/shell.md):
 * one JSON object, written by the orchestrator (orchestrator/shell_result.c)
 * and read by libktstr's VM builder (libktstr/vm_result.c). One home for
 * its names and bounds, so writer and reader cannot drift apart. */
#ifndef KTSTR_SHELL_RESULT_H
#define KTSTR_SHELL_RESULT_H

/* "outcome": what ended the command. */
#define KTSTR_SR_EXITED "exited"           /* it ran to its end: exit_code holds its status */
#define KTSTR_SR_TIMED_OUT "timed_out"     /* still running at --timeout: the VM was stopped */
#define KTSTR_SR_INFRA_ERROR "infra_error" /* no status: kernel, image, worker, host; see error */
#define KTSTR_SR_INTERRUPTED "interrupted" /* a stop signal reached ktstr-orch */

/* Fields. output: the last KTSTR_SR_OUTPUT_MAX bytes of the command's
 * stdout+stderr (COM2), trailer excluded; output_bytes: all it wrote, so
 * output_bytes > length(output) says the head was dropped. */
#define KTSTR_SR_F_OUTCOME "outcome"
#define KTSTR_SR_F_EXIT_CODE "exit_code"
#define KTSTR_SR_F_OUTPUT "output"
#define KTSTR_SR_F_OUTPUT_BYTES "output_bytes"
#define KTSTR_SR_F_ENGINE "engine"
#define KTSTR_SR_F_WALL_MS "wall_ms"
#define KTSTR_SR_F_ERROR "error"

#define KTSTR_SR_OUTPUT_MAX (1u << 20)
/* error: at most this many bytes. */
#define KTSTR_SR_ERROR_MAX 8192u
/* The whole file, as a reader bounds it: the output escaped as JSON
 * (\u00XX: 6 bytes a byte at worst), the error likewise, and the rest. */
#define KTSTR_SR_FILE_MAX (6u * (KTSTR_SR_OUTPUT_MAX + KTSTR_SR_ERROR_MAX) + 4096u)

#endif
