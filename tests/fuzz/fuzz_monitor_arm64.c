/* libFuzzer target for the worker's monitor on an arm64 guest
 * (docs/monitor.md, "arm64 guests"): arbitrary arm64 layout numbers and
 * guest RAM from 0x40000000, then monitor_new, monitor_set_image_load,
 * 40 ticks of monitor_try_ready + monitor_sample with the RAM changing
 * under it, the watchdog target and the report.
 *
 * Input: byte 0 = flags (below), bytes 1..24 = twelve u16 layout numbers,
 * the rest = RAM edits. With FL_BOOT the harness first writes a booted
 * guest (banner, memstart_addr, per-CPU offsets, rq->cpu, an scx_sched in
 * the linear map), so the fuzzer starts from "ready" and its edits (3 bytes
 * each: u16 position, value; four per tick) damage it, memstart_addr and
 * __per_cpu_offset included; without, the edits are the whole of RAM.
 *
 * Invariants (abort on violation): the monitor never reads below the RAM
 * base (the machine's MMIO) or past its end; a watchdog target lies wholly
 * in RAM; the ring stays within its cap. Sanitizers catch the rest. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/log.h>

#include "monitor/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE 0x40000000ull	 /* ARM64_DRAM_BASE */
#define RAM_SIZE (64u << 10)
#define IMG (32u << 10)		 /* the Image: gpa [BASE, BASE + 32 KiB) */
#define AREA0 (BASE + (32u << 10)) /* per-CPU areas: 4 x 4 KiB */
#define AREA (4u << 10)
#define SCHED (BASE + RAM_SIZE - 1024) /* a kmalloc'd scx_sched */
#define KIMAGE 0xffff800080000000ull
#define PO48 0xffff000000000000ull
#define PO52 0xfff0000000000000ull

enum {
	FL_CPUS = 3, /* 1 + (flags & 3) vCPUs */
	FL_BOOT = 1 << 2,
	FL_VA48 = 1 << 3,    /* va_bits 48, else 52 */
	FL_LOWERED = 1 << 4, /* a 52-bit kernel on a 48-bit CPU: memstart below zero */
	FL_ENABLED = 1 << 5,
	FL_VCPU_TIME = 1 << 6,
	FL_HOLE = 1 << 7, /* a read hole over the second per-CPU area */
};

static uint8_t ram[RAM_SIZE];
static bool hole;

static int rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa < BASE || gpa - BASE >= RAM_SIZE || len > RAM_SIZE - (gpa - BASE))
		abort(); /* the monitor asked outside the RAM it was given */
	if (hole && gpa < AREA0 + 2 * AREA && gpa + len > AREA0 + AREA)
		return -EFAULT;
	memcpy(buf, ram + (gpa - BASE), len);
	return 0;
}

static uint16_t u16at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put(uint64_t gpa, const void *v, size_t n)
{
	if (gpa >= BASE && gpa - BASE < RAM_SIZE && n <= RAM_SIZE - (gpa - BASE))
		memcpy(ram + (gpa - BASE), v, n);
}

