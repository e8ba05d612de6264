/* CPU bitmaps and the kernel's list syntax. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/cpulist.h"

#define MAX_CPU (CPUSET_WORDS * 64)

void cpuset_clear_all(struct cpuset_bits *s)
{
	memset(s, 0, sizeof(*s));
}

void cpuset_add(struct cpuset_bits *s, unsigned cpu)
{
	if (cpu < MAX_CPU)
		s->w[cpu / 64] |= 1ull << (cpu % 64);
}

bool cpuset_has(const struct cpuset_bits *s, unsigned cpu)
{
	return cpu < MAX_CPU && (s->w[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpuset_count(const struct cpuset_bits *s)
{
	unsigned n = 0;

	for (int i = 0; i < CPUSET_WORDS; i++)
		n += (unsigned)__builtin_popcountll(s->w[i]);
	return n;
}

bool cpuset_subset(const struct cpuset_bits *a, const struct cpuset_bits *b)
{
	for (int i = 0; i < CPUSET_WORDS; i++)
		if (a->w[i] & ~b->w[i])
			return false;
	return true;
}

bool cpuset_equal(const struct cpuset_bits *a, const struct cpuset_bits *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static int parse_num(const char **p, unsigned *out)
{
	char *end;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	v = strtoul(*p, &end, 10);
	if (v >= MAX_CPU)
		return -EINVAL;
	*out = (unsigned)v;
	*p = end;
	return 0;
}

int cpulist_parse(const char *s, struct cpuset_bits *out)
{
	const char *p = s;

	cpuset_clear_all(out);
	while (*p == ' ')
		p++;
	if (!*p || *p == '\n')
		return 0;
	for (;;) {
		unsigned a, b;

		if (parse_num(&p, &a))
			return -EINVAL;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_num(&p, &b) || b < a)
				return -EINVAL;
		}
		for (unsigned c = a; c <= b; c++)
			cpuset_add(out, c);
		if (*p == ',') {
			p++;
			continue;
		}
		while (*p == '\n' || *p == ' ')
			p++;
		return *p ? -EINVAL : 0;
	}
}

int cpulist_format(const struct cpuset_bits *s, char *buf, size_t len)
{
	size_t off = 0;
	bool first = true;

	if (len)
		buf[0] = '\0';
	for (unsigned c = 0; c < MAX_CPU; c++) {
		unsigned e;
		int n;

		if (!cpuset_has(s, c))
			continue;
		e = c;
		while (e + 1 < MAX_CPU && cpuset_has(s, e + 1))
			e++;
		if (e == c)
			n = snprintf(buf + off, len - off, "%s%u", first ? "" : ",", c);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u", first ? "" : ",", c, e);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
		first = false;
		c = e;
	}
	return (int)off;
}
