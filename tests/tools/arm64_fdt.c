/* arm64-fdt: writes the arm64 guest device tree ktstr builds (vmm-worker/
 * arm64-guest/) for a topology, as a .dtb. Used to regenerate the golden
 * files (scripts/arm64-golden) and to look at a tree by hand:
 *
 *   build/tests/arm64-fdt -t 1,2,2,1 -m 512 [-s 16] [-e qemu|kvm]
 *       [-i START,END] [-b BOOTARGS] -o out.dtb
 *
 * -m RAM in MiB, -s SHM ring in MiB at the top of RAM (0: none), -i initrd
 * range (hex guest physical addresses). docs/aarch64.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/util.h>

#include "arm64-guest/arm64_fdt.h"
#include "arm64-guest/arm64_layout.h"

static int usage(void)
{
	fprintf(stderr, "usage: arm64-fdt -t N,L,C,T -m MiB [-s MiB] [-e qemu|kvm] "
			"[-i START,END] [-b BOOTARGS] -o OUT.dtb\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct arm64_fdt_spec s = { .bootargs = "", .uart = ARM64_UART_PL011,
				    .psci = ARM64_PSCI_HVC, .pcie = true };
	unsigned long long mem_mb = 0, shm_mb = 16;
	const char *out = NULL;
	char err[512];
	void *blob;
	size_t len;
	int c, fd;

	while ((c = getopt(argc, argv, "t:m:s:e:i:b:o:")) != -1) {
		switch (c) {
		case 't':
			if (topo_parse(optarg, &s.topo, err, sizeof(err))) {
				fprintf(stderr, "arm64-fdt: %s\n", err);
				return 2;
			}
			break;
		case 'm':
			mem_mb = strtoull(optarg, NULL, 10);
			break;
		case 's':
			shm_mb = strtoull(optarg, NULL, 10);
			break;
		case 'e':
			if (!strcmp(optarg, "kvm")) {
				s.uart = ARM64_UART_NS16550A;
				s.pcie = false; /* no PCI bus under the KVM engine */
			}
			else if (strcmp(optarg, "qemu"))
				return usage();
			break;
		case 'i':
			if (sscanf(optarg, "%llx,%llx", (unsigned long long *)&s.initrd_start,
				   (unsigned long long *)&s.initrd_end) != 2)
				return usage();
			break;
		case 'b':
			s.bootargs = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return usage();
		}
	}
	if (!out || !mem_mb || !s.topo.llcs || mem_mb > (1ull << 20) || shm_mb >= mem_mb)
		return usage();
	s.mem_bytes = mem_mb << 20;
	s.shm_size = shm_mb << 20;
	s.shm_base = s.shm_size ? ARM64_DRAM_BASE + s.mem_bytes - s.shm_size : 0;
	if (arm64_fdt_build(&s, &blob, &len, err, sizeof(err))) {
		fprintf(stderr, "arm64-fdt: %s\n", err);
		return 1;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, blob, len) || close(fd)) {
		fprintf(stderr, "arm64-fdt: %s: %s\n", out, strerror(errno));
		free(blob);
		return 1;
	}
	free(blob);
	return 0;
}
