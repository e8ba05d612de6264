/* bench-builder: image lookups through the orchestrator's builder client
 * (orchestrator/builder_client.c, the path `ktstr-orch run` takes), for the
 * real base image: ktstr-guest as /init + static busybox as /bin/busybox,
 * no scheduler, compression as the orchestrator requests it (none unless
 * --compression says otherwise).
 *
 * Each iteration, in a fresh empty cache directory:
 *   cold    new builder, first request: tier BUILT (packs and writes cache)
 *   memory  same builder, same request again: tier MEMORY
 *   fresh   a second new builder on the same directory, same request:
 *           tier DISK, the entry only just written (page cache warm)
 * Then, for every directory:
 *   disk1   another new builder, first request: tier DISK (the case of
 *           every later `ktstr-orch run` on a warm cache); includes the
 *           tail of the builder's start-up (it confines itself before
 *           reading its first request)
 *   disk    the same, in a new builder that has already served one other
 *           request (/init alone): the lookup by itself
 * Every disk read copies the payload into a memfd and SHA-256-checks it
 * there (initramfs-builder/imgcache.c).
 * Times are client-side wall clock around builder_client_build (request
 * sent -> sealed memfd received); the builder's own build_us is printed
 * too. Builder start-up is timed separately (it happens once per run).
 *
 * --init/--scheduler replace /init and add /scheduler (as the orchestrator
 * packs them); --out FILE writes the first built image to FILE (for the
 * boot-time-per-compression section of scripts/bench).
 *
 *   bench-builder [-n N] [--compression none|gzip|lz4] [--guest PATH]
 *                 [--init PATH] [--scheduler PATH] [--out FILE]
 *                 [--busybox PATH] [--builder PATH] [--log FILE] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "bench.h"
#include "builder_client.h"

static const char *const tier_names[] = { "built", "memory", "disk" };


static const char *g_out;	/* --out: save the next image here, once */

/* The image memfd's bytes into path. */
static int save_image(int fd, uint64_t len, const char *path)
{
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	uint8_t buf[65536];
	uint64_t off = 0;
	int ret = 0;

	if (out < 0)
		return fprintf(stderr, "open %s: %s\n", path, strerror(errno)), -errno;
	while (!ret && off < len) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);

		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else
			ret = write_full(out, buf, (size_t)n);
		off += n > 0 ? (uint64_t)n : 0;
	}
	if (close(out) && !ret)
		ret = -errno;
	if (ret)
		fprintf(stderr, "writing %s: %s\n", path, strerror(-ret));
	return ret;
}

/* One request; *us = client wall time, *bus = builder's build_us. */
static int one(struct builder_client *bc, const Ktstr__BuildRequest *req, uint64_t *us,
	       uint64_t *bus, int *tier, uint64_t *size, uint32_t *files)
{
	struct builder_image img;
	char err[1024];
	uint64_t t0 = ktstr_now_us();
	int rc = builder_client_build(bc, req, 0, &img, err, sizeof(err));

	*us = ktstr_now_us() - t0;
	if (rc) {
		fprintf(stderr, "build: %s\n", err);
		return rc;
	}
	*bus = img.ok->has_build_us ? img.ok->build_us : 0;
	*tier = img.ok->has_tier ? (int)img.ok->tier : -1;
	*size = img.ok->image_size;
	*files = img.ok->has_file_count ? img.ok->file_count : 0;
	if (g_out) {
		rc = save_image(img.fd, img.ok->image_size, g_out);
		g_out = NULL;
	}
	builder_image_free(&img);
	return rc;
}

/* Only ever our own mkdtemp directories. */
static void remove_dirs(char (*dirs)[PATH_MAX], unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		char cmd[PATH_MAX + 16];

		if (!dirs[i][0])
			continue;
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dirs[i]);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dirs[i]);
	}
}

