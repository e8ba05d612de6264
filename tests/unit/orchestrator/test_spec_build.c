/* What the orchestrator puts into a VmSpec for the worker's initramfs: the
 * per-test suffix follows the base's compression (LZ4 after an LZ4 base:
 * kernels before 5.11 run unlz4 to the end of their input), and the
 * unpacked size the builder reported reaches the worker's memory floor. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/compress.h>
#include <ktstr/le.h>

#include "helpers.h"
#include "plan.h"
#include "spec_build.h"

static void build_one(const struct run_settings *rs, struct vm_spec_holder *h)
{
	struct plan_opts o = { .host = { .cpus = 64, .llcs = 4, .max_cpus_per_llc = 16,
					 .max_vcpus = 64 },
			       .kernel_scx = 1 };
	struct suite *s = parse_ok("tests:\n  - {name: a}\n");
	struct plan p;
	char err[256];

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(p.n, 1);
	cr_assert_eq(spec_build_vm(s, &p.v[0], rs, h), 0);
	plan_free(&p);
	suite_free(s);
}

/* The plain suffix of the same variant (to compare against). */
static void plain_suffix(uint8_t **buf, size_t *len)
{
	struct run_settings rs = { 0 };
	struct vm_spec_holder h;

	build_one(&rs, &h);
	*len = h.vm.initrd_suffix.len;
	*buf = malloc(*len);
	memcpy(*buf, h.vm.initrd_suffix.data, *len);
	spec_vm_free(&h);
}

Test(spec_build, suffix_is_plain_cpio_after_none_and_gzip_bases)
{
	static const Ktstr__Compression comp[] = { KTSTR__COMPRESSION__COMPRESSION_NONE,
						   KTSTR__COMPRESSION__COMPRESSION_GZIP };
	uint8_t *plain;
	size_t plen;

	plain_suffix(&plain, &plen);
	cr_assert_eq(memcmp(plain, "070701", 6), 0, "a newc cpio");
	for (size_t i = 0; i < 2; i++) {
		struct run_settings rs = { .compression = comp[i] };
		struct vm_spec_holder h;

		build_one(&rs, &h);
		cr_assert(h.vm.has_initrd_suffix);
		cr_assert_eq(h.vm.initrd_suffix.len, plen);
		cr_assert_eq(memcmp(h.vm.initrd_suffix.data, plain, plen), 0);
		spec_vm_free(&h);
	}
	free(plain);
}

Test(spec_build, suffix_after_an_lz4_base_is_an_lz4_legacy_frame_of_the_same_cpio)
{
	struct run_settings rs = { .compression = KTSTR__COMPRESSION__COMPRESSION_LZ4 };
	struct vm_spec_holder h;
	uint8_t *plain, *raw;
	size_t plen, rawlen;
	const uint8_t *d;

	plain_suffix(&plain, &plen);
	build_one(&rs, &h);
	d = h.vm.initrd_suffix.data;
	cr_assert_geq(h.vm.initrd_suffix.len, 8);
	cr_assert_eq(get_le32(d), LZ4_LEGACY_MAGIC);
	cr_assert_eq(decompress_lz4_legacy(d, h.vm.initrd_suffix.len, 1u << 20, &raw, &rawlen), 0);
	cr_assert_eq(rawlen, plen);
	cr_assert_eq(memcmp(raw, plain, plen), 0, "the LZ4 suffix unpacks to the plain one");
	free(raw);
	free(plain);
	spec_vm_free(&h);
}

Test(spec_build, unpacked_size_is_base_plus_suffix_when_the_builder_said)
{
	uint64_t base[1] = { 7u << 20 };
	struct run_settings rs = { .compression = KTSTR__COMPRESSION__COMPRESSION_LZ4,
				   .base_uncompressed = base };
	struct vm_spec_holder h;
	uint8_t *plain;
	size_t plen;

	plain_suffix(&plain, &plen);
	build_one(&rs, &h);
	cr_assert(h.vm.has_initrd_uncompressed_size);
	cr_assert_eq(h.vm.initrd_uncompressed_size, base[0] + plen);
	spec_vm_free(&h);
	base[0] = 0;	/* unknown (builder did not say): the worker estimates */
	build_one(&rs, &h);
	cr_assert_not(h.vm.has_initrd_uncompressed_size);
	spec_vm_free(&h);
	free(plain);
}

/* With a kernel layout the VmSpec carries a MonitorSpec, and a test that
 * sets no watchdog_timeout sends MonitorSpec's own default (4 s,
 * proto/worker.proto) explicitly on the wire, as when merge.c kept a copy
 * of it; without a layout there is no MonitorSpec at all. */
Test(spec_build, monitor_spec_sends_the_proto_default_watchdog_with_a_layout)
{
	Ktstr__GuestKernelLayout layout = KTSTR__GUEST_KERNEL_LAYOUT__INIT;
	struct run_settings rs = { .kernel_layout = &layout };
	struct vm_spec_holder h;
	Ktstr__VmSpec *back;
	uint8_t *buf;
	size_t n;

	build_one(&rs, &h);
	cr_assert_not_null(h.vm.monitor);
	cr_assert_eq(h.vm.kernel_layout, &layout);
	n = ktstr__vm_spec__get_packed_size(&h.vm);
	buf = malloc(n);
	cr_assert_not_null(buf);
	ktstr__vm_spec__pack(&h.vm, buf);
	back = ktstr__vm_spec__unpack(NULL, n, buf);
	cr_assert_not_null(back);
	cr_assert_not_null(back->monitor);
	cr_assert(back->monitor->has_watchdog_timeout_ms, "sent, not left to the default");
	cr_assert_eq(back->monitor->watchdog_timeout_ms, 4000);
	cr_assert_not(back->monitor->has_max_imbalance_ratio, "unset thresholds are not sent");
	ktstr__vm_spec__free_unpacked(back, NULL);
	free(buf);
	spec_vm_free(&h);
	rs.kernel_layout = NULL;
	build_one(&rs, &h);
	cr_assert_null(h.vm.monitor);
	cr_assert_null(h.vm.kernel_layout);
	spec_vm_free(&h);
}
