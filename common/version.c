// SPDX-License-Identifier: GPL-2.0-only
#include "ktstr/version.h"

/* KTSTR_VERSION is defined for this object only (Makefile, version.stamp), so
 * a new commit recompiles one file, not the tree. */
#ifndef KTSTR_VERSION
#error "KTSTR_VERSION must be defined by the Makefile"
#endif

const char *ktstr_version(void)
{
	return KTSTR_VERSION;
}
