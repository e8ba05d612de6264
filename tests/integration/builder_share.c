/* Proof that concurrent VMs share one cached image instead of copying it.
 *
 * The real ktstr-initramfs-builder (through builder_client) builds one image
 * of real size (ktstr-guest as /init, /bin/busybox, 8 MiB of data files),
 * then BUILDER_SHARE_VMS real ktstr-vmm-worker processes (worker_client,
 * KVM engine) boot at once from that one sealed memfd, with the tiny "hang"
 * bzImage from tests/tiny-guests as kernel so they stay up until stopped.
 * While they run, the test finds the initrd mapping in each worker's
 * /proc/PID/smaps ("/memfd:ktstr-initramfs"), faults its pages in through
 * /proc/PID/mem exactly as a guest read would (a read-only GUP on the
 * worker's mapping; the tiny guest itself never reads its initrd), checks
 * the bytes are the image's, and asserts sharing:
 *   - the mapping exists in every worker (a copy into guest RAM would be
 *     anonymous memory, not a memfd mapping);
 *   - Rss ~ image size, Shared_* ~ image size, Private_* ~ 0, Anonymous 0
 *     (memfd pages are shmem, always "dirty", so they count as Shared_Dirty
 *     rather than Shared_Clean);
 *   - the workers' Pss of the mapping sums to ~ one image (size / N each).
 * Figures are printed on stderr. Needs /dev/kvm (kvm_pvm is enough). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "lib/vmtest.h"
#include "builder_client.h"
#include "worker_client.h"

#define BUILDER_SHARE_VMS 3
#define BUILDER_SHARE_DATA_FILES 4
#define BUILDER_SHARE_DATA_BYTES (2u << 20)
#define BUILDER_SHARE_WAIT_MS 60000	/* all VMs started and mapped */
#define BUILDER_SHARE_SPEC_MS 120000	/* VM watchdog; the test stops them earlier */

struct vm {
	pthread_t thread;
	const Ktstr__VmSpec *spec;
	struct worker_fds fds;
	struct worker_client_opts opts;
	struct worker_outcome out;
	volatile int stop;
	volatile int started;
	unsigned pid;		/* host pid, found in /proc (see find_workers) */
	int rc;
};

struct smaps_fig {
	unsigned long start, end;
	long size, rss, pss, shared_clean, shared_dirty, private_clean, private_dirty, anon;
};

static void on_event(void *ctx, const Ktstr__WorkerEvent *ev)
{
	struct vm *v = ctx;

	if (ev->ev_case == KTSTR__WORKER_EVENT__EV_STARTED)
		v->started = 1;
}

static void *vm_thread(void *arg)
{
	struct vm *v = arg;

	v->rc = worker_run_vm(v->spec, &v->fds, &v->opts, &v->out);
	return NULL;
}

/* Deterministic bytes that do not compress or dedupe by accident. */
static void write_data(const char *path, uint32_t seed)
{
	uint32_t *buf = malloc(BUILDER_SHARE_DATA_BYTES), x = seed * 2654435761u + 1;
	size_t i;
	int fd;

	cr_assert_not_null(buf);
	for (i = 0; i < BUILDER_SHARE_DATA_BYTES / 4; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write_full(fd, buf, BUILDER_SHARE_DATA_BYTES), 0);
	close(fd);
	free(buf);
}

/* The workers are this process's children running ktstr-vmm-worker (the
 * client forwards no WorkerReady, and that pid would be the worker's view
 * anyway). Fills up to n pids; returns how many. */
static int find_workers(unsigned *pids, int n)
{
	char path[64], comm[32];
	struct dirent *de;
	int found = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d)) && found < n) {
		unsigned pid, ppid;
		FILE *fp;
		int ok;

		if (sscanf(de->d_name, "%u", &pid) != 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
		fp = fopen(path, "re");
		if (!fp)
			continue;
		/* "pid (comm) state ppid": comm has no ')' here. */
		ok = fscanf(fp, "%*u (%31[^)]) %*c %u", comm, &ppid) == 2 &&
		     ppid == (unsigned)getpid() && !strncmp(comm, "ktstr-vmm-worke", 15);
		fclose(fp);
		if (ok)
			pids[found++] = pid;
	}
	closedir(d);
	return found;
}

/* The mapping of the image memfd (inode ino) in pid and its smaps figures
 * (KiB). 0 or -ENOENT. */
