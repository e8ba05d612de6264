/* Reporting to the host: the SHM ring when there is one, and COM2 text
 * (sentinels, base64 result mirror, KTSTR_EXIT=N) always. The strings the
 * host parses live in ktstr/guest_contract.h. */
#ifndef KTSTR_GUEST_REPORT_H
#define KTSTR_GUEST_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.pb-c.h"
#include "ktstr/guest_contract.h"
#include "shm.h"

struct report {
	int com2_fd;	     /* owned; -1 = none (tests, or no serial port) */
	const char *com2_dev; /* the port com2_fd is (a static string), NULL = none */
	bool have_ring;
	struct guest_shm shm; /* valid when have_ring */
};

/* The guest's output port ("COM2" in the protocol's words) for the
 * architecture this guest is built for; the one place that chooses
 * (ktstr/guest_contract.h names both): x86_64 the second 16550 (ttyS1),
 * arm64 the virtio console (hvc0) of the QEMU engine's virt machine. */
#if defined(__aarch64__)
#define GUEST_OUTPUT_DEV KTSTR_GUEST_COM2_DEV_ARM64
#else
#define GUEST_OUTPUT_DEV KTSTR_GUEST_COM2_DEV
#endif

/* The output port to open: KTSTR_CMDLINE_OUTPUT_PORT's value (env, may be
 * NULL) when it names a known port, else GUEST_OUTPUT_DEV; *refused says a
 * value was given and not taken (the caller says so on the port). */
const char *report_output_dev(const char *env, bool *refused);

void report_init(struct report *r);
/* Open the output port dev (report_output_dev's), raw output (no \n -> \r\n),
 * and make it fd 1/2. */
int report_open_com2(struct report *r, const char *dev);
/* Map the ring from the environment / cmdline; failures are logged on COM2
 * and leave the report COM2-only. */
void report_open_ring(struct report *r, const char *cmdline);

/* A text line on COM2 (newline added). */
void report_line(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One ring message; retries for up to 2 s while the ring is full (the host
 * drains every 100 ms). Returns 0 or -errno; no-op 0 without a ring. */
int report_msg(struct report *r, uint32_t type, const void *payload, uint32_t len);
/* TestResult to the ring (TEST) and base64 on COM2 between the sentinels. */
int report_result(struct report *r, const Ktstr__TestResult *res);
int report_stimulus(struct report *r, const Ktstr__Stimulus *st);
int report_sched_exit(struct report *r, const Ktstr__SchedExit *x);
/* EXIT (i32 LE) to the ring and KTSTR_EXIT=N on COM2. */
void report_exit(struct report *r, int32_t code);
/* CRASH text to the ring and "PANIC: text" on COM2. */
void report_crash(struct report *r, const char *text);
/* Wait until COM2 has sent everything (bounded by the tty layer). */
void report_drain(struct report *r);
void report_close(struct report *r);

#endif
