/* The vCPU role against the real /dev/kvm: a vCPU set up before
 * confinement runs a one-instruction real-mode guest (HLT) to a KVM_EXIT_HLT
 * after confinement, and the VM-level ioctls a hostile vCPU thread would want
 * (a new vCPU, remapping guest memory) kill the process. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "child.h"

struct kvm_fds {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	void *mem;
	const char *skip; /* why this host cannot run the test, or NULL */
};

/* Create a VM with one page of guest memory holding HLT at 0x1000 and a vCPU
 * in real mode pointing at it. All fds are owned by the (child) caller and
 * die with it. */
static void kvm_setup(struct kvm_fds *k)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	long run_size;

	memset(k, 0, sizeof(*k));
	k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm < 0) {
		k->skip = "no /dev/kvm";
		return;
	}
	k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
	k->mem = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->vm < 0 || k->mem == MAP_FAILED) {
		k->skip = "KVM_CREATE_VM failed";
		return;
	}
	((unsigned char *)k->mem)[0x1000] = 0xf4; /* hlt */
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = 0x2000,
		.userspace_addr = (unsigned long)k->mem,
	};
	k->vcpu = ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -1
									 : ioctl(k->vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->vcpu < 0 || run_size <= 0) {
		k->skip = "vCPU creation failed";
		return;
	}
	k->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
	if (k->run == MAP_FAILED || ioctl(k->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		k->skip = "vCPU mmap/GET_SREGS failed";
		return;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 0x2;
	if (ioctl(k->vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(k->vcpu, KVM_SET_REGS, &regs) < 0)
		k->skip = "vCPU register setup failed";
}

#define EXIT_NO_KVM 77
#define EXIT_NOT_HLT 78

static void run_hlt_child(void *unused)
{
	struct kvm_fds k;
	struct kvm_regs regs;

	(void)unused;
	kvm_setup(&k);
	if (k.skip)
		_exit(EXIT_NO_KVM);
	child_confine(SANDBOX_ROLE_WORKER_VCPU, 0, -1);
	if (ioctl(k.vcpu, KVM_RUN, 0) < 0 || k.run->exit_reason != KVM_EXIT_HLT)
		_exit(EXIT_NOT_HLT);
	/* exit handling reads registers: allowed */
	if (ioctl(k.vcpu, KVM_GET_REGS, &regs) < 0)
		_exit(CHILD_EXIT_PROBE_FAILED);
	_exit(CHILD_EXIT_OK);
}

Test(sandbox_kvm, vcpu_role_runs_a_real_guest_to_hlt)
{
	char st[64];
	bool timed_out;
	int ws = child_run(run_hlt_child, NULL, &timed_out);

	if (WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_NO_KVM)
		cr_skip_test("/dev/kvm cannot create a VM here");
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "confined KVM_RUN to HLT: child %s",
		  wait_text(ws, st, sizeof(st)));
}

static void vm_ioctl_child(void *which)
{
	struct kvm_fds k;
	struct kvm_userspace_memory_region region = { 0 };

	kvm_setup(&k);
	if (k.skip)
		_exit(EXIT_NO_KVM);
	child_confine(SANDBOX_ROLE_WORKER_VCPU, 0, -1);
	if (*(int *)which == 0)
		ioctl(k.vm, KVM_CREATE_VCPU, 1);
	else
		ioctl(k.vm, KVM_SET_USER_MEMORY_REGION, &region);
	_exit(CHILD_EXIT_OK);
}

Test(sandbox_kvm, vcpu_role_cannot_reshape_the_vm)
{
	char st[64];
	bool timed_out;

	for (int which = 0; which < 2; which++) {
		int ws = child_run(vm_ioctl_child, &which, &timed_out);

		if (WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_NO_KVM)
			cr_skip_test("/dev/kvm cannot create a VM here");
		cr_expect(killed_by_sigsys(ws), "%s on a real VM fd: child %s",
			  which ? "KVM_SET_USER_MEMORY_REGION" : "KVM_CREATE_VCPU",
			  wait_text(ws, st, sizeof(st)));
	}
}
