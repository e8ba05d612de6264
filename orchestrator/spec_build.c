#include <ktstr/guest_contract.h>
#include "spec_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/compress.h>
#include <ktstr/cpio.h>

#include "merge.h"

uint32_t spec_memory_mb(const struct test_def *t, const struct ktstr_topo *topo)
{
	uint32_t m = t->memory_mb ? t->memory_mb : SPEC_DEFAULT_MEMORY_MB;
	uint32_t by_cpu = topo_cpus(topo) * 64;

	if (m < by_cpu)
		m = by_cpu;
	return m < 256 ? 256 : m;
}

int spec_pack_guest(const struct suite *s, const struct variant *v, bool coverage, uint8_t **buf,
		    size_t *len)
{
	const struct test_def *t = &s->tests[v->test];
	const struct sched_def *sd = &s->scheds[t->sched];
	Ktstr__GuestSpec gs = KTSTR__GUEST_SPEC__INIT;
	Ktstr__SchedulerSpec ss = KTSTR__SCHEDULER_SPEC__INIT;
	Ktstr__AssertSpec as;
	Ktstr__Topology topo = KTSTR__TOPOLOGY__INIT;
	Ktstr__CTestSpec ct = KTSTR__CTEST_SPEC__INIT;
	struct strv args = { 0 };
	size_t n;
	int ret;

	/* Borrowed pointers only (suite-owned or locals): nothing to free but args. */
	ret = merge_sched_args(sd, t, v->profile, &args);
	if (ret)
		return ret;
	merge_asserts(sd, t, &as);
	gs.mode = KTSTR__GUEST_SPEC__MODE__MODE_TEST;
	gs.test_name = v->name;
	switch (sd->kind) {
	case SCHED_BIN_NONE:
		ss.kind = KTSTR__SCHEDULER_SPEC__KIND__EEVDF;
		break;
	case SCHED_BIN_KERNEL_BUILTIN:
		ss.kind = KTSTR__SCHEDULER_SPEC__KIND__KERNEL_BUILTIN;
		break;
	default:
		ss.kind = KTSTR__SCHEDULER_SPEC__KIND__BINARY;
		break;
	}
	/* The ops name a scheduler registers is not its binary's name
	 * (scx_simple registers "simple"): only check it when the suite says. */
	ss.name = sd->ops_name;
	if (sd->attach_timeout_ms) {
		ss.has_attach_timeout_ms = 1;
		ss.attach_timeout_ms = sd->attach_timeout_ms;
	}
	ss.n_args = args.n;
	ss.args = args.v;
	ss.n_enable_cmds = sd->enable.n;
	ss.enable_cmds = sd->enable.v;
	ss.n_disable_cmds = sd->disable.n;
	ss.disable_cmds = sd->disable.v;
	ss.cgroup_parent = sd->cgroup_parent;
	gs.scheduler = &ss;
	gs.scenario = t->scenario;
	gs.asserts = &as;
	topo.numa_nodes = v->topo.numa_nodes;
	topo.llcs = v->topo.llcs;
	topo.cores_per_llc = v->topo.cores_per_llc;
	topo.threads_per_core = v->topo.threads_per_core;
	gs.topology = &topo;
	gs.n_sysctls = sd->sysctls.n;
	gs.sysctls = sd->sysctls.v;
	/* Every image carries every payload (images.c): the spec names them all. */
	gs.n_payloads = s->npayloads;
	gs.payloads = s->pspecs;
	if (t->c_test_function) {
		ct.payload = t->c_test_payload;
		ct.function = t->c_test_function;
		if (coverage) {
			ct.has_coverage = 1;
			ct.coverage = 1;
		}
		gs.c_test = &ct;
	}
	n = ktstr__guest_spec__get_packed_size(&gs);
	*buf = malloc(n ? n : 1);
	if (!*buf) {
		strv_free(&args);
		return -ENOMEM;
	}
	*len = ktstr__guest_spec__pack(&gs, *buf);
	strv_free(&args);
	return 0;
}

