/* What each role must never do after confinement, named one by one: the
 * calls an attacker who owns a confined thread would try first. Each runs in
 * a fresh child and must die of SIGSYS (wait status: signal 31, a shell
 * shows exit 159).
 *
 * One attack depends on the host: int 0x80 reaches the kernel's i386 table
 * only where IA32 emulation is built, enabled and delivered by the
 * hypervisor. Elsewhere the instruction faults before any filter runs. The
 * property is the same on every host (no 32-bit syscall from a confined
 * process reaches the kernel), so the test first asks the host, unconfined,
 * what int 0x80 does, and then asserts what is right for that host. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

/* Exit code of a child whose int 0x80 getpid returned its pid: the i386
 * syscall reached the kernel. */
#define CHILD_EXIT_I386_DELIVERED 42

/* A fault must end a child by its own signal, as on the host, not through
 * a sanitizer's SEGV report (ASan builds install a handler). Called before
 * confinement: no policy allows rt_sigaction, and a SIGSYS there would pass
 * the int 0x80 check for the wrong reason. */
static void default_fault_signals(void)
{
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
}

/* __NR_getpid is 20 in the i386 table. */
static long i386_getpid(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret;
}

static void i386_probe_child(void *p)
{
	(void)p;
	default_fault_signals();
	_exit(i386_getpid() == getpid() ? CHILD_EXIT_I386_DELIVERED : CHILD_EXIT_OK);
}

/* What int 0x80 does on this host without any filter: the raw wait status
 * of an unconfined child (exit 42 = delivered, a signal = faulted, exit 0 =
 * returned an error such as -ENOSYS). Probed once per test process. */
static int host_i386_status(void)
{
	static int status = -2;
	bool timed_out;

	if (status == -2)
		status = child_run(i386_probe_child, NULL, &timed_out);
	return status;
}

static bool host_delivers_i386(void)
{
	int st = host_i386_status();

	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_I386_DELIVERED;
}

/* The confined outcome for int 0x80 is right when the syscall never reached
 * the kernel: SIGSYS where the host delivers it, otherwise SIGSYS or the
 * host's own fault, never a normal return. */
static bool i386_confined_ok(int status)
{
	int host = host_i386_status();

	if (killed_by_sigsys(status))
		return true;
	if (host_delivers_i386() || status < 0 || !WIFSIGNALED(status))
		return false;
	return host >= 0 && WIFSIGNALED(host) && WTERMSIG(host) == WTERMSIG(status);
}

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

	default_fault_signals();
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
	case ATK_I386_GETPID:
		if (i386_getpid() == getpid())
			_exit(CHILD_EXIT_I386_DELIVERED);
		break;
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
		if (atk == ATK_I386_GETPID) {
			char hst[64];

			cr_expect(i386_confined_ok(status),
				  "%s: %s after confinement: child %s; unconfined on this host: %s "
				  "(expected SIGSYS, or the host's own fault where it does not "
				  "deliver int 0x80)",
				  sandbox_role_name(role), atk_name[atk], wait_text(status, st, sizeof(st)),
				  wait_text(host_i386_status(), hst, sizeof(hst)));
			continue;
		}
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

/* The host probe itself must be conclusive: a known outcome, stated, so a
 * host that does something new fails here rather than passing vacuously. */
Test(sandbox_forbidden, i386_host_probe_is_conclusive)
{
	int st = host_i386_status();
	char txt[64];

	cr_log_info("int 0x80 getpid unconfined on this host: %s (%s)", wait_text(st, txt, sizeof(txt)),
		    host_delivers_i386() ? "delivered to the i386 table" : "never reaches a syscall");
	cr_assert(st >= 0, "int 0x80 probe: wait failed");
	cr_assert(host_delivers_i386() || (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_OK) ||
			  (WIFSIGNALED(st) && (WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGILL ||
					       WTERMSIG(st) == SIGBUS)),
		  "int 0x80 probe: unexpected outcome %s", txt);
}

/* ---- Landlock: the builder's writes stay below its cache dir ---------- */

/* seccomp lets the builder create, rename and remove files only with its
 * cache dirfd, but an absolute path ignores the dirfd: openat(cache_dirfd,
 * "/tmp/x", O_CREAT) passed the filter and wrote outside the cache. With
 * the builder's Landlock ruleset (as initramfs-builder/main.c confines it)
 * every such escape fails with EACCES, and the cache itself still works. */
struct ll_arg {
	int dirfd;
	char outside[64];
};

