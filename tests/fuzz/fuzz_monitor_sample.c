/* libFuzzer target for the worker's monitor (vmm-worker/monitor/) over a
 * hostile guest: arbitrary layout numbers and arbitrary guest RAM, then
 * monitor_new, 40 ticks of monitor_try_ready + monitor_sample with the RAM
 * changing under it, the watchdog target, the summary and the MonitorReport
 * through the wire format.
 *
 * Input: byte 0 = flags (below), bytes 1..32 = sixteen u16 layout numbers,
 * the rest = RAM edits. With FL_BOOT the harness first writes a consistent
 * booted guest from the layout (banner, direct-map base, per-CPU offsets,
 * rq->cpu), so the fuzzer starts from "ready" and its edits (3 bytes each:
 * u16 position, value; four per tick) damage it; without, the edits are the
 * whole of RAM.
 *
 * Invariants (abort on violation): the monitor never reads outside the RAM
 * it was given; a watchdog target lies wholly in RAM; the ring and the
 * report stay within their caps. Sanitizers catch the rest. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/log.h>

#include "monitor/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (64u << 10)
#define IMG (32u << 10)	    /* kernel image: gpa [0, 32 KiB) */
#define AREA0 (32u << 10)   /* per-CPU areas: 4 x 4 KiB in the direct map */
#define AREA (4u << 10)
#define KMAP 0xffffffff80000000ull
#define PO 0xffff888000000000ull

enum {
	FL_CPUS = 3,	      /* 1 + (flags & 3) vCPUs */
	FL_VCPU_TIME = 1 << 2,
	FL_BOOT = 1 << 3,
	FL_ENABLED = 1 << 4,
	FL_ZERO_BASED = 1 << 5, /* 6.12-style per-CPU symbols */
	FL_STATIC_WD = 1 << 6,
	FL_HOLE = 1 << 7, /* a read hole over the second per-CPU area */
};

static uint8_t ram[RAM_SIZE];
static bool hole;

