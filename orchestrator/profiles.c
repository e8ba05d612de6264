#include "profiles.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define PROFILES_MAX_OPTIONAL 16

int profile_valid(const struct sched_def *sd, uint32_t mask)
{
	for (size_t i = 0; i < sd->nflags; i++)
		if ((mask & (1u << i)) && (sd->flags[i].requires_mask & ~mask))
			return 0;
	return 1;
}

int profile_name(const struct sched_def *sd, uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;
	int r;

	if (!mask)
		return snprintf(buf, len, "default");
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sd->nflags; i++) {
		if (!(mask & (1u << i)))
			continue;
		r = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0, "%s%s",
			     off ? "+" : "", sd->flags[i].name);
		off += (size_t)r;
	}
	return (int)off;
}

int profiles_generate(const struct sched_def *sd, uint32_t required, uint32_t excluded,
		      uint32_t **masks, size_t *n)
{
	unsigned opt_bit[SUITE_MAX_FLAGS];
	size_t nopt = 0, count = 0;
	uint32_t *out;

	for (size_t i = 0; i < sd->nflags; i++)
		if (!((required | excluded) & (1u << i)))
			opt_bit[nopt++] = (unsigned)i;
	if (nopt > PROFILES_MAX_OPTIONAL)
		return -E2BIG;
	out = malloc(((size_t)1 << nopt) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	/* Subset index k enumerates combinations of the optional flags with
	 * the first-declared flag as the lowest bit: default, a, b, a+b, ... */
	for (size_t k = 0; k < ((size_t)1 << nopt); k++) {
		uint32_t mask = required;

		for (size_t j = 0; j < nopt; j++)
			if (k & ((size_t)1 << j))
				mask |= 1u << opt_bit[j];
		if (profile_valid(sd, mask))
			out[count++] = mask;
	}
	*masks = out;
	*n = count;
	return 0;
}
