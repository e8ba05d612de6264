/* Privilege separation for the ktstr host processes (libktstr-sandbox.a).
 *
 * Every confined process reduces its privileges in one monotonic sequence
 * and fails closed: a step that cannot be applied is an error, never a
 * warning, unless the caller passed an explicit insecure opt-out (which every
 * report then shows). The order, done by sandbox_confine():
 *
 *   1. (caller) open everything the role needs: /dev/kvm, VM and vCPU fds,
 *      the kernel fd, the initramfs memfd, /proc/self/statm, sockets; spawn
 *      QEMU; pin threads. Nothing after step 5 may open a file.
 *   2. namespaces (user, mount, net, ipc; optional pid and empty root). A new
 *      user namespace hands the process a full capability set *inside* it,
 *      which is why capabilities are dropped after this step, not before.
 *   3. drop capabilities: effective, permitted, inheritable, ambient and the
 *      bounding set, except the ones the caller keeps.
 *   4. PR_SET_NO_NEW_PRIVS: no exec can ever regain privilege.
 *   5. fd inventory: only the fds the caller declared are open.
 *   6. seccomp allow-list of the role (default action: kill the process).
 *
 * Roles are data: one policy file per role (policy_*.c), each allowed
 * syscall with a comment naming who needs it. */
#ifndef KTSTR_SANDBOX_H
#define KTSTR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/capability.h>

enum sandbox_role {
	/* ktstr-vmm-worker control thread (KVM engine) and the whole worker
	 * (QEMU engine, after QEMU was spawned): event loop, frames to the
	 * orchestrator, ring drain, watchdog, signals to its own threads and
	 * to the one child it spawned. */
	SANDBOX_ROLE_WORKER_CTL = 0,
	/* A vCPU thread of the KVM engine: KVM_RUN and the few vCPU/VM ioctls
	 * that exit handling needs. Treated as running hostile code. */
	SANDBOX_ROLE_WORKER_VCPU = 1,
	/* ktstr-initramfs-builder: reads host files read-only, builds cpio
	 * archives into sealed memfds, writes only below its cache dir fd. */
	SANDBOX_ROLE_BUILDER = 2,
	SANDBOX_ROLE_COUNT
};

/* sandbox_load_policy() flags. */
#define SANDBOX_POLICY_TSYNC 0x1u /* apply to every thread of the process */

/* sandbox_enter_namespaces() flags. */
#define SANDBOX_NS_USER 0x01u
#define SANDBOX_NS_MOUNT 0x02u
#define SANDBOX_NS_NET 0x04u
#define SANDBOX_NS_IPC 0x08u
#define SANDBOX_NS_PID 0x10u /* only children (e.g. QEMU) enter it */
#define SANDBOX_NS_UTS 0x20u
/* With SANDBOX_NS_MOUNT: pivot into an empty read-only tmpfs so no host path
 * resolves any more, even through a file-opening bug. Only for roles that
 * need no filesystem after setup (the KVM worker). */
#define SANDBOX_NS_EMPTY_ROOT 0x40u
/* What a worker uses by default. */
#define SANDBOX_NS_DEFAULT (SANDBOX_NS_USER | SANDBOX_NS_MOUNT | SANDBOX_NS_NET | SANDBOX_NS_IPC | SANDBOX_NS_UTS)

struct sandbox_opts {
	/* fds that may be open when the policy is loaded (0,1,2 included only
	 * if listed). NULL/0 skips the inventory check. */
	const int *allowed_fds;
	size_t n_allowed_fds;
	/* Capabilities kept (normally none). */
	const cap_value_t *keep_caps;
	size_t n_keep_caps;
	/* SANDBOX_NS_* to enter; 0 = none. */
	unsigned ns_flags;
	/* Explicit insecure opt-out: a namespace the host cannot provide is
	 * skipped (and recorded in the result) instead of failing. Never set
	 * this silently; the caller must report it. */
	bool ns_best_effort;
	/* SANDBOX_POLICY_* for the seccomp step. */
	unsigned policy_flags;
	/* WORKER_CTL: the one child this process may signal and reap (QEMU),
	 * or 0 for none. */
	pid_t child_pid;
	/* BUILDER: directory fd below which the builder may create files (disk
	 * cache), or -1 for none. */
	int cache_dirfd;
	/* Out (may be NULL): SANDBOX_NS_* actually entered. */
	unsigned *ns_entered;
	/* A Landlock ruleset (sandbox_landlock_ruleset) enforced after
	 * no_new_privs and before seccomp, or -1 for none. Borrowed: list it
	 * in allowed_fds; the caller closes it afterwards. */
	int landlock_fd;
};

/* Initialise *o to the strict defaults for a role: no fds checked, no caps
 * kept, no namespaces, per-thread policy, no child, no cache dir. */
void sandbox_opts_init(struct sandbox_opts *o);

