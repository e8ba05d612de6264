/* A canonical text form of a parsed suite with every merge applied: what
 * golden tests compare, and what `ktstr-orch list --explain` would print. */
#ifndef KTSTR_ORCH_SUITE_DUMP_H
#define KTSTR_ORCH_SUITE_DUMP_H

#include <stdio.h>

#include "suite.h"

int suite_dump(FILE *f, const struct suite *s);

#endif
