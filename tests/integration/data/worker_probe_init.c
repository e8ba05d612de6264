/* A tiny static /init for the worker integration tests (tests/integration/
 * worker_qemu.c). It reads its mode from the kernel command line
 * (KTSTR_TEST_MODE=..., which the kernel hands to init as an environment
 * variable) and talks on COM2 (/dev/ttyS1) like ktstr-guest does:
 *   poweroff  print text, KTSTR_EXIT=0, power off
 *   panic     exit PID 1 -> "Kernel panic - not syncing: Attempted to kill init!"
 *   hang      never end (the worker's timeout must)
 *   ring      write TEST and EXIT messages into the SHM ring through /dev/mem
 *   topo      print the CPU/LLC/NUMA layout the kernel sees, then power off
 * Built by the test with gcc -static together with common/ring.c and util.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ktstr/ring.h>

static FILE *com2;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(com2, fmt, ap);
	va_end(ap);
	fflush(com2);
}

static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void print_file(const char *label, const char *path)
{
	char buf[256] = "";
	FILE *f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	out("%s=%s\n", label, f ? buf : "(missing)");
}

static void topo(void)
{
	char path[256], label[64];
	for (int cpu = 0;; cpu++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", cpu);
		struct stat st;
		if (stat(path, &st) != 0)
			break;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/cache/index3/shared_cpu_list", cpu);
		snprintf(label, sizeof(label), "TOPO cpu%d l3", cpu);
		print_file(label, path);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
		snprintf(label, sizeof(label), "TOPO cpu%d smt", cpu);
		print_file(label, path);
	}
	for (int node = 0;; node++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
		struct stat st;
		if (stat(path, &st) != 0)
			break;
		snprintf(label, sizeof(label), "TOPO node%d cpus", node);
		print_file(label, path);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", node);
		snprintf(label, sizeof(label), "TOPO node%d distance", node);
		print_file(label, path);
	}
	out("TOPO done\n");
}

static int ring(void)
{
	const char *b = getenv("KTSTR_SHM_BASE"), *s = getenv("KTSTR_SHM_SIZE");
	if (!b || !s) {
		out("RING no KTSTR_SHM_BASE/SIZE\n");
		return 1;
	}
	unsigned long long base = strtoull(b, NULL, 0), size = strtoull(s, NULL, 0);
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		out("RING open /dev/mem: %s\n", strerror(errno));
		return 1;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
	if (p == MAP_FAILED) {
		out("RING mmap: %s\n", strerror(errno));
		return 1;
	}
	struct ktstr_ring r;
	int rc = ring_attach(&r, p, size);
	if (rc < 0) {
		out("RING attach: %d\n", rc);
		return 1;
	}
	static const char msg[] = "hello through the ring";
	rc = ring_write(&r, KTSTR_MSG_TEST_RESULT, msg, sizeof(msg) - 1);
	int32_t code = 7;
	if (!rc)
		rc = ring_write(&r, KTSTR_MSG_EXIT, &code, sizeof(code));
	out("RING wrote rc=%d\n", rc);
	return rc ? 1 : 0;
}

int main(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	int fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY);
	com2 = fd >= 0 ? fdopen(fd, "w") : stderr;
	out("KTSTR_INIT_STARTED\n");

	const char *mode = getenv("KTSTR_TEST_MODE");
	if (!mode)
		mode = "poweroff";
	out("mode %s\n", mode);
	if (!strcmp(mode, "panic"))
		return 3; /* PID 1 exits: the kernel panics */
	if (!strcmp(mode, "hang")) {
		out("hanging on purpose\n");
		for (;;)
			pause();
	}
	if (!strcmp(mode, "ring")) {
		int rc = ring();
		out("KTSTR_EXIT=3\n"); /* the ring's EXIT (7) must win */
		(void)rc;
		power_off();
	}
	if (!strcmp(mode, "topo"))
		topo();
	out("hello from the probe init\n");
	out("KTSTR_EXIT=0\n");
	power_off();
	return 0;
}
