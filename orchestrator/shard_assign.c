#include "shard_assign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* qsort has no context argument: the items travel with their index. */
struct order {
	const struct shard_item *it;
	size_t idx;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	int c;

	if (x->it->est_ms != y->it->est_ms)
		return x->it->est_ms > y->it->est_ms ? -1 : 1;
	c = strcmp(x->it->name, y->it->name);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A min-heap of shards keyed by (load, items, shard index): integer loads,
 * so every host breaks ties alike (no floating point in the assignment);
 * the item count spreads what costs nothing (skips) instead of piling it
 * on the first shard. */
struct shard_heap {
	uint64_t *load; /* by shard */
	size_t *items;	/* by shard */
	uint32_t *h;	/* heap of shard indices */
	uint32_t n;
};

static int heap_less(const struct shard_heap *sh, uint32_t a, uint32_t b)
{
	if (sh->load[a] != sh->load[b])
		return sh->load[a] < sh->load[b];
	if (sh->items[a] != sh->items[b])
		return sh->items[a] < sh->items[b];
	return a < b;
}

static void heap_down(struct shard_heap *sh, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i, t;

		if (l < sh->n && heap_less(sh, sh->h[l], sh->h[m]))
			m = l;
		if (r < sh->n && heap_less(sh, sh->h[r], sh->h[m]))
			m = r;
		if (m == i)
			return;
		t = sh->h[i];
		sh->h[i] = sh->h[m];
		sh->h[m] = t;
		i = m;
	}
}

int shard_assign(const struct shard_item *it, size_t n, uint32_t nshards, uint32_t *out)
{
	struct shard_heap sh = { .n = nshards };
	struct order *ord;
	int ret = -ENOMEM;

	if (!nshards || nshards > SHARD_TOTAL_MAX)
		return -EINVAL;
	ord = malloc((n ? n : 1) * sizeof(*ord));
	sh.load = calloc(nshards, sizeof(*sh.load));
	sh.items = calloc(nshards, sizeof(*sh.items));
	sh.h = malloc(nshards * sizeof(*sh.h));
	if (!ord || !sh.load || !sh.items || !sh.h)
		goto out;
	for (size_t i = 0; i < n; i++)
		ord[i] = (struct order){ &it[i], i };
	qsort(ord, n, sizeof(*ord), order_cmp);
	/* All loads 0: shard order is already a heap. */
	for (uint32_t s = 0; s < nshards; s++)
		sh.h[s] = s;
	for (size_t i = 0; i < n; i++) {
		uint32_t s = sh.h[0];

		out[ord[i].idx] = s;
		sh.load[s] += ord[i].it->est_ms;
		sh.items[s]++;
		heap_down(&sh, 0);
	}
	ret = 0;
out:
	free(ord);
	free(sh.load);
	free(sh.items);
	free(sh.h);
	return ret;
}
