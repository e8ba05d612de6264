/* Host-wide reservation (docs/farms.md): what one `ktstr-orch run` holds
 * on a host that other runs, of this user or another, share.
 *
 *  - --cpu-cap N: N CPUs for the whole run, each exclusively, their LLCs
 *    shared (hostres_place.h); every VM worker, and so its QEMU and vCPU
 *    threads, is pinned to them.
 *  - a performance-mode VM: whole LLCs exclusively for its lifetime, its
 *    pins taken from them (in a capped run too: the cap bounds the run's
 *    ordinary VMs, a performance-mode VM needs LLCs of its own).
 *  - every VM: its guest RAM, admitted against MemAvailable (hostres_mem.h)
 *    and declared in the run's record while it runs.
 *  - an uncapped run's ordinary VM is pinned to the CPUs nobody holds when
 *    it starts (all usable CPUs, with a warning, when every one is held).
 *
 * Whatever cannot be had now is waited for, up to the reserve timeout,
 * re-checked every HOSTRES_TICK_MS; then it is host contention, an
 * infrastructure error (exit 3), never a pass and never a skip.
 *
 * Threads: hostres_vm_acquire/release may be called from any number of job
 * threads at once; open, register and close from one thread, around them. */
#ifndef KTSTR_ORCH_HOSTRES_H
#define KTSTR_ORCH_HOSTRES_H

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostres_dir.h"
#include "hostres_record.h"
#include "hostres_topo.h"

#define HOSTRES_TICK_MS 100
#define HOSTRES_TIMEOUT_DEFAULT_S 600
#define HOSTRES_TIMEOUT_MAX_S 86400
/* The admission lock is held for milliseconds; this long means a stuck or
 * hostile holder, reported as such. */
#define HOSTRES_ADMIT_WAIT_MS 10000
/* Every contention message starts with this (docs/farms.md, "Policy"). */
#define HOSTRES_CONTENTION "host contention: "

struct hostres_opts {
	unsigned cap;		   /* --cpu-cap N; 0 = none */
	uint32_t timeout_s;	   /* --reserve-timeout: longest wait; 0 = none */
	const char *meminfo;	   /* NULL = /proc/meminfo (tests pass their own) */
	const char *sysroot;	   /* NULL = the host's sysfs (tests: a fake root) */
	const cpu_set_t *affinity; /* NULL = this thread's affinity */
	uint32_t admit_wait_ms;	   /* 0 = HOSTRES_ADMIT_WAIT_MS (tests: shorter) */
};

struct hostres {
	struct hostres_opts o;
	char dir[PATH_MAX];
	int dirfd;		/* owned: the lock directory */
	int admit_fd;		/* owned: admit.lock, held around each decision */
	int holder_fd;		/* owned: our record, LOCK_EX for our lifetime; -1 before register */
	char holder_name[HOSTRES_NAME_MAX];
	struct hostres_topo topo;
	pthread_mutex_t mu;	/* everything below, and admit between our threads */
	struct hostres_record rec;
	struct cpuset_bits cap_cpus;
	int *cap_fds;		/* owned: cap CPU locks (EX) and their LLC locks (SH) */
	size_t ncap_fds;
	bool warned_soft;
};

/* One VM's share; filled by hostres_vm_acquire, emptied by release. */
struct hostres_vm {
	cpu_set_t affinity;	 /* pin the worker here when pinned */
	bool pinned;
	struct cpuset_bits cpus; /* performance mode: the usable CPUs of its LLCs */
	struct cpuset_bits held; /* performance mode: every CPU it locked */
	int *fds;		 /* owned: its LLC and CPU locks */
	size_t nfds;
	uint64_t mem_mib;
};

/* Open the lock directory (creating the default), probe the host, ready
 * the record. Registers nothing yet. 0 or -errno with err (what, where,
 * why, what to do). */
int hostres_open(struct hostres *h, const struct hostres_opts *o, char *err, size_t errlen);
/* Become a holder: reserve the cap (waiting up to the timeout) and write
 * the record. Returns 0; -ETIMEDOUT with err starting HOSTRES_CONTENTION;
 * -ENOSPC (the cap can never be had here); -EINTR (*stop or a stop signal
 * while waiting); -errno. */
int hostres_register(struct hostres *h, volatile int *stop, char *err, size_t errlen);
/* hostres_open + hostres_register, for a command about to start VMs
 * (`run`, `shell`), as the user the VMs run as. Returns 0, or the exit
 * status with the reason printed on stderr after prog ("ktstr-orch"):
 * contention (the wait ran out) and a lock directory that cannot be used
 * EXIT_INFRA, a cap this process can never have EXIT_USAGE, a stop while
 * waiting EXIT_INTERRUPTED. Call hostres_close whatever it returned. */
int hostres_start(struct hostres *h, const struct hostres_opts *o, const char *prog);
/* What the cap holds, as a CPU list ("" without a cap). */
void hostres_cap_list(const struct hostres *h, char *buf, size_t len);
/* Give everything back and remove the record. Call once after
 * hostres_open, whatever it returned. */
void hostres_close(struct hostres *h);

/* Admit one VM of vcpus vCPUs and mem_mib MiB of guest RAM (performance
 * mode: vcpus + 1 CPUs in whole LLCs), waiting up to the timeout. Returns
 * 0 (vm filled); -ETIMEDOUT with err starting HOSTRES_CONTENTION; -ENOSPC
 * (never fits here: err says why); -EINTR; -errno. */
int hostres_vm_acquire(struct hostres *h, unsigned vcpus, bool perf, uint64_t mem_mib,
		       volatile int *stop, struct hostres_vm *vm, char *err, size_t errlen);
void hostres_vm_release(struct hostres *h, struct hostres_vm *vm);

#endif
