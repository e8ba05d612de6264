/* What each role must never do after confinement, named one by one: the
 * calls an attacker who owns a confined thread would try first. Each runs in
 * a fresh child and must die of SIGSYS (wait status: signal 31, a shell
 * shows exit 159). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/memfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "child.h"

#define FAKE_CHILD_PID 4194300

enum attack {
	ATK_OPEN,		/* legacy open("/etc/passwd") */
	ATK_OPENAT_RDONLY,	/* openat(AT_FDCWD, "/etc/passwd", O_RDONLY) */
	ATK_OPENAT_CREATE,	/* openat(AT_FDCWD, "/tmp/x", O_CREAT|O_WRONLY) */
	ATK_EXECVE,
	ATK_EXECVEAT,
	ATK_SOCKET,
	ATK_CONNECT,
	ATK_MMAP_EXEC,
	ATK_MPROTECT_EXEC,
	ATK_FORK,		/* clone(SIGCHLD): a new process */
	ATK_CLONE3,
	ATK_PTRACE,
	ATK_KILL_INIT,		/* kill(1, 0) */
	ATK_TGKILL_OTHER,	/* tgkill(1, 1, 0) */
	ATK_X32_GETPID,		/* x32 ABI number for an allowed syscall */
	ATK_I386_GETPID,	/* int 0x80: the i386 table */
	ATK_KVM_CREATE_VM,	/* ioctl(-1, KVM_CREATE_VM) */
	ATK_KVM_SET_USER_MEMORY,/* remap guest memory from a vCPU thread */
	ATK_UNSHARE,
	ATK_PRCTL,
	ATK_MEMFD_EXEC,		/* memfd_create without sealing/cloexec */
	ATK_RENAME_OUTSIDE,	/* renameat from AT_FDCWD */
	ATK_SETUID,
	ATK_BPF,
	ATK_DUP,		/* fd numbers other than the ones handed over */
	ATK_COUNT
};

static const char *const atk_name[ATK_COUNT] = {
	"open", "openat(O_RDONLY)", "openat(O_CREAT)", "execve", "execveat", "socket", "connect",
	"mmap(PROT_EXEC)", "mprotect(PROT_EXEC)", "fork", "clone3", "ptrace", "kill(1)",
	"tgkill(other)", "x32 getpid", "int 0x80 getpid", "KVM_CREATE_VM", "KVM_SET_USER_MEMORY_REGION",
	"unshare", "prctl", "memfd_create(no seal)", "renameat(cwd)", "setuid", "bpf", "dup",
};

struct attack_arg {
	enum sandbox_role role;
	enum attack atk;
	int cache_dirfd;
};

static void attack_child(void *p)
{
	struct attack_arg *a = p;
	static char page[4096] __attribute__((aligned(4096)));
	char *const argv[] = { "/bin/true", NULL };

	child_confine(a->role, FAKE_CHILD_PID, a->cache_dirfd);
	switch (a->atk) {
	case ATK_OPEN: syscall(SYS_open, "/etc/passwd", O_RDONLY); break;
	case ATK_OPENAT_RDONLY: syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); break;
	case ATK_OPENAT_CREATE: syscall(SYS_openat, AT_FDCWD, "/tmp/ktstr-sb-x", O_CREAT | O_WRONLY, 0600); break;
	case ATK_EXECVE: syscall(SYS_execve, "/bin/true", argv, NULL); break;
	case ATK_EXECVEAT: syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, NULL, 0); break;
	case ATK_SOCKET: syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); break;
	case ATK_CONNECT: syscall(SYS_connect, -1, NULL, 0); break;
	case ATK_MMAP_EXEC:
		syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case ATK_MPROTECT_EXEC: syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_EXEC); break;
	case ATK_FORK: syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); break;
	case ATK_CLONE3: syscall(SYS_clone3, NULL, 0); break;
	case ATK_PTRACE: syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0); break;
	case ATK_KILL_INIT: syscall(SYS_kill, 1, 0); break;
	case ATK_TGKILL_OTHER: syscall(SYS_tgkill, 1, 1, 0); break;
	case ATK_X32_GETPID: syscall(0x40000000 | SYS_getpid); break;
	case ATK_I386_GETPID: {
		long ret;

		/* __NR_getpid is 20 in the i386 table */
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		(void)ret;
		break;
	}
	case ATK_KVM_CREATE_VM: syscall(SYS_ioctl, -1, KVM_CREATE_VM, 0); break;
	case ATK_KVM_SET_USER_MEMORY: syscall(SYS_ioctl, -1, KVM_SET_USER_MEMORY_REGION, 0); break;
	case ATK_UNSHARE: syscall(SYS_unshare, CLONE_NEWUSER); break;
	case ATK_PRCTL: syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0); break;
	case ATK_MEMFD_EXEC: syscall(SYS_memfd_create, "x", 0); break;
	case ATK_RENAME_OUTSIDE: syscall(SYS_renameat, AT_FDCWD, "/tmp/a", AT_FDCWD, "/tmp/b"); break;
	case ATK_SETUID: syscall(SYS_setuid, 0); break;
	case ATK_BPF: syscall(SYS_bpf, 0, NULL, 0); break;
	case ATK_DUP: syscall(SYS_dup, 2); break;
	case ATK_COUNT: break;
	}
	_exit(CHILD_EXIT_OK);
}

