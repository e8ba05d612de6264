/* Canned scenarios a test can name instead of writing one out
 * (scenario: steady). Each is written in the same YAML schema as an inline
 * scenario and parsed with the same code, so both paths stay identical.
 * This is the only catalogue: the host expands the name when it parses the
 * suite and the guest runs exactly the Scenario it is sent (it has no
 * catalogue of its own, so the two cannot drift). */
#ifndef KTSTR_ORCH_SCENARIO_CATALOG_H
#define KTSTR_ORCH_SCENARIO_CATALOG_H

#include <stddef.h>

#include "guest.pb-c.h"

struct canned_scenario {
	const char *name;
	const char *yaml; /* a Scenario mapping (name is filled in) */
};

const struct canned_scenario *scenario_catalog(size_t *n);
const struct canned_scenario *scenario_catalog_find(const char *name);
/* Parse a canned scenario into a new message (caller frees with
 * protobuf_c_message_free_unpacked(NULL)). -ENOENT if unknown. */
int scenario_catalog_build(const char *name, Ktstr__Scenario **out, char *err, size_t errlen);

#endif
