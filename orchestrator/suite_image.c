/* Which image a test boots and what that image holds besides the guest,
 * the scheduler and busybox (suite.h: struct suite, nimages). */
#include "suite.h"

size_t suite_image_sched(const struct suite *s, size_t img)
{
	return img < s->nscheds ? img : s->tests[s->image_test[img - s->nscheds]].sched;
}

size_t suite_image_lists(const struct suite *s, size_t img, const struct include_list *out[4])
{
	const struct sched_def *sd = &s->scheds[suite_image_sched(s, img)];
	size_t n = 0;

	out[n++] = &s->includes;
	out[n++] = &sd->includes;
	out[n++] = &sd->config;
	if (img >= s->nscheds)
		out[n++] = &s->tests[s->image_test[img - s->nscheds]].includes;
	return n;
}
