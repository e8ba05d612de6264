/* The guest architecture on the orchestrator's side (docs/aarch64.md):
 * --arch names, a kernel or ELF file of the wrong architecture refused with
 * the file, its machine and the run's arch, topologies arm64 cannot express
 * refused while planning, arch-aware kernel and busybox lookups, the
 * engine an arm64 guest may use, and the reports naming the arch. */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/arch.h>
#include <ktstr/util.h>

#include "helpers.h"
#include "hostcaps.h"
#include "images.h"
#include "kernel_arch.h"
#include "kernel_cache.h"
#include "kernel_layout.h"
#include "plan.h"
#include "report.h"
#include "runmeta.h"

static char dir[64];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/ktstr-arch-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* A file of len bytes, zero but for what patch writes at off. */
static const char *put_bytes(const char *name, size_t len, size_t off, const void *patch,
			     size_t plen, mode_t mode)
{
	static char path[16][256];
	static int slot;
	char *p = path[slot++ % 16];
	unsigned char *buf = calloc(1, len);
	int fd;

	cr_assert_not_null(buf);
	memcpy(buf + off, patch, plen);
	snprintf(p, 256, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0, "%s", p);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
	return p;
}

/* A minimal little-endian ELF64 executable header for machine. */
static const char *put_elf(const char *name, uint16_t machine)
{
	Elf64_Ehdr eh = { 0 };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = machine;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	return put_bytes(name, 4096, 0, &eh, sizeof(eh), 0755);
}

static const char *put_image(const char *name)
{
	return put_bytes(name, 4096, 56, "ARM\x64", 4, 0644);
}

static const char *put_bzimage(const char *name)
{
	return put_bytes(name, 4096, 0x202, "HdrS", 4, 0644);
}

Test(arch, names_parse_and_print_one_way)
{
	Ktstr__Arch a = (Ktstr__Arch)7;

	cr_assert_eq(ktstr_arch_parse("x86_64", &a), 0);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_X86_64);
	cr_assert_eq(ktstr_arch_parse("arm64", &a), 0);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_ARM64);
	a = KTSTR__ARCH__ARCH_X86_64;
	cr_assert_eq(ktstr_arch_parse("aarch64", &a), 0, "aarch64 is an alias");
	cr_assert_eq(a, KTSTR__ARCH__ARCH_ARM64);
	cr_assert_str_eq(ktstr_arch_name(a), "arm64", "printed as arm64, whatever was typed");
	cr_assert_str_eq(ktstr_arch_name(KTSTR__ARCH__ARCH_X86_64), "x86_64");
	for (const char *bad[] = { "x86", "ARM64", "riscv64", "", " arm64", NULL }, **b = bad; *b; b++)
		cr_assert_eq(ktstr_arch_parse(*b, &a), -EINVAL, "'%s' accepted", *b);
	cr_assert_eq(ktstr_arch_parse(NULL, &a), -EINVAL);
	cr_assert_eq(ktstr_arch_elf_machine(KTSTR__ARCH__ARCH_ARM64), EM_AARCH64);
	cr_assert_eq(ktstr_arch_elf_machine(KTSTR__ARCH__ARCH_X86_64), EM_X86_64);
}

Test(arch, a_kernel_of_the_other_architecture_is_refused_naming_both, .init = mkdir_tmp,
     .fini = rm_tmp)
{
	const char *img = put_image("Image"), *bz = put_bzimage("bzImage");
	const char *vml = put_elf("vmlinux", EM_X86_64), *avml = put_elf("avmlinux", EM_AARCH64);
	const char *junk = put_bytes("junk", 100, 0, "x", 1, 0644);
	Ktstr__Arch a;
	char err[1024];

	cr_assert_eq(kernel_image_arch(img, &a, err, sizeof(err)), 1);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_ARM64);
	cr_assert_eq(kernel_image_arch(bz, &a, err, sizeof(err)), 1);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_X86_64);
	cr_assert_eq(kernel_image_arch(avml, &a, err, sizeof(err)), 1);
	cr_assert_eq(a, KTSTR__ARCH__ARCH_ARM64);
	cr_assert_eq(kernel_image_arch(junk, &a, err, sizeof(err)), 0, "unknown format");

	cr_assert_eq(kernel_check_arch(img, KTSTR__ARCH__ARCH_ARM64, err, sizeof(err)), 0);
	cr_assert_eq(kernel_check_arch(bz, KTSTR__ARCH__ARCH_ARM64, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, bz) && strstr(err, "x86_64 kernel") && strstr(err, "--arch arm64"),
		  "%s", err);
	cr_assert_eq(kernel_check_arch(vml, KTSTR__ARCH__ARCH_ARM64, err, sizeof(err)), -EINVAL);
	cr_assert_eq(kernel_check_arch(img, KTSTR__ARCH__ARCH_X86_64, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, img) && strstr(err, "arm64 kernel") && strstr(err, "x86_64"), "%s",
		  err);
	cr_assert_eq(kernel_check_arch(junk, KTSTR__ARCH__ARCH_ARM64, err, sizeof(err)), 0,
		     "a format ktstr does not know is the worker's parser's to judge");
	/* An ELF kernel for a machine ktstr boots on no engine. */
	cr_assert_eq(kernel_check_arch(put_elf("rv", EM_RISCV), KTSTR__ARCH__ARCH_ARM64, err,
				       sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "riscv"), "%s", err);
}

