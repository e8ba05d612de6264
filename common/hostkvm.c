#include <ktstr/hostkvm.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The first "flags" line of cpuinfo, word by word: svm or vmx. Reads
 * line by line with a fixed buffer (flags lines are ~1.5 KB). */
static const char *cpu_virt_flag(const char *root)
{
	char path[4096], line[8192];
	const char *kind = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/cpuinfo", root);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *colon;

		if (strncmp(line, "flags", 5))
			continue;
		colon = strchr(line, ':');
		for (char *w = strtok_r(colon ? colon + 1 : line, " \t\n", &save); w;
		     w = strtok_r(NULL, " \t\n", &save)) {
			if (!strcmp(w, "svm"))
				kind = KTSTR_KVM_HW_SVM;
			else if (!strcmp(w, "vmx"))
				kind = KTSTR_KVM_HW_VMX;
		}
		break;
	}
	fclose(f);
	return kind;
}

const char *ktstr_kvm_kind_at(const char *root)
{
	char path[4096];
	const char *hw;

	snprintf(path, sizeof(path), "%s/dev/kvm", root);
	if (access(path, F_OK))
		return KTSTR_KVM_ABSENT;
	snprintf(path, sizeof(path), "%s/sys/module/kvm_pvm", root);
	if (!access(path, F_OK))
		return KTSTR_KVM_PVM;
	hw = cpu_virt_flag(root);
	return hw ? hw : KTSTR_KVM_NOT_HW;
}

bool ktstr_kvm_is_hardware(const char *kind)
{
	return !strcmp(kind, KTSTR_KVM_HW_SVM) || !strcmp(kind, KTSTR_KVM_HW_VMX);
}