int spec_build_suffix(const uint8_t *spec, size_t speclen, uint8_t **buf, size_t *len)
{
	struct cpio_writer w;
	int ret;

	/* Inode numbers far above the base image's so the unpacker never
	 * links a suffix entry to a base entry. */
	cpio_init(&w, 0x40000000u);
	ret = cpio_add_dir(&w, KTSTR_INITRD_SPEC_DIR, 0755);
	if (!ret)
		ret = cpio_add_file(&w, KTSTR_INITRD_SPEC_PATH, 0444, spec, speclen);
	if (!ret)
		ret = cpio_finish(&w);
	if (!ret)
		ret = cpio_pad(&w, 4);
	if (ret) {
		cpio_free(&w);
		return ret;
	}
	cpio_take(&w, buf, len);
	cpio_free(&w);
	return 0;
}

int spec_build_vm(const struct suite *s, const struct variant *v, const struct run_settings *rs,
		  struct vm_spec_holder *h)
{
	const struct test_def *t = &s->tests[v->test];
	const struct sched_def *sd = &s->scheds[t->sched];
	struct strv extra = { 0 };
	uint8_t *gs = NULL;
	size_t gslen = 0, suflen = 0;
	int ret;

	memset(h, 0, sizeof(*h));
	ktstr__vm_spec__init(&h->vm);
	ktstr__topology__init(&h->topo);
	h->topo.numa_nodes = v->topo.numa_nodes;
	h->topo.llcs = v->topo.llcs;
	h->topo.cores_per_llc = v->topo.cores_per_llc;
	h->topo.threads_per_core = v->topo.threads_per_core;
	h->vm.topology = &h->topo;
	h->vm.engine = rs->engine;
	if (rs->arch != KTSTR__ARCH__ARCH_X86_64) {
		h->vm.has_arch = 1;
		h->vm.arch = rs->arch;
	}
	if (rs->insecure_no_sandbox) {
		h->vm.has_insecure_no_sandbox = 1;
		h->vm.insecure_no_sandbox = 1;
	}
	h->vm.memory_mb = spec_memory_mb(t, &v->topo);
	if (t->performance_mode) {
		/* pin_cpus / service_cpu come from the host reservation (hostres.h). */
		h->vm.has_performance_mode = 1;
		h->vm.performance_mode = 1;
	}
	h->vm.timeout_ms = t->timeout_ms ? t->timeout_ms
			   : rs->timeout_ms ? rs->timeout_ms
					    : SPEC_DEFAULT_TIMEOUT_MS;
	ret = merge_cmdline(sd, &extra);
	if (ret)
		goto err;
	h->cmdline = strv_join(&extra, " ");
	h->label = strdup(v->name);
	if (!h->cmdline || !h->label) {
		ret = -ENOMEM;
		goto err;
	}
	h->vm.cmdline_extra = h->cmdline;
	h->vm.label = h->label;
	ret = spec_pack_guest(s, v, rs->coverage, &gs, &gslen);
	if (ret)
		goto err;
	ret = spec_build_suffix(gs, gslen, &h->suffix, &suflen);
	free(gs);
	if (ret)
		goto err;
	if (rs->base_uncompressed && rs->base_uncompressed[t->image]) {
		h->vm.has_initrd_uncompressed_size = 1;
		h->vm.initrd_uncompressed_size = rs->base_uncompressed[t->image] + suflen;
	}
	ret = spec_compress_suffix(rs->compression, &h->suffix, &suflen);
	if (ret)
		goto err;
	h->vm.has_initrd_suffix = 1;
	h->vm.initrd_suffix.data = h->suffix;
	h->vm.initrd_suffix.len = suflen;
	if (rs->kernel_layout) {
		/* protobuf-c fields are not const; packing only reads. */
		h->vm.kernel_layout = (Ktstr__GuestKernelLayout *)rs->kernel_layout;
		merge_monitor(&s->scheds[t->sched], t, &h->mon);
		h->vm.monitor = &h->mon;
	}
	strv_free(&extra);
	return 0;
err:
	strv_free(&extra);
	spec_vm_free(h);
	return ret;
}

int spec_compress_suffix(Ktstr__Compression compression, uint8_t **buf, size_t *len)
{
	uint8_t *out;
	size_t outlen;
	int ret;

	if (compression != KTSTR__COMPRESSION__COMPRESSION_LZ4)
		return 0;
	ret = compress_lz4_legacy(*buf, *len, &out, &outlen);
	if (ret)
		return ret;
	free(*buf);
	*buf = out;
	*len = outlen;
	return 0;
}

void spec_vm_free(struct vm_spec_holder *h)
{
	free(h->cmdline);
	free(h->label);
	free(h->suffix);
	memset(h, 0, sizeof(*h));
}