static int find_mapping(unsigned pid, unsigned long ino, struct smaps_fig *f)
{
	char path[64], line[512];
	int in = 0, found = 0;
	unsigned long i;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%u/smaps", pid);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	memset(f, 0, sizeof(*f));
	while (fgets(line, sizeof(line), fp)) {
		unsigned long a, b;
		long kb;
		char name[32];

		/* A mapping header ("start-end perms ..."); field lines are
		 * "Name: value kB" and never parse as two hex numbers. */
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &a, &b, &i) == 3) {
			in = strstr(line, "/memfd:ktstr-initramfs") && i == ino && !found;
			if (in) {
				found = 1;
				f->start = a;
				f->end = b;
			}
			continue;
		}
		if (!in || sscanf(line, "%31[^:]: %ld kB", name, &kb) != 2)
			continue;
		if (!strcmp(name, "Size"))
			f->size = kb;
		else if (!strcmp(name, "Rss"))
			f->rss = kb;
		else if (!strcmp(name, "Pss"))
			f->pss = kb;
		else if (!strcmp(name, "Shared_Clean"))
			f->shared_clean = kb;
		else if (!strcmp(name, "Shared_Dirty"))
			f->shared_dirty = kb;
		else if (!strcmp(name, "Private_Clean"))
			f->private_clean = kb;
		else if (!strcmp(name, "Private_Dirty"))
			f->private_dirty = kb;
		else if (!strcmp(name, "Anonymous"))
			f->anon = kb;
	}
	fclose(fp);
	return found ? 0 : -ENOENT;
}

/* Read the whole mapping through /proc/PID/mem (faulting its pages in the
 * worker's page tables, read-only, as a guest read does) and compare it
 * with the image. */
