/* Sealed memfds: the form in which images leave the builder, and in which
 * the orchestrator hands VMs a kernel the dropped user could not open by
 * path. Once sealed (no write, grow, shrink, further seals) every holder
 * can mmap it MAP_PRIVATE or MAP_SHARED read-only and trust the bytes never
 * change, which is what lets concurrent VMs share one copy. Receivers must
 * read it with mmap or pread: the file offset is shared by every dup. */
#ifndef KTSTR_MEMFD_H
#define KTSTR_MEMFD_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

/* Create a memfd named name holding data[0..len) and seal it. Returns the
 * fd (caller owns it) or -errno. */
int memfd_sealed_from(const char *name, const void *data, size_t len);
/* Create an unsealed memfd of len (> 0) bytes and, if map is not NULL, map
 * it writable at *map, for filling in place (one copy from a file, no bounce
 * buffer). The caller owns both; it must munmap before memfd_seal (a writable shared mapping
 * makes F_SEAL_WRITE fail with EBUSY). Returns the fd or -errno. */
int memfd_mapped(const char *name, size_t len, void **map);
/* A sealed copy of the regular file open at src (its whole size, which
 * must be 1..max bytes; read with pread, src's offset untouched). Returns
 * the fd (caller owns it) or -errno (-EFBIG past max). */
int memfd_sealed_copy(const char *name, int src, size_t max);
/* Add IMAGE_SEALS and rewind. 0 or -errno. */
int memfd_seal(int fd);
/* 0 if fd carries exactly IMAGE_SEALS (a receiver's check), else -EPERM. */
int memfd_check_sealed(int fd);

#endif
