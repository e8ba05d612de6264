/* See ring_tally.h. */
#include "ring_tally.h"

#include "ktstr/le.h"
#include "ktstr/ring.h"

int ring_tally_msg(void *ctx, uint32_t type, const uint8_t *p, uint32_t len, bool crc_ok)
{
	struct ring_tally *t = ctx;

	t->messages++;
	if (!crc_ok) {
		t->crc_bad++;
		return 0;
	}
	switch (type) {
	case KTSTR_MSG_TEST_RESULT:
		if (t->result)
			ktstr__test_result__free_unpacked(t->result, NULL);
		t->result = ktstr__test_result__unpack(NULL, len, p);
		break;
	case KTSTR_MSG_EXIT:
		if (len == 4) {
			t->have_exit = 1;
			t->exit_code = (int)(int32_t)get_le32(p);
		}
		break;
	case KTSTR_MSG_STIMULUS:
		t->stimuli++;
		break;
	case KTSTR_MSG_SCENARIO_START:
		t->scen_start++;
		break;
	case KTSTR_MSG_SCENARIO_END:
		t->scen_end++;
		break;
	case KTSTR_MSG_SCHED_EXIT:
		t->sched_exit++;
		break;
	}
	return 0;
}

void ring_tally_release(struct ring_tally *t)
{
	if (t->result)
		ktstr__test_result__free_unpacked(t->result, NULL);
	t->result = NULL;
}
