/* Building VmResults the way a worker would, for verdict/report tests. */
#ifndef KTSTR_TEST_ORCH_VMRES_H
#define KTSTR_TEST_ORCH_VMRES_H

#include <stdbool.h>

#include "guest.pb-c.h"
#include "worker.pb-c.h"

/* A fresh heap VmResult (free with free_unpacked NULL). */
Ktstr__VmResult *vmres_new(Ktstr__Outcome outcome);
void vmres_add_ring(Ktstr__VmResult *r, uint32_t type, const void *payload, size_t len, bool crc_ok);
/* A TEST_RESULT on the ring only (what a forger can add). */
void vmres_add_test_result(Ktstr__VmResult *r, const Ktstr__TestResult *tr, bool crc_ok);
/* tr as PID 1 reports it: once on the ring and once on COM2 (which this
 * sets to com2_with_result(tr)), the worker's result count updated. */
void vmres_add_pid1_result(Ktstr__VmResult *r, const Ktstr__TestResult *tr);
void vmres_set_com2(Ktstr__VmResult *r, const char *text);
void vmres_set_console(Ktstr__VmResult *r, const char *text);
/* COM2 text carrying tr as base64 between the sentinels (caller frees). */
char *com2_with_result(const Ktstr__TestResult *tr);

#endif
