/* ktstr C API (docs/c-api.md): schedulers as constant definitions, tests as
 * C functions that run inside the VM, and one binary in two roles.
 *
 *   static const struct ktstr_scheduler MY_SCHED = {
 *           .name = "my_sched", .kind = KTSTR_SCHED_NAME, .binary = "scx_my_sched",
 *           .flags = (const struct ktstr_flag[]){
 *                   { .name = "llc", .args = KTSTR_LIST("--enable-llc") },
 *                   { .name = "steal", .args = KTSTR_LIST("--steal"),
 *                     .requires_flags = KTSTR_LIST("llc") },
 *                   { 0 } },
 *   };
 *   KTSTR_TEST(two_groups, .scheduler = &MY_SCHED, .llcs = 2)
 *   {
 *           ktstr_cgroup_add(ctx, "a", 2, KTSTR_WORK_CPU_SPIN);
 *           return ktstr_run(ctx, 1000);
 *   }
 *
 * Linked with libktstr (pkg-config ktstr), the program's main is the
 * library's: `./my_tests list|run|suite [options]` on the host renders the
 * registered tests as a suite (docs/suite-format.md, `c_test:`) and hands it
 * to ktstr-orch; in the guest, `./my_tests --ktstr-guest-run NAME` runs one
 * function with a struct ktstr_ctx.
 *
 * The header is C11 (-pedantic clean) and C++ compatible. Lists are
 * NULL-terminated arrays; KTSTR_LIST builds one in C (a compound literal:
 * in C++ define a named array instead). */
#ifndef KTSTR_KTSTR_H
#define KTSTR_KTSTR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KTSTR_API_VERSION 1

#ifndef __cplusplus
#define KTSTR_LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#endif

/* ---- scheduler definitions -------------------------------------------- */

enum ktstr_sched_kind {
	KTSTR_SCHED_NONE = 0,	       /* EEVDF: no sched_ext scheduler */
	KTSTR_SCHED_NAME,	       /* .binary found by name (suite-format.md, "binary") */
	KTSTR_SCHED_PATH,	       /* .binary is a path (relative: to the working directory) */
	KTSTR_SCHED_KERNEL_BUILTIN,    /* .enable / .disable commands in the guest */
};

/* A flag: its arguments go on the scheduler's command line when it is
 * active; requires_flags (the suite's `requires`, a C++20 keyword) names
 * flags declared before it. Terminate the array with an entry whose name is
 * NULL. */
struct ktstr_flag {
	const char *name;
	const char *const *args;
	const char *const *requires_flags;
};

/* 0 in a dimension: the default (a scheduler: 1,1,2,1) or, in a test, the
 * scheduler's. */
struct ktstr_topology {
	unsigned numa_nodes, llcs, cores_per_llc, threads_per_core;
};

/* An optional value: set != 0 when written (KTSTR_SET(v)). */
struct ktstr_opt {
	int set;
	double value;
};
#define KTSTR_SET(v) { 1, (double)(v) }

/* Assert overrides (suite-format.md, "Asserts"); unset fields inherit. Booleans
 * are values 0 / 1. */
struct ktstr_asserts {
	struct ktstr_opt not_starved, max_spread_pct, max_gap_ms, isolation, max_throughput_cv,
		min_work_rate, max_p99_wake_latency_ns, max_wake_latency_cv, min_iteration_rate,
		max_migration_ratio, max_imbalance_ratio, max_local_dsq_depth, fail_on_stall,
		sustained_samples;
};

/* Topology constraints; unset fields inherit (suite-format.md, "Constraints"). */
struct ktstr_constraints {
	struct ktstr_opt min_numa_nodes, max_numa_nodes, min_llcs, max_llcs, min_cpus, max_cpus,
		requires_smt;
};

struct ktstr_scheduler {
	const char *name; /* letters, digits, _ - . ; not "eevdf" */
	enum ktstr_sched_kind kind;
	const char *binary;		     /* NAME / PATH */
	const char *const *enable;	     /* KERNEL_BUILTIN */
	const char *const *disable;	     /* KERNEL_BUILTIN */
	const char *ops_name;		     /* optional: sched_ext root/ops prefix */
	unsigned attach_timeout_ms;	     /* 0: default */
	unsigned watchdog_timeout_ms;	     /* 0: default */
	const struct ktstr_flag *flags;	     /* terminated by { 0 } */
	const char *const *sysctls;	     /* "key=value" */
	const char *const *kargs;
	const char *const *sched_args;
	const char *cgroup_parent;	     /* adds --cell-parent-cgroup */
	const char *config_file;	     /* adds --config /include-files/BASENAME */
	struct ktstr_topology topology;	     /* default 1,1,2,1 */
	struct ktstr_asserts asserts;
	struct ktstr_constraints constraints;
};

