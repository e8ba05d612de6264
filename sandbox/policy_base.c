/* Rules every confined role shares. Each is here because code that runs in
 * every role needs it after confinement: glibc's allocator, pthread
 * synchronisation, klog, clocks, and orderly exit. Nothing here opens,
 * executes, connects or maps executable memory. */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <fcntl.h>

#include <ktstr/util.h>

#include "policy.h"

const struct sandbox_rule sandbox_base_rules[] = {
	/* I/O on fds opened before confinement */
	SB_ALLOW(read, "frame_recv on the control socket, eventfd/timerfd/pipe reads"),
	SB_ALLOW(write, "klog to stderr, frame_send, eventfd notifications"),
	SB_ALLOW(writev, "glibc stdio on stderr"),
	SB_ALLOW(close, "closing fds received with frames and finished pipes"),
	/* fstat(fd) is newfstatat(fd, "", st, AT_EMPTY_PATH) in glibc 2.33+:
	 * stdio sizes its buffer with it. Only the AT_EMPTY_PATH form: it
	 * reads metadata, it cannot open anything. */
	SB_ALLOW(fstat, "glibc stdio buffer allocation (older glibc)"),
	SB_ALLOW_IF(newfstatat, "glibc fstat() -> stdio buffer allocation", SB_EQ(3, AT_EMPTY_PATH)),

	/* memory: glibc malloc/free, protobuf-c unpack buffers. Never
	 * executable: an attacker that controls data must not get code. */
	SB_ALLOW_IF(mmap, "glibc malloc (large chunks, arenas)", SB_NONE_OF(2, PROT_EXEC)),
	SB_ALLOW_IF(mprotect, "glibc malloc arena growth (PROT_READ|PROT_WRITE only)",
		    SB_NONE_OF(2, PROT_EXEC)),
	SB_ALLOW(munmap, "glibc free of large chunks"),
	SB_ALLOW(mremap, "glibc realloc of large buffers (strbuf, console tail)"),
	SB_ALLOW(brk, "glibc malloc main arena"),
	SB_ALLOW(madvise, "glibc free trimming (MADV_DONTNEED)"),

	/* threads and signals of this process only */
	SB_ALLOW(futex, "pthread mutex/cond/join (capture lock, vCPU start barrier)"),
	SB_ALLOW(rt_sigreturn, "return from the vCPU kick signal handler"),
	SB_ALLOW(rt_sigprocmask, "pthread_sigmask around KVM_RUN / abort()"),
	SB_ALLOW(restart_syscall, "kernel restarts a sleep interrupted by the kick signal"),
	SB_ALLOW(getpid, "klog prefix, abort()"),
	SB_ALLOW(gettid, "pthread_kill, abort()"),
	/* tgkill only into our own thread group: kicks vCPU threads out of
	 * KVM_RUN, and abort() raises SIGABRT with it. Any other pid is
	 * another process and is killed by the default action. */
	SB_ALLOW_IF(tgkill, "pthread_kill to kick vCPU threads, abort()",
		    SB_EQ_DYN(0, SANDBOX_DYN_SELF_PID)),
	/* changes only the calling thread's signal stack */
	SB_ALLOW(sigaltstack, "ASan/UBSan runtime (SAN=1 builds) at thread and process exit"),
	SB_ALLOW(sched_yield, "spin-wait back-off in the ring/vCPU loops"),

	/* time: vDSO normally, a real syscall when the clocksource has no
	 * vDSO support (common in VMs, e.g. kvm_pvm) */
	SB_ALLOW(clock_gettime, "ktstr_now_us/ms, watchdog deadlines; the KVM engine's monitor "
				 "reads each vCPU thread's CPU clock (kvm_engine.c, vcpu_times); "
				 "both engines time each monitor tick with CLOCK_THREAD_CPUTIME_ID "
				 "(vm_monitor.c, no vDSO: always a syscall)"),
	SB_ALLOW(gettimeofday, "glibc time() fallback"),
	SB_ALLOW(clock_nanosleep, "bounded back-off sleeps"),
	SB_ALLOW(nanosleep, "bounded back-off sleeps"),

	/* exit */
	SB_ALLOW(exit, "a thread returning from its start routine"),
	SB_ALLOW(exit_group, "process exit after the VmResult / BuilderReply"),
};

const size_t sandbox_base_nrules = ARRAY_SIZE(sandbox_base_rules);
