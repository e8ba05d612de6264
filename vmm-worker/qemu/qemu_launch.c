/* Everything the QEMU engine creates before the worker confines itself:
 * the checks that need nothing, guest RAM and the SHM ring, the initrd and
 * kernel QEMU opens by fd, its sockets and pipes, its argv, and finally
 * QEMU itself, spawned paused (-S) so no guest instruction runs yet.
 * Ownership: struct qemu_launch (qemu_priv.h) until the spawn, then the
 * worker's ends move to qemu_vm.fd[]; guest RAM stays in qemu_vm.mem. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/hostkvm.h>
#include <ktstr/log.h>
#include <ktstr/memfd.h>
#include <ktstr/spawn.h>
#include <ktstr/util.h>

#include "engine.h"
#include "qemu_priv.h"
#include "sandbox.h"

void qemu_launch_init(struct qemu_launch *l)
{
	memset(l, 0, sizeof(*l));
	l->initrd_fd = l->kernel_copy = l->llfd = l->dtb_fd = -1;
	for (int i = 0; i < 3; i++)
		l->pairs[i][0] = l->pairs[i][1] = -1;
	l->logp[0] = l->logp[1] = l->errp[0] = l->errp[1] = -1;
}

void qemu_launch_release(struct qemu_launch *l)
{
	for (int i = 0; i < 3; i++) {
		qemu_close_fd(&l->pairs[i][0]);
		qemu_close_fd(&l->pairs[i][1]);
	}
	qemu_close_fd(&l->logp[0]);
	qemu_close_fd(&l->logp[1]);
	qemu_close_fd(&l->errp[0]);
	qemu_close_fd(&l->errp[1]);
	qemu_close_fd(&l->initrd_fd);
	qemu_close_fd(&l->kernel_copy);
	qemu_close_fd(&l->dtb_fd);
	qemu_close_fd(&l->llfd);
	strv_free(&l->argv);
}

int qemu_launch_check(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct qemu_launch *l = &q->l;
	bool arm64 = spec->arch == KTSTR__ARCH__ARCH_ARM64;
	/* The default binary follows the guest; VmSpec.qemu_binary wins. */
	const char *bin = spec->qemu_binary && *spec->qemu_binary ? spec->qemu_binary
			  : arm64			       ? QEMU_BINARY_ARM64
							       : QEMU_BINARY_X86_64;
	char why[512];
	int rc;

	rc = qemu_find_binary(bin, l->qemu_path, sizeof(l->qemu_path));
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s%s not found or not executable (%s)", bin,
			 strchr(bin, '/') ? "" : " on PATH", strerror(-rc));
		qemu_set_error(q->end, rc, "locate the QEMU binary", why,
			       arm64 ? "install qemu-system-arm (qemu-system-aarch64) or set the "
				       "spec's qemu_binary to its path"
				     : "install qemu-system-x86 or set the spec's qemu_binary to its path");
		return rc;
	}
	if (arm64) {
		/* KVM accelerates only guests of the host's architecture. */
		if (spec->qemu_allow_kvm)
			kinfo("qemu: KVM acceleration allowed, but an arm64 guest on this %s host "
			      "runs under TCG", engine_host_arch());
		snprintf(q->end->engine_detail, sizeof(q->end->engine_detail), "qemu-tcg");
		return qemu_arm64_launch_check(q);
	}
	if (spec->qemu_allow_kvm) {
		const char *k = kvm_engine_kind();
		l->use_kvm = ktstr_kvm_is_hardware(k);
		if (!l->use_kvm)
			kinfo("qemu: KVM acceleration allowed but /dev/kvm is %s; using TCG", k);
	}
	snprintf(q->end->engine_detail, sizeof(q->end->engine_detail), "%s",
		 l->use_kvm ? "qemu-kvm" : "qemu-tcg");

	if (((uint64_t)spec->memory_mb << 20) > GUEST_MMIO_GAP_START) {
		qemu_set_error(q->end, -EINVAL, "lay out guest RAM for QEMU",
			       "the QEMU engine keeps all guest RAM below the 3 GiB PCI hole",
			       "use memory_mb <= 3072 with the QEMU engine, or the KVM engine");
		return -EINVAL;
	}
	l->nodes = spec->topology->numa_nodes;
	if (l->nodes == 0 || l->nodes > QEMU_SPAWN_MAX_NODES) {
		qemu_set_error(q->end, -EINVAL, "lay out guest RAM for QEMU",
			       "numa_nodes out of range for the QEMU engine (1..10: one memfd per node)",
			       "use at most 10 NUMA nodes with the QEMU engine");
		return -EINVAL;
	}
	return 0;
}

