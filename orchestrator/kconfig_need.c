/* The kernel options ktstr's guest needs (kconfig_need.h). docs/kernels.md
 * lists the same table; a unit test keeps the two in step. */
#include "kconfig_need.h"

#include <stdio.h>
#include <string.h>

#include <ktstr/util.h>

#include "kernel_cache.h"

#define CHK true
#define OPT false

const struct kconfig_need kconfig_needs[] = {
	/* `make tinyconfig` with the ARCH kbuild derives from `uname -m` (x86)
	 * asks whether to build 64-bit and says no. */
	{ "64BIT", "y", OPT, "an x86_64 kernel (a tinyconfig would be 32-bit)" },
	/* The scheduler under test and what loading it takes. */
	{ "SCHED_CLASS_EXT", "y", CHK, "the sched_ext class the schedulers under test plug into" },
	{ "BPF", "y", OPT, "BPF core (BPF_SYSCALL depends on it)" },
	{ "BPF_SYSCALL", "y", CHK, "bpf(2) and bpffs: schedulers are BPF struct_ops programs" },
	{ "BPF_JIT", "y", OPT, "SCHED_CLASS_EXT depends on it" },
	{ "DEBUG_KERNEL", "y", OPT, "the debug-info choice below depends on it" },
	{ "DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT", "y", OPT,
	  "debug info for pahole to turn into BTF (stripped from the cached vmlinux)" },
	{ "DEBUG_INFO_BTF", "y", CHK,
	  "BTF: CO-RE relocations of every scheduler, the monitor's struct offsets" },
	{ "PERF_EVENTS", "y", OPT, "BPF_EVENTS depends on it" },
	{ "KPROBES", "y", OPT, "KPROBE_EVENTS depends on it" },
	{ "KPROBE_EVENTS", "y", OPT, "BPF_EVENTS depends on it" },
	{ "BPF_EVENTS", "y", OPT, "the trace_printk helper: a scheduler using bpf_printk() loads" },
	{ "FTRACE", "y", OPT, "tracefs and the sched_ext_dump event the guest reads on a failure" },
	{ "DEBUG_FS", "y", OPT, "debugfs, which the guest mounts" },
	{ "MAGIC_SYSRQ", "y", OPT, "SysRq-D: the sched_ext state dump on a failure" },
	/* Topology: what the VMM describes must be what the guest sees. */
	{ "SMP", "y", OPT, "more than one vCPU" },
	{ "NR_CPUS", "512", OPT, "room for the largest topologies" },
	{ "X86_X2APIC", "y", OPT, "APIC ids above 255 in large topologies" },
	{ "SCHED_SMT", "y", OPT, "SMT scheduling domains (threads per core)" },
	{ "SCHED_MC", "y", OPT, "multi-core (LLC) scheduling domains" },
	{ "NUMA", "y", OPT, "NUMA nodes" },
	{ "PCI", "y", OPT, "X86_64_ACPI_NUMA depends on it (the VM has no PCI device ktstr uses)" },
	{ "ACPI", "y", OPT, "the MADT and SRAT the VMM writes: CPUs and NUMA nodes" },
	{ "X86_64_ACPI_NUMA", "y", OPT, "NUMA nodes from the SRAT" },
	/* Boot: both engines load the kernel without firmware. */
	{ "HYPERVISOR_GUEST", "y", OPT, "PVH and KVM_GUEST depend on it" },
	{ "PARAVIRT", "y", OPT, "KVM_GUEST depends on it" },
	{ "KVM_GUEST", "y", OPT, "kvm-clock: a stable clock on the KVM engine" },
	{ "PVH", "y", CHK, "the PVH entry: QEMU boots the ELF vmlinux without the decompressor" },
	{ "BLK_DEV_INITRD", "y", CHK, "the guest's root file system is the initramfs" },
	{ "RD_GZIP", "y", OPT, "gzip initramfs images (--compression gzip)" },
	{ "RD_LZ4", "y", OPT, "LZ4 initramfs images (--compression lz4)" },
	{ "BINFMT_ELF", "y", OPT, "running ktstr-guest, schedulers and payloads" },
	{ "BINFMT_SCRIPT", "y", OPT, "#! scripts as payloads" },
	{ "PRINTK", "y", OPT, "kernel messages, panics and sched_ext errors on COM1" },
	{ "TTY", "y", OPT, "the serial ports" },
	{ "SERIAL_8250", "y", OPT, "COM1 (the console) and COM2 (the guest's report)" },
	{ "SERIAL_8250_CONSOLE", "y", CHK, "console=ttyS0: the kernel log the host captures" },
	{ "UNIX98_PTYS", "y", OPT, "devpts, for the terminal of `ktstr-orch shell`" },
	/* File systems and devices PID 1 mounts and opens. */
	{ "PROC_FS", "y", OPT, "/proc" },
	{ "SYSFS", "y", OPT, "/sys: topology and sched_ext state" },
	{ "DEVTMPFS", "y", CHK, "/dev without a static device table" },
	{ "TMPFS", "y", OPT, "/tmp, /run and /dev/shm" },
	{ "SHMEM", "y", OPT, "TMPFS and memfds" },
	{ "DEVMEM", "y", CHK, "/dev/mem: the shared-memory ring to the host" },
	/* Scheduling interfaces scenarios use. */
	{ "CGROUPS", "y", CHK, "scenario cgroups (cgroup2)" },
	{ "CPUSETS", "y", CHK, "the cpuset controller every scenario cgroup enables" },
	{ "CGROUP_SCHED", "y", OPT, "the cpu controller, enabled beside cpuset" },
	{ "FAIR_GROUP_SCHED", "y", OPT, "group scheduling under EEVDF" },
	{ "EXT_GROUP_SCHED", "y", OPT, "cgroup callbacks of sched_ext schedulers" },
	{ "SCHEDSTATS", "y", OPT, "sched_schedstats=1 on the command line: per-task wait times" },
	{ "HIGH_RES_TIMERS", "y", OPT, "sub-tick sleeps of workers" },
	{ "NO_HZ_IDLE", "y", OPT, "idle CPUs stop their tick, as on real machines" },
	/* System calls of the guest, glibc and payloads (stress-ng, hackbench,
	 * cyclictest) that a tinyconfig leaves out. */
	{ "MULTIUSER", "y", OPT, "uids and gids: setuid(2) and friends exist at all" },
	{ "FUTEX", "y", OPT, "glibc threads and the futex workers" },
	{ "POSIX_TIMERS", "y", OPT, "clock_nanosleep and timer_create (cyclictest, workers)" },
	{ "EPOLL", "y", OPT, "payloads' event loops" },
	{ "SIGNALFD", "y", OPT, "payloads" },
	{ "TIMERFD", "y", OPT, "payloads (stress-ng's timer stressors)" },
	{ "EVENTFD", "y", OPT, "payloads" },
	{ "FILE_LOCKING", "y", OPT, "flock and fcntl locks of payloads" },
	{ "SYSVIPC", "y", OPT, "System V IPC of payloads such as stress-ng" },
	{ "RSEQ", "y", OPT, "glibc registers restartable sequences per thread" },
	{ "NET", "y", OPT, "UNIX depends on it (the VM has no network device)" },
	{ "UNIX", "y", OPT, "AF_UNIX sockets (hackbench's default mode)" },
	{ "KALLSYMS", "y", OPT, "symbolic stack traces in the kernel log" },
	{ "KALLSYMS_ALL", "y", OPT, "data symbols in /proc/kallsyms" },
};
const size_t kconfig_nneeds = ARRAY_SIZE(kconfig_needs);