/* What the host supports. Filled by sandbox_host_probe(). */
struct sandbox_host_support {
	bool seccomp_filter;	/* kernel has seccomp filter mode */
	bool seccomp_kill_process; /* libseccomp+kernel support KILL_PROCESS */
	bool seccomp_tsync;	/* TSYNC usable */
	bool user_ns;		/* this process may create a user namespace */
	bool running_as_root;	/* euid 0 */
	char missing[512];	/* human-readable: what is missing and how to fix */
};

/* Inspect /proc/self/status, /proc/sys/user/max_user_namespaces,
 * /proc/sys/kernel/unprivileged_userns_clone (Debian) and
 * /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu) and the
 * libseccomp API level. Never fails; absent facts read as unsupported. */
void sandbox_host_probe(struct sandbox_host_support *s);

/* Check that exactly the fds in allowed[0..n) (plus none other) are open.
 * Returns 0, or -EBADFD with err naming each unexpected fd and what it points
 * to (readlink of /proc/self/fd/N), or another -errno if /proc is unreadable.
 * Allowed fds that are not open are not an error. */
int sandbox_fd_inventory_check(const int *allowed, size_t n, char *err, size_t len);

/* Set FD_CLOEXEC on every open fd >= 3, so nothing leaks into a later exec
 * unless a spawn passes it explicitly. Returns 0 or -errno. */
int sandbox_fds_cloexec(char *err, size_t len);

/* Drop every capability except keep[0..n): bounding set first (needs
 * CAP_SETPCAP, skipped if already empty), then ambient, then
 * inheritable/permitted/effective. Returns 0 or -errno. */
int sandbox_drop_caps(const cap_value_t *keep, size_t n);

/* prctl(PR_SET_NO_NEW_PRIVS, 1) and verify it reads back as 1. */
int sandbox_no_new_privs(void);

/* Enter the namespaces in flags (SANDBOX_NS_*) with unshare(2). With
 * SANDBOX_NS_USER the caller's uid/gid map to themselves inside. Must be
 * called before the process creates threads (unshare of a user namespace is
 * refused in a multithreaded process). Fails closed with -errno and a message
 * saying which namespace and how to enable it, unless best_effort is set, in
 * which case unavailable namespaces are skipped and *entered says which were
 * entered. */
int sandbox_enter_namespaces(unsigned flags, bool best_effort, unsigned *entered, char *err,
			     size_t len);

/* Compile and load the role's seccomp allow-list into the calling thread
 * (all threads with SANDBOX_POLICY_TSYNC). o supplies child_pid and
 * cache_dirfd (may be NULL: none). Returns 0 or -errno; err says why. */
int sandbox_load_policy(enum sandbox_role role, unsigned flags, const struct sandbox_opts *o,
			char *err, size_t len);

/* The whole sequence above (steps 2-6) for the calling thread. Returns 0 or
 * -errno with err naming the failed step; on failure the process is in an
 * unknown partial state and must exit (fail closed). */
int sandbox_confine(enum sandbox_role role, const struct sandbox_opts *o, char *err, size_t len);

/* For a process started as root that should run as `user`: set
 * supplementary groups, gid and uid (real, effective and saved), clear
 * PR_SET_KEEPCAPS, and verify that setuid(0) now fails. No-op (0) when not
 * root. Returns 0, -ENOENT for an unknown user, or -errno. */
int sandbox_drop_to_user(const char *user, char *err, size_t len);

/* Landlock (sandbox/landlock.c): path-based limits seccomp cannot express.
 * A rule grants read (+execute, +write) beneath a directory given by path
 * (opened O_PATH; a path this host lacks is skipped) or by fd (fd >= 0). */
struct sandbox_landlock_rule {
	const char *path;
	int fd;
	bool write;
	bool exec;
};
/* The Landlock ABI version this kernel offers, 0 when it has none. */
int sandbox_landlock_abi(void);
/* A ruleset fd (caller closes) handling every filesystem right of this ABI
 * with the given rules, or -errno with err set (-EOPNOTSUPP: no Landlock). */
int sandbox_landlock_ruleset(const struct sandbox_landlock_rule *rules, size_t n, char *err,
			     size_t len);
/* Enforce it on the calling thread and its future children (sets
 * no_new_privs). Async-signal-safe. 0 or -errno. */
int sandbox_landlock_restrict(int ruleset_fd);

/* The rulesets of the two processes that get one (rules and reasons in
 * sandbox/landlock.c): the builder reads anywhere and writes only below
 * cache_dirfd; QEMU reads its system paths and writes nothing (but
 * /dev/kvm when dev_kvm). Same returns as sandbox_landlock_ruleset. */
int sandbox_builder_landlock(int cache_dirfd, char *err, size_t len);
int sandbox_qemu_landlock(bool dev_kvm, char *err, size_t len);

/* Role name for messages ("worker-ctl"). */
const char *sandbox_role_name(enum sandbox_role role);

#endif