/* ---- tests ------------------------------------------------------------------ */

struct ktstr_ctx;
typedef int (*ktstr_test_fn)(struct ktstr_ctx *ctx);

struct ktstr_test {
	const char *name;
	const char *file; /* where KTSTR_TEST wrote it: the suite lists tests */
	unsigned line;	  /* in (file, line) order, whatever the link order */
	ktstr_test_fn fn;
	const struct ktstr_scheduler *scheduler; /* NULL: EEVDF */
	unsigned numa_nodes, llcs, cores_per_llc, threads_per_core; /* 0: the scheduler's */
	unsigned duration_ms;  /* how long the function may run in the guest (0: 10 s) */
	unsigned timeout_ms;   /* the VM's (0: default) */
	unsigned memory_mb;    /* 0: default */
	unsigned watchdog_timeout_ms;
	int performance_mode;
	const char *const *extra_sched_args;
	const char *const *required_flags;
	const char *const *excluded_flags;
	struct ktstr_asserts asserts;
	struct ktstr_constraints constraints;
	/* expect_failure (suite-format.md): a verdict name ("FAIL", ...) and
	 * why; detail_any optional. intermittent: 0 / 1. */
	const char *expect_verdict, *expect_why;
	const char *const *expect_detail_any;
	int expect_intermittent;
};

/* Registration: a constant in the "ktstr_tests" section of the program, so
 * it needs no constructor and no order. KTSTR_TEST(fn, fields...) declares
 * static int fn(struct ktstr_ctx *ctx), registers it under the name "fn"
 * with the designated initializers given, and opens its body. */
#define KTSTR_STR_(x) #x
#define KTSTR_XSTR_(x) KTSTR_STR_(x)
#define KTSTR_FIRST_(a, ...) a
/* g++ -Wextra warns about every field a designated initializer leaves
 * out; C does not. The registration leaves most out by design. */
#ifdef __cplusplus
#define KTSTR_REG_BEGIN_                                                                    \
	_Pragma("GCC diagnostic push")                                                       \
		_Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")
#define KTSTR_REG_END_ _Pragma("GCC diagnostic pop")
#else
#define KTSTR_REG_BEGIN_
#define KTSTR_REG_END_
#endif
#define KTSTR_TEST(...)                                                                     \
	static int KTSTR_FIRST_(__VA_ARGS__, ~)(struct ktstr_ctx *);                         \
	KTSTR_REG_BEGIN_                                                                     \
	__attribute__((used, section("ktstr_tests"), aligned(8))) static const struct ktstr_test \
		KTSTR_CAT_(ktstr_test_, KTSTR_FIRST_(__VA_ARGS__, ~)) = {                     \
			.name = KTSTR_XSTR_(KTSTR_FIRST_(__VA_ARGS__, ~)), .file = __FILE__,  \
			.line = __LINE__, .fn = __VA_ARGS__                                   \
		};                                                                           \
	KTSTR_REG_END_                                                                       \
	static int KTSTR_FIRST_(__VA_ARGS__, ~)(struct ktstr_ctx * ctx)
#define KTSTR_CAT2_(a, b) a##b
#define KTSTR_CAT_(a, b) KTSTR_CAT2_(a, b)

/* The library's entry point (libktstr's main calls it with the program's
 * registry): list / run / suite on the host, --ktstr-guest-run in the VM. */
int ktstr_main(const struct ktstr_test *begin, const struct ktstr_test *end, int argc,
	       char **argv);

/* ---- inside the VM: the context ------------------------------------------ */

/* Work types: guest/work_types.h and docs/guest.md describe them. */
enum ktstr_work {
	KTSTR_WORK_CPU_SPIN = 0,
	KTSTR_WORK_YIELD_HEAVY = 1,
	KTSTR_WORK_MIXED = 2,
	KTSTR_WORK_IO_SYNC = 3,
	KTSTR_WORK_BURSTY = 4,
	KTSTR_WORK_PIPE_IO = 5,
	KTSTR_WORK_FUTEX_PING_PONG = 6,
	KTSTR_WORK_CACHE_PRESSURE = 7,
	KTSTR_WORK_CACHE_YIELD = 8,
	KTSTR_WORK_CACHE_PIPE = 9,
	KTSTR_WORK_FUTEX_FAN_OUT = 10,
	KTSTR_WORK_FORK_EXIT = 11,
	KTSTR_WORK_NICE_SWEEP = 12,
	KTSTR_WORK_AFFINITY_CHURN = 13,
	KTSTR_WORK_POLICY_CHURN = 14,
	KTSTR_WORK_PAGE_FAULT_CHURN = 15,
	KTSTR_WORK_MUTEX_CONTENTION = 16,
};

