/* CPU sets as bitmaps and their kernel list syntax ("0-3,8,10-11"). */
#ifndef KTSTR_CPULIST_H
#define KTSTR_CPULIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUSET_WORDS 16 /* 1024 CPUs */

struct cpuset_bits {
	uint64_t w[CPUSET_WORDS];
};

void cpuset_clear_all(struct cpuset_bits *s);
void cpuset_add(struct cpuset_bits *s, unsigned cpu);
bool cpuset_has(const struct cpuset_bits *s, unsigned cpu);
unsigned cpuset_count(const struct cpuset_bits *s);
bool cpuset_subset(const struct cpuset_bits *a, const struct cpuset_bits *b); /* a within b */
bool cpuset_equal(const struct cpuset_bits *a, const struct cpuset_bits *b);
/* Parse kernel list syntax; trailing newline/space allowed, "" = empty.
 * -EINVAL on syntax errors or CPUs >= 1024. */
int cpulist_parse(const char *s, struct cpuset_bits *out);
/* Format as a list; returns length or -ENOSPC. */
int cpulist_format(const struct cpuset_bits *s, char *buf, size_t len);

#endif
