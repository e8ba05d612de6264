/* /init of the nested rig's L2 guest: report the topology the guest kernel
 * built from our engine's ACPI/MP/CPUID tables, one fact per line on COM2
 * (/dev/ttyS1), then power off. scripts/nested-rig compares these lines
 * with the topology it asked for, so every line is "L2TOPO <key> <value>":
 *
 *   L2TOPO online 0-7
 *   L2TOPO ncpus 8
 *   L2TOPO siblings <cpu> <thread_siblings_list>
 *   L2TOPO llc <cpu> <cache/index3/shared_cpu_list or "none">
 *   L2TOPO node <n> <cpulist>
 *   L2TOPO distance <n> <distances>
 *   L2TOPO uptime <seconds>
 *   L2TOPO kernel <release>
 *   L2TOPO cmdline <the kernel command line>
 *   L2TOPO done
 *
 * The cmdline line lets the rig's bench mode (NESTED_BENCH) give QEMU exactly
 * the command line our engine built, read back from the guest itself rather
 * than copied from vmm-worker/cmdline.c, which could drift.
 *
 * Static, libc only, no allocation: it is PID 1 and must never fail
 * silently; any unreadable file is reported as "?" rather than skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static FILE *out;

/* Read a small sysfs file into buf, without the trailing newline. Returns 0
 * or -errno (buf then holds "?"). */
static int slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	snprintf(buf, len, "?");
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0) {
		snprintf(buf, len, "?");
		return -err;
	}
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* Highest CPU number in a cpulist such as "0-3,8" (-1 when empty). */
static int last_cpu(const char *list)
{
	const char *p = list;
	int last = -1;

	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		last = (int)v;
		p = end;
		if (*p == '-' || *p == ',')
			p++;
	}
	return last;
}

static void report(void)
{
	char buf[4096], path[256];
	int ncpus = 0, maxcpu;
	DIR *d;
	struct dirent *de;

	slurp("/sys/devices/system/cpu/online", buf, sizeof(buf));
	fprintf(out, "L2TOPO online %s\n", buf);
	maxcpu = last_cpu(buf);
	for (int cpu = 0; cpu <= maxcpu; cpu++) {
		char sib[256], llc[256];

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		if (slurp(path, sib, sizeof(sib)))
			continue; /* not online/present */
		ncpus++;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cache/index3/shared_cpu_list", cpu);
		if (slurp(path, llc, sizeof(llc)))
			snprintf(llc, sizeof(llc), "none");
		fprintf(out, "L2TOPO siblings %d %s\n", cpu, sib);
		fprintf(out, "L2TOPO llc %d %s\n", cpu, llc);
	}
	fprintf(out, "L2TOPO ncpus %d\n", ncpus);
	/* Nodes in numeric order: readdir order is not. */
	for (int n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", n);
		if (slurp(path, buf, sizeof(buf)))
			continue;
		fprintf(out, "L2TOPO node %d %s\n", n, buf);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", n);
		slurp(path, buf, sizeof(buf));
		fprintf(out, "L2TOPO distance %d %s\n", n, buf);
	}
	/* A node directory beyond 63 would be missed above: say so. */
	if ((d = opendir("/sys/devices/system/node"))) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "node", 4) && atoi(de->d_name + 4) >= 64)
				fprintf(out, "L2TOPO warning node beyond 63: %s\n", de->d_name);
		closedir(d);
	}
	slurp("/proc/uptime", buf, sizeof(buf));
	fprintf(out, "L2TOPO uptime %s\n", buf);
	slurp("/proc/sys/kernel/osrelease", buf, sizeof(buf));
	fprintf(out, "L2TOPO kernel %s\n", buf);
	slurp("/proc/cmdline", buf, sizeof(buf));
	fprintf(out, "L2TOPO cmdline %s\n", buf);
	fprintf(out, "L2TOPO done\n");
}

int main(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	out = fopen("/dev/ttyS1", "w");
	if (!out) /* no COM2: the console still shows the facts */
		out = fopen("/dev/console", "w");
	if (out) {
		setvbuf(out, NULL, _IOLBF, 0);
		/* The worker measures boot_to_init_us up to this marker. */
		fprintf(out, "KTSTR_INIT_STARTED\n");
		report();
		fflush(out);
	}
	sync();
	reboot(RB_POWER_OFF);
	/* reboot() returned: ACPI poweroff failed; halt so the watchdog ends it. */
	for (;;)
		pause();
}
