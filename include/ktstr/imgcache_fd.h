/* How a root ktstr-orch hands the image cache directory to the initramfs
 * builder it starts as the cache's owner (docs/security.md, "Who owns
 * what"): an open directory fd, whose number this variable carries. */
#ifndef KTSTR_IMGCACHE_FD_H
#define KTSTR_IMGCACHE_FD_H

#define KTSTR_CACHE_FD_ENV "KTSTR_CACHE_FD"

#endif
