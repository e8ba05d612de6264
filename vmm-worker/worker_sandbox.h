/* Private to ktstr-vmm-worker: the worker's confinement bookkeeping, shared
 * by main.c and the engines (docs/security.md, "ktstr-vmm-worker"). */
#ifndef KTSTR_WORKER_SANDBOX_H
#define KTSTR_WORKER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* main.c owns some fds for the whole run (0-2, the control socket, the kernel
 * and initrd fds, interactive stdin/stdout, the pre-opened /proc/self/status).
 * It declares them here once, before it calls an engine; an engine adds the
 * fds it still holds when it confines, so the fd inventory names exactly
 * what the confined worker may keep. main.c declares at most 16; an engine
 * at most WORKER_SB_MAX_FDS (the KVM engine: /dev/kvm, the VM and one fd per
 * vCPU). */
#define WORKER_SB_MAX_FDS 1024
void worker_sandbox_set_main_fds(const int *fds, size_t n);

/* What every engine says when the worker cannot be confined: the step that
 * failed is in `why`; this is the what/hint pair of the ENGINE_ERROR. */
#define WORKER_SB_WHAT "confine ktstr-vmm-worker before the guest runs"
#define WORKER_SB_HINT                                                                  \
	"fix the host as the error says, or set VmSpec.insecure_no_sandbox to run this " \
	"VM unconfined (its VmResult then says sandboxed: false)"

/* Check that only main.c's fds and engine_fds[0..n) are open. Part of
 * worker_sandbox_confine(); called on its own by an engine that enters an
 * empty root (SANDBOX_NS_EMPTY_ROOT hides /proc, so the check must come
 * first). Returns 0 or -EBADFD/-errno with err naming each unexpected fd. */
int worker_sandbox_fd_check(const int *engine_fds, size_t n, char *err, size_t len);

/* Before the guest runs and, for the KVM engine, before any thread exists
 * (a user namespace needs a single-threaded process): enter the worker's
 * namespaces (SANDBOX_NS_*: the QEMU engine passes SANDBOX_NS_DEFAULT |
 * SANDBOX_NS_PID so QEMU is pid 1 of its own pid namespace; the KVM engine
 * SANDBOX_NS_DEFAULT | SANDBOX_NS_EMPTY_ROOT), then drop every capability and
 * set no_new_privs. Threads and children created afterwards inherit both,
 * so QEMU is exec'd unprivileged and vCPU threads need only load their own
 * filter. Returns 0 or -errno with err naming the step; the worker must then
 * refuse the VM. */
int worker_sandbox_prepare(unsigned ns_flags, char *err, size_t len);

/* Load the WORKER_CTL policy (with policy_flags: SANDBOX_POLICY_TSYNC for the
 * single-threaded QEMU worker; 0 for the KVM control thread, whose vCPU
 * threads load WORKER_VCPU themselves) after checking the fd inventory
 * (main.c's fds + engine_fds[0..n); engine_fds == NULL skips the check, for
 * an engine that ran worker_sandbox_fd_check() before an empty root).
 * child_pid is the one child the worker may signal and reap (QEMU), or 0.
 * From this call on the calling thread (all threads with TSYNC) cannot open,
 * exec, fork or create sockets. Returns 0 or -errno with err saying which step
 * failed and why (the process must then not run the guest). */
int worker_sandbox_confine(pid_t child_pid, const int *engine_fds, size_t n, unsigned policy_flags,
			   char *err, size_t len);

/* True once worker_sandbox_confine() succeeded in this process. */
bool worker_sandboxed(void);

#endif
