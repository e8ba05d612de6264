#include "orch.h"

#include <stdlib.h>

const char *ktstr_orch_path(void)
{
	const char *orch = getenv("KTSTR_ORCH");

	return orch && *orch ? orch : "ktstr-orch";
}
