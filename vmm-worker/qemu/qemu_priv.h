/* Private to the QEMU engine's phase files. qemu_engine_run() (qemu_engine.c)
 * runs the phases in the order docs/security.md ("QEMU engine") requires:
 *   qemu_launch.c   setup: guest RAM, SHM ring, initrd, kernel, sockets,
 *                   argv; later the spawn of QEMU, paused (-S);
 *   qemu_confine.c  namespaces + QEMU's Landlock ruleset before the spawn,
 *                   the worker's WORKER_CTL policy after it, then QMP "cont";
 *   qemu_loop.c     run: the watch loop until something ends the VM;
 *   qemu_io.c       what the loop reads: serial ports, QMP, log, stderr, ring;
 *   qemu_collect.c  collect: kill, reap, drain, outcome and error text.
 * One struct qemu_vm per VM, on qemu_engine_run()'s stack. */
#ifndef KTSTR_QEMU_PRIV_H
#define KTSTR_QEMU_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ktstr/ring.h>

#include "engine.h"
#include "qemu.h"

/* ktstr_spawn passes at most 16 fds: 6 fixed ones (QMP, COM1, COM2, log,
 * kernel, initrd) + one memfd per node; an arm64 guest's device tree is a
 * seventh, so it gets one node less. */
#define QEMU_SPAWN_MAX_NODES 10u
#define QEMU_SPAWN_MAX_NODES_ARM64 (QEMU_SPAWN_MAX_NODES - 1u)

#define QEMU_ERR_TAIL 2048 /* bytes of QEMU's stderr kept for the error */

/* Worker-side fds while QEMU runs, indexes into qemu_vm.fd[]. COM1..ERR are
 * QEMU's (drained after it exits, in this order); CTL and STDIN are main.c's. */
enum { Q_COM1, Q_COM2, Q_QMP, Q_LOG, Q_ERR, Q_PID, Q_CTL, Q_STDIN, Q_N };

/* What exists only until QEMU is spawned. Every fd is owned here, CLOEXEC,
 * and -1 once closed; qemu_spawn_paused() hands the worker's ends over to
 * qemu_vm.fd[] and closes the rest, qemu_launch_release() closes whatever an
 * error left behind. */
struct qemu_launch {
	char qemu_path[4096];
	bool use_kvm;
	uint32_t nodes;
	uint64_t node_mb[QEMU_MAX_NODES];
	uint64_t shm_base;	/* guest physical base of the SHM ring, 0 = none */
	int initrd_fd;		/* memfd: base image + suffix, or -1 */
	int kernel_copy;	/* sealed memfd copy of main.c's kernel fd, or -1 */
	int dtb_fd;		/* arm64: sealed memfd of ktstr's device tree, or -1 */
	int llfd;		/* QEMU's Landlock ruleset, or -1 (none/unsupported) */
	int pairs[3][2];	/* QMP, COM1, COM2 socketpairs: [0] worker, [1] QEMU */
	int logp[2];		/* QEMU's cpu_reset log: [0] worker reads, [1] QEMU */
	int errp[2];		/* QEMU's stderr, likewise */
	int keep[8 + QEMU_MAX_NODES]; /* fds QEMU gets as 3, 4, ...: not owned */
	size_t nkeep;
	struct strv argv;	/* owned; freed by qemu_launch_release() */
	char cmdline[QEMU_CMDLINE_MAX];
};

struct qemu_vm {
	const struct vm_inputs *in;
	struct vm_capture *cap;
	struct vm_end *end;
	bool confine;		/* !spec.insecure_no_sandbox */
	int fd[Q_N];		/* worker-side fds, -1 when closed (CTL, STDIN: main.c's) */
	pid_t pid;		/* QEMU; 0 before the spawn and once reaped */
	struct qemu_mem mem;	/* guest RAM memfds (closed after the spawn), SHM mapping */
	struct ktstr_ring ring;
	bool ring_ok;
	struct qemu_launch l;
	struct qemu_seen seen;
	Ktstr__Outcome forced;	/* what the loop ended the VM for; UNKNOWN = QEMU ended it */
	char qmp_line[4096];
	size_t qmp_len;
	uint64_t live_asked_us;	/* liveness probe sent (0 = not yet) */
	char live_reply[32];	/* its answer, "" until it comes */
	char log_carry[32];	/* end of the previous log chunk, for split markers */
	size_t log_carry_len;
	char err_tail[QEMU_ERR_TAIL];
	size_t err_len;
	uint64_t stop_event_us;
};

/* Hand fd to QEMU: the number QEMU sees it as (3, 4, ... in the order
 * kept; keep[] is sized for every caller's count). */
static inline int qemu_keep(struct qemu_launch *l, int fd)
{
	l->keep[l->nkeep] = fd;
	return 3 + (int)l->nkeep++;
}

/* The fds every guest architecture's QEMU gets first, in this order
 * (qemu_launch.c): QMP, COM1, COM2, the cpu_reset log, the kernel, the
 * initrd (*initrd = -1 when none). Starts the list afresh. */
void qemu_keep_common(struct qemu_vm *q, int *qmp, int *com1, int *com2, int *log, int *kernel,
		      int *initrd);


/* qemu_engine.c */
void qemu_set_error(struct vm_end *end, int err, const char *what, const char *why,
		    const char *hint);
void qemu_copy_text(char *dst, size_t len, const char *src);
void qemu_close_fd(int *fd);

/* qemu_launch.c. Each returns 0 or -errno with end's error set. */
int qemu_launch_check(struct qemu_vm *q);
int qemu_launch_setup(struct qemu_vm *q);
int qemu_spawn_paused(struct qemu_vm *q);
void qemu_launch_init(struct qemu_launch *l);
void qemu_launch_release(struct qemu_launch *l);
/* Setup steps both guest architectures share (qemu_launch.c). */
int qemu_launch_memory(struct qemu_vm *q);
int qemu_launch_images(struct qemu_vm *q);
int qemu_launch_channels(struct qemu_launch *l);
/* The steps every guest architecture's launch shares, each setting q's
 * error with what to do when it fails (qemu_launch.c): the guest command
 * line into l->cmdline (memmap: reserve the ring with memmap=, x86's E820
 * way), the channels, and the argv in the debug log. */
int qemu_launch_cmdline(struct qemu_vm *q, bool memmap);
int qemu_launch_open_channels(struct qemu_vm *q);
void qemu_log_argv(const struct qemu_launch *l);

/* qemu_launch_arm64.c: the arm64 guest's check and setup, in place of the
 * x86 ones (qemu_launch_check / qemu_launch_setup dispatch on
 * VmSpec.arch). Each returns 0 or -errno with end's error set. */
int qemu_arm64_launch_check(struct qemu_vm *q);
int qemu_arm64_launch_setup(struct qemu_vm *q);

/* qemu_confine.c. Each returns 0 or -errno with end's error set. */
int qemu_confine_prepare(struct qemu_vm *q);
int qemu_confine_worker(struct qemu_vm *q);
int qemu_start_guest(struct qemu_vm *q);

/* qemu_io.c */
bool qemu_pump(struct qemu_vm *q, int idx);
void qemu_ring_drain(struct qemu_vm *q, bool live);

/* qemu_loop.c: sets q->forced; forgets main.c's fds before returning. */
void qemu_loop_run(struct qemu_vm *q);

/* qemu_collect.c */
void qemu_kill_group(struct qemu_vm *q);
void qemu_reap(struct qemu_vm *q);
void qemu_collect(struct qemu_vm *q);

#endif
