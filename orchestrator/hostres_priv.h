/* Inside the host reservation: shared by hostres.c (the holder, the cap,
 * the wait), hostres_vm.c (one VM's admission) and hostres_why.c (what a
 * contention message says). Not for other callers. */
#ifndef KTSTR_ORCH_HOSTRES_PRIV_H
#define KTSTR_ORCH_HOSTRES_PRIV_H

#include "hostres.h"
#include "hostres_mem.h"
#include "hostres_place.h"
#include "hostres_scan.h"

/* One try under admit.lock (and h->mu): 0 done; -EBUSY others hold what
 * is needed (why says who); -ENOSPC never possible here (why says why);
 * other -errno with why. */
typedef int (*hostres_attempt_fn)(struct hostres *h, void *arg, char *why, size_t whylen);
/* Try fn every HOSTRES_TICK_MS until it is not -EBUSY, up to the reserve
 * timeout, a stop (*stop, or a stop signal) or an error. what names the
 * reservation in messages ("--cpu-cap 2"). Returns as hostres_register. */
int hostres_wait(struct hostres *h, hostres_attempt_fn fn, void *arg, volatile int *stop,
		 const char *what, char *err, size_t errlen);
/* Take admit.lock (h->mu held), waiting at most HOSTRES_ADMIT_WAIT_MS.
 * 0 or -errno with err. Dropped with flock(h->admit_fd, LOCK_UN). */
int hostres_admit_lock(struct hostres *h, char *err, size_t errlen);
/* Take lock name with op (LOCK_EX or LOCK_SH) without waiting; its fd is
 * appended to *fds (grown; the caller owns the fds and the array). 0,
 * -EBUSY when someone holds it, -errno with why. */
int hostres_take(struct hostres *h, const char *name, int op, int **fds, size_t *n, char *why,
		 size_t whylen);
/* Close n fds (dropping their locks) and free the array. */
void hostres_drop(int *fds, size_t n);
/* Write h->rec into our record file (h->mu and admit.lock held). 0/-errno. */
int hostres_write_record(struct hostres *h);
/* Remove cpus from s. */
void hostres_cpuset_del(struct cpuset_bits *s, const struct cpuset_bits *cpus);

/* hostres_why.c: who holds what, for contention messages. Each appends to
 * why (NUL-terminated, truncated at whylen). */
/* The holders that hold any CPU, up to 4 named: pid, uid, CPUs, since, command. */
void hostres_why_cpus(struct hostres *h, const char *lead, char *why, size_t whylen);
/* The memory sum: need, MemAvailable, margin, declared (ours and up to 4 others'). */
void hostres_why_mem(const struct hostres *h, const struct hostres_meminfo *m,
		     const struct hostres_holder *hs, size_t n, uint64_t need, char *why,
		     size_t whylen);

#endif
