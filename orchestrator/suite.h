/* The in-memory form of a suite file (docs/suite-format.md): schedulers and
 * the tests that run under them. Produced by suite_load(), read-only after. */
#ifndef KTSTR_ORCH_SUITE_H
#define KTSTR_ORCH_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/payload.h>
#include <ktstr/strv.h>
#include <ktstr/topology.h>

#include "guest.pb-c.h"
#include "expect.h"
#include "include_files.h"
#include "payload_metric.h"

#define SUITE_MAX_FLAGS 32 /* profiles are bitmasks; 2^32 combos is already absurd */

struct flag_decl {
	char *name;
	struct strv args;
	uint32_t requires_mask; /* bit i = flags[i] must also be active */
	unsigned line;
};

enum sched_binary_kind {
	SCHED_BIN_NONE,		  /* EEVDF: no sched_ext scheduler */
	SCHED_BIN_NAME,		  /* discovered by name */
	SCHED_BIN_PATH,		  /* explicit path (relative to the suite file) */
	SCHED_BIN_KERNEL_BUILTIN, /* enable/disable commands in the guest */
};

/* Topology constraints; 0 in a max means "not set". */
struct topo_constraints {
	uint32_t min_numa, max_numa, min_llcs, max_llcs, min_cpus, max_cpus;
	bool requires_smt;
	/* which fields were written (so a test overrides a scheduler per field) */
	uint32_t set_mask;
};
enum {
	TC_MIN_NUMA = 1, TC_MAX_NUMA = 2, TC_MIN_LLCS = 4, TC_MAX_LLCS = 8,
	TC_MIN_CPUS = 16, TC_MAX_CPUS = 32, TC_SMT = 64,
};

/* Per-dimension topology override: 0 = inherit. */
struct topo_override {
	uint32_t numa_nodes, llcs, cores_per_llc, threads_per_core;
};

struct sched_def {
	char *name;
	enum sched_binary_kind kind;
	char *binary;		/* NAME: the name; PATH: the path as written */
	char *resolved_path;	/* NAME/PATH: absolute path once resolved (or NULL) */
	char *ops_name;		/* expected sched_ext root/ops name, NULL = any */
	uint32_t attach_timeout_ms; /* 0 = the guest's default */
	uint32_t watchdog_timeout_ms; /* 0 = not set (merge.h: the default) */
	struct strv enable, disable;
	struct flag_decl flags[SUITE_MAX_FLAGS];
	size_t nflags;
	struct strv sysctls;	/* "key=value" */
	struct strv kargs;
	char *cgroup_parent;
	struct strv sched_args;
	struct ktstr_topo topo;	/* default 1,1,2,1 */
	Ktstr__AssertSpec asserts; /* overrides only (has_* set) */
	struct topo_constraints cons;
	/* Packed into its image and every image of its tests (include_files.h);
	 * config (0 or 1 file, at INCLUDE_DIR/BASENAME) also goes first on its
	 * command line as --config PATH (merge.h). */
	struct include_list includes, config;
	unsigned line;
};

struct test_def {
	char *name;
	size_t sched;		  /* index into suite.scheds */
	struct topo_override topo;
	Ktstr__Scenario *scenario; /* owned; free_unpacked(NULL) */
	Ktstr__AssertSpec asserts;
	struct strv extra_sched_args;
	uint32_t required_mask, excluded_mask;
	struct topo_constraints cons;
	uint32_t memory_mb;	  /* 0 = default */
	uint32_t timeout_ms;	  /* 0 = default */
	uint32_t watchdog_timeout_ms; /* 0 = the scheduler's, else the default */
	/* Pinned vCPUs + a service CPU, hugepages, RT, exit suppression
	 * (VmSpec.performance_mode); needs vCPUs + 1 host CPUs. */
	bool performance_mode;
	struct expect_failure xfail;	/* expect_failure: (expect.h); owned */
	/* include_files of its own: they make the test an image of its own. */
	struct include_list includes;
	size_t image;		  /* the image it boots (suite_image_sched) */
	/* c_test: (suite_ctest.h): the payload carrying the binary and the
	 * function it runs; NULL for a YAML scenario. Owned. */
	char *c_test_payload, *c_test_function;
	unsigned line;
};

/* A program the suite's `payloads:` declares: packed into every image at
 * spec.path (KTSTR_PAYLOAD_DIR/NAME/BASENAME) with its shared-library
 * closure, run by the scenario's payload ops. */
struct payload_def {
	char *host_path;	  /* absolute, or relative to the cwd (suite dir joined) */
	Ktstr__PayloadSpec spec;  /* name, guest path and args: owned here */
	struct strv args;	  /* spec.args points into it */
	/* Read on the host from each judged run's output (payload_metric.h);
	 * the guest never sees them. Owned. */
	struct payload_metric_list metrics;
	unsigned line;
};

struct suite {
	char *path;	/* as given */
	char *dir;	/* directory holding the suite file (for name discovery) */
	struct payload_def *payloads;
	Ktstr__PayloadSpec **pspecs; /* &payloads[i].spec, for GuestSpec.payloads */
	size_t npayloads;
	struct sched_def *scheds;
	size_t nscheds;
	struct test_def *tests;
	size_t ntests;
	struct include_list includes;	/* suite-level: in every image */
	/* Images a run may build (images.h): 0..nscheds-1 are the schedulers'
	 * own (payloads, the suite's and the scheduler's include_files and
	 * config_file); each later one belongs to one test with include_files
	 * of its own (image_test[i - nscheds]), and adds them. */
	size_t nimages;
	size_t *image_test;
};

/* Read and validate a suite file. On error returns -errno and writes a
 * message naming file:line:col into err. *out is caller-owned (suite_free). */
int suite_load(const char *path, struct suite **out, char *err, size_t errlen);
/* Same, from text in memory (file names the source in messages). */
int suite_parse(const char *file, const char *text, size_t len, struct suite **out, char *err,
		size_t errlen);
void suite_free(struct suite *s);

/* The built-in EEVDF scheduler is index 0 of every suite, named "eevdf". */
#define SUITE_EEVDF 0

/* The scheduler whose binary image img carries (suite_image.c). */
size_t suite_image_sched(const struct suite *s, size_t img);
/* The include lists image img packs, in order (suite, scheduler, its
 * config_file, the test's own); returns how many were stored in out. */
size_t suite_image_lists(const struct suite *s, size_t img, const struct include_list *out[4]);

#endif