static void touch_and_compare(unsigned pid, const struct smaps_fig *f, const uint8_t *img,
			      size_t len)
{
	uint8_t *buf = malloc(len);
	char path[64];
	ssize_t n;
	int fd;

	cr_assert_not_null(buf);
	snprintf(path, sizeof(path), "/proc/%u/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "open %s: %s (the test needs root to read a worker's memory)", path,
		  strerror(errno));
	n = pread(fd, buf, len, (off_t)f->start);
	cr_assert_eq(n, (ssize_t)len, "read %zu bytes at 0x%lx of %s: %zd (%s)", len, f->start,
		     path, n, n < 0 ? strerror(errno) : "short");
	cr_assert_eq(memcmp(buf, img, len), 0, "worker %u's initrd mapping is not the image", pid);
	close(fd);
	free(buf);
}

Test(builder_share, concurrent_vms_share_the_image_pages, .timeout = 300)
{
	char tmp[PATH_MAX], builder[PATH_MAX], worker[PATH_MAX], tiny[PATH_MAX], guest[PATH_MAX];
	char cache[PATH_MAX + 8], kernel[PATH_MAX + 16], err[1024], *out = NULL;
	char data[BUILDER_SHARE_DATA_FILES][PATH_MAX + 16], gp[BUILDER_SHARE_DATA_FILES][32];
	Ktstr__FileSpec fs[BUILDER_SHARE_DATA_FILES + 1], *fsp[BUILDER_SHARE_DATA_FILES + 1];
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	struct builder_client_opts bo = { 0 };
	struct smaps_fig fig[BUILDER_SHARE_VMS];
	struct vm vms[BUILDER_SHARE_VMS];
	struct builder_client bc;
	struct builder_image img;
	Ktstr__VmSpec spec;
	Ktstr__Topology topo;
	long img_kb, sum_pss = 0;
	uint8_t *bytes;
	uint64_t deadline;
	struct stat st;
	int i, kfd, status, all;

	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("/dev/kvm is not usable here");
	cr_assert_eq(vmtest_bin("ktstr-initramfs-builder", builder, sizeof(builder)), 0);
	cr_assert_eq(vmtest_bin("ktstr-vmm-worker", worker, sizeof(worker)), 0);
	cr_assert_eq(vmtest_bin("ktstr-guest", guest, sizeof(guest)), 0);
	cr_assert_eq(vmtest_bin("ktstr-tiny-guests", tiny, sizeof(tiny)), 0);
	cr_assert_eq(vmtest_tmpdir(tmp, sizeof(tmp)), 0);

	/* The kernel: the tiny guest that hangs (64-bit bzImage entry). */
	snprintf(kernel, sizeof(kernel), "%s/hang.bzImage", tmp);
	{
		char *argv[] = { tiny, "image", "hang", "bzimage", kernel, NULL };

		cr_assert_eq(vmtest_run(argv, 30000, &out, &status), 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
			test_missing("tiny guests not built");
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s image hang: %s", tiny,
			  out ? out : "");
		free(out);
	}

	/* One image of real size from the real builder. */
	for (i = 0; i < BUILDER_SHARE_DATA_FILES; i++) {
		snprintf(data[i], sizeof(data[i]), "%s/blob%d", tmp, i);
		snprintf(gp[i], sizeof(gp[i]), "/data/blob%d", i);
		write_data(data[i], (uint32_t)i + 1);
		ktstr__file_spec__init(&fs[i]);
		fs[i].host_path = data[i];
		fs[i].guest_path = gp[i];
		fsp[i] = &fs[i];
	}
	ktstr__file_spec__init(&fs[i]);
	fs[i].host_path = "/bin/busybox";
	fs[i].guest_path = "/bin/busybox";
	fsp[i] = &fs[i];
	req.init_path = guest;
	req.n_files = BUILDER_SHARE_DATA_FILES + 1;
	req.files = fsp;
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	bo.builder_path = builder;
	bo.cache_dir = cache;
	bo.stderr_fd = -2;
	cr_assert_eq(builder_client_start(&bc, &bo, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(builder_client_build(&bc, &req, 0, &img, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fstat(img.fd, &st), 0);
	cr_assert_gt(st.st_size, (off_t)(BUILDER_SHARE_DATA_FILES * BUILDER_SHARE_DATA_BYTES));
	bytes = malloc((size_t)st.st_size);
	cr_assert_not_null(bytes);
	cr_assert_eq(pread(img.fd, bytes, (size_t)st.st_size, 0), st.st_size);
	img_kb = (long)((st.st_size + 4095) / 4096 * 4);
	fprintf(stderr, "builder_share: image %s, %lld bytes (%ld KiB), %u files, tier %d\n",
		img.ok->key, (long long)st.st_size, img_kb, img.ok->file_count, (int)img.ok->tier);

	/* BUILDER_SHARE_VMS workers at once, all from the same memfd. */
	kfd = open(kernel, O_RDONLY | O_CLOEXEC);
	cr_assert(kfd >= 0, "open %s: %s", kernel, strerror(errno));
	ktstr__vm_spec__init(&spec);
	ktstr__topology__init(&topo);
	topo.numa_nodes = topo.llcs = topo.cores_per_llc = topo.threads_per_core = 1;
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	spec.topology = &topo;
	spec.memory_mb = 512;
	spec.timeout_ms = BUILDER_SHARE_SPEC_MS;
	spec.has_shm_size = true;
	spec.shm_size = 1u << 20;
	spec.label = "builder_share";
	memset(vms, 0, sizeof(vms));
	for (i = 0; i < BUILDER_SHARE_VMS; i++) {
		vms[i].spec = &spec;
		vms[i].fds = (struct worker_fds){ .kernel_fd = kfd, .initrd_fd = img.fd,
						  .stdin_fd = -1, .stdout_fd = -1 };
		vms[i].opts = (struct worker_client_opts){ .worker_path = worker, .stderr_fd = -2,
							   .grace_ms = 30000, .on_event = on_event,
							   .ctx = &vms[i], .stop = &vms[i].stop };
		cr_assert_eq(pthread_create(&vms[i].thread, NULL, vm_thread, &vms[i]), 0);
	}

	/* Wait (bounded) until every worker runs its VM with the image mapped. */
	deadline = ktstr_now_ms() + BUILDER_SHARE_WAIT_MS;
	do {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		unsigned pids[BUILDER_SHARE_VMS];

		all = find_workers(pids, BUILDER_SHARE_VMS) == BUILDER_SHARE_VMS;
		for (i = 0; i < BUILDER_SHARE_VMS; i++) {
			vms[i].pid = all ? pids[i] : 0;
			if (!vms[i].started || !all ||
			    find_mapping(vms[i].pid, (unsigned long)st.st_ino, &fig[i]))
				all = 0;
		}
		if (!all)
			nanosleep(&ts, NULL);
	} while (!all && ktstr_now_ms() < deadline);

	if (all) {
		/* Fault every page in, in every worker, then read the figures
		 * (after all touches, so Pss reflects all N mappers). */
		for (i = 0; i < BUILDER_SHARE_VMS; i++)
			touch_and_compare(vms[i].pid, &fig[i], bytes, (size_t)st.st_size);
		fprintf(stderr, "builder_share: %d VMs, initrd mapping per worker (KiB):\n"
				"  %-8s %8s %8s %8s %12s %12s %13s %13s %9s\n", BUILDER_SHARE_VMS,
			"pid", "Size", "Rss", "Pss", "Shared_Clean", "Shared_Dirty",
			"Private_Clean", "Private_Dirty", "Anonymous");
		for (i = 0; i < BUILDER_SHARE_VMS; i++) {
			cr_assert_eq(find_mapping(vms[i].pid, (unsigned long)st.st_ino, &fig[i]), 0);
			sum_pss += fig[i].pss;
			fprintf(stderr, "  %-8u %8ld %8ld %8ld %12ld %12ld %13ld %13ld %9ld\n",
				vms[i].pid, fig[i].size, fig[i].rss, fig[i].pss, fig[i].shared_clean,
				fig[i].shared_dirty, fig[i].private_clean, fig[i].private_dirty,
				fig[i].anon);
		}
		fprintf(stderr, "  sum of Pss %ld KiB for an image of %ld KiB (%d copies would be "
				"%ld KiB)\n", sum_pss, img_kb, BUILDER_SHARE_VMS,
			img_kb * BUILDER_SHARE_VMS);
	}
	for (i = 0; i < BUILDER_SHARE_VMS; i++)
		vms[i].stop = 1;
	/* Each join is bounded by worker_run_vm's own deadline (spec timeout
	 * + grace, then the worker is killed). */
	for (i = 0; i < BUILDER_SHARE_VMS; i++)
		pthread_join(vms[i].thread, NULL);
	for (i = 0; i < BUILDER_SHARE_VMS; i++) {
		const Ktstr__VmResult *r = vms[i].out.result;

		cr_assert_eq(vms[i].rc, 0);
		cr_assert_not_null(r);
		cr_expect(!vms[i].out.infra_error, "VM %d: %s / %s", i,
			  r->error && r->error->what ? r->error->what : "",
			  r->error && r->error->why ? r->error->why : "");
		cr_expect(r->outcome == KTSTR__OUTCOME__OUTCOME_STOPPED ||
			  r->outcome == KTSTR__OUTCOME__OUTCOME_TIMEOUT, "VM %d ended with outcome %d",
			  i, (int)r->outcome);
	}
	cr_assert(all, "not every worker started its VM with the image mapped within %d ms "
		       "(a missing /memfd:ktstr-initramfs mapping means the engine copied the image)",
		  BUILDER_SHARE_WAIT_MS);

	for (i = 0; i < BUILDER_SHARE_VMS; i++) {
		/* The mapping is page-rounded; allow it a page of slack. */
		cr_assert_geq(fig[i].size, img_kb, "worker %u maps %ld KiB of a %ld KiB image",
			      vms[i].pid, fig[i].size, img_kb);
		cr_assert_geq(fig[i].rss, img_kb * 95 / 100, "worker %u: Rss %ld KiB, image %ld KiB",
			      vms[i].pid, fig[i].rss, img_kb);
		/* memfd pages are shmem: dirty from the moment the builder
		 * wrote them (there is no backing file to clean them to), so
		 * they show as Shared_Dirty. Still the memfd's own pages: the
		 * Private and Anonymous checks below rule out a copy. */
		cr_assert_geq(fig[i].shared_clean + fig[i].shared_dirty, img_kb * 95 / 100,
			      "worker %u: Shared %ld KiB, image %ld KiB: pages are not shared",
			      vms[i].pid, fig[i].shared_clean + fig[i].shared_dirty, img_kb);
		cr_assert_leq(fig[i].private_clean + fig[i].private_dirty, 64,
			      "worker %u: %ld KiB private: the image was copied", vms[i].pid,
			      fig[i].private_clean + fig[i].private_dirty);
		cr_assert_leq(fig[i].anon, 64, "worker %u: %ld KiB anonymous (copy-on-write)",
			      vms[i].pid, fig[i].anon);
	}
	/* N mappers of one set of pages: Pss adds up to one image, not N. */
	cr_assert(sum_pss >= img_kb * 90 / 100 && sum_pss <= img_kb * 110 / 100,
		  "sum of Pss %ld KiB, image %ld KiB", sum_pss, img_kb);

	for (i = 0; i < BUILDER_SHARE_VMS; i++)
		worker_outcome_free(&vms[i].out);
	close(kfd);
	free(bytes);
	builder_image_free(&img);
	cr_assert_eq(builder_client_stop(&bc), 0);
	vmtest_rm_rf(tmp);
}
