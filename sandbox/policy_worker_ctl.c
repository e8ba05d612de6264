/* Seccomp policy of the ktstr-vmm-worker control thread (KVM engine) and of
 * the whole worker under the QEMU engine, loaded after QEMU was spawned.
 *
 * After setup the control thread only moves data between fds it already
 * holds: the control socket (frames to/from ktstr-orch), the watchdog
 * timerfd, eventfds from vCPU threads, QEMU's pipes, a pre-opened
 * /proc/self/statm. It signals only its own threads and the one child it
 * spawned (QEMU), and reaps only that child. */
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <linux/kvm.h>

#include <ktstr/util.h>

#include "policy.h"

static const struct sandbox_rule ctl_rules[] = {
	/* event loop */
	/* arm64 has no poll or epoll_wait: its glibc issues ppoll and
	 * epoll_pwait, allowed on every architecture. */
#if defined(__x86_64__)
	SB_ALLOW(poll, "frame_recv timeouts"),
#endif
	SB_ALLOW(ppoll, "main loop: ctl socket + timerfd + eventfds + QEMU pipes"),
#if defined(__x86_64__)
	SB_ALLOW(epoll_wait, "main loop (epoll variant)"),
#endif
	SB_ALLOW(epoll_pwait, "main loop (epoll variant)"),
	SB_ALLOW(epoll_ctl, "main loop: drop a closed QEMU pipe from the set"),
	SB_ALLOW(timerfd_settime, "watchdog: spec.timeout_ms, periodic ring drain"),
	SB_ALLOW(timerfd_gettime, "watchdog: remaining time for reports"),

	/* frames on the control socket (already connected socketpair) */
	SB_ALLOW(recvmsg, "frame_recv: StopVm (SCM_RIGHTS capable)"),
	SB_ALLOW(sendmsg, "frame_send: WorkerEvent / VmResult"),
	SB_ALLOW(recvfrom, "recv() on the control socket"),
	SB_ALLOW(sendto, "send(MSG_NOSIGNAL) on the control socket"),
	SB_ALLOW(shutdown, "half-close the control socket after VmResult"),

	/* fd flags: only flags, never duplication onto new numbers */
	SB_ALLOW_IF(fcntl, "O_NONBLOCK toggles on pipes/sockets", SB_EQ(1, F_GETFL)),
	SB_ALLOW_IF(fcntl, "O_NONBLOCK toggles on pipes/sockets", SB_EQ(1, F_SETFL)),
	SB_ALLOW_IF(fcntl, "close-on-exec checks", SB_EQ(1, F_GETFD)),

	/* resource figures for VmResult */
	SB_ALLOW(getrusage, "worker_cpu_us"),
	SB_ALLOW(pread64, "worker_rss_kb from the pre-opened /proc/self/statm"),
	SB_ALLOW(lseek, "rewind the pre-opened /proc/self/statm"),

	/* the one child (QEMU engine): stop it, reap it */
	SB_ALLOW_IF(kill, "QEMU engine: SIGTERM/SIGKILL QEMU at timeout/stop",
		    SB_EQ_DYN(0, SANDBOX_DYN_CHILD_PID)),
	SB_ALLOW_IF(kill, "QEMU engine: SIGKILL QEMU's process group (qemu/qemu_collect.c)",
		    /* low 32 bits only: kill() takes an int (seccomp.c) */
		    SB_EQ_DYN(0, SANDBOX_DYN_CHILD_PGRP)),
	SB_ALLOW_IF(wait4, "QEMU engine: reap QEMU (waitpid)", SB_EQ_DYN(0, SANDBOX_DYN_CHILD_PID)),
	SB_ALLOW_IF(waitid, "QEMU engine: reap QEMU (waitid P_PID)", SB_EQ(0, P_PID),
		    SB_EQ_DYN(1, SANDBOX_DYN_CHILD_PID)),

#if defined(__x86_64__)
	/* interactive shell: bytes from FD_STDIN enter the guest UART and
	 * the control thread raises its interrupt line on the VM fd */
	SB_ALLOW_IF(ioctl, "interactive: COM2 RX interrupt", SB_EQ32(1, KVM_IRQ_LINE)),
	SB_ALLOW_IF(ioctl, "interactive: COM2 RX interrupt (status variant)",
		    SB_EQ32(1, KVM_IRQ_LINE_STATUS)),
	/* split irqchip (APIC IDs > 254): the COM2 RX line ends in the
	 * user-space IOAPIC, which delivers it as an MSI on the VM fd */
	SB_ALLOW_IF(ioctl, "interactive, split irqchip: COM2 RX interrupt as an MSI",
		    SB_EQ32(1, KVM_SIGNAL_MSI)),
#elif defined(__aarch64__)
	/* arm64 KVM engine: COM2's RX interrupt is SPI 2 on the in-kernel
	 * GICv3, raised on the VM fd; no status variant, no MSIs. */
	SB_ALLOW_IF(ioctl, "interactive: COM2 RX interrupt (SPI 2)", SB_EQ32(1, KVM_IRQ_LINE)),
#endif
};

const struct sandbox_policy sandbox_policy_worker_ctl = {
	.role = SANDBOX_ROLE_WORKER_CTL,
	.name = "worker-ctl",
	.rules = ctl_rules,
	.nrules = ARRAY_SIZE(ctl_rules),
};
