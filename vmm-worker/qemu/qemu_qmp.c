/* Reading QEMU's QMP events and turning what the engine saw into one
 * Outcome. QMP is line-delimited JSON; the worker only needs two string
 * members (event, data.reason) whose values are QAPI identifiers without
 * escapes, so a key lookup suffices and nothing else of the line is trusted. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "qemu.h"

/* Copy the string value of "key" in line into out; false if absent. */
static bool json_str(const char *line, const char *key, char *out, size_t outlen)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != ':')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '"')
		return false;
	size_t n = 0;
	while (p[n] && p[n] != '"' && p[n] != '\\')
		n++;
	if (p[n] != '"' || n >= outlen)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

bool qemu_qmp_parse_event(const char *line, struct qemu_qmp_event *ev)
{
	ev->event[0] = ev->reason[0] = '\0';
	if (!json_str(line, "event", ev->event, sizeof(ev->event)))
		return false;
	json_str(line, "reason", ev->reason, sizeof(ev->reason));
	return true;
}

bool qemu_qmp_parse_status_reply(const char *line, char *status, size_t len)
{
	char id[32];

	if (!strstr(line, "\"return\"") || !json_str(line, "id", id, sizeof(id)) ||
	    strcmp(id, QEMU_QMP_LIVENESS_ID))
		return false;
	return json_str(line, "status", status, len);
}

/* Precedence: what the guest's own words say (triple fault from QEMU's
 * log, a kernel panic on COM1) beats how QEMU ended, because under TCG both
 * a triple fault and panic=-1 end as an ordinary guest reset. */
Ktstr__Outcome qemu_outcome(const struct qemu_seen *s)
{
	if (s->triple_fault)
		return KTSTR__OUTCOME__OUTCOME_TRIPLE_FAULT;
	if (s->panic)
		return KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
	if (s->shutdown_event) {
		if (!strcmp(s->shutdown_reason, "guest-shutdown"))
			return KTSTR__OUTCOME__OUTCOME_POWER_OFF;
		if (!strcmp(s->shutdown_reason, "guest-reset"))
			return KTSTR__OUTCOME__OUTCOME_RESET;
		if (!strcmp(s->shutdown_reason, "guest-panic"))
			return KTSTR__OUTCOME__OUTCOME_GUEST_PANIC;
	}
	/* host-error, host-signal, an unexpected pause, or QEMU gone without
	 * saying why: the engine failed, not the guest. */
	return KTSTR__OUTCOME__OUTCOME_ENGINE_ERROR;
}