static int start(struct builder_client *bc, const struct builder_client_opts *bo, uint64_t *us)
{
	char err[1024];
	uint64_t t0 = ktstr_now_us();
	int rc = builder_client_start(bc, bo, err, sizeof(err));

	*us = ktstr_now_us() - t0;
	if (rc)
		fprintf(stderr, "builder start: %s\n", err);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "compression", required_argument, NULL, 'c' },
		{ "guest", required_argument, NULL, 'g' },
		{ "busybox", required_argument, NULL, 'b' },
		{ "builder", required_argument, NULL, 'B' },
		{ "init", required_argument, NULL, 'i' },
		{ "scheduler", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	char guest[PATH_MAX] = "", builder[PATH_MAX] = "", dir[PATH_MAX];
	const char *busybox = "/bin/busybox", *log = NULL, *comp = "none", *sched = NULL;
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	Ktstr__FileSpec bb = KTSTR__FILE_SPEC__INIT;
	Ktstr__FileSpec *files[1] = { &bb };
	struct builder_client_opts bo = { .stderr_fd = -1 };
	unsigned n = 10;
	uint64_t *cold, *mem, *fresh, *disk1, *disk, *bcold, *bmem, *bdisk, *st;
	Ktstr__BuildRequest warm;
	char (*dirs)[PATH_MAX];
	uint64_t size = 0;
	size_t good = 0, ngood = 0;
	int opt, logfd = -1;

	while ((opt = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		switch (opt) {
		case 'n': n = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'c': comp = optarg; break;
		case 'g': snprintf(guest, sizeof(guest), "%s", optarg); break;
		case 'b': busybox = optarg; break;
		case 'B': snprintf(builder, sizeof(builder), "%s", optarg); break;
		case 'l': log = optarg; break;
		case 'i': snprintf(guest, sizeof(guest), "%s", optarg); break;
		case 's': sched = optarg; break;
		case 'o': g_out = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n N] [--compression none|gzip|lz4] [--guest P] "
					"[--init P] [--scheduler P] [--out F] [--busybox P] "
					"[--builder P] [--log FILE]\n", argv[0]);
			return 2;
		}
	}
	if (!n || n > 1000)
		return 2;
	if ((!guest[0] && bench_sibling_bin("ktstr-guest", guest, sizeof(guest))) ||
	    (!builder[0] && bench_sibling_bin("ktstr-initramfs-builder", builder, sizeof(builder)))) {
		fprintf(stderr, "ktstr-guest / ktstr-initramfs-builder not built (make first)\n");
		return 2;
	}
	if (access(busybox, R_OK)) {
		fprintf(stderr, "%s: %s\n", busybox, strerror(errno));
		return 2;
	}
	if (log && (logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return fprintf(stderr, "open %s: %s\n", log, strerror(errno)), 2;
	req.init_path = guest;
	req.scheduler_path = (char *)sched;
	bb.host_path = (char *)busybox;
	bb.guest_path = "/bin/busybox";
	bb.has_resolve_libs = 1;
	bb.resolve_libs = 0; /* busybox-static, as orchestrator/images.c sends it */
	req.n_files = 1;
	req.files = files;
	req.has_compression = 1;
	req.compression = !strcmp(comp, "gzip") ? KTSTR__COMPRESSION__COMPRESSION_GZIP
			  : !strcmp(comp, "lz4") ? KTSTR__COMPRESSION__COMPRESSION_LZ4
						 : KTSTR__COMPRESSION__COMPRESSION_NONE;
	bo.builder_path = builder;
	bo.stderr_fd = logfd >= 0 ? logfd : -1;
	bo.cache_dir = dir;

	cold = calloc(n, 8), mem = calloc(n, 8), disk = calloc(n, 8), bcold = calloc(n, 8);
	bmem = calloc(n, 8), bdisk = calloc(n, 8), st = calloc(n, 8);
	fresh = calloc(n, 8), disk1 = calloc(n, 8);
	dirs = calloc(n, PATH_MAX);
	if (!cold || !mem || !disk || !bcold || !bmem || !bdisk || !st || !fresh || !disk1 ||
	    !dirs)
		return 2;
	printf("# base image: /init=%s, /bin/busybox=%s, compression %s, %u iterations\n", guest,
	       busybox, comp, n);
	printf("%-4s %10s %10s %10s %10s %10s %10s %10s\n", "it", "start_us", "cold_us", "memory_us",
	       "fresh_us", "b_cold", "b_memory", "b_fresh");
	for (unsigned i = 0; i < n; i++) {
		struct builder_client b1 = { .pid = -1, .sock = -1 }, b2 = { .pid = -1, .sock = -1 };
		uint64_t us[3] = { 0 }, bus[3] = { 0 }, sus = 0, s2;
		int tier[3] = { -1, -1, -1 }, rc;
		uint32_t nf[3] = { 0 };
		char tmpl[] = "/var/tmp/ktstr-bench-cache-XXXXXX";

		if (!mkdtemp(tmpl)) {
			perror("mkdtemp");
			return 2;
		}
		snprintf(dir, sizeof(dir), "%s", tmpl);
		snprintf(dirs[i], PATH_MAX, "%s", tmpl);
		rc = start(&b1, &bo, &sus);
		if (!rc)
			rc = one(&b1, &req, &us[0], &bus[0], &tier[0], &size, &nf[0]);
		if (!rc)
			rc = one(&b1, &req, &us[1], &bus[1], &tier[1], &size, &nf[1]);
		if (b1.pid >= 0)
			builder_client_stop(&b1);
		if (!rc)
			rc = start(&b2, &bo, &s2);
		if (!rc)
			rc = one(&b2, &req, &us[2], &bus[2], &tier[2], &size, &nf[2]);
		if (b2.pid >= 0)
			builder_client_stop(&b2);
		if (rc) {
			remove_dirs(dirs, i + 1);
			return 1;
		}
		printf("%-4u %10llu %10llu %10llu %10llu %10llu %10llu %10llu  tiers %s/%s/%s files %u/%u/%u\n", i,
		       (unsigned long long)sus, (unsigned long long)us[0], (unsigned long long)us[1],
		       (unsigned long long)us[2], (unsigned long long)bus[0],
		       (unsigned long long)bus[1], (unsigned long long)bus[2],
		       tier[0] >= 0 && tier[0] < 3 ? tier_names[tier[0]] : "?",
		       tier[1] >= 0 && tier[1] < 3 ? tier_names[tier[1]] : "?",
		       tier[2] >= 0 && tier[2] < 3 ? tier_names[tier[2]] : "?", nf[0], nf[1], nf[2]);
		fflush(stdout);
		/* Only count iterations that hit the tier they are named for. */
		if (tier[0] == 0 && tier[1] == 1 && tier[2] == 2) {
			st[good] = sus;
			cold[good] = us[0], mem[good] = us[1], fresh[good] = us[2];
			bcold[good] = bus[0], bmem[good] = bus[1];
			good++;
		}
	}
	printf("%-4s %10s %10s %10s\n", "it", "disk1_us", "disk_us", "b_disk");
	warm = req;
	warm.n_files = 0;
	warm.files = NULL;
	for (unsigned i = 0; i < n; i++) {
		uint64_t us[2] = { 0 }, bus[2] = { 0 }, s2, wus, wbus, wsize;
		int tier[2] = { -1, -1 }, wtier, rc = 0;
		uint32_t nf[2] = { 0 }, wnf;

		snprintf(dir, sizeof(dir), "%s", dirs[i]);
		for (int k = 0; k < 2 && !rc; k++) {
			struct builder_client b = { .pid = -1, .sock = -1 };

			rc = start(&b, &bo, &s2);
			if (!rc && k == 1)
				rc = one(&b, &warm, &wus, &wbus, &wtier, &wsize, &wnf);
			if (!rc)
				rc = one(&b, &req, &us[k], &bus[k], &tier[k], &size, &nf[k]);
			if (b.pid >= 0)
				builder_client_stop(&b);
		}
		if (rc)
			break;
		printf("%-4u %10llu %10llu %10llu  tiers %s/%s\n", i, (unsigned long long)us[0],
		       (unsigned long long)us[1], (unsigned long long)bus[1],
		       tier[0] == 2 ? "disk" : "?", tier[1] == 2 ? "disk" : "?");
		if (tier[0] == 2 && tier[1] == 2) {
			disk1[ngood] = us[0], disk[ngood] = us[1];
			bdisk[ngood] = bus[1];
			ngood++;
		}
	}
	remove_dirs(dirs, n);
	printf("image_bytes=%llu counted=%zu/%u, %zu/%u\n", (unsigned long long)size, good, n,
	       ngood, n);
	if (good) {
		bench_print_median("builder_start_us", st, good);
		bench_print_median("cold_us", cold, good);
		bench_print_median("memory_us", mem, good);
		bench_print_median("disk_fresh_us", fresh, good);
		bench_print_median("builder_cold_us", bcold, good);
		bench_print_median("builder_mem_us", bmem, good);
	}
	if (ngood) {
		bench_print_median("disk_first_request_us", disk1, ngood);
		bench_print_median("disk_us", disk, ngood);
		bench_print_median("builder_disk_us", bdisk, ngood);
	}
	if (logfd >= 0)
		close(logfd);
	free(cold), free(mem), free(disk), free(bcold), free(bmem), free(bdisk), free(st);
	free(fresh), free(disk1), free(dirs);
	return good && ngood ? 0 : 1;
}
