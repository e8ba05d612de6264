/* layout-dump: derive the host-side monitor's view of a kernel with the
 * orchestrator's own kernel_layout_from_vmlinux() (orchestrator/
 * kernel_layout*.c, docs/monitor.md) and write it as a packed
 * GuestKernelLayout (proto/monitor.proto), the bytes ktstr-orch puts into
 * VmSpec.kernel_layout. scripts/nested-rig runs it on the host and ships the
 * file into L1, where ktstr-vmrun --layout hands it to the worker: the L2's
 * monitor then works from exactly what ktstr-orch would have sent.
 *
 *   layout-dump KERNEL OUT      KERNEL: a vmlinux, a bzImage (the vmlinux
 *                               beside it, else the one inside), or a folder
 *
 * Prints "layout KEY value" lines (release, symbol_source, hz, missing) on
 * stdout. Exit status: 0 written, 1 the kernel gives no usable layout (the
 * reason on stderr), 2 bad arguments or the file could not be written.
 * A host tool, built by scripts/nested-rig (not by the Makefile). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_layout.h"

int main(int argc, char **argv)
{
	Ktstr__GuestKernelLayout *l = NULL;
	char why[1024] = "";
	uint8_t *buf;
	size_t len;
	FILE *f;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: layout-dump KERNEL OUT  (KERNEL: vmlinux, bzImage or a folder with a vmlinux)\n");
		return 2;
	}
	ret = kernel_layout_from_vmlinux(argv[1], &l, why, sizeof(why));
	if (ret) {
		fprintf(stderr, "layout-dump: no monitor layout for %s: %s (%s)\n", argv[1],
			why[0] ? why : strerror(-ret), strerror(-ret));
		if (l)
			ktstr__guest_kernel_layout__free_unpacked(l, NULL);
		return 1;
	}
	len = ktstr__guest_kernel_layout__get_packed_size(l);
	buf = malloc(len ? len : 1);
	if (!buf) {
		ktstr__guest_kernel_layout__free_unpacked(l, NULL);
		return 2;
	}
	ktstr__guest_kernel_layout__pack(l, buf);
	f = fopen(argv[2], "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "layout-dump: cannot write %s: %s\n", argv[2], strerror(errno));
		free(buf);
		ktstr__guest_kernel_layout__free_unpacked(l, NULL);
		return 2;
	}
	printf("layout release %s\n", l->release ? l->release : "?");
	printf("layout symbol_source %s\n", l->symbol_source ? l->symbol_source : "?");
	printf("layout hz %u\n", l->has_hz ? l->hz : 0);
	printf("layout bytes %zu\n", len);
	for (size_t i = 0; i < l->n_missing; i++)
		printf("layout missing %s\n", l->missing[i]);
	free(buf);
	ktstr__guest_kernel_layout__free_unpacked(l, NULL);
	return 0;
}