static void builder_ll_child(void *p)
{
	struct ll_arg *a = p;
	struct sandbox_opts o;
	char err[512], path[128];
	int llfd = sandbox_builder_landlock(a->dirfd, err, sizeof(err)), fd;

	if (llfd < 0)
		_exit(CHILD_EXIT_SETUP_FAILED);
	sandbox_opts_init(&o);
	o.cache_dirfd = a->dirfd;
	o.landlock_fd = llfd;
	if (sandbox_confine(SANDBOX_ROLE_BUILDER, &o, err, sizeof(err)) < 0)
		_exit(CHILD_EXIT_CONFINE_FAILED);
	close(llfd);
	snprintf(path, sizeof(path), "%s/created", a->outside);
	fd = openat(a->dirfd, path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EACCES)
		_exit(10);
	snprintf(path, sizeof(path), "%s/dir", a->outside);
	if (!mkdirat(a->dirfd, path, 0700) || errno != EACCES)
		_exit(11);
	snprintf(path, sizeof(path), "%s/victim", a->outside);
	if (!unlinkat(a->dirfd, path, 0) || errno != EACCES)
		_exit(12);
	/* Inside the cache: create, rename, remove as the cache does. */
	fd = openat(a->dirfd, "entry.tmp", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || renameat(a->dirfd, "entry.tmp", a->dirfd, "entry"))
		_exit(13);
	close(fd);
	snprintf(path, sizeof(path), "%s/moved", a->outside);
	if (!renameat(a->dirfd, "entry", a->dirfd, path))
		_exit(14);
	if (unlinkat(a->dirfd, "entry", 0))
		_exit(15);
	_exit(CHILD_EXIT_OK);
}

Test(sandbox_forbidden, builder_writes_cannot_leave_the_cache_however_spelled)
{
	struct ll_arg a;
	char cache[] = "/tmp/ktstr-ll-cache-XXXXXX", st[64], victim[128], cmd[256];
	bool timed_out;
	int status, fd;

	if (!sandbox_landlock_abi())
		cr_skip_test("this kernel has no Landlock (the builder then says landlock=false)");
	cr_assert_not_null(mkdtemp(cache));
	snprintf(a.outside, sizeof(a.outside), "/tmp/ktstr-ll-out-XXXXXX");
	cr_assert_not_null(mkdtemp(a.outside));
	snprintf(victim, sizeof(victim), "%s/victim", a.outside);
	fd = open(victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	a.dirfd = open(cache, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	cr_assert_geq(a.dirfd, 0);
	status = child_run(builder_ll_child, &a, &timed_out);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "builder with Landlock: child %s (10 create, 11 mkdir, 12 unlink outside "
		  "succeeded; 13-15 the cache itself failed)",
		  wait_text(status, st, sizeof(st)));
	cr_expect_eq(access(victim, F_OK), 0, "the file outside survived");
	close(a.dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", cache, a.outside);
	cr_assert_eq(system(cmd), 0);
}

/* QEMU's ruleset (vmm-worker/qemu/qemu_launch.c enforces it in QEMU's process
 * before exec): a QEMU taken over by its guest (TCG is no security
 * boundary; QEMU's -sandbox is a deny-list that allows open/write) can read
 * its system paths and write nothing, not the image cache every tenant's
 * VMs read. Was: a file written into the shared cache from QEMU's
 * namespaces as the dropped user. */
struct qemu_ll_arg {
	char cache[64];
};

static void qemu_ll_child(void *p)
{
	struct qemu_ll_arg *a = p;
	char err[512], path[128], buf[16];
	int llfd = sandbox_qemu_landlock(false, err, sizeof(err)), fd;

	if (llfd < 0 || sandbox_landlock_restrict(llfd))
		_exit(CHILD_EXIT_CONFINE_FAILED);
	snprintf(path, sizeof(path), "%s/evil.img", a->cache);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0 || errno != EACCES)
		_exit(10);
	snprintf(path, sizeof(path), "%s/entry.img", a->cache);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		_exit(11); /* an existing image cannot be rewritten */
	if (open("/tmp/ktstr-ll-qemu-x", O_CREAT | O_WRONLY | O_CLOEXEC, 0600) >= 0)
		_exit(12);
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC); /* a system path: readable */
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		_exit(13);
	close(fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC); /* its stdio */
	if (fd < 0)
		_exit(14);
	close(fd);
	fd = memfd_create("guest-ram", MFD_CLOEXEC); /* fds are not paths: usable */
	if (fd < 0 || write(fd, "x", 1) != 1)
		_exit(15);
	_exit(CHILD_EXIT_OK);
}

Test(sandbox_forbidden, qemu_reads_system_paths_and_writes_nothing)
{
	struct qemu_ll_arg a;
	char path[128], st[64], cmd[128];
	bool timed_out;
	int status, fd;

	if (!sandbox_landlock_abi())
		cr_skip_test("this kernel has no Landlock (results then say qemu_landlock=false)");
	snprintf(a.cache, sizeof(a.cache), "/tmp/ktstr-ll-images-XXXXXX");
	cr_assert_not_null(mkdtemp(a.cache));
	snprintf(path, sizeof(path), "%s/entry.img", a.cache);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	cr_assert_geq(fd, 0);
	close(fd);
	status = child_run(qemu_ll_child, &a, &timed_out);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "QEMU's ruleset: child %s (10/11 a cache write, 12 a /tmp write succeeded; "
		  "13-15 what QEMU needs failed)",
		  wait_text(status, st, sizeof(st)));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", a.cache);
	cr_assert_eq(system(cmd), 0);
}
