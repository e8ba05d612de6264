/* The ring's aligned region copies and its wrap-around, against memcpy
 * (the cases live in ring_cases.c: the aarch64 lane runs the same ones). */
#include <criterion/criterion.h>
#include <string.h>

#include "ring_cases.h"

#define RING_CASE(name, fn)                                   \
	Test(ring_copy, name)                                 \
	{                                                     \
		char why[512] = "";                           \
		cr_assert_eq(fn(why, sizeof(why)), 0, "%s", why); \
	}

RING_CASE(to_region_matches_memcpy, ring_case_copy_to)
RING_CASE(from_region_matches_memcpy, ring_case_copy_from)
RING_CASE(write_drain_at_every_wrap_point, ring_case_wrap)
RING_CASE(unaligned_region_is_refused, ring_case_unaligned_region)

#if defined(__x86_64__)
/* The alignment of every access to the region, proven on x86_64 with the
 * CPU's alignment checking: with EFLAGS.AC set (Linux sets CR0.AM), an
 * unaligned user access raises SIGBUS, as it faults on arm64 Device memory.
 * The caller's buffer gets the same phase as the region, so a correct copy
 * makes only aligned accesses on both sides and any unaligned one is on the
 * region side's account. AC is on only around each copy: glibc's own
 * routines (memcpy for the buffers) make unaligned accesses. */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktstr/ring.h"

static inline void ac_on(void)
{
	__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq" ::: "memory", "cc");
}

static inline void ac_off(void)
{
	__asm__ volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
}

/* Whether this CPU and kernel enforce AC: a child's unaligned load under AC
 * must die of SIGBUS (some hypervisors or sandboxes do not pass it on). */
static bool ac_enforced(void)
{
	static uint64_t words[2];
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		volatile uint64_t *p = (volatile uint64_t *)(void *)((uint8_t *)words + 1);
		uint64_t v;

		signal(SIGBUS, SIG_DFL); /* not ASan's handler: the fault must kill */
		ac_on();
		v = *p;
		ac_off();
		_exit(v == 12345 ? 3 : 0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS;
}

struct ac_case {
	unsigned to_region, phase, len;
};

Test(ring_copy, region_side_accesses_are_aligned)
{
	struct ac_case *at;
	pid_t pid;
	int st;

	if (!ac_enforced())
		cr_skip_test("this CPU or kernel does not enforce x86 alignment checking "
			     "(EFLAGS.AC): unaligned accesses cannot be caught here");
	/* Shared with the child: the case it was in when it died. */
	at = mmap(NULL, sizeof(*at), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(at, MAP_FAILED);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static uint8_t region[16 + 72 + 8] __attribute__((aligned(8)));
		static uint8_t buf[16 + 72 + 8] __attribute__((aligned(8)));

		signal(SIGBUS, SIG_DFL);
		for (unsigned dir = 0; dir < 2; dir++)
			for (unsigned ph = 0; ph < 16; ph++)
				for (unsigned n = 0; n <= 72; n++) {
					*at = (struct ac_case){ dir, ph, n };
					ac_on();
					if (dir)
						ring_copy_to_region(region + ph, buf + ph, n);
					else
						ring_copy_from_region(buf + ph, region + ph, n);
					ac_off();
				}
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "ring_copy_%s_region(region phase %u, %u bytes) made an unaligned access "
		  "(%s under EFLAGS.AC)",
		  at->to_region ? "to" : "from", at->phase, at->len,
		  WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "non-zero exit");
	munmap(at, sizeof(*at));
}
#endif