/* One memfd per NUMA node, and the monitor's view of them. */
int qemu_launch_memory(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct qemu_launch *l = &q->l;
	int rc;

	qemu_split_memory(spec->memory_mb, l->nodes, l->node_mb);
	rc = qemu_mem_create(&q->mem, l->nodes, l->node_mb);
	if (rc < 0) {
		qemu_set_error(q->end, rc, "create guest RAM memfds", strerror(-rc),
			       "check memory limits (ulimit, cgroup memory.max) and free memory");
		return rc;
	}
	/* The monitor reads guest RAM through the same memfds QEMU maps. A
	 * mapping failure leaves it off, not the VM. An arm64 guest's starts
	 * once its Image's load address is known (qemu_launch_arm64.c). */
	if (spec->kernel_layout && spec->arch != KTSTR__ARCH__ARCH_ARM64) {
		struct ktstr_topo t = vm_spec_topo(spec);

		rc = qemu_mem_map_ram(&q->mem);
		if (rc == 0)
			vm_monitor_start(&q->end->monitor, spec, topo_cpus(&t), qemu_mem_read,
					 qemu_mem_write, &q->mem, qemu_mem_total(&q->mem));
		else
			snprintf(q->end->monitor.off, sizeof(q->end->monitor.off),
				 "cannot map guest RAM for it: %s", strerror(-rc));
	}
	return 0;
}

/* The SHM ring, below the initrd QEMU will copy to the top of low memory
 * (qemu_shm_place.c), mapped by the worker and formatted here, before QEMU
 * or the guest can see it. Runs after launch_images(): the place depends on
 * the assembled initrd's size and on the kernel's initrd_addr_max. */
static int launch_shm(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct qemu_launch *l = &q->l;
	uint64_t mem_bytes = (uint64_t)spec->memory_mb << 20;
	uint64_t initrd_size = 0;
	uint32_t initrd_max = 0;
	struct stat st;
	char why[512];
	int rc;

	if (!spec->shm_size)
		return 0;
	if (l->initrd_fd >= 0) {
		if (fstat(l->initrd_fd, &st) < 0)
			return -errno;
		initrd_size = (uint64_t)st.st_size;
	}
	rc = qemu_kernel_initrd_max(l->kernel_copy >= 0 ? l->kernel_copy : q->in->kernel_fd,
				    &initrd_max);
	if (rc < 0) {
		qemu_set_error(q->end, rc, "read the kernel's setup header", strerror(-rc),
			       "pass a bzImage or a vmlinux ELF");
		return rc;
	}
	l->shm_base = qemu_shm_place(mem_bytes, initrd_size, initrd_max, spec->shm_size);
	if (!l->shm_base) {
		snprintf(why, sizeof(why),
			 "%u MB of guest RAM hold no %u KiB ring between 0x%llx and the %llu KiB "
			 "initrd QEMU copies below the top of RAM",
			 spec->memory_mb, spec->shm_size >> 10, (unsigned long long)QEMU_SHM_FLOOR,
			 (unsigned long long)(initrd_size >> 10));
		qemu_set_error(q->end, -ERANGE, "place the SHM ring", why,
			       "raise memory_mb, or ship fewer or smaller include_files");
		return -ERANGE;
	}
	kdbg("qemu: SHM ring at 0x%llx (+0x%x), below a %llu-byte initrd",
	     (unsigned long long)l->shm_base, spec->shm_size, (unsigned long long)initrd_size);
	rc = qemu_mem_map_shm(&q->mem, l->shm_base, spec->shm_size);
	if (rc == 0)
		rc = ring_format(q->mem.shm, spec->shm_size);
	if (rc == 0)
		rc = ring_attach(&q->ring, q->mem.shm, spec->shm_size);
	if (rc < 0) {
		snprintf(why, sizeof(why), "shm_size 0x%x at 0x%llx in %u MB over %u node(s): %s",
			 spec->shm_size, (unsigned long long)l->shm_base, spec->memory_mb, l->nodes,
			 strerror(-rc));
		qemu_set_error(q->end, rc, "map the SHM ring region", why,
			       "the ring must fit in the last NUMA node's memory: raise "
			       "memory_mb or lower shm_size");
		return rc;
	}
	q->ring_ok = true;
	return 0;
}

