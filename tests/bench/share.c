/* bench-share: do concurrent KVM-engine VMs share the image's pages?
 *
 * The KVM engine maps the base initramfs memfd MAP_PRIVATE into guest RAM
 * (vmm-worker/kvm/kvm_boot.c: load_initrd), so a page the guest only
 * reads stays the memfd's page-cache page, mapped by every worker; only a
 * page a guest writes becomes private to it. This program checks that on
 * the running system:
 *
 *   1. writes a sealed memfd of --initrd-mb MiB (the builder's seals) as the
 *      "image";
 *   2. builds a tiny bzImage (64-bit boot protocol entry, like
 *      tests/tiny-guests) whose code reads one byte of every 4 KiB page of
 *      the initrd (address and size from boot_params), prints
 *      "BENCH: initrd read" on COM2 and halts with interrupts off: the VM
 *      then sits idle until it is stopped;
 *   3. starts --vms workers at once through the orchestrator's worker client
 *      (KVM engine, one thread per VM), waits (bounded) until every guest
 *      has said it read the initrd, sums the /proc/PID/smaps fields of each
 *      worker's initrd mapping, then stops the VMs (StopVm) and reaps them.
 *
 * Prints per worker and summed Rss, Pss, Shared_Clean, Private_Clean,
 * Private_Dirty (KiB) of the initrd mapping. Sharing works when
 * Shared_Clean ~ vms x image and Private ~ 0 (Pss sums to ~ one image).
 *
 *   bench-share [--vms N] [--initrd-mb M] [--memory-mb M] [--timeout-ms T]
 *               [--worker PATH] [--log FILE] [--keep-image FILE] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "bench.h"
#include "builder_client.h"
#include "worker_client.h"
#include "../tiny-guests/tiny.h"

#define MAX_VMS 8
#define MARKER "BENCH: initrd read"
#define MEMFD_NAME "ktstr-bench-initrd"
#define CODE_GPA 0x100200 /* bzImage: protected-mode code at 1 MiB, 64-bit entry +0x200 */

/* The guest. Entered in 64-bit mode with RSI = boot_params (boot protocol
 * 2.15 64-bit entry); guest RAM below 1 GiB is identity-mapped by the
 * engine. Plain integer instructions only: kvm_pvm emulates the port I/O. */
__asm__(".section .rodata\n"
	"	.code64\n"
	"bench_guest_start:\n"
	"	mov 0x218(%rsi), %eax\n"	/* boot_params.hdr.ramdisk_image */
	"	mov 0x21c(%rsi), %ecx\n"	/* boot_params.hdr.ramdisk_size */
	"	test %ecx, %ecx\n"
	"	jz 2f\n"
	"1:	movb (%rax), %dl\n"		/* read fault: maps the page-cache page */
	"	add $4096, %rax\n"
	"	sub $4096, %ecx\n"
	"	ja 1b\n"
	"2:	mov $0x2f8, %edx\n"
	"	lea bench_guest_msg(%rip), %rsi\n"
	"3:	movb (%rsi), %al\n"
	"	test %al, %al\n"
	"	jz 4f\n"
	"	out %al, (%dx)\n"
	"	inc %rsi\n"
	"	jmp 3b\n"
	"4:	cli\n"
	"5:	hlt\n"				/* idle, not spinning: 2 host cores */
	"	jmp 5b\n"
	"bench_guest_msg:\n"
	"	.asciz \"" MARKER "\\n\"\n"
	"bench_guest_end:\n"
	"	.globl bench_guest_start, bench_guest_end\n"
	".previous\n");
extern const uint8_t bench_guest_start[], bench_guest_end[];

/* A minimal bzImage around the code (tests/tiny-guests/tiny_bzimage.c).
 * Returns a memfd or -errno. */
