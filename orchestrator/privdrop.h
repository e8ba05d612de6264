/* The one place ktstr-orch changes its privileges (issue 7 builds on it). */
#ifndef KTSTR_ORCH_PRIVDROP_H
#define KTSTR_ORCH_PRIVDROP_H

/* ktstr-orch needs no privilege: it never opens /dev/kvm and never runs
 * tenant code. Started as root through sudo, it becomes the invoking user
 * (SUDO_UID/SUDO_GID) before reading any suite; otherwise it keeps its ids.
 * Returns 0 or -errno (the caller must then exit: a half-done drop is worse
 * than none). */
int orch_drop_privileges(void);

#endif