static int rd(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		abort(); /* the monitor asked outside the RAM it was given */
	if (hole && gpa < AREA0 + 2 * AREA && gpa + len > AREA0 + AREA)
		return -EFAULT;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static uint16_t u16at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put(uint64_t gpa, const void *v, size_t n)
{
	if (gpa < RAM_SIZE && n <= RAM_SIZE - gpa)
		memcpy(ram + gpa, v, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ktstr__GuestKernelLayout l = KTSTR__GUEST_KERNEL_LAYOUT__INIT;
	Ktstr__KernelField f[18];
	Ktstr__KernelEnumValue en = KTSTR__KERNEL_ENUM_VALUE__INIT, *enp = &en;
	Ktstr__KernelField evf[2];
	Ktstr__ScxEventCounter ev[2], *evp[2] = { &ev[0], &ev[1] };
	struct monitor_thresholds th;
	struct monitor_summary s;
	Ktstr__MonitorReport *r;
	struct monitor *m;
	uint64_t vcpu[4] = { 0 }, pcpu_start, gpa, val;
	uint16_t n[16];
	uint32_t ncpu, rq_size;
	const uint8_t *edits;
	size_t nedits, w, nw;
	struct monitor_wd_state wd = { 0 };
	struct monitor_write wr[MONITOR_WD_WRITES];
	uint8_t fl;
	static const char banner[] = "Linux version 7.2.13";

	if (size < 33 || size > (1u << 16))
		return 0;
	klog_set_level(KLOG_ERR);
	fl = data[0];
	for (int i = 0; i < 16; i++)
		n[i] = u16at(data + 1 + 2 * i);
	edits = data + 33;
	nedits = (size - 33) / 3;
	ncpu = 1 + (fl & FL_CPUS);
	hole = fl & FL_HOLE;
	memset(ram, 0, sizeof(ram));
	if (!(fl & FL_BOOT))
		for (size_t i = 0; i < RAM_SIZE && size > 33; i++)
			ram[i] = data[33 + i % (size - 33)];

	/* The layout: symbols in the image, fields inside a small struct rq. */
	pcpu_start = fl & FL_ZERO_BASED ? 0 : KMAP + IMG - AREA;
	rq_size = 64 + n[0] % 1984;
	for (int i = 0; i < 18; i++) {
		ktstr__kernel_field__init(&f[i]);
		f[i].size = 4;
	}
	l.has_linux_banner = l.has_banner = l.has_per_cpu_offset = l.has_page_offset_base = 1;
	l.has_phys_base = l.has_runqueues = l.has_rq_size = l.has_nr_cpu_ids = l.has_hz = 1;
	l.linux_banner = KMAP + n[1] % IMG;
	l.banner.data = (uint8_t *)banner;
	l.banner.len = sizeof(banner) - 1;
	l.per_cpu_offset = KMAP + n[2] % IMG;
	l.page_offset_base = KMAP + n[3] % IMG;
	l.phys_base = KMAP + n[4] % IMG;
	l.nr_cpu_ids = KMAP + n[5] % IMG;
	l.runqueues = pcpu_start + n[6] % (AREA - rq_size);
	l.rq_size = rq_size;
	l.hz = n[7] % 1001;
	l.rq_nr_running = &f[0];
	f[0].offset = n[8] % rq_size;
	l.rq_clock = &f[1];
	f[1].offset = n[9] % rq_size;
	f[1].size = 8;
	l.rq_cpu = &f[2];
	f[2].offset = n[10] % rq_size;
	/* sched_ext: scx_rq at rq + n[11], everything at small offsets. */
	l.rq_scx = &f[3];
	f[3].offset = n[11] % rq_size;
	f[3].size = 64;
	l.scx_rq_nr_running = &f[4];
	f[4].offset = 0;
	l.scx_rq_local_dsq = &f[5];
	f[5].offset = 8;
	f[5].size = 48;
	l.scx_dsq_nr = &f[6];
	f[6].offset = n[12] % 48;
	l.scx_rq_flags = &f[7];
	f[7].offset = 60;
	l.has_scx_enable_state = 1;
	l.scx_enable_state = KMAP + n[13] % IMG;
	en.name = (char *)"SCX_ENABLED";
	en.value = 1;
	l.n_scx_enable_states = 1;
	l.scx_enable_states = &enp;
	if (fl & FL_STATIC_WD) {
		l.has_scx_watchdog_timeout = 1;
		l.scx_watchdog_timeout = KMAP + n[14] % IMG;
	} else {
		l.has_scx_root = 1;
		l.scx_root = KMAP + n[14] % IMG;
		l.scx_sched_watchdog_timeout = &f[8];
		f[8].offset = n[15] % 256;
		f[8].size = 8;
		l.scx_sched_pcpu = &f[9];
		f[9].offset = 256 + n[15] % 64;
		f[9].size = 8;
		l.scx_sched_pcpu_event_stats = &f[10];
		f[10].offset = n[15] % 128;
		f[10].size = 16;
		l.has_scx_event_stats_size = 1;
		l.scx_event_stats_size = 16;
		for (int i = 0; i < 2; i++) {
			ktstr__kernel_field__init(&evf[i]);
			evf[i].offset = 8 * i;
			evf[i].size = 8;
			ktstr__scx_event_counter__init(&ev[i]);
			ev[i].field = &evf[i];
		}
		ev[0].name = (char *)"SCX_EV_SELECT_CPU_FALLBACK";
		ev[1].name = (char *)"SCX_EV_DISPATCH_KEEP_LAST";
		l.n_scx_events = 2;
		l.scx_events = evp;
	}

	/* The runnable-task check and the watchdog plan: the list head in
	 * scx_rq, tasks anywhere in RAM (small offsets), jiffies and the
	 * check-in stamp in the image. */
	l.scx_rq_runnable_list = &f[12];
	f[12].offset = n[12] % 48;
	f[12].size = 16;
	l.task_scx = &f[13];
	f[13].offset = n[13] % 64;
	f[13].size = 64;
	l.scx_entity_runnable_node = &f[14];
	f[14].offset = 8;
	f[14].size = 16;
	l.scx_entity_runnable_at = &f[15];
	f[15].offset = 24;
	f[15].size = 8;
	l.task_pid = &f[16];
	f[16].offset = 32;
	l.task_comm = &f[17];
	f[17].offset = 40;
	f[17].size = 16;
	/* The page walk's root: a page of the image; whatever the edits put
	 * in its tables, every read must stay inside RAM. */
	l.has_init_top_pgt = 1;
	l.init_top_pgt = KMAP + ((n[12] ^ n[14]) % IMG & ~0xfffu);
	l.has_jiffies = l.has_scx_watchdog_timestamp = 1;
	l.jiffies = KMAP + (n[14] ^ n[15]) % IMG;
	l.scx_watchdog_timestamp = KMAP + (n[13] ^ n[15]) % IMG;

	if (fl & FL_BOOT) {
		uint64_t po = PO, one = fl & FL_ENABLED ? 1 : 3;

		put(l.linux_banner - KMAP, banner, sizeof(banner) - 1);
		put(l.page_offset_base - KMAP, &po, 8);
		put(l.nr_cpu_ids - KMAP, &ncpu, 4);
		put(l.scx_enable_state - KMAP, &one, 4);
		for (uint32_t c = 0; c < ncpu; c++) {
			uint64_t off = PO + AREA0 + c * AREA - pcpu_start;

			put(l.per_cpu_offset - KMAP + 8 * c, &off, 8);
			put(AREA0 + c * AREA + (l.runqueues - pcpu_start) + f[2].offset, &c, 4);
		}
	}

	monitor_thresholds_default(&th);
	th.sustained_samples = 1 + n[0] % 4;
	th.warmup_ns = (uint64_t)(n[1] % 4) * 100000000ull;
	th.stall_blind_samples = th.sustained_samples + n[2] % 8;
	if (monitor_new(&l, ncpu, rd, NULL, RAM_SIZE, &th, &m, NULL, 0))
		return 0;
	for (uint64_t t = 0; t < 40; t++) {
		/* Four edits per tick: the guest changing under the monitor. */
		for (size_t e = 0; (fl & FL_BOOT) && e < 4 && nedits; e++, nedits--, edits += 3)
			ram[u16at(edits) % RAM_SIZE] = edits[2];
		for (uint32_t c = 0; c < 4; c++) /* 0..149 ms of host CPU time per tick */
			vcpu[c] += (uint64_t)((n[c] ^ t) % 150) * 1000000ull;
		if (monitor_try_ready(m, t * 100000000ull) == 0)
			monitor_sample(m, t * 100000000ull, fl & FL_VCPU_TIME ? vcpu : NULL);
		if (monitor_watchdog_target(m, 4000, 0, &gpa, &val, &w) == 0 &&
		    (w != 8 || gpa >= RAM_SIZE || w > RAM_SIZE - gpa || !val))
			abort();
		/* The plan's writes land in RAM, at most MONITOR_WD_WRITES; the
		 * guest then sees them, as it would. */
		if (monitor_watchdog_plan(m, 4000, 0, &wd, wr, &nw) == 0) {
			if (nw > MONITOR_WD_WRITES)
				abort();
			for (size_t i = 0; i < nw; i++) {
				if (wr[i].gpa >= RAM_SIZE || 8 > RAM_SIZE - wr[i].gpa)
					abort();
				memcpy(ram + wr[i].gpa, &wr[i].value, 8);
			}
		}
		if (monitor_ring_len(m) > monitor_ring_depth(m))
			abort();
	}
	monitor_summarize(m, &s);
	if (s.nr_violations > MONITOR_VIOLATIONS_MAX || s.nr_notes > MONITOR_NOTES_MAX ||
	    s.verdict < MONITOR_VERDICT_NOT_READY || s.verdict > MONITOR_VERDICT_FAIL ||
	    (s.verdict == MONITOR_VERDICT_FAIL && (s.implausible || !s.nr_violations)))
		abort();
	if (monitor_report_fill(m, &r) == 0) {
		size_t len = ktstr__monitor_report__get_packed_size(r);
		uint8_t *wire = malloc(len ? len : 1);
		Ktstr__MonitorReport *back;

		if (!wire || r->n_cpu_peaks > MONITOR_REPORT_CPUS_MAX ||
		    r->n_violations > MONITOR_VIOLATIONS_MAX)
			abort();
		ktstr__monitor_report__pack(r, wire);
		back = ktstr__monitor_report__unpack(NULL, len, wire);
		if (!back)
			abort();
		ktstr__monitor_report__free_unpacked(back, NULL);
		free(wire);
		ktstr__monitor_report__free_unpacked(r, NULL);
	}
	monitor_free(m);
	return 0;
}