/* The initrd (base + per-test suffix) and the kernel, as fds QEMU opens by
 * /proc/self/fd path. Under Landlock only a file that is not reachable by
 * path (a memfd) opens there. The orchestrator hands the kernel as a sealed
 * memfd already; anything else is copied. */
int qemu_launch_images(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	struct qemu_launch *l = &q->l;
	int rc;

	rc = qemu_initrd_build(q->in->initrd_fd,
			       spec->has_initrd_suffix ? spec->initrd_suffix.data : NULL,
			       spec->has_initrd_suffix ? spec->initrd_suffix.len : 0, &l->initrd_fd);
	if (rc < 0) {
		qemu_set_error(q->end, rc, "assemble the initrd (base + suffix) in a memfd",
			       strerror(-rc),
			       "check free memory; the base initramfs fd must be readable");
		return rc;
	}
	if (fcntl(q->in->kernel_fd, F_GET_SEALS) >= 0)
		return 0;
	rc = memfd_sealed_copy("ktstr-kernel", q->in->kernel_fd, KTSTR_KERNEL_IMAGE_MAX);
	if (rc < 0) {
		qemu_set_error(q->end, rc, "copy the kernel into a memfd for QEMU", strerror(-rc),
			       "check free memory and that the kernel file is a regular file");
		return rc;
	}
	l->kernel_copy = rc;
	return 0;
}

/* Pre-connected sockets and pipes: QEMU gets no listening socket and the
 * worker never needs accept(). */
int qemu_launch_channels(struct qemu_launch *l)
{
	for (int i = 0; i < 3; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->pairs[i]) != 0)
			return -errno;
	if (pipe2(l->logp, O_CLOEXEC) != 0 || pipe2(l->errp, O_CLOEXEC) != 0)
		return -errno;
	return 0;
}

void qemu_keep_common(struct qemu_vm *q, int *qmp, int *com1, int *com2, int *log, int *kernel,
		      int *initrd)
{
	struct qemu_launch *l = &q->l;

	l->nkeep = 0;
	*qmp = qemu_keep(l, l->pairs[0][1]);
	*com1 = qemu_keep(l, l->pairs[1][1]);
	*com2 = qemu_keep(l, l->pairs[2][1]);
	*log = qemu_keep(l, l->logp[1]);
	*kernel = qemu_keep(l, l->kernel_copy >= 0 ? l->kernel_copy : q->in->kernel_fd);
	*initrd = l->initrd_fd >= 0 ? qemu_keep(l, l->initrd_fd) : -1;
}

/* The fds QEMU gets, in order (they become 3, 4, ... in the child), and
 * its argv naming them. */
static int launch_argv(struct qemu_vm *q)
{
	struct qemu_launch *l = &q->l;
	struct qemu_args_in ai = { .spec = q->in->spec, .qemu_path = l->qemu_path,
				   .use_kvm = l->use_kvm, .nodes = l->nodes,
				   .cmdline = l->cmdline };
	int rc;

	qemu_keep_common(q, &ai.fd_qmp, &ai.fd_com1, &ai.fd_com2, &ai.fd_log, &ai.fd_kernel,
			 &ai.fd_initrd);
	for (uint32_t i = 0; i < l->nodes; i++) {
		ai.fd_mem[i] = qemu_keep(l, q->mem.fd[i]);
		ai.node_mb[i] = l->node_mb[i];
	}
	rc = qemu_args_build(&ai, &l->argv);
	if (rc < 0) {
		qemu_set_error(q->end, rc, "build QEMU's command line",
			       rc == -EINVAL ? "a cpu_features_off name has characters QEMU would "
					       "misparse, or the topology is invalid"
					     : strerror(-rc),
			       "use plain feature names such as xsave or avx");
		return rc;
	}
	qemu_log_argv(l);
	return 0;
}

int qemu_launch_setup(struct qemu_vm *q)
{
	const Ktstr__VmSpec *spec = q->in->spec;
	int rc;

	if (spec->arch == KTSTR__ARCH__ARCH_ARM64)
		return qemu_arm64_launch_setup(q);
	rc = qemu_launch_memory(q);
	if (rc == 0)
		rc = qemu_launch_images(q);
	if (rc == 0)
		rc = launch_shm(q);
	if (rc < 0)
		return rc;
	rc = qemu_launch_cmdline(q, spec->shm_size != 0);
	if (rc == 0)
		rc = qemu_launch_open_channels(q);
	return rc < 0 ? rc : launch_argv(q);
}

