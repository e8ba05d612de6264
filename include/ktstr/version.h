/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KTSTR_VERSION_H
#define KTSTR_VERSION_H

/*
 * The one home of ktstr's version. The release comes from the VERSION file at
 * the top of the tree; a build from a git checkout appends the commit
 * ("0.4.0+g3afe515", then ".dirty" for uncommitted changes) so two results files
 * from different builds never claim the same version. Printed by --version and
 * recorded in every JSON, JSON Lines and JUnit result.
 */
const char *ktstr_version(void);

#endif
