/* ktstr-initramfs-builder: turns "this init, this scheduler, these files"
 * into a bootable cpio image, cached by content, handed out as a sealed
 * memfd. Started by ktstr-orch with its control socket as fd 3; serves
 * BuilderRequest frames until the orchestrator closes the socket. It never
 * needs /dev/kvm; it reads the requested input files and writes only its
 * cache directory. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ktstr/log.h"
#include "bench.h"
#include "server.h"

#define BUILDER_CONTROL_FD 3

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ktstr-initramfs-builder                 (started by ktstr-orch, socket on fd 3)\n"
		"       ktstr-initramfs-builder --bench [--init ELF] [--scheduler ELF] [--iterations N]\n"
		"\n"
		"--bench prints cold-build, warm-memory and warm-disk timings for each\n"
		"compression, using a throw-away cache directory under /tmp.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bench", no_argument, NULL, 'b' },
		{ "init", required_argument, NULL, 'i' },
		{ "scheduler", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *init = NULL, *sched = NULL;
	int bench = 0, iterations = 1, opt, ret;
	struct builder b;
	struct stat st;

	klog_init("ktstr-initramfs-builder");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': bench = 1; break;
		case 'i': init = optarg; break;
		case 's': sched = optarg; break;
		case 'n':
			iterations = atoi(optarg);
			if (iterations < 1 || iterations > 100) {
				kerr("--iterations %s: expected 1..100", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (bench) {
		ret = bench_run(init, sched, iterations);
		if (ret)
			kerr("bench failed: %s", strerror(-ret));
		return ret ? 1 : 0;
	}
	if (fstat(BUILDER_CONTROL_FD, &st) || !S_ISSOCK(st.st_mode)) {
		kerr("fd %d is not a socket: this program is started by ktstr-orch with its "
		     "control socket as fd 3; run it with --bench or --help by hand",
		     BUILDER_CONTROL_FD);
		return 2;
	}
	ret = builder_init(&b, NULL);
	if (ret) {
		kerr("initialise image cache: %s", strerror(-ret));
		return 1;
	}
	ret = builder_serve(&b, BUILDER_CONTROL_FD);
	builder_free(&b);
	if (ret) {
		kerr("control socket: %s; the orchestrator went away mid-request", strerror(-ret));
		return 1;
	}
	return 0;
}