/* The VM as the test sees it. */
unsigned ktstr_ncpus(const struct ktstr_ctx *ctx);	/* online CPUs */
unsigned ktstr_nllcs(const struct ktstr_ctx *ctx);
/* The test's name and its scheduler's ("eevdf" for none). */
const char *ktstr_test_name(const struct ktstr_ctx *ctx);

/* Build the next run (the guest's Scenario): a cgroup of workers of one
 * work type, its cpuset (a CPU list such as "0-1,3", or one LLC), its
 * workers' affinity. 0 or -errno; the reason is in ktstr_error(). */
int ktstr_cgroup_add(struct ktstr_ctx *ctx, const char *name, unsigned workers,
		     enum ktstr_work work);
int ktstr_cgroup_cpus(struct ktstr_ctx *ctx, const char *name, const char *cpulist);
int ktstr_cgroup_llc(struct ktstr_ctx *ctx, const char *name, unsigned llc);
int ktstr_cgroup_affinity(struct ktstr_ctx *ctx, const char *name, const char *cpulist);
/* A step of the run: hold_ms (0: an equal share of the duration), then
 * ktstr_step_* ops apply at its start. Without steps the run is one hold. */
int ktstr_step(struct ktstr_ctx *ctx, unsigned hold_ms);
int ktstr_step_cpus(struct ktstr_ctx *ctx, const char *cgroup, const char *cpulist);
int ktstr_step_add(struct ktstr_ctx *ctx, const char *name, unsigned workers,
		   enum ktstr_work work);
int ktstr_step_stop(struct ktstr_ctx *ctx, const char *cgroup);

/* Run what was built for duration_ms with the guest's scenario engine and
 * judge it with the test's asserts (the checks, limits and messages of a
 * YAML test). Its checks and telemetry are kept; the next run starts from
 * nothing. Returns 0 when it passed, 1 when a check failed, -errno when it
 * could not run (ktstr_error() says why; the test then fails too). */
int ktstr_run(struct ktstr_ctx *ctx, unsigned duration_ms);

/* Telemetry of the runs so far, one entry per worker. */
struct ktstr_worker_stats {
	const char *cgroup;
	uint32_t tid;
	uint64_t work_units, iterations, cpu_ns, wall_ns, migrations, max_gap_ms;
	double off_cpu_pct;
	uint32_t ncpus_used;
	const uint32_t *cpus_used;
};
size_t ktstr_nworkers(const struct ktstr_ctx *ctx);
int ktstr_worker(const struct ktstr_ctx *ctx, size_t i, struct ktstr_worker_stats *out);

/* A failed check of the function's own (check names it, like "spread").
 * The test fails with the first failure's message as its detail.
 * Returns 1 (the value a failing test function returns). */
