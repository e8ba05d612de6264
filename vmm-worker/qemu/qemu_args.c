/* QEMU's command line for one ktstr VM. Everything QEMU touches is an fd the
 * worker owns and passed in (/proc/self/fd/N paths, socket fd=N): QEMU opens
 * no file of its own choosing, and the worker keeps a mapping of guest RAM
 * (memory-backend-file on the worker's memfd, share=on) to read the SHM ring
 * live. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/topology.h>

#include "qemu.h"

void qemu_split_memory(uint32_t memory_mb, uint32_t nodes, uint64_t *node_mb)
{
	uint32_t each = memory_mb / nodes;
	for (uint32_t i = 0; i < nodes; i++)
		node_mb[i] = each;
	node_mb[nodes - 1] += memory_mb - each * nodes;
}

/* QEMU splits -cpu options on ',' and '=': a name with either would inject
 * options, so only identifier characters pass. */
static bool feature_name_ok(const char *f)
{
	if (!f || !*f || strlen(f) > 64)
		return false;
	for (; *f; f++) {
		char c = *f;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* Append one argument; on failure return the -errno from the helper (the
 * caller, qemu_args_build, frees what was built). */
#define ADD(...)                                              \
	do {                                                  \
		if ((rc = strv_pushf(out, __VA_ARGS__)) < 0) \
			return rc;                            \
	} while (0)

static int args_machine(const struct qemu_args_in *in, struct strv *out)
{
	int rc;

	ADD("%s", in->qemu_path);
	/* No default devices or config files: the guest sees exactly what is
	 * listed here, and nothing on the host changes it. */
	ADD("-nodefaults");
	ADD("-no-user-config");
	ADD("-display");
	ADD("none");
	ADD("-vga");
	ADD("none");
	/* A guest reset ends QEMU (reported as SHUTDOWN reason guest-reset)
	 * instead of rebooting forever. */
	ADD("-no-reboot");
	/* Start paused: the worker confines itself first and then starts the
	 * guest with QMP "cont", so no guest instruction runs (and no guest
	 * byte reaches the worker) before the worker's seccomp policy is in. */
	ADD("-S");
	ADD("-machine");
	if (in->nodes == 1)
		ADD("pc,memory-backend=m0");
	else
		ADD("pc");
	/* TCG runs single-threaded: QEMU 7.2's multi-threaded TCG races with
	 * Linux's int3-based text patching (static keys flipped by cgroup,
	 * cpuset and sched_ext changes), and about one boot in ten died with
	 * "Oops: int3" / "Fatal exception in interrupt". One thread round-robins
	 * the vCPUs instead; boots take the same time (they are mostly serial)
	 * and the guest's notion of time is unaffected. */
	ADD("-accel");
	ADD("%s", in->use_kvm ? "kvm" : "tcg,thread=single");
	return 0;
}

/* -cpu max minus the features the spec hides. */
static int args_cpu(const Ktstr__VmSpec *spec, struct strv *out)
{
	size_t total = sizeof("max");
	int rc;

	for (size_t i = 0; i < spec->n_cpu_features_off; i++) {
		if (!feature_name_ok(spec->cpu_features_off[i]))
			return -EINVAL;
		total += strlen(spec->cpu_features_off[i]) + 2;
	}
	char *cpuarg = malloc(total);
	if (!cpuarg)
		return -ENOMEM;
	strcpy(cpuarg, "max");
	for (size_t i = 0; i < spec->n_cpu_features_off; i++) {
		strcat(cpuarg, ",-");
		strcat(cpuarg, spec->cpu_features_off[i]);
	}
	rc = strv_push(out, "-cpu");
	if (rc == 0)
		rc = strv_push(out, cpuarg);
	free(cpuarg);
	return rc;
}

/* vCPUs, and guest RAM: one memfd-backed memory backend per NUMA node. */
static int args_memory(const struct qemu_args_in *in, struct strv *out)
{
	const Ktstr__Topology *t = in->spec->topology;
	uint32_t cpus = t->llcs * t->cores_per_llc * t->threads_per_core;
	uint32_t llcs_per_node = t->llcs / t->numa_nodes;
	uint32_t cpus_per_node = llcs_per_node * t->cores_per_llc * t->threads_per_core;
	uint64_t mem_total = 0;
	int rc;

	/* One socket per LLC: QEMU gives each socket its own L3, and numbers
	 * CPUs socket*(cores*threads) + core*threads + thread, which is the
	 * ktstr numbering with socket = LLC. */
	ADD("-smp");
	ADD("%u,sockets=%u,cores=%u,threads=%u", cpus, t->llcs, t->cores_per_llc,
	    t->threads_per_core);
	for (uint32_t i = 0; i < in->nodes; i++)
		mem_total += in->node_mb[i];
	ADD("-m");
	ADD("%lluM", (unsigned long long)mem_total);
	for (uint32_t i = 0; i < in->nodes; i++) {
		ADD("-object");
		ADD("memory-backend-file,id=m%u,size=%lluM,mem-path=/proc/self/fd/%d,share=on", i,
		    (unsigned long long)in->node_mb[i], in->fd_mem[i]);
	}
	if (in->nodes == 1)
		return 0;
	for (uint32_t i = 0; i < in->nodes; i++) {
		ADD("-numa");
		ADD("node,nodeid=%u,cpus=%u-%u,memdev=m%u", i, i * cpus_per_node,
		    (i + 1) * cpus_per_node - 1, i);
	}
	/* SLIT: the model's distances (local is implicit); QEMU mirrors src/dst. */
	for (uint32_t i = 0; i < in->nodes; i++)
		for (uint32_t j = i + 1; j < in->nodes; j++) {
			ADD("-numa");
			ADD("dist,src=%u,dst=%u,val=%u", i, j, topo_node_distance(i, j));
		}
	return 0;
}

/* Kernel, initrd, serial ports, QMP and the log: all fds the worker passed. */
static int args_devices(const struct qemu_args_in *in, struct strv *out)
{
	int rc;

	ADD("-kernel");
	ADD("/proc/self/fd/%d", in->fd_kernel);
	if (in->fd_initrd >= 0) {
		ADD("-initrd");
		ADD("/proc/self/fd/%d", in->fd_initrd);
	}
	ADD("-append");
	ADD("%s", in->cmdline);
	/* COM1, COM2 and QMP are connected sockets the worker holds the other
	 * end of: no files, no listening sockets. */
	ADD("-chardev");
	ADD("socket,id=com1,fd=%d", in->fd_com1);
	ADD("-serial");
	ADD("chardev:com1");
	ADD("-chardev");
	ADD("socket,id=com2,fd=%d", in->fd_com2);
	ADD("-serial");
	ADD("chardev:com2");
	return qemu_args_control(in->fd_qmp, in->fd_log, out);
}

int qemu_args_control(int fd_qmp, int fd_log, struct strv *out)
{
	int rc;

	ADD("-chardev");
	ADD("socket,id=qmp,fd=%d", fd_qmp);
	ADD("-mon");
	ADD("chardev=qmp,mode=control");
	/* Under TCG a triple fault becomes an ordinary guest reset; only the
	 * cpu_reset log says "Triple fault". It goes to a pipe the worker reads. */
	ADD("-d");
	ADD("cpu_reset");
	ADD("-D");
	ADD("/proc/self/fd/%d", fd_log);
	/* QEMU's own seccomp filter: the emulator runs guest-controlled code
	 * paths, so it may not exec, change privileges or use obsolete calls. */
	ADD("-sandbox");
	ADD("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	return 0;
}

int qemu_args_build(const struct qemu_args_in *in, struct strv *out)
{
	const Ktstr__Topology *t = in->spec->topology;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!t || !in->nodes || in->nodes > QEMU_MAX_NODES || t->numa_nodes != in->nodes)
		return -EINVAL;
	rc = args_machine(in, out);
	if (rc == 0)
		rc = args_cpu(in->spec, out);
	if (rc == 0)
		rc = args_memory(in, out);
	if (rc == 0)
		rc = args_devices(in, out);
	if (rc < 0)
		strv_free(out);
	return rc;
}
