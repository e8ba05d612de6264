/* ktstr-initramfs-builder: turns "this init, this scheduler, these files"
 * into a bootable cpio image, cached by content, handed out as a sealed
 * memfd. Started by ktstr-orch with its control socket as fd 3; serves
 * BuilderRequest frames until the orchestrator closes the socket. It never
 * needs /dev/kvm; it reads the requested input files and writes only its
 * cache directory.
 *
 * It parses host ELF files named by the user, so it runs confined
 * (docs/security.md, "ktstr-initramfs-builder"): after checking its fds and
 * opening the cache dir it calls sandbox_confine(BUILDER) before the first
 * request and fails closed if the host cannot provide that, unless started
 * with --insecure-no-sandbox, which every BuildOk then reports. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ktstr/imgcache_fd.h"
#include "ktstr/log.h"
#include "bench.h"
#include "sandbox.h"
#include "server.h"

#define BUILDER_CONTROL_FD 3

#if defined(__SANITIZE_ADDRESS__)
/* SAN=1 builds: LeakSanitizer's exit-time scan needs ptrace and clone,
 * which the builder's seccomp policy kills (docs/security.md, "Known
 * limits"). Only this binary is confined, so only it opts out; the unit
 * tests link the same code without main.o and keep leak checking. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ktstr-initramfs-builder                 (started by ktstr-orch, socket on fd 3)\n"
		"       ktstr-initramfs-builder --bench [--init ELF] [--scheduler ELF] [--iterations N]\n"
		"\n"
		"--bench prints cold-build, warm-memory and warm-disk timings for each\n"
		"compression, using a throw-away cache directory under /tmp.\n"
		"--insecure-no-sandbox (with fd 3) serves requests unconfined: no seccomp\n"
		"policy, namespaces or capability drop; every BuildOk says sandboxed=false.\n"
		"Only for hosts that cannot confine it (see docs/security.md).\n");
}

/* Confine the builder before it reads its first request: only fds 0-2, the
 * control socket and the cache dir; own user/net/ipc/uts namespaces; no
 * capabilities; no_new_privs; the BUILDER seccomp policy on every thread.
 * Returns 0 or -errno after logging what is missing and what to do; the
 * caller must then exit (fail closed). */
static int builder_confine(struct builder *b)
{
	int fds[6] = { 0, 1, 2, BUILDER_CONTROL_FD, -1, -1 };
	struct sandbox_host_support hs;
	struct sandbox_opts o;
	size_t nfds = 4;
	char err[1024];
	int ret, llfd;

	/* Name what the host lacks up front, rather than the errno of the
	 * first step that trips over it. */
	sandbox_host_probe(&hs);
	if (!hs.seccomp_filter || !hs.seccomp_kill_process || !hs.seccomp_tsync || !hs.user_ns) {
		kerr("cannot confine the builder: this host lacks %s; fix that, or let ktstr run "
		     "the builder unconfined with --insecure-no-sandbox "
		     "(builder_client_opts.insecure_no_sandbox; results then say sandboxed=false)",
		     hs.missing[0] ? hs.missing : "seccomp TSYNC (need Linux >= 3.17)");
		return -ENOSYS;
	}
	llfd = sandbox_builder_landlock(b->cache.dirfd, err, sizeof(err));
	if (llfd == -EOPNOTSUPP) {
		kwarn("the builder runs without Landlock (%s): its writes are confined to the "
		      "cache dir by seccomp's dirfd rules only; every BuildOk says landlock=false",
		      err);
	} else if (llfd < 0) {
		kerr("cannot confine the builder: %s", err);
		return llfd;
	}
	if (b->cache.dirfd >= 0)
		fds[nfds++] = b->cache.dirfd;
	if (llfd >= 0)
		fds[nfds++] = llfd;
	sandbox_opts_init(&o);
	o.allowed_fds = fds;
	o.n_allowed_fds = nfds;
	o.landlock_fd = llfd;
	o.cache_dirfd = b->cache.dirfd;
	o.ns_flags = SANDBOX_NS_USER | SANDBOX_NS_NET | SANDBOX_NS_IPC | SANDBOX_NS_UTS;
	o.policy_flags = SANDBOX_POLICY_TSYNC;
	ret = sandbox_confine(SANDBOX_ROLE_BUILDER, &o, err, sizeof(err));
	if (llfd >= 0)
		close(llfd);
	if (ret) {
		kerr("cannot confine the builder (role builder, before the first request): %s; "
		     "the builder does not run half-confined, it exits. Fix the cause, or start it "
		     "with --insecure-no-sandbox to run unconfined", err);
		return ret;
	}
	b->sandboxed = true;
	b->landlock = llfd >= 0;
	kdbg("confined: seccomp builder policy, %suser/net/ipc/uts namespaces, no capabilities, "
	     "cache dir fd %d", b->landlock ? "Landlock (write only below the cache dir), " : "",
	     b->cache.dirfd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bench", no_argument, NULL, 'b' },
		{ "init", required_argument, NULL, 'i' },
		{ "scheduler", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "insecure-no-sandbox", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *init = NULL, *sched = NULL;
	int bench = 0, iterations = 1, insecure = 0, opt, ret;
	int stdfds[5] = { 0, 1, 2, BUILDER_CONTROL_FD, -1 };
	size_t nstd = 4;
	char err[1024];
	struct builder b;
	struct stat st;

	klog_init("ktstr-initramfs-builder");
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': bench = 1; break;
		case 'i': init = optarg; break;
		case 's': sched = optarg; break;
		case 'U': insecure = 1; break;
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
	/* A root ktstr-orch also passes the cache directory, named by
	 * $KTSTR_CACHE_FD (ktstr/imgcache_fd.h); imgcache_init checks it. */
	if (getenv(KTSTR_CACHE_FD_ENV) && !strcmp(getenv(KTSTR_CACHE_FD_ENV), "4"))
		stdfds[nstd++] = 4;
	/* Before opening anything: an fd leaked by whoever started us would
	 * otherwise be carried into the sandbox (sandbox_confine checks again
	 * once the cache dir is open). */
	ret = sandbox_fd_inventory_check(stdfds, nstd, err, sizeof(err));
	if (ret && !insecure) {
		kerr("fd inventory at startup: %s; ktstr-orch passes only fds 0-2, the control "
		     "socket (fd 3) and, as root, the cache directory (fd 4, named by %s): close "
		     "the others in whatever started the builder", err, KTSTR_CACHE_FD_ENV);
		return 1;
	}
	if (ret)
		kwarn("fd inventory at startup: %s (ignored: --insecure-no-sandbox)", err);
	ret = builder_init(&b, NULL);
	if (ret) {
		kerr("initialise image cache: %s", strerror(-ret));
		return 1;
	}
	if (insecure) {
		kwarn("running UNCONFINED (--insecure-no-sandbox): no seccomp policy, namespaces "
		      "or capability drop; a hostile input file could use this process's full "
		      "authority. Every BuildOk reply says sandboxed=false.");
	} else if (builder_confine(&b)) {
		builder_free(&b);
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
