/* Private to the QEMU engine: the pieces of qemu_engine_run() that do not
 * need a running QEMU, split out so unit tests can check them. */
#ifndef KTSTR_ENGINE_QEMU_H
#define KTSTR_ENGINE_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ktstr/strv.h>

#include "worker.pb-c.h"

#define QEMU_MAX_NODES 64u
/* The x86 kernel's COMMAND_LINE_SIZE (bytes including the NUL). */
#define QEMU_CMDLINE_MAX 2048u


/* Fd numbers as QEMU will see them (after ktstr_spawn moved them to 3..). */
struct qemu_args_in {
	const Ktstr__VmSpec *spec;
	const char *qemu_path;
	bool use_kvm;
	int fd_qmp, fd_com1, fd_com2, fd_log, fd_kernel, fd_initrd; /* -1 = none */
	uint32_t nodes;
	int fd_mem[QEMU_MAX_NODES];
	uint64_t node_mb[QEMU_MAX_NODES];
	const char *cmdline;
};

/* Build QEMU's argv. -EINVAL for a feature name QEMU could misparse (only
 * [A-Za-z0-9_.-] allowed) or a topology QEMU cannot express. */
int qemu_args_build(const struct qemu_args_in *in, struct strv *out);

/* The tail every guest architecture's command line ends with: QMP on
 * fd_qmp, QEMU's cpu_reset log to fd_log, QEMU's own -sandbox. 0 or
 * -ENOMEM. */
int qemu_args_control(int fd_qmp, int fd_log, struct strv *out);

/* Split memory_mb over nodes (the last node takes the remainder). */
void qemu_split_memory(uint32_t memory_mb, uint32_t nodes, uint64_t *node_mb);

/* One QMP line: {"event": "SHUTDOWN", "data": {"reason": "guest-reset", ...}}.
 * Fills event/reason (empty strings when absent). Returns true when the line
 * is an event. QMP event names and reasons are plain identifiers. */
struct qemu_qmp_event {
	char event[48];
	char reason[48];
};
bool qemu_qmp_parse_event(const char *line, struct qemu_qmp_event *ev);

/* The liveness probe sent at the watchdog deadline, before a TIMEOUT is
 * blamed on the guest: a QEMU that was stopped (SIGSTOP) or hung answers
 * nothing, and that is the engine's failure, not the guest's. */
#define QEMU_QMP_LIVENESS_ID "ktstr-live"
#define QEMU_QMP_LIVENESS_QUERY "{\"execute\":\"query-status\",\"id\":\"" QEMU_QMP_LIVENESS_ID "\"}\n"
#define QEMU_QMP_LIVENESS_MS 2000
/* True when line is the reply to QEMU_QMP_LIVENESS_QUERY; its run state
 * ("running", "paused", ...) in status. */
bool qemu_qmp_parse_status_reply(const char *line, char *status, size_t len);

/* The outcome from what the engine saw. */
struct qemu_seen {
	bool triple_fault;	/* "Triple fault" in QEMU's cpu_reset log */
	bool panic;		/* "Kernel panic - not syncing" on COM1 */
	bool shutdown_event;
	char shutdown_reason[48];
	bool unexpected_stop;	/* QMP STOP not caused by us or a shutdown */
	bool unresponsive;	/* no answer to the liveness probe at the deadline */
	char live_status[32];	/* the probe's answer when not "running" */
	bool exited;		/* QEMU exited by itself */
	int exit_status;	/* wait status when exited */
};
Ktstr__Outcome qemu_outcome(const struct qemu_seen *s);

/* The QEMU binary per guest architecture when VmSpec.qemu_binary is unset. */
#define QEMU_BINARY_X86_64 "qemu-system-x86_64"
#define QEMU_BINARY_ARM64 "qemu-system-aarch64"

/* Resolve the QEMU binary (a path, or a name looked up on $PATH) before any
 * confinement. Returns 0 or -ENOENT / -errno from access(). */
int qemu_find_binary(const char *name, char *out, size_t outlen);

/* Guest RAM: one memfd per NUMA node (owned here, CLOEXEC, handed to QEMU by
 * ktstr_spawn) and the worker's own mapping of the SHM region. */
struct qemu_mem {
	uint32_t nodes;
	int fd[QEMU_MAX_NODES];
	uint64_t size[QEMU_MAX_NODES];
	void *shm;		/* mapping of [shm_base, +shm_size) or NULL */
	size_t shm_size;
	/* The monitor's view of guest RAM (qemu_mem_map_ram): node i, shared,
	 * at guest-physical sum(size[0..i)); NULL = not mapped. */
	uint8_t *ram[QEMU_MAX_NODES];
};
int qemu_mem_create(struct qemu_mem *m, uint32_t nodes, const uint64_t *node_mb);
/* Map the SHM region (guest physical shm_base) from the node that holds it.
 * -ERANGE if it straddles nodes, -EINVAL if not page aligned. */
int qemu_mem_map_shm(struct qemu_mem *m, uint64_t shm_base, uint32_t shm_size);
void qemu_mem_destroy(struct qemu_mem *m);
/* Map every node for the host-side monitor (shared: what the guest wrote,
 * and the one watchdog write back). Touches no page. 0 or -errno. */
int qemu_mem_map_ram(struct qemu_mem *m);
/* Guest-physical access through those mappings, for the monitor
 * (kaddr_read_fn / vm_monitor_write_fn): 0, or -EFAULT outside RAM. */
int qemu_mem_read(void *ctx, uint64_t gpa, void *buf, size_t len);
int qemu_mem_write(void *ctx, uint64_t gpa, const void *buf, size_t len);
uint64_t qemu_mem_total(const struct qemu_mem *m);

/* A new memfd holding base_fd's contents (if >= 0) then suffix; *out_fd = -1
 * when both are empty. base_fd is copied with sendfile, from offset 0 (its
 * own offset is left alone): a regular file or a memfd. The caller owns
 * *out_fd. */
int qemu_initrd_build(int base_fd, const uint8_t *suffix, size_t suffix_len, int *out_fd);

/* Lowest guest-physical address the SHM ring may take: above the kernel
 * QEMU loads at 16 MiB (a vmlinux's image ends well below this). */
#define QEMU_SHM_FLOOR (128ull << 20)

/* Guest-physical base of the SHM ring for a VM of ram_bytes whose initrd is
 * initrd_size bytes (0: none) and whose kernel caps the initrd at
 * initrd_addr_max (0: no cap, a vmlinux): below every byte QEMU's loader
 * may copy the initrd to, and below the firmware reserve
 * (qemu_shm_place.c says why). 0 when it does not fit above QEMU_SHM_FLOOR. */
uint64_t qemu_shm_place(uint64_t ram_bytes, uint64_t initrd_size, uint32_t initrd_addr_max,
			uint32_t shm_size);

/* The bzImage header's initrd_addr_max of the kernel in kernel_fd (read
 * with pread), or 0 for a vmlinux ELF. 0 or -errno. */
int qemu_kernel_initrd_max(int kernel_fd, uint32_t *initrd_addr_max);

#endif
