/* Opening paths that a user other than the caller may control, without
 * following what that user planted (docs/security.md, "Report files").
 *
 * ktstr-orch may run as root and write reports into a directory another
 * user owns; a symbolic link there (to /root/secret, to /etc) must not turn
 * root's write into a write elsewhere. Directories are walked one component
 * at a time with O_NOFOLLOW; a symbolic link on the way is followed only
 * when root or the caller owns it (nobody else can plant one that way), and
 * the last component is never followed at all. */
#ifndef KTSTR_ORCH_SAFE_PATH_H
#define KTSTR_ORCH_SAFE_PATH_H

#include <stddef.h>

/* Links followed in one walk at most (the kernel's own limit). */
#define SAFE_PATH_MAX_LINKS 40

/* Open the directory that holds path's last component (O_DIRECTORY,
 * O_CLOEXEC) and copy that component to name (never "", "." or ".."). A
 * relative path starts at the working directory. Returns the fd (owned by
 * the caller) or -errno with err set: -EPERM for a link owned by another
 * user, -ELOOP past SAFE_PATH_MAX_LINKS, -ENAMETOOLONG, -ENOENT, -ENOTDIR. */
int safe_open_parent(const char *path, char *name, size_t namelen, char *err, size_t errlen);

/* Open an existing file read-only for parsing: the last component is not
 * followed when it is a link another user owns, never blocks (a FIFO or a
 * device is refused, not waited on) and must be a regular file. Returns the
 * fd (owned by the caller) or -errno with err set. */
int safe_open_regular(const char *path, char *err, size_t errlen);

#endif
