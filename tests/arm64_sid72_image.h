/* What the monitor tests know of one arm64 kernel: Debian sid's
 * 7.2.13+deb14-cloud-arm64 Image (the kernel cache's, `ktstr-orch kernel
 * fetch --arch arm64`), for an arm64 GuestKernelLayout built without the
 * orchestrator's deriver. Read out of that Image once: the symbol addresses
 * from its own kallsyms tables (with orchestrator/kernel_layout_syms.c's
 * reader, the Image's bytes presented as one section linked at _text =
 * 0xffff800080000000, which kallsyms' own _text confirmed), struct rq from its
 * vmlinux.btf (pahole -F btf -C rq: size 4352, nr_running at 0, clock at
 * 3600, cpu at 3752), VA_BITS 52 from its config, image_size 0x25c0000 from
 * its header. A test using them must check the banner bytes at
 * SID72_LINUX_BANNER first, so another Image fails instead of passing. */
#ifndef KTSTR_TESTS_ARM64_SID72_IMAGE_H
#define KTSTR_TESTS_ARM64_SID72_IMAGE_H

#include <stdint.h>
#include <string.h>

#include "monitor.pb-c.h"

#define SID72_REL "7.2.13+deb14-cloud-arm64"
#define SID72_KIMAGE 0xffff800080000000ull
#define SID72_IMAGE_SIZE 0x25c0000ull
#define SID72_VA_BITS 52u
#define SID72_LINUX_BANNER 0xffff800081403e40ull
#define SID72_PER_CPU_OFFSET 0xffff800082102198ull
#define SID72_PER_CPU_START 0xffff80008202c000ull
#define SID72_RUNQUEUES 0xffff800082044780ull
#define SID72_NR_CPU_IDS 0xffff8000820fe150ull
#define SID72_MEMSTART_ADDR 0xffff80008187a7e8ull
#define SID72_RQ_SIZE 4352u
#define SID72_RQ_NR_RUNNING 0u
#define SID72_RQ_CLOCK 3600u
#define SID72_RQ_CPU 3752u
#define SID72_BANNER "Linux version " SID72_REL " (debian-kernel@lists.debian.org)"

/* The layout (no sched_ext part: readiness, the banner, the per-CPU self
 * check and struct rq's basics). f: three fields the layout points at. */
static inline void sid72_layout(Ktstr__GuestKernelLayout *l, Ktstr__KernelField f[3])
{
	static const char banner[] = SID72_BANNER;

	ktstr__guest_kernel_layout__init(l);
	for (int i = 0; i < 3; i++)
		ktstr__kernel_field__init(&f[i]);
	l->has_arch = 1;
	l->arch = KTSTR__ARCH__ARCH_ARM64;
	l->has_image_vaddr = l->has_image_size = l->has_va_bits = l->has_memstart_addr = 1;
	l->image_vaddr = SID72_KIMAGE;
	l->image_size = SID72_IMAGE_SIZE;
	l->va_bits = SID72_VA_BITS;
	l->memstart_addr = SID72_MEMSTART_ADDR;
	l->has_linux_banner = l->has_banner = l->has_per_cpu_offset = 1;
	l->has_per_cpu_start = l->has_runqueues = l->has_nr_cpu_ids = 1;
	l->linux_banner = SID72_LINUX_BANNER;
	l->banner.data = (uint8_t *)banner;
	l->banner.len = sizeof(banner) - 1;
	l->per_cpu_offset = SID72_PER_CPU_OFFSET;
	l->per_cpu_start = SID72_PER_CPU_START;
	l->runqueues = SID72_RUNQUEUES;
	l->nr_cpu_ids = SID72_NR_CPU_IDS;
	l->has_rq_size = 1;
	l->rq_size = SID72_RQ_SIZE;
	f[0].offset = SID72_RQ_NR_RUNNING, f[0].size = 4;
	f[1].offset = SID72_RQ_CLOCK, f[1].size = 8;
	f[2].offset = SID72_RQ_CPU, f[2].size = 4;
	l->rq_nr_running = &f[0];
	l->rq_clock = &f[1];
	l->rq_cpu = &f[2];
}

#endif
