/* From a planned variant to what a worker needs: the packed GuestSpec, the
 * per-test initramfs suffix (/ktstr/spec.pb) and the VmSpec fields. */
#ifndef KTSTR_ORCH_SPEC_BUILD_H
#define KTSTR_ORCH_SPEC_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/strv.h>

#include "plan.h"
#include "suite.h"
#include "builder.pb-c.h"
#include "worker.pb-c.h"

#define SPEC_DEFAULT_TIMEOUT_MS 60000u
#define SPEC_DEFAULT_MEMORY_MB 2048u

struct run_settings {
	Ktstr__Engine engine;
	/* --arch: VmSpec.arch (docs/aarch64.md); ARCH_X86_64 = 0 by default. */
	Ktstr__Arch arch;
	uint32_t timeout_ms;	/* CLI --timeout; 0 = SPEC_DEFAULT_TIMEOUT_MS */
	/* --insecure-no-sandbox: VmSpec.insecure_no_sandbox; without it a
	 * result with sandboxed=false is an infrastructure error. */
	bool insecure_no_sandbox;
	/* --initramfs-compression: how the builder packs the base images
	 * (KTSTR__COMPRESSION__*; 0 = none). After an LZ4 base the suffix is
	 * LZ4 too: before Linux 5.11 unlz4 runs to the end of its input, and
	 * newer kernels stop only at the base's zero padding; an LZ4 suffix
	 * unpacks on both. */
	Ktstr__Compression compression;
	/* BuildOk.uncompressed_size of each base image (indexed like the
	 * suite's images, suite.h; borrowed; NULL or 0 = unknown, the worker
	 * then estimates): the worker's memory floor counts the unpacked size. */
	const uint64_t *base_uncompressed;
	/* The host-side monitor's view of the variant's kernel (derived once
	 * per kernel from its vmlinux; the runner sets it per VM from
	 * runner_cfg.kernel_layouts; borrowed); NULL = no monitor. */
	const Ktstr__GuestKernelLayout *kernel_layout;
	/* run --coverage: c_test binaries run with the gcov runtime pointed
	 * at a guest directory PID 1 sends back (CTestSpec.coverage,
	 * coverage.h). Other tests are unchanged. */
	bool coverage;
};

/* Pack the GuestSpec of v (malloc'd buffer, caller frees); coverage: the
 * c_test's CTestSpec.coverage (run_settings.coverage). */
int spec_pack_guest(const struct suite *s, const struct variant *v, bool coverage, uint8_t **buf,
		    size_t *len);
/* A newc cpio holding /ktstr/spec.pb = the packed GuestSpec (caller frees). */
int spec_build_suffix(const uint8_t *spec, size_t speclen, uint8_t **buf, size_t *len);
/* The suffix as it must follow a base packed with compression: LZ4 after an
 * LZ4 base, else unchanged. Replaces *buf (freed) on success; 0 or -errno. */
int spec_compress_suffix(Ktstr__Compression compression, uint8_t **buf, size_t *len);

/* The VmSpec fields that come from the suite. Strings and the suffix are
 * owned by holder (spec_vm_free); vm points into it. */
struct vm_spec_holder {
	Ktstr__VmSpec vm;
	Ktstr__Topology topo;
	char *cmdline;
	char *label;
	uint8_t *suffix;
	Ktstr__MonitorSpec mon;	/* h->vm.monitor points here */
};
int spec_build_vm(const struct suite *s, const struct variant *v, const struct run_settings *rs,
		  struct vm_spec_holder *h);
void spec_vm_free(struct vm_spec_holder *h);

/* Memory for a test VM (docs/reference.md, "Memory floor"): max(cpus*64,
 * 256, test memory_mb or 2048) MB. */
uint32_t spec_memory_mb(const struct test_def *t, const struct ktstr_topo *topo);

#endif