static uint64_t img(uint64_t kva)
{
	return BASE + (kva - KIMAGE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ktstr__GuestKernelLayout l = KTSTR__GUEST_KERNEL_LAYOUT__INIT;
	Ktstr__KernelField f[9];
	Ktstr__KernelEnumValue en = KTSTR__KERNEL_ENUM_VALUE__INIT, *enp = &en;
	struct monitor_thresholds th;
	struct monitor_summary s;
	Ktstr__MonitorReport *r;
	struct monitor *m;
	uint64_t vcpu[4] = { 0 }, pcpu_start, gpa, val, po, memstart;
	uint16_t n[12];
	uint32_t ncpu, rq_size;
	const uint8_t *edits;
	size_t nedits, w;
	uint8_t fl;
	static const char banner[] = "Linux version 7.2.13+deb14-cloud-arm64";

	if (size < 25 || size > (1u << 16))
		return 0;
	klog_set_level(KLOG_ERR);
	fl = data[0];
	for (int i = 0; i < 12; i++)
		n[i] = u16at(data + 1 + 2 * i);
	edits = data + 25;
	nedits = (size - 25) / 3;
	ncpu = 1 + (fl & FL_CPUS);
	hole = fl & FL_HOLE;
	memset(ram, 0, sizeof(ram));
	if (!(fl & FL_BOOT))
		for (size_t i = 0; i < RAM_SIZE && size > 25; i++)
			ram[i] = data[25 + i % (size - 25)];

	/* The layout: symbols in the image, the per-CPU section its last 4 KiB. */
	pcpu_start = KIMAGE + IMG - AREA;
	rq_size = 64 + n[0] % 960;
	for (int i = 0; i < 9; i++) {
		ktstr__kernel_field__init(&f[i]);
		f[i].size = 4;
	}
	l.has_arch = l.has_image_vaddr = l.has_image_size = l.has_va_bits = 1;
	l.has_memstart_addr = 1;
	l.arch = KTSTR__ARCH__ARCH_ARM64;
	l.image_vaddr = KIMAGE;
	l.image_size = IMG;
	l.va_bits = fl & FL_VA48 ? 48 : 52;
	l.memstart_addr = KIMAGE + (n[3] % (IMG - 8) & ~7u);
	l.has_linux_banner = l.has_banner = l.has_per_cpu_offset = 1;
	l.has_runqueues = l.has_rq_size = l.has_nr_cpu_ids = l.has_hz = 1;
	l.linux_banner = KIMAGE + n[1] % IMG;
	l.banner.data = (uint8_t *)banner;
	l.banner.len = sizeof(banner) - 1;
	l.per_cpu_offset = KIMAGE + n[2] % IMG;
	l.nr_cpu_ids = KIMAGE + n[4] % IMG;
	l.runqueues = pcpu_start + n[5] % (AREA - rq_size);
	l.rq_size = rq_size;
	l.hz = 250;
	l.rq_nr_running = &f[0];
	f[0].offset = n[6] % rq_size;
	l.rq_clock = &f[1];
	f[1].offset = n[7] % rq_size;
	f[1].size = 8;
	l.rq_cpu = &f[2];
	f[2].offset = n[8] % rq_size;
	/* sched_ext, and its watchdog in a kmalloc'd scx_sched (linear map). */
	l.rq_scx = &f[3];
	f[3].offset = n[9] % rq_size;
	f[3].size = 64;
	l.scx_rq_nr_running = &f[4];
	f[4].offset = 0;
	l.scx_rq_local_dsq = &f[5];
	f[5].offset = 8;
	f[5].size = 48;
	l.scx_dsq_nr = &f[6];
	f[6].offset = n[10] % 48;
	l.has_scx_enable_state = 1;
	l.scx_enable_state = KIMAGE + n[11] % IMG;
	en.name = (char *)"SCX_ENABLED";
	en.value = 1;
	l.n_scx_enable_states = 1;
	l.scx_enable_states = &enp;
	l.has_scx_root = 1;
	l.scx_root = KIMAGE + (n[10] ^ n[11]) % IMG;
	l.scx_sched_watchdog_timeout = &f[7];
	f[7].offset = n[0] % 256;
	f[7].size = 8;

	po = fl & FL_VA48 ? PO48 : PO52;
	memstart = fl & FL_LOWERED && !(fl & FL_VA48) ? BASE - (PO48 - PO52) : BASE;
	if (fl & FL_BOOT) {
		uint64_t one = fl & FL_ENABLED ? 1 : 3, root = po + (SCHED - memstart);

		put(img(l.linux_banner), banner, sizeof(banner) - 1);
		put(img(l.memstart_addr), &memstart, 8);
		put(img(l.nr_cpu_ids), &ncpu, 4);
		put(img(l.scx_enable_state), &one, 4);
		put(img(l.scx_root), &root, 8);
		for (uint32_t c = 0; c < ncpu; c++) {
			uint64_t off = po + (AREA0 + c * AREA - memstart) - pcpu_start;

			put(img(l.per_cpu_offset) + 8 * c, &off, 8);
			put(AREA0 + c * AREA + (l.runqueues - pcpu_start) + f[2].offset, &c, 4);
		}
	}

	monitor_thresholds_default(&th);
	th.sustained_samples = 1 + n[0] % 4;
	th.warmup_ns = 0;
	if (monitor_new(&l, ncpu, rd, NULL, BASE + RAM_SIZE, &th, &m, NULL, 0))
		return 0;
	if (monitor_set_image_load(m, BASE, BASE))
		abort(); /* an arm64 layout, an address inside RAM */
	for (uint64_t t = 0; t < 40; t++) {
		for (size_t e = 0; (fl & FL_BOOT) && e < 4 && nedits; e++, nedits--, edits += 3)
			ram[u16at(edits) % RAM_SIZE] = edits[2];
		for (uint32_t c = 0; c < 4; c++)
			vcpu[c] += (uint64_t)((n[c] ^ t) % 150) * 1000000ull;
		if (monitor_try_ready(m, t * 100000000ull) == 0)
			monitor_sample(m, t * 100000000ull, fl & FL_VCPU_TIME ? vcpu : NULL);
		if (monitor_watchdog_target(m, 4000, 0, &gpa, &val, &w) == 0 &&
		    (w != 8 || gpa < BASE || gpa - BASE >= RAM_SIZE || w > RAM_SIZE - (gpa - BASE)))
			abort();
		if (monitor_ring_len(m) > monitor_ring_depth(m))
			abort();
	}
	monitor_summarize(m, &s);
	if (s.nr_violations > MONITOR_VIOLATIONS_MAX || s.nr_notes > MONITOR_NOTES_MAX)
		abort();
	if (monitor_report_fill(m, &r) == 0)
		ktstr__monitor_report__free_unpacked(r, NULL);
	monitor_free(m);
	return 0;
}
