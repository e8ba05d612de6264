/* Turning a shell VM's end into our exit status; see shell_status.h. */
#include "shell_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/cleantext.h>
#include <ktstr/guest_contract.h>

#include "cli.h"
#include "verdict.h"

/* What ended the VM, for messages: the outcome's name, or why there is no
 * result. */
static const char *vm_end_text(const Ktstr__VmResult *r)
{
	const ProtobufCEnumValue *ev;

	if (!r)
		return "the VM worker sent no result";
	ev = protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, r->outcome);
	return ev ? ev->name : "the VM ended with an unknown outcome";
}

static void print_console_tail(const Ktstr__VmResult *r)
{
	char *tail;

	if (!r || !r->has_console_tail || !r->console_tail.len)
		return;
	tail = text_tail_lines((const char *)r->console_tail.data, r->console_tail.len, 20);
	fprintf(stderr, "--- console (tail) ---\n%s\n", tail ? tail : "");
	free(tail);
}

/* A timeout comes first: a status seen before it can only be a line the
 * user's session printed, not the guest's. */
int shell_interactive_status(const struct vm_job_result *res, unsigned timeout_s)
{
	const Ktstr__VmResult *r = res->result;

	if (res->infra || !r) {
		fprintf(stderr, "ktstr-orch shell: %s\n",
			res->error[0] ? res->error : "the VM worker sent no result");
		return EXIT_INFRA;
	}
	if (r->outcome == KTSTR__OUTCOME__OUTCOME_TIMEOUT) {
		fprintf(stderr, "ktstr-orch shell: shell still running after --timeout %u s; VM "
				"stopped (exit status %d, as timeout(1))\n",
			timeout_s, SHELL_EXIT_TIMEOUT);
		return SHELL_EXIT_TIMEOUT;
	}
	if (r->has_guest_exit_code)
		return r->guest_exit_code & 0xff;
	fprintf(stderr, "ktstr-orch shell: the guest shell's exit status never arrived (no "
			KTSTR_COM2_EXIT "N line on COM2; VM ended: %s)%s%s\n",
		vm_end_text(r), res->error[0] ? ": " : "", res->error);
	print_console_tail(r);
	return EXIT_INFRA;
}

int shell_exec_status(struct exec_stream *es, const struct vm_job_result *res,
		      unsigned timeout_s)
{
	if (es->any)
		exec_stream_finish(es);
	/* No live stream (or it missed the end): the full COM2 capture, shown
	 * only if nothing was shown live. */
	if (!es->have_code && res->result && res->result->has_guest_output) {
		struct exec_stream again = { .quiet = es->any, .tail = es->tail };

		exec_stream_feed(&again, res->result->guest_output.data,
				 res->result->guest_output.len);
		exec_stream_finish(&again);
		es->have_code = again.have_code;
		es->exit_code = again.exit_code;
	}
	fflush(stdout);
	if (es->have_code)
		return es->exit_code & 0xff;
	if (res->result && !res->infra && res->result->outcome == KTSTR__OUTCOME__OUTCOME_TIMEOUT) {
		fprintf(stderr, "ktstr-orch shell: command still running after --timeout %u s; VM "
				"stopped (exit status %d, as timeout(1)); raise --timeout if the "
				"command needs longer\n",
			timeout_s, SHELL_EXIT_TIMEOUT);
		return SHELL_EXIT_TIMEOUT;
	}
	fprintf(stderr, "ktstr-orch shell: the command's exit status never arrived "
			"(no " KTSTR_COM2_EXEC_EXIT "N line at the end of the guest's COM2 "
			"output): %s\n",
		res->error[0] ? res->error : vm_end_text(res->result));
	print_console_tail(res->result);
	return EXIT_INFRA;
}

void shell_monitor_line(const struct vm_job_result *res, bool watchdog_asked)
{
	const Ktstr__VmResult *r = res->result;
	const Ktstr__MonitorReport *m = r ? r->monitor : NULL;
	const char *sum;

	if (!r || (!m && !r->monitor_off))
		return;
	fputs("ktstr-orch shell: monitor: ", stderr);
	if (!m) {
		fputs("off: ", stderr);
		fput_clean_max(stderr, r->monitor_off, 300);
		fputc('\n', stderr);
		return;
	}
	/* The summary already starts "monitor: "; a failure says so first. */
	sum = m->summary ? m->summary : "?";
	if (!strncmp(sum, "monitor: ", 9))
		sum += 9;
	if (m->verdict == KTSTR__MONITOR_VERDICT__MONITOR_FAIL)
		fputs("FAIL: ", stderr);
	fput_clean_max(stderr, sum, 300);
	if (m->watchdog_writes)
		fprintf(stderr, "; sched_ext watchdog lowered to %u ms", m->watchdog_timeout_ms);
	else if (watchdog_asked) {
		/* The note says why ("never lowered: no scheduler ..."). */
		fputs("; sched_ext watchdog: ", stderr);
		fput_clean_max(stderr, m->watchdog_note ? m->watchdog_note : "?", 200);
	} else if (m->has_scx_enabled_at_ns) {
		fputs("; sched_ext watchdog: the kernel's own (--watchdog-timeout S lowers it)",
		      stderr);
	}
	fputc('\n', stderr);
}
