/* Image and spec of a shell VM; see shell_image.h. */
#include "shell_image.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/strv.h>

#include "images.h"
#include "kernel_arch.h"
#include "spec_build.h"

int shell_image_build(const char *const *includes, size_t nincludes, bool insecure,
		      Ktstr__Arch arch, struct builder_client *started, struct builder_image *img, char *err,
		      size_t errlen)
{
	struct builder_client own = { .pid = -1, .sock = -1 };
	struct builder_client *bc = started ? started : &own;
	struct builder_client_opts bo = { .stderr_fd = -2, .insecure_no_sandbox = insecure };
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	Ktstr__FileSpec specs[SHELL_MAX_INCLUDES + 1];
	Ktstr__FileSpec *files[SHELL_MAX_INCLUDES + 1];
	char guest[PATH_MAX], bb[PATH_MAX];
	struct strv gpaths = { 0 };
	int ret;

	if (nincludes > SHELL_MAX_INCLUDES) {
		snprintf(err, errlen, "at most %d --include files", SHELL_MAX_INCLUDES);
		return -E2BIG;
	}
	ret = guest_binary_path_arch(arch, guest, sizeof(guest), err, errlen);
	if (!ret)
		ret = elf_check_arch("guest init", guest, arch, err, errlen);
	if (!ret)
		ret = busybox_path_arch(arch, bb, sizeof(bb), err, errlen);
	if (!ret)
		ret = elf_check_arch("busybox", bb, arch, err, errlen);
	for (size_t i = 0; i < nincludes && !ret; i++)
		ret = elf_check_arch("--include", includes[i], arch, err, errlen);
	if (ret)
		return ret;
	ktstr__file_spec__init(&specs[0]);
	specs[0].host_path = bb;
	specs[0].guest_path = "/bin/busybox";
	specs[0].has_resolve_libs = 1;
	specs[0].resolve_libs = 0;
	files[0] = &specs[0];
	for (size_t i = 0; i < nincludes; i++) {
		char *dup = strdup(includes[i]);

		ret = dup ? strv_pushf(&gpaths, "/include-files/%s", basename(dup)) : -ENOMEM;
		free(dup);
		if (ret)
			goto out;
		ktstr__file_spec__init(&specs[i + 1]);
		specs[i + 1].host_path = (char *)includes[i];
		specs[i + 1].guest_path = gpaths.v[i];
		files[i + 1] = &specs[i + 1];
	}
	req.init_path = guest;
	if (arch != KTSTR__ARCH__ARCH_X86_64) {
		req.has_arch = 1;
		req.arch = arch;
	}
	req.n_files = 1 + nincludes;
	req.files = files;
	ret = started ? 0 : builder_client_start(bc, &bo, err, errlen);
	if (!ret)
		ret = builder_client_build(bc, &req, 0, img, err, errlen);
	if (own.pid >= 0)
		builder_client_stop(&own);
	if (!ret && !insecure && !(img->ok->has_sandboxed && img->ok->sandboxed)) {
		/* Fail closed, as for `run` (images.c). */
		snprintf(err, errlen, "initramfs builder ran UNSANDBOXED (BuildOk.sandboxed=false) "
				      "although --insecure-no-sandbox was not given: fix the host "
				      "(docs/security.md) or pass --insecure-no-sandbox");
		ret = -EPERM;
	}
out:
	strv_free(&gpaths);
	return ret;
}

int shell_spec_pack(const struct ktstr_topo *topo, const char *exec, uint8_t **suffix,
		    size_t *suflen)
{
	Ktstr__GuestSpec gs = KTSTR__GUEST_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	uint8_t *buf;
	size_t n;
	int ret;

	gs.mode = KTSTR__GUEST_SPEC__MODE__MODE_SHELL;
	gs.test_name = "shell";
	gs.exec_cmd = (char *)exec;
	t.numa_nodes = topo->numa_nodes;
	t.llcs = topo->llcs;
	t.cores_per_llc = topo->cores_per_llc;
	t.threads_per_core = topo->threads_per_core;
	gs.topology = &t;
	gs.has_ring_disabled = 1;
	gs.ring_disabled = 1; /* the shell reports through COM2 only */
	n = ktstr__guest_spec__get_packed_size(&gs);
	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	ktstr__guest_spec__pack(&gs, buf);
	ret = spec_build_suffix(buf, n, suffix, suflen);
	free(buf);
	return ret;
}