Test(arch, kernel_resolution_takes_the_runs_architecture, .init = mkdir_tmp, .fini = rm_tmp)
{
	char kdir[300], path[400], err[2048];
	struct kernel_choice kc;
	FILE *f;

	setenv("KTSTR_CACHE_DIR", dir, 1);
	unsetenv("KTSTR_KERNEL");
	snprintf(kdir, sizeof(kdir), "%s/kernels", dir);
	cr_assert_eq(mkdir(kdir, 0755), 0);
	/* One x86 entry and one arm64 entry of the same version. */
	snprintf(path, sizeof(path), "%s/7.2.13+deb14-cloud-amd64", kdir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "kernels/7.2.13+deb14-cloud-amd64/bzImage");
	put_bzimage(path);
	snprintf(path, sizeof(path), "%s/7.2.13+deb14-cloud-arm64", kdir);
	cr_assert_eq(mkdir(path, 0755), 0);
	put_image("kernels/7.2.13+deb14-cloud-arm64/Image");
	snprintf(path, sizeof(path), "%s/7.2.13+deb14-cloud-arm64/metadata", kdir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("key=7.2.13+deb14-cloud-arm64\nversion=7.2.13+deb14-cloud-arm64\narch=arm64\n", f);
	fclose(f);

	cr_assert_eq(kernel_resolve_arch(NULL, "arm64", KTSTR__ENGINE__ENGINE_QEMU,
					 &kc, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(kc.key, "7.2.13+deb14-cloud-arm64", "the default is the arm64 entry");
	cr_assert(strstr(kc.image, "/Image"), "%s", kc.image);
	kernel_choice_release(&kc);
	cr_assert_eq(kernel_resolve(NULL, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(kc.key, "7.2.13+deb14-cloud-amd64", "x86_64 never defaults to arm64");
	kernel_choice_release(&kc);
	/* A version naming both: the run's architecture's entry. */
	cr_assert_eq(kernel_resolve_arch("7.2.13", "arm64", KTSTR__ENGINE__ENGINE_QEMU, &kc, err,
					 sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(kc.key, "7.2.13+deb14-cloud-arm64");
	kernel_choice_release(&kc);
	/* An x86 kernel named by key for an arm64 run: the directory has no
	 * Image; by path: the header says x86. */
	cr_assert_neq(kernel_resolve_arch("7.2.13+deb14-cloud-amd64", "arm64",
					  KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)),
		      0);
	snprintf(path, sizeof(path), "%s/7.2.13+deb14-cloud-amd64/bzImage", kdir);
	cr_assert_eq(kernel_resolve_arch(path, "arm64", KTSTR__ENGINE__ENGINE_QEMU,
					 &kc, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "x86_64 kernel") && strstr(err, "--arch arm64"), "%s", err);
	snprintf(path, sizeof(path), "%s/7.2.13+deb14-cloud-arm64/Image", kdir);
	cr_assert_eq(kernel_resolve(path, KTSTR__ENGINE__ENGINE_QEMU, &kc, err, sizeof(err)),
		     -EINVAL, "an arm64 Image for an x86_64 run");
	cr_assert(strstr(err, "arm64 kernel"), "%s", err);
	/* No arm64 entry at all: say how to get one. */
	snprintf(path, sizeof(path), "rm -rf %s/7.2.13+deb14-cloud-arm64", kdir);
	cr_assert_eq(system(path), 0);
	cr_assert_eq(kernel_resolve_arch(NULL, "arm64", KTSTR__ENGINE__ENGINE_QEMU,
					 &kc, err, sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "kernel fetch --arch arm64"), "%s", err);
	unsetenv("KTSTR_CACHE_DIR");
}

Test(arch, an_elf_of_another_machine_is_refused_naming_file_machine_and_arch, .init = mkdir_tmp,
     .fini = rm_tmp)
{
	const char *x86 = put_elf("scx_x86", EM_X86_64), *arm = put_elf("scx_arm", EM_AARCH64);
	const char *script = put_bytes("run.sh", 20, 0, "#!/bin/sh\necho hi\n", 18, 0755);
	char err[1024];

	cr_assert_eq(elf_check_arch("scheduler 's' binary", arm, KTSTR__ARCH__ARCH_ARM64, err,
				    sizeof(err)),
		     0);
	cr_assert_eq(elf_check_arch("payload 'p'", script, KTSTR__ARCH__ARCH_ARM64, err,
				    sizeof(err)),
		     0, "a script is data: any architecture runs it");
	cr_assert_eq(elf_check_arch("scheduler 's' binary", x86, KTSTR__ARCH__ARCH_ARM64, err,
				    sizeof(err)),
		     -ENOEXEC);
	cr_assert(strstr(err, "scheduler 's' binary") && strstr(err, x86) &&
			  strstr(err, "for x86_64") && strstr(err, "guest is arm64"),
		  "%s", err);
	cr_assert_eq(elf_check_arch("busybox", arm, KTSTR__ARCH__ARCH_X86_64, err, sizeof(err)),
		     -ENOEXEC);
	cr_assert(strstr(err, "for aarch64") && strstr(err, "guest is x86_64"), "%s", err);
	cr_assert_lt(elf_check_arch("x", "/nonexistent/ktstr", KTSTR__ARCH__ARCH_ARM64, err,
				    sizeof(err)),
		     0);
}

Test(arch, arm64_busybox_and_guest_lookups, .init = mkdir_tmp, .fini = rm_tmp)
{
	const char *bb = put_elf("busybox", EM_AARCH64);
	char buf[512], err[1024], arm[300];

	setenv("KTSTR_BUSYBOX_ARM64", bb, 1);
	cr_assert_eq(busybox_path_arch(KTSTR__ARCH__ARCH_ARM64, buf, sizeof(buf), err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(buf, bb);
	setenv("KTSTR_BUSYBOX_ARM64", "/nonexistent/busybox", 1);
	cr_assert_eq(busybox_path_arch(KTSTR__ARCH__ARCH_ARM64, buf, sizeof(buf), err, sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "KTSTR_BUSYBOX_ARM64"), "%s", err);
	/* Unset: <cache>/arm64/busybox. */
	unsetenv("KTSTR_BUSYBOX_ARM64");
	setenv("KTSTR_CACHE_DIR", dir, 1);
	snprintf(arm, sizeof(arm), "%s/arm64", dir);
	cr_assert_eq(mkdir(arm, 0755), 0);
	put_elf("arm64/busybox", EM_AARCH64);
	cr_assert_eq(busybox_path_arch(KTSTR__ARCH__ARCH_ARM64, buf, sizeof(buf), err, sizeof(err)),
		     0, "%s", err);
	cr_assert(strstr(buf, "/arm64/busybox"), "%s", buf);
	unsetenv("KTSTR_CACHE_DIR");
	/* The arm64 guest: $KTSTR_GUEST_ARM64 (a missing one says so). */
	setenv("KTSTR_GUEST_ARM64", "/nonexistent/arm64/ktstr-guest", 1);
	cr_assert_lt(guest_binary_path_arch(KTSTR__ARCH__ARCH_ARM64, buf, sizeof(buf), err,
					    sizeof(err)),
		     0);
	cr_assert(strstr(err, "/nonexistent/arm64/ktstr-guest"), "%s", err);
	unsetenv("KTSTR_GUEST_ARM64");
}

Test(arch, arm64_schedulers_come_from_their_own_path, .init = mkdir_tmp, .fini = rm_tmp)
{
	struct suite *s = parse_ok("schedulers:\n  - {name: s, binary: scx_arch_test}\n"
				   "tests:\n  - {name: t, scheduler: s}\n");
	struct sched_def *sd = &s->scheds[s->tests[0].sched];
	char x[300], a[300], err[2048];

	snprintf(x, sizeof(x), "%s/x86", dir);
	snprintf(a, sizeof(a), "%s/a64", dir);
	cr_assert_eq(mkdir(x, 0755), 0);
	cr_assert_eq(mkdir(a, 0755), 0);
	put_elf("x86/scx_arch_test", EM_X86_64);
	put_elf("a64/scx_arch_test", EM_AARCH64);
	setenv("KTSTR_SCHEDULER_PATH", x, 1);
	setenv("KTSTR_SCHEDULER_PATH_ARM64", a, 1);
	unsetenv("KTSTR_SCHEDULER");
	cr_assert_eq(scheduler_resolve_arch(s, sd, KTSTR__ARCH__ARCH_ARM64, err,
					    sizeof(err)),
		     0, "%s", err);
	cr_assert(strstr(sd->resolved_path, "/a64/"), "%s", sd->resolved_path);
	free(sd->resolved_path);
	sd->resolved_path = NULL;
	cr_assert_eq(scheduler_resolve(s, sd, err, sizeof(err)), 0, "%s", err);
	cr_assert(strstr(sd->resolved_path, "/x86/"), "%s", sd->resolved_path);
	free(sd->resolved_path);
	sd->resolved_path = NULL;
	/* Only the x86 path set: an arm64 run does not take its binaries. */
	unsetenv("KTSTR_SCHEDULER_PATH_ARM64");
	setenv("KTSTR_CACHE_DIR", dir, 1);
	snprintf(x, sizeof(x), "%s/schedulers", dir);
	cr_assert_eq(mkdir(x, 0755), 0);
	cr_assert_eq(scheduler_resolve_arch(s, sd, KTSTR__ARCH__ARCH_ARM64, err,
					    sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "KTSTR_SCHEDULER_PATH_ARM64") && strstr(err, "arm64/bin"), "%s",
		  err);
	unsetenv("KTSTR_CACHE_DIR");
	unsetenv("KTSTR_SCHEDULER_PATH");
	suite_free(s);
}

static struct host_caps tcg_host(void)
{
	struct host_caps h = { .cpus = 2, .engine = KTSTR__ENGINE__ENGINE_QEMU, .emulated = true,
			       .max_vcpus = 512, .llc_unknown = true };
	return h;
}

static const struct variant *find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].name, name))
			return &p->v[i];
	return NULL;
}

Test(arch, topologies_arm64_cannot_express_are_refused_while_planning)
{
	struct suite *s = parse_ok("tests:\n"
				   "  - {name: ok, topology: \"1,2,2,1\"}\n"
				   "  - {name: smt, topology: \"1,2,2,2\"}\n"
				   "  - {name: huge, topology: \"1,2,64,1\"}\n"
				   "  - {name: oddmem, topology: \"2,2,2,1\", memory_mb: 513}\n");
	struct plan_opts o = { .host = tcg_host(), .kernel_scx = 1,
			       .arch = KTSTR__ARCH__ARCH_ARM64 };
	struct plan p;
	char err[256], buf[4096];
	FILE *f;

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.arch, KTSTR__ARCH__ARCH_ARM64);
	cr_assert_eq(find(&p, "ok")->state, VAR_KEPT);
	cr_assert_eq(find(&p, "smt")->state, VAR_KEPT, "an explicit N,L,C,T with threads is fine");
	cr_assert_eq(find(&p, "huge")->state, VAR_REFUSED_ARCH);
	cr_assert(strstr(find(&p, "huge")->reason, "128 vCPUs exceed the 123"), "%s",
		  find(&p, "huge")->reason);
	cr_assert(strstr(find(&p, "huge")->reason, "test 'huge' (line 4)"), "%s",
		  find(&p, "huge")->reason);
	cr_assert_eq(find(&p, "oddmem")->state, VAR_REFUSED_ARCH);
	cr_assert(strstr(find(&p, "oddmem")->reason, "multiple of 4 MiB"), "%s",
		  find(&p, "oddmem")->reason);
	cr_assert_eq(p.refused, 2);
	cr_assert_eq(p.kept, 2);
	f = fmemopen(buf, sizeof(buf), "w");
	cr_assert_eq(plan_print_refused(f, &p), 2);
	fclose(f);
	cr_assert(strstr(buf, "arm64 guest: test 'huge'") && strstr(buf, "test 'oddmem'"), "%s",
		  buf);
	/* list: the refused tests in the plan, with the reason, counted. */
	f = fmemopen(buf, sizeof(buf), "w");
	{
		struct host_caps hc = tcg_host();

		cr_assert_eq(report_list(f, s, &p, &hc, NULL, 0), 0);
	}
	fclose(f);
	cr_assert(strstr(buf, "; guest arm64"), "%s", buf);
	cr_assert(strstr(buf, "refused huge"), "%s", buf);
	cr_assert(strstr(buf, "2 refused (cannot run on an arm64 guest)"), "%s", buf);
	plan_free(&p);

	/* The same suite for x86_64: nothing refused, the header as before. */
	o.arch = KTSTR__ARCH__ARCH_X86_64;
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.refused, 0);
	cr_assert_eq(find(&p, "huge")->state, VAR_KEPT);
	f = fmemopen(buf, sizeof(buf), "w");
	{
		struct host_caps hc = tcg_host();

		cr_assert_eq(report_list(f, s, &p, &hc, NULL, 0), 0);
	}
	fclose(f);
	cr_assert_null(strstr(buf, "guest"), "%s", buf);
	plan_free(&p);
	suite_free(s);
}

Test(arch, the_gauntlet_drops_the_presets_arm64_forbids)
{
	struct suite *s = parse_ok("tests:\n  - {name: t}\n");
	struct plan_opts o = { .host = tcg_host(), .kernel_scx = 1, .gauntlet = true,
			       .arch = KTSTR__ARCH__ARCH_ARM64 };
	size_t np = 0, smt = 0, dropped = 0;
	const struct ktstr_topo_preset *pr = topo_presets(&np);
	struct plan p;
	char err[256];

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.refused, 0, "a gauntlet preset is dropped, never a suite error");
	for (size_t i = 0; i < np; i++)
		smt += !pr[i].arm64;
	cr_assert_gt(smt, 0);
	for (size_t i = 0; i < p.n; i++) {
		const struct variant *v = &p.v[i];

		if (pr[v->preset].arm64)
			continue;
		cr_assert_eq(v->state, VAR_DROP_CONSTRAINT, "%s", v->name);
		cr_assert(strstr(v->reason, "not available on aarch64"), "%s", v->reason);
		dropped++;
	}
	cr_assert_eq(dropped, smt, "every SMT preset, once per profile (one profile here)");
	plan_free(&p);
	suite_free(s);
}

Test(arch, an_arm64_guest_on_an_x86_host_runs_under_qemu_only)
{
	Ktstr__Engine e;
	char err[512];

	if (ktstr_arch_host() != KTSTR__ARCH__ARCH_X86_64)
		cr_skip_test("an x86_64 host's rule");
	cr_assert_eq(engine_for_arch(KTSTR__ENGINE__ENGINE_AUTO, KTSTR__ARCH__ARCH_ARM64, &e, err,
				     sizeof(err)),
		     0);
	cr_assert_eq(e, KTSTR__ENGINE__ENGINE_QEMU);
	cr_assert_eq(engine_for_arch(KTSTR__ENGINE__ENGINE_KVM, KTSTR__ARCH__ARCH_ARM64, &e, err,
				     sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "--engine kvm") && strstr(err, "arm64 guest") &&
			  strstr(err, "qemu-system-aarch64"),
		  "%s", err);
	cr_assert_eq(engine_for_arch(KTSTR__ENGINE__ENGINE_KVM, KTSTR__ARCH__ARCH_X86_64, &e, err,
				     sizeof(err)),
		     0);
	cr_assert_eq(e, KTSTR__ENGINE__ENGINE_KVM, "the host's own arch: as asked");
	cr_assert_eq(engine_for_arch(KTSTR__ENGINE__ENGINE_AUTO, KTSTR__ARCH__ARCH_X86_64, &e, err,
				     sizeof(err)),
		     0);
	cr_assert_eq(e, KTSTR__ENGINE__ENGINE_AUTO);
}

Test(arch, the_run_metadata_names_the_architecture)
{
	struct suite *s = parse_ok("tests:\n  - {name: t}\n");
	struct plan_opts o = { .host = tcg_host(), .kernel_scx = 1,
			       .arch = KTSTR__ARCH__ARCH_ARM64 };
	struct strbuf sb = { 0 };
	struct runmeta m;
	struct plan p;
	char err[256], buf[4096];
	FILE *f;

	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(runmeta_init(&m, s, &p), 0);
	cr_assert_str_eq(m.arch, "arm64");
	cr_assert_eq(runmeta_json(&sb, &m), 0);
	cr_assert(strstr(sb.buf, "\"arch\":\"arm64\""), "%s", sb.buf);
	f = fmemopen(buf, sizeof(buf), "w");
	runmeta_print(f, &m);
	fclose(f);
	cr_assert(strstr(buf, "# guest architecture: arm64\n"), "%s", buf);
	sb_free(&sb);
	runmeta_free(&m);
	plan_free(&p);
	o.arch = KTSTR__ARCH__ARCH_X86_64;
	cr_assert_eq(plan_build(s, &o, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(runmeta_init(&m, s, &p), 0);
	cr_assert_eq(runmeta_json(&sb, &m), 0);
	cr_assert(strstr(sb.buf, "\"arch\":\"x86_64\""), "%s", sb.buf);
	sb_free(&sb);
	runmeta_free(&m);
	plan_free(&p);
	suite_free(s);
}