int qemu_launch_cmdline(struct qemu_vm *q, bool memmap)
{
	struct qemu_launch *l = &q->l;
	int rc = guest_cmdline_build(q->in->spec, l->shm_base, memmap, NULL, l->cmdline,
				     sizeof(l->cmdline));

	if (rc < 0)
		qemu_set_error(q->end, rc, "build the guest kernel command line",
			       rc == -ENOSPC ? "longer than the kernel's 2048 bytes"
					     : "cmdline_extra has control characters",
			       "shorten or fix cmdline_extra");
	return rc;
}

int qemu_launch_open_channels(struct qemu_vm *q)
{
	int rc = qemu_launch_channels(&q->l);

	if (rc < 0)
		qemu_set_error(q->end, rc, "create sockets/pipes for QEMU", strerror(-rc),
			       "check the open file limit (ulimit -n)");
	return rc;
}

void qemu_log_argv(const struct qemu_launch *l)
{
	if (klog_get_level() >= KLOG_DEBUG)
		for (size_t i = 0; i < l->argv.n; i++)
			kdbg("qemu argv[%zu] = %s", i, l->argv.v[i]);
}

/* ktstr_spawn's child hook: enforce the Landlock ruleset in QEMU's process
 * before exec (async-signal-safe: a prctl and a syscall). */
static int qemu_landlock_hook(void *arg)
{
	return sandbox_landlock_restrict(*(int *)arg);
}

/* The child ends now live in QEMU only (EOF on ours means QEMU is gone);
 * QEMU holds guest RAM, the initrd and the kernel copy, and the worker needs
 * only its SHM mapping, which outlives the fd: fewer fds, less a confined
 * worker can reach. The pidfd is opened now: the confined worker may wait
 * on it but not open one. */
static void adopt_fds(struct qemu_vm *q)
{
	struct qemu_launch *l = &q->l;

	for (int i = 0; i < 3; i++)
		qemu_close_fd(&l->pairs[i][1]);
	qemu_close_fd(&l->logp[1]);
	qemu_close_fd(&l->errp[1]);
	qemu_close_fd(&l->initrd_fd);
	qemu_close_fd(&l->kernel_copy);
	qemu_close_fd(&l->dtb_fd);
	for (uint32_t i = 0; i < QEMU_MAX_NODES; i++)
		qemu_close_fd(&q->mem.fd[i]);
	q->fd[Q_QMP] = l->pairs[0][0];
	q->fd[Q_COM1] = l->pairs[1][0];
	q->fd[Q_COM2] = l->pairs[2][0];
	l->pairs[0][0] = l->pairs[1][0] = l->pairs[2][0] = -1;
	q->fd[Q_LOG] = l->logp[0];
	q->fd[Q_ERR] = l->errp[0];
	l->logp[0] = l->errp[0] = -1;
	fcntl(q->fd[Q_LOG], F_SETFL, O_NONBLOCK);
	fcntl(q->fd[Q_ERR], F_SETFL, O_NONBLOCK);
	q->fd[Q_PID] = (int)syscall(SYS_pidfd_open, q->pid, 0);
}

int qemu_spawn_paused(struct qemu_vm *q)
{
	static char *const qemu_env[] = { "PATH=/usr/bin:/bin", NULL };
	struct qemu_launch *l = &q->l;
	struct spawn_opts so = { .keep = l->keep, .nkeep = l->nkeep, .env = qemu_env,
				 .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = l->errp[1],
				 .new_pgrp = 1, .pdeathsig = SIGKILL,
				 .child_hook = l->llfd >= 0 ? qemu_landlock_hook : NULL,
				 .child_hook_arg = &l->llfd };
	char why[512];
	int rc;

	rc = ktstr_spawn(l->qemu_path, l->argv.v, &so, &q->pid);
	if (l->llfd >= 0) {
		qemu_close_fd(&l->llfd);
		q->end->qemu_landlock = rc == 0;
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "exec %.200s: %s", l->qemu_path, strerror(-rc));
		qemu_set_error(q->end, rc, "start QEMU", why, "check the QEMU installation");
		q->pid = 0;
		return rc;
	}
	adopt_fds(q);
	return 0;
}
