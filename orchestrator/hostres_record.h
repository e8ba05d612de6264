/* A holder's record: the text file a run keeps in the lock directory
 * while it holds anything there, read by `ktstr-orch locks` and by every
 * other run's memory admission (docs/farms.md, "Records").
 *
 * A record says who (pid, start time, command line), what (CPUs, the guest
 * RAM its running VMs declared) and since when. It is a claim, not the
 * lock: a record counts only while its file is flock'ed by its writer, and
 * the file's owner comes from the filesystem, never from the text. Records
 * come from co-tenants, so parsing is bounded and strict. */
#ifndef KTSTR_ORCH_HOSTRES_RECORD_H
#define KTSTR_ORCH_HOSTRES_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <ktstr/cpulist.h>

/* Every record is written as exactly this many bytes (the text, then
 * newlines), one pwrite: a reader never sees a shorter old tail. Readers
 * refuse a larger file. Holds a 1024-CPU list written the longest way. */
#define HOSTRES_RECORD_SIZE 4096
#define HOSTRES_CMD_MAX 256	 /* command-line summary, bytes */
#define HOSTRES_PID_MAX 4194304	 /* the kernel's PID_MAX_LIMIT */
#define HOSTRES_MEM_MIB_MAX (1ull << 32) /* 4 PiB: more is not a host */
#define HOSTRES_VMS_MAX 65536
#define HOSTRES_RECORD_MAGIC "ktstr-holder 1"

struct hostres_record {
	int32_t pid;
	uint64_t start_ticks;	 /* /proc/PID/stat starttime: a reused pid differs */
	int64_t since;		 /* when it registered, seconds since the epoch */
	uint32_t cap;		 /* --cpu-cap, 0 = none */
	struct cpuset_bits cpus; /* CPUs held: the cap and performance-mode VMs */
	uint64_t mem_mib;	 /* guest RAM its running VMs declared */
	uint32_t vms;		 /* its running VMs */
	char cmd[HOSTRES_CMD_MAX + 1]; /* printable ASCII only */
};

/* The record as text into buf[HOSTRES_RECORD_SIZE], padded with newlines
 * to exactly that size. Returns 0 or -ENOSPC (cannot happen within the
 * bounds above; checked all the same). */
int hostres_record_format(const struct hostres_record *r, char *buf);
/* Parse len bytes of text. Unknown keys are skipped (a newer ktstr may add
 * some); a missing, repeated, malformed or out-of-range one is refused.
 * Returns 0 or -EINVAL / -EFBIG with why. */
int hostres_record_parse(const char *text, size_t len, struct hostres_record *r, char *why,
			 size_t whylen);
/* A command line (NUL-separated, as /proc/PID/cmdline) as one line of at
 * most HOSTRES_CMD_MAX bytes: arguments joined by spaces, anything but
 * printable ASCII as '?', "..." where cut. */
void hostres_cmd_summary(const char *raw, size_t len, char *out, size_t outlen);

#endif