static int guest_image(void)
{
	size_t len;
	uint8_t *img = tiny_bzimage(bench_guest_start,
				    (size_t)(bench_guest_end - bench_guest_start), &len);
	int fd, r;

	if (!img)
		return -ENOMEM;
	fd = memfd_create("ktstr-bench-kernel", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(img);
		return r;
	}
	r = write_full(fd, img, len);
	free(img);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* The "image": mb MiB of non-zero bytes in a memfd sealed like the
 * builder's (BUILDER_SEALS), so the worker gets what it gets in a run. */
static int image_memfd(unsigned mb)
{
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint8_t *buf = malloc(1 << 20);
	int r = 0;

	if (fd < 0 || !buf) {
		r = fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < mb && !r; i++) {
		for (size_t j = 0; j < (1u << 20); j++)
			buf[j] = (uint8_t)(j * 131u + i * 7u + 1u);
		r = write_full(fd, buf, 1u << 20);
	}
	if (!r && fcntl(fd, F_ADD_SEALS, BUILDER_SEALS))
		r = -errno;
	if (r)
		goto fail;
	free(buf);
	return fd;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

struct vm {
	pthread_t thr;
	const Ktstr__VmSpec *spec;
	struct worker_fds fds;
	struct worker_client_opts opts;
	struct worker_outcome out;
	volatile int stop;
	volatile int pid;	/* worker pid once VmStarted arrived */
	volatile int read_done; /* guest printed MARKER */
	char com2[256];
	size_t com2_len;
	int rc;
};

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct vm *v = ctx;

	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_STARTED) {
		v->pid = (int)v->out.worker_pid;
	} else if (ev->ev_case == KTSTR__WORKER_EVENT__EV_OUTPUT && ev->output) {
		size_t n = ev->output->data.len;

		if (n > sizeof(v->com2) - 1 - v->com2_len)
			n = sizeof(v->com2) - 1 - v->com2_len;
		memcpy(v->com2 + v->com2_len, ev->output->data.data, n);
		v->com2_len += n;
		v->com2[v->com2_len] = '\0';
		if (strstr(v->com2, MARKER))
			v->read_done = 1;
	}
}

static void *vm_thread(void *arg)
{
	struct vm *v = arg;

	v->rc = worker_run_vm(v->spec, &v->fds, &v->opts, &v->out);
	return NULL;
}

struct smaps_sum {
	unsigned long long size, rss, pss, shared_clean, shared_dirty, private_clean,
		private_dirty;
	int mappings;
};

