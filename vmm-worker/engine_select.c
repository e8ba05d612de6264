/* Which engine can run a stock kernel here. A hardware KVM (svm/vmx) boots
 * Linux; kvm_pvm (a software KVM for PVM-enlightened guests) exposes /dev/kvm
 * too but fails on ordinary kernels (emulation failures in the decompressor,
 * int3 in vmlinux), so AUTO must never pick it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

/* Scan /proc/cpuinfo's first "flags" line for svm or vmx. Returns
 * "hardware-svm", "hardware-vmx" or NULL. */
static const char *cpu_virt_flag(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return NULL;
	char line[8192];
	const char *kind = NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		char *save = NULL;
		char *colon = strchr(line, ':');
		for (char *w = strtok_r(colon ? colon + 1 : line, " \t\n", &save); w;
		     w = strtok_r(NULL, " \t\n", &save)) {
			if (!strcmp(w, "svm"))
				kind = "hardware-svm";
			else if (!strcmp(w, "vmx"))
				kind = "hardware-vmx";
		}
		break;
	}
	fclose(f);
	return kind;
}

const char *engine_kvm_kind(void)
{
	struct stat st;
	if (stat("/dev/kvm", &st) != 0)
		return "absent";
	if (stat("/sys/module/kvm_pvm", &st) == 0)
		return "kvm_pvm";
	const char *hw = cpu_virt_flag();
	if (!hw)
		return "kvm_pvm"; /* /dev/kvm without svm/vmx: not hardware */
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return "no-access";
	close(fd);
	return hw;
}

Ktstr__Engine engine_choose(Ktstr__Engine requested)
{
	if (requested == KTSTR__ENGINE__ENGINE_KVM || requested == KTSTR__ENGINE__ENGINE_QEMU)
		return requested;
	const char *k = engine_kvm_kind();
	if (!strncmp(k, "hardware-", 9))
		return KTSTR__ENGINE__ENGINE_KVM;
	return KTSTR__ENGINE__ENGINE_QEMU;
}

uint64_t guest_shm_base(uint64_t memory_bytes, uint32_t shm_size)
{
	if (!shm_size)
		return 0;
	uint64_t top = memory_bytes < GUEST_MMIO_GAP_START ? memory_bytes : GUEST_MMIO_GAP_START;
	if (shm_size >= top)
		return 0;
	return top - shm_size;
}