/* Attacks that a role legitimately allows in the form probed. */
static bool allowed_for(enum sandbox_role role, enum attack atk)
{
	return role == SANDBOX_ROLE_BUILDER && atk == ATK_OPENAT_RDONLY;
}

static void check_attacks(enum sandbox_role role)
{
	int dirfd = role == SANDBOX_ROLE_BUILDER ? open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC) : -1;
	char st[64];
	bool timed_out;

	for (int atk = 0; atk < ATK_COUNT; atk++) {
		struct attack_arg a = { .role = role, .atk = (enum attack)atk, .cache_dirfd = dirfd };
		int status;

		if (allowed_for(role, (enum attack)atk))
			continue;
		status = child_run(attack_child, &a, &timed_out);
		cr_expect(killed_by_sigsys(status), "%s: %s after confinement: child %s, expected SIGSYS",
			  sandbox_role_name(role), atk_name[atk], wait_text(status, st, sizeof(st)));
	}
	if (dirfd >= 0)
		close(dirfd);
}

Test(sandbox_forbidden, worker_vcpu) { check_attacks(SANDBOX_ROLE_WORKER_VCPU); }
Test(sandbox_forbidden, worker_ctl) { check_attacks(SANDBOX_ROLE_WORKER_CTL); }
Test(sandbox_forbidden, builder) { check_attacks(SANDBOX_ROLE_BUILDER); }

/* The builder reads host files, but only read-only: the same open with a
 * write flag dies, and creating works only through the cache dir fd. */
struct builder_io { int dirfd; int mode; };

static void builder_io_child(void *p)
{
	struct builder_io *b = p;
	int fd;

	child_confine(SANDBOX_ROLE_BUILDER, 0, b->dirfd);
	switch (b->mode) {
	case 0: /* read a host file */
		fd = openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
		_exit(fd >= 0 ? CHILD_EXIT_OK : CHILD_EXIT_PROBE_FAILED);
	case 1: /* create below the cache dir, then remove it */
		fd = openat(b->dirfd, "entry.tmp", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, "x", 1) != 1)
			_exit(CHILD_EXIT_PROBE_FAILED);
		if (renameat(b->dirfd, "entry.tmp", b->dirfd, "entry") < 0 ||
		    unlinkat(b->dirfd, "entry", 0) < 0)
			_exit(CHILD_EXIT_PROBE_FAILED);
		_exit(CHILD_EXIT_OK);
	case 2: /* sealed memfd, as the image travels */
		fd = memfd_create("ktstr-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, 4096) < 0 ||
		    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
			_exit(CHILD_EXIT_PROBE_FAILED);
		_exit(CHILD_EXIT_OK);
	case 3: /* write-open of a host file */
		openat(AT_FDCWD, "/etc/passwd", O_WRONLY | O_CLOEXEC);
		_exit(CHILD_EXIT_OK);
	}
	_exit(CHILD_EXIT_PROBE_FAILED);
}

Test(sandbox_forbidden, builder_reads_host_files_and_writes_only_its_cache)
{
	char tmpl[] = "/tmp/ktstr-sb-cache-XXXXXX", st[64];
	bool timed_out;
	struct builder_io b;
	int status;

	cr_assert_not_null(mkdtemp(tmpl));
	b.dirfd = open(tmpl, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	cr_assert_geq(b.dirfd, 0);
	for (b.mode = 0; b.mode <= 2; b.mode++) {
		status = child_run(builder_io_child, &b, &timed_out);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "builder mode %d: child %s",
			  b.mode, wait_text(status, st, sizeof(st)));
	}
	b.mode = 3;
	status = child_run(builder_io_child, &b, &timed_out);
	cr_expect(killed_by_sigsys(status), "builder write-open of /etc/passwd: child %s",
		  wait_text(status, st, sizeof(st)));
	close(b.dirfd);
	rmdir(tmpl);
}
