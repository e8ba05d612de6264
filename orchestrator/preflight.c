#include "preflight.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/hostkvm.h>

#include "images.h"

const char *const preflight_qemu_dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", NULL };

int preflight_qemu(const char *const *dirs, char *err, size_t errlen)
{
	return preflight_qemu_arch(dirs, KTSTR__ARCH__ARCH_X86_64, err, errlen);
}

int preflight_qemu_arch(const char *const *dirs, Ktstr__Arch arch, char *err, size_t errlen)
{
	const bool arm64 = arch == KTSTR__ARCH__ARCH_ARM64;
	const char *bin = arm64 ? "qemu-system-aarch64" : "qemu-system-x86_64";
	char path[4096], tried[1024] = "";
	size_t tl = 0;

	if (!dirs)
		dirs = preflight_qemu_dirs;
	for (size_t i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], bin);
		if (!access(path, X_OK))
			return 0;
		tl += (size_t)snprintf(tried + tl, tl < sizeof(tried) ? sizeof(tried) - tl : 0, "%s%s",
				       i ? ", " : "", dirs[i]);
		if (tl >= sizeof(tried))
			tl = sizeof(tried) - 1;
	}
	if (arm64)
		snprintf(err, errlen,
			 "an arm64 guest needs qemu-system-aarch64, not found in %s (VM workers run "
			 "with a clean environment and look only there): install it (Debian/Ubuntu: "
			 "apt-get install qemu-system-arm; scripts/install-deps does)",
			 tried);
	else
		snprintf(err, errlen,
			 "the QEMU engine needs qemu-system-x86_64, not found in %s (VM workers run "
			 "with a clean environment and look only there): install it (Debian/Ubuntu: "
			 "apt-get install qemu-system-x86), or use --engine kvm on a host with "
			 "hardware KVM",
			 tried);
	return -ENOENT;
}

int preflight_kvm(const char *dev, const char *user, char *err, size_t errlen)
{
	if (!dev)
		dev = "/dev/kvm";
	if (access(dev, F_OK)) {
		snprintf(err, errlen,
			 "the KVM engine needs %s, which does not exist (%s): enable virtualization "
			 "in the firmware and load the module (modprobe kvm_intel or kvm_amd), or "
			 "use --engine qemu",
			 dev, strerror(errno));
		return -ENOENT;
	}
	if (access(dev, R_OK | W_OK)) {
		snprintf(err, errlen,
			 "the KVM engine needs read and write access to %s, which user %s (uid %u, "
			 "gid %u) lacks (%s); every VM worker runs as that user. Grant it: "
			 "setfacl -m u:%s:rw %s, or add that user to the group that owns it "
			 "(usermod -aG kvm USER: ktstr-orch keeps the user's groups from "
			 "/etc/group when it drops root); or use --engine qemu",
			 dev, user ? user : "?", (unsigned)getuid(), (unsigned)getgid(),
			 strerror(errno), user ? user : "$USER", dev);
		return -EACCES;
	}
	return 0;
}

int preflight_engine(const struct host_caps *hc, const char *user, char *err, size_t errlen)
{
	/* A /dev/kvm that is not hardware KVM cannot boot a stock kernel:
	 * refused before any VM, whoever may open it. */
	if (hc->engine == KTSTR__ENGINE__ENGINE_KVM && strcmp(hc->kvm_kind, KTSTR_KVM_ABSENT) &&
	    !ktstr_kvm_is_hardware(hc->kvm_kind)) {
		snprintf(err, errlen,
			 "the KVM engine needs hardware KVM, and /dev/kvm here is %s (%s): a stock "
			 "kernel cannot boot on it; use --engine qemu or --engine auto on this host",
			 hc->kvm_kind,
			 !strcmp(hc->kvm_kind, KTSTR_KVM_PVM)
				 ? "kvm_pvm runs only PVM-enlightened guests; a stock kernel dies in "
				   "its instruction emulator"
				 : "the CPU shows neither svm nor vmx");
		return -ENODEV;
	}
	if (hc->engine == KTSTR__ENGINE__ENGINE_KVM)
		return preflight_kvm(NULL, user, err, errlen);
	if (hc->engine == KTSTR__ENGINE__ENGINE_QEMU)
		return preflight_qemu_arch(NULL, hc->guest_arch, err, errlen);
	return 0;
}

int preflight_cpu_plan(const struct plan *p, const struct host_caps *hc, unsigned workers,
		       char *msg, size_t msglen)
{
	uint32_t top[256] = { 0 }, need = 0;

	if (workers > 256)
		workers = 256;
	if (!workers)
		workers = 1;
	for (size_t i = 0; i < p->n; i++) {
		uint32_t c;

		if (p->v[i].state != VAR_KEPT)
			continue;
		c = topo_cpus(&p->v[i].topo);
		/* keep the `workers` largest (insertion into a small sorted array) */
		for (unsigned k = 0; k < workers; k++) {
			if (c > top[k]) {
				uint32_t t = top[k];

				top[k] = c;
				c = t;
			}
		}
	}
	for (unsigned k = 0; k < workers; k++)
		need += top[k];
	if (need > hc->cpus && workers > 1 && top[0] <= hc->cpus) {
		snprintf(msg, msglen,
			 "host CPU plan: up to %u concurrent VMs need %u vCPUs but this host has %u "
			 "CPUs: vCPUs will be oversubscribed and timing checks may be noisy (lower "
			 "--workers to avoid it)",
			 workers, need, hc->cpus);
		return 1;
	}
	if (need > hc->cpus) {
		snprintf(msg, msglen,
			 "host CPU plan: the largest VM has %u vCPUs and this host %u CPUs: vCPUs "
			 "will be oversubscribed%s; timing checks may be noisy",
			 top[0], hc->cpus, workers > 1 ? ", more so with --workers > 1" : "");
		return 1;
	}
	snprintf(msg, msglen, "host CPU plan: up to %u vCPUs across %u concurrent VMs on %u host CPUs",
		 need, workers, hc->cpus);
	return 0;
}

size_t preflight_scheduler_binaries(struct suite *s, const struct plan *p, FILE *f)
{
	size_t missing = 0;

	for (size_t i = 0; i < s->nscheds; i++) {
		struct sched_def *sd = &s->scheds[i];
		size_t used = 0, kept = 0;
		char err[2048];

		for (size_t k = 0; k < p->n; k++) {
			if (s->tests[p->v[k].test].sched != i ||
			    p->v[k].state == VAR_DROP_FILTER || p->v[k].state == VAR_DROP_PARTITION)
				continue;
			used++;
			kept += p->v[k].state == VAR_KEPT;
		}
		/* One that no selected variant uses is never looked for by run. */
		if (!used || scheduler_resolve_arch(s, sd, p->arch, err, sizeof(err)) != -ENOENT)
			continue;
		missing++;
		if (kept)
			fprintf(f, "# MISSING %s; `run` stops on it (exit 2): %zu variant(s) it would "
				   "run need it\n",
				err, kept);
		else
			fprintf(f, "# missing %s; no variant `run` would run needs it now (only "
				   "skipped or dropped ones)\n",
				err);
	}
	return missing;
}