/* Sum the smaps fields of every mapping of pid whose path names our memfd. */
static int smaps_of(int pid, struct smaps_sum *s)
{
	char path[64], line[512];
	bool in = false;
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long val;
		char key[64];

		/* Mapping headers start with a hex range "lo-hi "; field lines
		 * with a capitalised key ("Rss:"). */
		size_t k = strspn(line, "0123456789abcdef");

		if (k && line[k] == '-') {
			in = strstr(line, "memfd:" MEMFD_NAME) != NULL;
			s->mappings += in;
			continue;
		}
		if (!in || sscanf(line, "%63[^:]: %llu kB", key, &val) != 2)
			continue;
		if (!strcmp(key, "Size"))
			s->size += val;
		else if (!strcmp(key, "Rss"))
			s->rss += val;
		else if (!strcmp(key, "Pss"))
			s->pss += val;
		else if (!strcmp(key, "Shared_Clean"))
			s->shared_clean += val;
		else if (!strcmp(key, "Shared_Dirty"))
			s->shared_dirty += val;
		else if (!strcmp(key, "Private_Clean"))
			s->private_clean += val;
		else if (!strcmp(key, "Private_Dirty"))
			s->private_dirty += val;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "vms", required_argument, NULL, 'v' },
		{ "initrd-mb", required_argument, NULL, 'i' },
		{ "memory-mb", required_argument, NULL, 'm' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "worker", required_argument, NULL, 'W' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned nvms = 3, initrd_mb = 20, memory_mb = 256, timeout_ms = 30000;
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology topo = KTSTR__TOPOLOGY__INIT;
	struct vm vms[MAX_VMS];
	struct smaps_sum tot = { 0 };
	char worker[PATH_MAX] = "";
	const char *log = NULL;
	int kfd, ifd, opt, logfd = -1, ready = 0, measured = 0;
	uint64_t deadline;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'v': nvms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'i': initrd_mb = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': memory_mb = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'T': timeout_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'W': snprintf(worker, sizeof(worker), "%s", optarg); break;
		case 'l': log = optarg; break;
		default:
			fprintf(stderr, "usage: %s [--vms N] [--initrd-mb M] [--memory-mb M] "
					"[--timeout-ms T] [--worker PATH] [--log FILE]\n", argv[0]);
			return 2;
		}
	}
	if (!nvms || nvms > MAX_VMS || !initrd_mb || initrd_mb > 512 || timeout_ms < 2000)
		return fprintf(stderr, "bad arguments\n"), 2;
	if (!worker[0] && bench_sibling_bin("ktstr-vmm-worker", worker, sizeof(worker)))
		return fprintf(stderr, "ktstr-vmm-worker not found beside this build\n"), 2;
	if (log && (logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return fprintf(stderr, "open %s: %s\n", log, strerror(errno)), 2;
	kfd = guest_image();
	ifd = image_memfd(initrd_mb);
	if (kfd < 0 || ifd < 0) {
		fprintf(stderr, "building the guest/image failed: %s\n",
			strerror(kfd < 0 ? -kfd : -ifd));
		return 2;
	}
	topo.numa_nodes = topo.llcs = topo.cores_per_llc = topo.threads_per_core = 1;
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	spec.topology = &topo;
	spec.memory_mb = memory_mb;
	spec.timeout_ms = timeout_ms;
	spec.has_shm_size = true;
	spec.shm_size = 1u << 20;
	spec.has_stream_output = true;
	spec.stream_output = true; /* GuestOutput events tell us the guest read it */
	spec.label = "bench-share";

	printf("# %u KVM-engine VMs at once, initrd memfd %u MiB (sealed), guest RAM %u MB\n",
	       nvms, initrd_mb, memory_mb);
	memset(vms, 0, sizeof(vms));
	for (unsigned i = 0; i < nvms; i++) {
		struct vm *v = &vms[i];

		v->spec = &spec;
		v->fds = (struct worker_fds){ .kernel_fd = kfd, .initrd_fd = ifd, .stdin_fd = -1,
					      .stdout_fd = -1 };
		v->opts = (struct worker_client_opts){ .worker_path = worker, .stderr_fd = logfd,
						       .grace_ms = 15000, .on_event = on_event,
						       .ctx = v, .stop = &v->stop };
		if ((errno = pthread_create(&v->thr, NULL, vm_thread, v))) {
			perror("pthread_create");
			return 2;
		}
	}
	/* Wait, bounded, until every guest has read the whole initrd. */
	deadline = ktstr_now_ms() + timeout_ms - 1000;
	while (ktstr_now_ms() < deadline) {
		ready = 0;
		for (unsigned i = 0; i < nvms; i++)
			ready += vms[i].read_done && vms[i].pid > 0;
		if (ready == (int)nvms)
			break;
		usleep(20000);
	}
	printf("%-6s %-8s %10s %10s %10s %12s %12s %12s %12s\n", "vm", "pid", "size_kb", "rss_kb",
	       "pss_kb", "shr_clean_kb", "shr_dirty_kb", "prv_clean_kb", "prv_dirty_kb");
	for (unsigned i = 0; i < nvms; i++) {
		struct smaps_sum s;
		int pid = vms[i].pid;

		if (pid <= 0 || !vms[i].read_done || smaps_of(pid, &s) || !s.mappings) {
			printf("%-6u %-8d (no initrd mapping measured: guest %s)\n", i, pid,
			       vms[i].read_done ? "read it" : "did not report reading it");
			continue;
		}
		measured++;
		printf("%-6u %-8d %10llu %10llu %10llu %12llu %12llu %12llu %12llu\n", i, pid, s.size,
		       s.rss, s.pss, s.shared_clean, s.shared_dirty, s.private_clean,
		       s.private_dirty);
		tot.size += s.size;
		tot.rss += s.rss;
		tot.pss += s.pss;
		tot.shared_clean += s.shared_clean;
		tot.shared_dirty += s.shared_dirty;
		tot.private_clean += s.private_clean;
		tot.private_dirty += s.private_dirty;
	}
	printf("%-6s %-8s %10llu %10llu %10llu %12llu %12llu %12llu %12llu\n", "sum", "", tot.size,
	       tot.rss, tot.pss, tot.shared_clean, tot.shared_dirty, tot.private_clean,
	       tot.private_dirty);
	/* Stop every VM (StopVm) and reap; worker_run_vm bounds each wait. */
	for (unsigned i = 0; i < nvms; i++)
		vms[i].stop = 1;
	for (unsigned i = 0; i < nvms; i++) {
		const Ktstr__VmResult *r;

		pthread_join(vms[i].thr, NULL);
		r = vms[i].out.result;
		printf("# vm %u ended %s%s%s\n", i, r ? bench_outcome_name(r->outcome) : "?",
		       r && r->error ? ": " : "", r && r->error && r->error->what ? r->error->what : "");
		worker_outcome_free(&vms[i].out);
	}
	printf("measured=%d/%u\n", measured, nvms);
	printf("shared_kb=%llu private_kb=%llu pss_kb=%llu image_kb=%u\n",
	       tot.shared_clean + tot.shared_dirty, tot.private_clean + tot.private_dirty, tot.pss,
	       initrd_mb * 1024);
	close(kfd);
	close(ifd);
	if (logfd >= 0)
		close(logfd);
	return measured ? 0 : 1;
}
