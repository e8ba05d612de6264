#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktstr/log.h"
#include "ktstr/util.h"
#include "bench.h"
#include "server.h"

#define BENCH_QEMU "/usr/bin/qemu-system-x86_64"

static int bench_rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	/* Only ever our own mkdtemp directory. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -EIO : 0;
}

static int bench_once(struct builder *b, const Ktstr__BuildRequest *req, uint64_t *us,
		      struct builder_result *res)
{
	struct ktstr_error e = { 0 };
	uint64_t t0 = ktstr_now_us();
	char msg[1024];
	int ret;

	ret = builder_build(b, req, res, &e);
	*us = ktstr_now_us() - t0;
	if (ret) {
		ktstr_error_format(&e, msg, sizeof(msg));
		kerr("bench: build failed: %s", msg);
	}
	return ret;
}

int bench_run(const char *init, const char *scheduler, int iterations)
{
	static const char *const names[] = { "none", "gzip", "lz4" };
	static const char *const tiers[] = { "built", "memory", "disk" };
	char self[PATH_MAX], dir[] = "/tmp/ktstr-bench-XXXXXX";
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	int c, it, ret = 0;

	if (!init) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n < 0)
			return -errno;
		self[n] = '\0';
		init = self;
	}
	if (!scheduler && !access(BENCH_QEMU, R_OK))
		scheduler = BENCH_QEMU;
	req.init_path = (char *)init;
	req.scheduler_path = (char *)scheduler;
	req.has_compression = 1;
	printf("initramfs-builder bench: init=%s scheduler=%s iterations=%d\n", init,
	       scheduler ? scheduler : "(none)", iterations);
	printf("%-5s %-7s %12s %12s %10s %8s\n", "comp", "tier", "image_bytes", "raw_bytes",
	       "ms", "ratio");
	for (c = 0; c < 3 && !ret; c++) {
		req.compression = (Ktstr__Compression)c;
		for (it = 0; it < iterations && !ret; it++) {
			struct builder_result res;
			struct builder b1, b2;
			uint64_t us[3];
			int tier[3], k;
			uint64_t size = 0, raw = 0;

			if (!mkdtemp(dir))
				return -errno;
			ret = builder_init(&b1, dir);
			if (ret)
				goto out_dir;
			/* cold, then warm from memory in the same process... */
			for (k = 0; k < 2 && !ret; k++) {
				ret = bench_once(&b1, &req, &us[k], &res);
				if (!ret) {
					tier[k] = res.ok.tier;
					size = res.ok.image_size;
					raw = res.ok.uncompressed_size;
					builder_result_free(&res);
				}
			}
			builder_free(&b1);
			/* ...then warm from disk in a "new process". */
			if (!ret && !(ret = builder_init(&b2, dir))) {
				ret = bench_once(&b2, &req, &us[2], &res);
				if (!ret) {
					tier[2] = res.ok.tier;
					builder_result_free(&res);
				}
				builder_free(&b2);
			}
			for (k = 0; !ret && k < 3; k++)
				printf("%-5s %-7s %12llu %12llu %10.2f %8.3f\n", names[c],
				       tiers[tier[k]], (unsigned long long)size,
				       (unsigned long long)raw, (double)us[k] / 1000.0,
				       raw ? (double)size / (double)raw : 0.0);
out_dir:
			bench_rm_tree(dir);
			memcpy(dir, "/tmp/ktstr-bench-XXXXXX", sizeof(dir));
		}
	}
	fflush(stdout);
	return ret;
}