int kconfig_need_add(struct kcfg *c)
{
	for (size_t i = 0; i < kconfig_nneeds; i++) {
		int r = kcfg_set(c, kconfig_needs[i].name, kconfig_needs[i].value, "ktstr");

		if (r)
			return r;
	}
	return 0;
}

/* The checked options an arm64 kernel needs otherwise (kconfig_need.h):
 * the x86 one, and its arm64 counterpart or NULL. */
static const struct {
	const char *x86, *arm64;
} arm64_swaps[] = {
	{ "PVH", NULL },
	{ "SERIAL_8250_CONSOLE", "SERIAL_AMBA_PL011_CONSOLE" },
};

static int validate(const char *text, bool arm64, char *missing, size_t len)
{
	size_t off = 0;
	int n = 0;

	if (len)
		missing[0] = '\0';
	for (size_t i = 0; i < kconfig_nneeds; i++) {
		const char *name = kconfig_needs[i].name;

		for (size_t j = 0; arm64 && j < ARRAY_SIZE(arm64_swaps); j++)
			if (name && !strcmp(name, arm64_swaps[j].x86))
				name = arm64_swaps[j].arm64;
		if (!name || !kconfig_needs[i].checked || kconfig_has(text, name))
			continue;
		n++;
		if (off < len)
			off += (size_t)snprintf(missing + off, len - off, "%sCONFIG_%s", off ? " " : "",
						name);
	}
	return n;
}

int kconfig_validate(const char *text, char *missing, size_t len)
{
	return validate(text, false, missing, len);
}

int kconfig_validate_arm64(const char *text, char *missing, size_t len)
{
	return validate(text, true, missing, len);
}