int ktstr_fail(struct ktstr_ctx *ctx, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The test cannot run here (too few CPUs, a missing feature): SKIP with
 * this reason, unless a check failed already. Returns 0: return it. */
int ktstr_skip(struct ktstr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ktstr_fail unless cond; returns !cond. */
#define ktstr_check(ctx, cond, ...) ((cond) ? 0 : ktstr_fail((ctx), "check", __VA_ARGS__))
/* Why the last call failed (valid until the next call). */
const char *ktstr_error(const struct ktstr_ctx *ctx);

/* ---- Programmatic runs: the VM builder (host side) ----------------------
 * Boot one VM and run one program in it, with its arguments, and get the
 * typed end back:
 *
 *   struct ktstr_vm_builder *b = ktstr_vm_builder_new();
 *   const char *args[] = { "a b", "it's" };
 *   struct ktstr_vm_result r;
 *
 *   ktstr_vm_builder_init(b, "./my_prog", args, 2);
 *   ktstr_vm_builder_topology(b, 1, 1, 2, 1);
 *   if (!ktstr_vm_run(b, &r) && r.outcome == KTSTR_VM_EXITED)
 *           printf("exit %d\n%s", r.exit_code, r.output);
 *   ktstr_vm_result_free(&r);
 *   ktstr_vm_builder_free(b);
 *
 * The library never opens /dev/kvm nor starts a VM itself: it runs the
 * unprivileged `ktstr-orch shell --exec ... --result-json FILE` ($KTSTR_ORCH,
 * else ktstr-orch on PATH), so the VM runs through the same confined
 * initramfs builder and VM worker as every test. The program is copied
 * into the guest (/include-files/<basename>): it must be static or its
 * libraries must be in the guest. Its argv reaches it exactly: each word
 * travels quoted, never interpreted by a shell.
 * Setters return 0 or -errno (-EINVAL a bad value, -E2BIG a bound below
 * exceeded, -ENOMEM); a failed setter leaves the builder as it was. */
#define KTSTR_VM_MAX_ARGS 256		  /* init's arguments */
#define KTSTR_VM_MAX_ARG_BYTES 16384	  /* their bytes in all (quoted: 4x, in one argv word) */
#define KTSTR_VM_MAX_ENV 64		  /* ktstr_vm_builder_env entries */
#define KTSTR_VM_MAX_INCLUDES 63	  /* extra files (ktstr-orch's 64 less init) */
#define KTSTR_VM_OUTPUT_MAX (1u << 20)	  /* output: its last bytes */

enum ktstr_vm_engine { KTSTR_VM_ENGINE_AUTO, KTSTR_VM_ENGINE_KVM, KTSTR_VM_ENGINE_QEMU };

enum ktstr_vm_outcome {
	KTSTR_VM_EXITED = 1,	/* the program ran to its end: exit_code */
	KTSTR_VM_TIMED_OUT,	/* still running at the timeout: the VM was stopped */
	KTSTR_VM_INFRA_ERROR,	/* no status: kernel, image, worker, host; see error */
	KTSTR_VM_INTERRUPTED,	/* a stop signal (SIGINT, SIGTERM) reached ktstr-orch */
};

struct ktstr_vm_result {
	enum ktstr_vm_outcome outcome;
	/* KTSTR_VM_EXITED: the status as the guest's shell reports it, 0..255;
	 * a program killed by signal N reads 128+N (the shell cannot tell
	 * that from exit(128+N)). */
	int exit_code;
	/* The last KTSTR_VM_OUTPUT_MAX bytes of its stdout and stderr, as it
	 * wrote them, NUL-terminated after output_len (it may hold NULs
	 * itself); output_bytes counts all it wrote. Owned. */
	char *output;
	size_t output_len;
	unsigned long long output_bytes;
	char engine[8];			/* the engine that ran it: "kvm" / "qemu" */
	unsigned long long wall_ms;	/* ktstr-orch's wall time */
	char *error;			/* why, when not KTSTR_VM_EXITED; else NULL. Owned. */
};

struct ktstr_vm_builder;

/* NULL: out of memory. Defaults: ktstr-orch's kernel (as `run` picks it),
 * topology 1,1,1,1, its memory default, engine auto, timeout 300 s. */
struct ktstr_vm_builder *ktstr_vm_builder_new(void);
void ktstr_vm_builder_free(struct ktstr_vm_builder *b);
/* A kernel image path, a cache key or a version, as --kernel takes it. */
int ktstr_vm_builder_kernel(struct ktstr_vm_builder *b, const char *kernel);
/* The program to run (a host path) and its arguments (argv[1..]). */
int ktstr_vm_builder_init(struct ktstr_vm_builder *b, const char *path,
			  const char *const *args, size_t nargs);
int ktstr_vm_builder_topology(struct ktstr_vm_builder *b, unsigned numa_nodes, unsigned llcs,
			      unsigned cores_per_llc, unsigned threads_per_core);
int ktstr_vm_builder_memory_mb(struct ktstr_vm_builder *b, unsigned mb); /* 128..1048576 */
int ktstr_vm_builder_engine(struct ktstr_vm_builder *b, enum ktstr_vm_engine engine);
int ktstr_vm_builder_timeout_s(struct ktstr_vm_builder *b, unsigned s); /* 1..86400 */
/* One more host file for the guest, at /include-files/<basename>. */
int ktstr_vm_builder_include(struct ktstr_vm_builder *b, const char *path);
/* NAME=VALUE in the program's environment. */
int ktstr_vm_builder_env(struct ktstr_vm_builder *b, const char *name_value);
/* Run it and wait for the VM (bounded: the timeout plus ktstr-orch's own
 * bounds on booking the host and booting). *out is always filled; free it
 * with ktstr_vm_result_free. 0: ktstr-orch gave a typed result, whatever
 * its outcome (an infra error included: read out->outcome). -errno: no
 * result could be had (-EINVAL no init set, -ENOENT ktstr-orch not found,
 * -EPROTO it wrote no or a bad result, -ETIMEDOUT it did not end); then
 * out->outcome is KTSTR_VM_INFRA_ERROR and out->error says why. */
int ktstr_vm_run(struct ktstr_vm_builder *b, struct ktstr_vm_result *out);
void ktstr_vm_result_free(struct ktstr_vm_result *r);

#ifdef __cplusplus
}
#endif

#endif
