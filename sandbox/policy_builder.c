/* Seccomp policy of ktstr-initramfs-builder.
 *
 * The builder must read host files the orchestrator names (init, scheduler,
 * their shared libraries, /etc/ld.so.cache), so it keeps read-only opens.
 * It may create and write files only through the cache directory fd it was
 * given (relative names below it), and build images in sealed memfds that
 * travel to the orchestrator with SCM_RIGHTS. It cannot exec, connect, fork,
 * or map executable memory. A path-based limit on what it reads needs an LSM
 * (Landlock); docs/security.md says what this leaves open. */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <linux/memfd.h>

#include <ktstr/util.h>

#include "policy.h"

/* Every open flag that could modify or create a file. O_TMPFILE includes
 * O_DIRECTORY, which read-only directory opens legitimately use. */
#define BUILDER_WRITE_FLAGS \
	(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY))

static const struct sandbox_rule builder_rules[] = {
	/* reading host files */
	SB_ALLOW_IF(openat, "reading init/scheduler/libraries/ld.so.cache (read-only)",
		    SB_NONE_OF(2, BUILDER_WRITE_FLAGS)),
	SB_ALLOW_IF(openat, "disk cache: create entries below the cache dir fd",
		    SB_EQ_DYN(0, SANDBOX_DYN_CACHE_DIRFD)),
	SB_ALLOW(newfstatat, "stat of host files (sizes, modes, symlinks)"),
	SB_ALLOW(statx, "stat of host files (newer glibc)"),
	/* arm64 has no readlink: its glibc issues readlinkat (below). */
#if defined(__x86_64__)
	SB_ALLOW(readlink, "PT_INTERP / library symlink resolution"),
#endif
	SB_ALLOW(readlinkat, "PT_INTERP / library symlink resolution"),
	SB_ALLOW(getcwd, "realpath() of relative host paths"),
	SB_ALLOW(getdents64, "listing directories named in FileSpec"),
	SB_ALLOW(faccessat, "library search: does this candidate exist"),
	SB_ALLOW(faccessat2, "library search: does this candidate exist"),
	SB_ALLOW(lseek, "ELF parsing, cpio padding"),
	SB_ALLOW(pread64, "ELF header/section reads"),
	SB_ALLOW(pwrite64, "memfd image writes at offsets"),
	/* Moves bytes between two fds the builder already holds; names nothing. */
	SB_ALLOW(sendfile, "disk cache hit: entry payload into the image memfd, in the kernel"),

	/* the image: a sealed memfd */
	SB_ALLOW_IF(memfd_create, "image memfd (close-on-exec, sealable, never executable)",
		    SB_EQ(1, MFD_CLOEXEC | MFD_ALLOW_SEALING)),
	SB_ALLOW(ftruncate, "size the image memfd"),
	SB_ALLOW_IF(fcntl, "seal the image memfd", SB_EQ(1, F_ADD_SEALS)),
	SB_ALLOW_IF(fcntl, "check seals of a cached memfd", SB_EQ(1, F_GET_SEALS)),
	SB_ALLOW_IF(fcntl, "O_NONBLOCK toggles", SB_EQ(1, F_GETFL)),
	SB_ALLOW_IF(fcntl, "O_NONBLOCK toggles", SB_EQ(1, F_SETFL)),
	SB_ALLOW_IF(fcntl, "close-on-exec checks", SB_EQ(1, F_GETFD)),

	/* disk cache: atomic publish and locking, only below the cache dir */
	SB_ALLOW_IF(renameat, "disk cache: publish a finished entry",
		    SB_EQ_DYN(0, SANDBOX_DYN_CACHE_DIRFD), SB_EQ_DYN(2, SANDBOX_DYN_CACHE_DIRFD)),
	SB_ALLOW_IF(renameat2, "disk cache: publish a finished entry",
		    SB_EQ_DYN(0, SANDBOX_DYN_CACHE_DIRFD), SB_EQ_DYN(2, SANDBOX_DYN_CACHE_DIRFD)),
	SB_ALLOW_IF(unlinkat, "disk cache: drop a partial entry", SB_EQ_DYN(0, SANDBOX_DYN_CACHE_DIRFD)),
	SB_ALLOW_IF(mkdirat, "disk cache: shard directories", SB_EQ_DYN(0, SANDBOX_DYN_CACHE_DIRFD)),
	SB_ALLOW(flock, "disk cache: one builder builds a key, others wait"),
	/* Only flushes what the builder already wrote through an fd it holds:
	 * it cannot create, name or reach any other file. */
	SB_ALLOW(fsync, "disk cache: imgcache_disk_write makes the entry durable before renameat "
			"publishes it, then fsyncs the cache dir fd so the rename survives a crash"),

	/* frames on the control socket */
	/* arm64 has no poll: its glibc issues ppoll. */
#if defined(__x86_64__)
	SB_ALLOW(poll, "frame_recv timeouts"),
#endif
	SB_ALLOW(ppoll, "frame_recv timeouts"),
	SB_ALLOW(recvmsg, "frame_recv: BuilderRequest"),
	SB_ALLOW(sendmsg, "frame_send: BuilderReply with the memfd attached"),
	SB_ALLOW(recvfrom, "recv() on the control socket"),
	SB_ALLOW(sendto, "send(MSG_NOSIGNAL) on the control socket"),
	SB_ALLOW(getrusage, "build_us / CPU figures"),
};

const struct sandbox_policy sandbox_policy_builder = {
	.role = SANDBOX_ROLE_BUILDER,
	.name = "builder",
	.rules = builder_rules,
	.nrules = ARRAY_SIZE(builder_rules),
};
