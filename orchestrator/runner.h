/* The run loop: every kept variant through a VM, --workers at a time, with
 * retries, live progress and a clean stop on SIGINT/SIGTERM. */
#ifndef KTSTR_ORCH_RUNNER_H
#define KTSTR_ORCH_RUNNER_H

#include <stdbool.h>
#include <stdio.h>

#include "plan.h"
#include "record.h"
#include "spec_build.h"
#include "suite.h"
#include "vm_backend.h"

struct runner_cfg {
	const struct suite *suite;
	const struct plan *plan;
	struct run_settings settings;
	struct vm_backend *backend;
	/* Per plan kernel (plan->kernels order), each variant boots its
	 * own: the kernel fds (borrowed; NULL = -1 for all) and the
	 * monitor's layouts (borrowed; NULL, or a NULL entry = unmonitored).
	 * settings.kernel_layout is ignored: these replace it per VM. */
	const int *kernel_fds;
	const Ktstr__GuestKernelLayout *const *kernel_layouts;
	const int *initrd_fds;	/* per image index (suite.h); borrowed; -1 = none */
	/* per image index: BuildOk.sandboxed of the image (1/0, -1
	 * unknown); NULL = unknown for all. Copied into each record. */
	const int *image_sandboxed;
	/* per image index: BuildOk.landlock (1/0, -1 unknown); NULL = unknown */
	const int *image_landlock;
	unsigned workers;	/* concurrent VMs, >= 1 */
	unsigned retries;	/* extra attempts for a failed test */
	FILE *out;		/* per-test lines */
	FILE *progress;		/* live progress (a TTY) or NULL */
	bool handle_signals;	/* block SIGINT/SIGTERM and stop VMs on them */
	/* Where the backend does not place performance-mode VMs itself: the
	 * longest one waits for CPUs others of the run hold (perf_cpus.h);
	 * 0 = PERF_CPUS_WAIT_DEFAULT_MS. */
	uint32_t perf_wait_ms;
};

/* Run. *recs gets one record per variant that is kept or skipped (in plan
 * order; caller frees with runner_free_records). Returns 0, or -EINTR when
 * a signal stopped the run (records are complete: unrun tests are STOPPED),
 * or -errno when the loop itself could not run. */
int runner_run(const struct runner_cfg *cfg, struct test_record **recs, size_t *nrecs);
void runner_free_records(struct test_record *recs, size_t n);

#endif
