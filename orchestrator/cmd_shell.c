/* `ktstr-orch shell`: boot a VM whose guest runs busybox. With --exec the
 * command's output is printed and its exit status becomes ours
 * (KTSTR_EXEC_EXIT=N on COM2); otherwise the terminal is bridged to the
 * guest shell through the worker (FD_STDIN/FD_STDOUT) and the shell's exit
 * status becomes ours. A command or shell still running at --timeout exits
 * 124, as with timeout(1).
 *
 * Phases, one function each: parse the options; open the kernel (while
 * still root); prepare (drop root, preflight, the monitor's kernel layout,
 * image, specs); reserve its CPUs and guest RAM host-wide, as a run does
 * (hostres.h, docs/farms.md); run the VM (interactive: the terminal raw
 * meanwhile);
 * collect the exit status and say what the host-side monitor saw
 * (shell_status.c). A stop signal (stop.h) in any phase ends the command
 * with EXIT_INTERRUPTED, no VM left running and the terminal as it was
 * found. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <ktstr/arch.h>
#include <ktstr/arm64_check.h>
#include <ktstr/guest_contract.h>
#include <ktstr/log.h>
#include <ktstr/shell_result.h>
#include <ktstr/topology.h>
#include <ktstr/util.h>

#include "builder_client.h"
#include "cache_owner.h"
#include "cli.h"
#include "hostcaps.h"
#include "hostres.h"
#include "kernel_cache.h"
#include "kernel_layout.h"
#include "merge.h"
#include "preflight.h"
#include "shell_exec.h"
#include "shell_image.h"
#include "shell_result.h"
#include "shell_status.h"
#include "stop.h"
#include "vm_backend_worker.h"

#define SHELL_EXEC_TIMEOUT_MS (300u * 1000)
#define SHELL_INTERACTIVE_TIMEOUT_MS (12u * 3600 * 1000)

struct shell_opts {
	struct ktstr_topo topo;
	uint32_t memory_mb, timeout_ms;
	/* --watchdog-timeout: the sched_ext watchdog the monitor lowers to;
	 * 0 = the kernel's own (docs/shell.md says why that is the default). */
	uint32_t watchdog_ms;
	const char *kernel, *exec;
	const char *result_json; /* --result-json FILE (with --exec) */
	Ktstr__Engine engine;
	Ktstr__Arch arch;	/* --arch (docs/aarch64.md) */
	const char *includes[SHELL_MAX_INCLUDES];
	size_t nincludes;
	/* Host-wide reservation, as `run` takes it: --cpu-cap (0 = none) and
	 * --reserve-timeout (docs/farms.md). */
	unsigned cpu_cap;
	uint32_t reserve_timeout_s;
};

/* One shell VM from the kernel to the exit status. spec points into this
 * struct (topo, cmdline, suffix), so it stays where it was made. */
struct shell_vm {
	struct global_opts go;
	struct shell_opts o;
	struct host_caps hc;
	struct kernel_choice kc;
	int kfd;			/* owned */
	struct builder_image img;	/* owned */
	struct cache_owner co;		/* root: who builds the image (cache_owner.h) */
	struct builder_client bc;	/* started as co before the drop, or pid -1 */
	uint8_t *suffix;		/* owned: the GuestSpec cpio */
	size_t suflen;
	Ktstr__GuestKernelLayout *layout; /* owned; NULL = unmonitored */
	Ktstr__Topology topo;
	Ktstr__MonitorSpec mon;		/* spec.monitor, with layout */
	Ktstr__VmSpec spec;
	char cmdline[64];
	struct exec_stream es;		/* --exec: the live output relay */
	struct vm_job_result res;	/* owned: res.result */
	struct shell_result sr;		/* owned: --result-json */
	struct hostres hr;		/* owned once reserved */
	bool reserved;			/* hr is a holder: closed in release */
	char err[4096 + 256]; /* room for a kernel path and why */
	bool usage_error;	/* a failed phase failed on the user's input */
};

/* Guest RAM: --memory-mb, else max(64 per CPU, 512) MiB. */
static uint32_t shell_memory_mb(const struct shell_opts *o)
{
	uint32_t cpus = topo_cpus(&o->topo);

	return o->memory_mb ? o->memory_mb : (cpus * 64 > 512 ? cpus * 64 : 512);
}

/* Returns true to go on; false with *rc the exit status (--help: 0, a
 * usage error: 2, said). */
static bool parse_shell_opts(struct cli_parser *cp, struct shell_opts *o, int *rc)
{
	char err[512];
	int c;

	o->topo = (struct ktstr_topo){ 1, 1, 1, 1 };
	o->reserve_timeout_s = HOSTRES_TIMEOUT_DEFAULT_S;
	while ((c = cli_next(cp)) > 0) {
		unsigned long v;
		char *end;

		switch (c) {
		case 'T':
			if (topo_parse(optarg, &o->topo, err, sizeof(err)) ||
			    topo_validate(&o->topo, err, sizeof(err))) {
				fprintf(stderr, "ktstr-orch shell: --topology %s: %s\n", optarg, err);
				goto bad;
			}
			break;
		case 'm':
			v = strtoul(optarg, &end, 10);
			if (*end || v < 128 || v > (1u << 20)) {
				fprintf(stderr, "ktstr-orch shell: --memory-mb takes 128..1048576, got '%s'\n",
					optarg);
				goto bad;
			}
			o->memory_mb = (uint32_t)v;
			break;
		case 't':
			v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > 86400) {
				fprintf(stderr, "ktstr-orch shell: --timeout takes 1..86400 seconds\n");
				goto bad;
			}
			o->timeout_ms = (uint32_t)v * 1000;
			break;
		case 'w':
			v = strtoul(optarg, &end, 10);
			if (*end || v < WATCHDOG_TIMEOUT_MIN_MS / 1000 ||
			    v > WATCHDOG_TIMEOUT_MAX_MS / 1000) {
				fprintf(stderr, "ktstr-orch shell: --watchdog-timeout takes %u..%u "
						"seconds, got '%s'\n",
					WATCHDOG_TIMEOUT_MIN_MS / 1000, WATCHDOG_TIMEOUT_MAX_MS / 1000,
					optarg);
				goto bad;
			}
			o->watchdog_ms = (uint32_t)v * 1000;
			break;
		case 'P':
			v = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)optarg[0]) || *end || v == 0 ||
			    v > HOSTRES_MAX_CPUS) {
				fprintf(stderr, "ktstr-orch shell: --cpu-cap needs a number of host "
						"CPUs, 1..%u, got '%s'\n", HOSTRES_MAX_CPUS, optarg);
				goto bad;
			}
			o->cpu_cap = (unsigned)v;
			break;
		case 'W':
			v = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)optarg[0]) || *end || v > HOSTRES_TIMEOUT_MAX_S) {
				fprintf(stderr, "ktstr-orch shell: --reserve-timeout takes 0..%u "
						"seconds, got '%s'\n", HOSTRES_TIMEOUT_MAX_S, optarg);
				goto bad;
			}
			o->reserve_timeout_s = (uint32_t)v;
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case 'x':
			o->exec = optarg;
			break;
		case 'R':
			o->result_json = optarg;
			break;
		case 'e':
			if (engine_parse(optarg, &o->engine)) {
				fprintf(stderr, "ktstr-orch shell: --engine takes auto, kvm or qemu\n");
				goto bad;
			}
			break;
		case 'A':
			if (ktstr_arch_parse(optarg, &o->arch)) {
				fprintf(stderr, "ktstr-orch shell: " KTSTR_ARCH_BAD_FMT "\n", optarg);
				goto bad;
			}
			break;
		case 'i':
			if (o->nincludes == SHELL_MAX_INCLUDES) {
				fprintf(stderr, "ktstr-orch shell: at most %d --include files\n",
					SHELL_MAX_INCLUDES);
				goto bad;
			}
			if (access(optarg, R_OK)) {
				fprintf(stderr, "ktstr-orch shell: --include %s: %s\n", optarg,
					strerror(errno));
				goto bad;
			}
			o->includes[o->nincludes++] = optarg;
			break;
		}
	}
	*rc = cp->exit;
	/* What arm64 cannot express is refused before anything boots. */
	if (c != CLI_STOP && o->arch == KTSTR__ARCH__ARCH_ARM64 &&
	    arm64_guest_check(&o->topo, (uint64_t)shell_memory_mb(o) << 20, NULL, err,
			      sizeof(err))) {
		fprintf(stderr, "ktstr-orch shell: %s\n", err);
		goto bad;
	}
	if (c != CLI_STOP && o->result_json && !o->exec) {
		/* Interactive, the output is the terminal's, not ours to keep. */
		fprintf(stderr, "ktstr-orch shell: --result-json needs --exec\n");
		goto bad;
	}
	return c != CLI_STOP;
bad:
	*rc = cli_usage_hint(cp->cmd);
	return false;
}

/* Choose the kernel and open it while still root (it may sit in root's
 * cache). 0, or -errno with vm->err saying why: the user's to fix. */
static int shell_open_kernel(struct shell_vm *vm)
{
	Ktstr__Engine engine = vm->o.engine;
	int ret;

	/* An arm64 guest on an x86_64 host runs under QEMU only. */
	ret = hostcaps_probe_guest(&engine, vm->o.arch, &vm->hc, vm->err, sizeof(vm->err));
	if (ret)
		return ret;
	vm->sr.engine = engine_name(vm->hc.engine);
	ret = kernel_resolve_arch(vm->o.kernel, ktstr_arch_name(vm->o.arch), vm->hc.engine,
				  &vm->kc, vm->err, sizeof(vm->err));
	if (ret)
		return ret < 0 ? ret : -EINVAL;
	vm->kfd = open(vm->kc.image, O_RDONLY | O_CLOEXEC);
	if (vm->kfd < 0) {
		ret = -errno;
		snprintf(vm->err, sizeof(vm->err), "cannot open kernel %s: %s", vm->kc.image,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* The VmSpec: engine, topology, memory, timeout, and the shell's mode. */
static void shell_fill_spec(struct shell_vm *vm)
{
	const struct shell_opts *o = &vm->o;
	Ktstr__VmSpec *spec = &vm->spec;

	ktstr__topology__init(&vm->topo);
	vm->topo.numa_nodes = o->topo.numa_nodes;
	vm->topo.llcs = o->topo.llcs;
	vm->topo.cores_per_llc = o->topo.cores_per_llc;
	vm->topo.threads_per_core = o->topo.threads_per_core;
	ktstr__vm_spec__init(spec);
	spec->engine = vm->hc.engine;
	if (o->arch != KTSTR__ARCH__ARCH_X86_64) {
		spec->has_arch = 1;
		spec->arch = o->arch;
	}
	spec->topology = &vm->topo;
	spec->memory_mb = shell_memory_mb(o);
	spec->timeout_ms = o->timeout_ms ? o->timeout_ms
			   : o->exec	 ? SHELL_EXEC_TIMEOUT_MS
					 : SHELL_INTERACTIVE_TIMEOUT_MS;
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%s", KTSTR_CMDLINE_SHELL_MODE);
	spec->cmdline_extra = vm->cmdline;
	spec->has_shm_size = 1;
	spec->shm_size = 0;
	spec->has_initrd_suffix = 1;
	spec->initrd_suffix.data = vm->suffix;
	spec->initrd_suffix.len = vm->suflen;
	spec->label = "shell";
	if (vm->go.insecure_no_sandbox) {
		spec->has_insecure_no_sandbox = 1;
		spec->insecure_no_sandbox = 1;
	}
	spec->has_interactive = 1;
	spec->interactive = !o->exec;
	spec->has_stream_output = 1;
	spec->stream_output = o->exec != NULL;
	if (vm->layout) {
		/* The thresholds keep MonitorSpec's defaults (no suite here);
		 * the watchdog is the kernel's own unless asked for. */
		ktstr__monitor_spec__init(&vm->mon);
		vm->mon.has_watchdog_timeout_ms = 1;
		vm->mon.watchdog_timeout_ms = o->watchdog_ms;
		spec->kernel_layout = vm->layout;
		spec->monitor = &vm->mon;
	}
}

/* The host-side monitor, as `run` has it (docs/monitor.md): the kernel's
 * layout, derived as the dropped user. Without it the shell runs
 * unmonitored, which the log says; but --watchdog-timeout would then do
 * nothing, so it is refused. 0 or -errno, vm->err set. */
static int shell_monitor(struct shell_vm *vm)
{
	vm->layout = kernel_layout_for_monitor(vm->kc.image, vm->o.arch);
	if (vm->layout || !vm->o.watchdog_ms)
		return 0;
	vm->usage_error = true;
	snprintf(vm->err, sizeof(vm->err),
		 "--watchdog-timeout: the host-side monitor, which lowers the watchdog, is off "
		 "for kernel %s (the line above says why); drop the option or use a kernel "
		 "it can read",
		 vm->kc.image);
	return -EINVAL;
}

/* The builder reads every --include: each must be readable by the
 * account it runs as (the effective ids now). 0 or -errno, vm->err set. */
static int includes_readable(void *arg)
{
	struct shell_vm *vm = arg;

	for (size_t i = 0; i < vm->o.nincludes; i++) {
		/* AT_EACCESS: the effective ids (cache_owner_as), not root's. */
		if (faccessat(AT_FDCWD, vm->o.includes[i], R_OK, AT_EACCESS)) {
			int ret = -errno;

			snprintf(vm->err, sizeof(vm->err),
				 "--include %s is not readable by uid %u, whom the initramfs builder "
				 "runs as once ktstr-orch drops root (%s): make it readable, pass "
				 "--user (or --cache-user, where the builder runs as the image "
				 "cache's owner), or --no-drop-privileges",
				 vm->o.includes[i], (unsigned)geteuid(), strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Everything as the unprivileged user: the kernel fd for the workers,
 * the includes' readability, the engine preflight, the monitor's layout,
 * the image and the specs. 0, or -errno with vm->err saying why (empty:
 * already printed). */
static int shell_prepare(struct shell_vm *vm)
{
	const struct shell_opts *o = &vm->o;
	int ret;

	/* As root, with a cache owner: its builder, started before the drop,
	 * reads the includes, so they are checked as that account. */
	if (vm->co.set) {
		ret = cache_owner_start_builder(&vm->co, vm->go.insecure_no_sandbox,
						includes_readable, vm, &vm->bc, vm->err,
						sizeof(vm->err));
		if (ret)
			return ret;
	}
	/* Kernel open: nothing else needs root. */
	ret = global_drop_privileges(&vm->go);
	if (ret)
		return ret < 0 ? ret : -EPERM;
	ret = kernel_fd_for_vms(vm->kc.image, vm->hc.engine, &vm->kfd, vm->err, sizeof(vm->err));
	if (ret)
		return ret < 0 ? ret : -EIO;
	ret = vm->co.set ? 0 : includes_readable(vm);
	if (!ret)
		ret = preflight_engine(&vm->hc, NULL, vm->err, sizeof(vm->err));
	if (!ret)
		ret = shell_monitor(vm);
	if (!ret)
		ret = shell_image_build(o->includes, o->nincludes, vm->go.insecure_no_sandbox, o->arch,
					vm->co.set ? &vm->bc : NULL, &vm->img, vm->err,
					sizeof(vm->err));
	if (vm->bc.pid >= 0)
		builder_client_stop(&vm->bc);
	if (ret)
		return ret < 0 ? ret : -EIO;
	ret = shell_spec_pack(&o->topo, o->exec, &vm->suffix, &vm->suflen);
	if (ret) {
		snprintf(vm->err, sizeof(vm->err), "out of memory building the guest spec");
		return ret;
	}
	shell_fill_spec(vm);
	if (vm->go.insecure_no_sandbox)
		fprintf(stderr, "ktstr-orch shell: WARNING: --insecure-no-sandbox: builder and VM "
				"worker run UNSANDBOXED\n");
	return 0;
}

/* Become a holder in the host's lock directory, as the dropped user, with
 * the image built: its worker is then pinned to the cap (or to the CPUs
 * nobody holds) and its guest RAM admitted, so `locks` lists the shell and
 * no run piles onto its CPUs. Returns 0 or the exit status (printed). */
static int shell_reserve(struct shell_vm *vm)
{
	const struct hostres_opts ho = { .cap = vm->o.cpu_cap,
					 .timeout_s = vm->o.reserve_timeout_s };
	int rc = hostres_start(&vm->hr, &ho, "ktstr-orch shell");

	if (rc) {
		hostres_close(&vm->hr);
		return rc;
	}
	vm->reserved = true;
	return 0;
}

/* Run the VM to its end. Interactive on a terminal, the terminal is raw
 * meanwhile (the guest's line discipline does the editing) and is put back
 * as it was found: here when the VM ends, and by the stop watcher the
 * moment a stop signal comes (stop.h), which also stops the VM. */
static void shell_run_vm(struct shell_vm *vm)
{
	struct vm_backend be;
	struct vm_backend_worker_cfg wcfg = { 0 };
	struct vm_cancel cancel = { 0 };
	struct vm_job job = { 0 };
	struct termios saved;
	bool raw = false;
	const char *exec = vm->o.exec;

	job.label = "shell";
	job.spec = &vm->spec;
	job.kernel_fd = vm->kfd;
	job.initrd_fd = vm->img.fd;
	job.stdin_fd = exec ? -1 : STDIN_FILENO;
	job.stdout_fd = exec ? -1 : STDOUT_FILENO;
	if (exec) {
		vm->es.tail = vm->sr.fd >= 0 ? &vm->sr.tail : NULL;
		job.on_output = exec_stream_on_output;
		job.on_output_arg = &vm->es;
	} else if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		struct termios rawt = saved;

		cfmakeraw(&rawt);
		/* Registered before the terminal goes raw, so no moment
		 * exists in which a signal would leave it raw. */
		stop_watch_tty(STDIN_FILENO, &saved);
		raw = !tcsetattr(STDIN_FILENO, TCSANOW, &rawt);
		fprintf(stderr, "ktstr-orch shell: booting %s; leave with `exit` or poweroff\r\n",
			vm->kc.image);
	}
	wcfg.hostres = vm->reserved ? &vm->hr : NULL;
	vm_backend_worker_init(&be, &wcfg);
	/* A stop that came before this line sets the flag at once: the
	 * backend then ends the VM as soon as it starts. */
	stop_link_flag(&cancel.requested);
	be.run(&be, &job, &cancel, &vm->res);
	stop_link_flag(NULL);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	stop_watch_tty(-1, NULL);
}

/* Our exit status once the VM has ended. */
static int shell_collect(struct shell_vm *vm)
{
	const Ktstr__VmResult *r = vm->res.result;
	unsigned timeout_s = vm->spec.timeout_ms / 1000;
	int rc;

	if (stop_signal()) {
		fprintf(stderr, "ktstr-orch shell: %s: the VM was stopped\n",
			strsignal(stop_signal()));
		shell_result_set(&vm->sr, KTSTR_SR_INTERRUPTED, 0, strsignal(stop_signal()));
		return EXIT_INTERRUPTED;
	}
	if (r && !vm->go.insecure_no_sandbox && !vm->res.infra &&
	    !(r->has_sandboxed && r->sandboxed)) {
		/* Fail closed: the guest ran, but unconfined; do not pass its
		 * status off as a normal result. */
		fprintf(stderr, "ktstr-orch shell: the VM worker ran UNSANDBOXED "
				"(VmResult.sandboxed=false) without --insecure-no-sandbox: its "
				"confinement was not applied; fix the host (docs/security.md) or pass "
				"--insecure-no-sandbox\n");
		shell_result_set(&vm->sr, KTSTR_SR_INFRA_ERROR, 0,
				 "the VM worker ran unsandboxed without --insecure-no-sandbox");
		return EXIT_INFRA;
	}
	if (vm->res.infra && !r) {
		/* No VM ran: host contention, or a worker that never started. */
		fprintf(stderr, "ktstr-orch shell: %s\n", vm->res.error);
		shell_result_set(&vm->sr, KTSTR_SR_INFRA_ERROR, 0, vm->res.error);
		return EXIT_INFRA;
	}
	rc = vm->o.exec ? shell_exec_status(&vm->es, &vm->res, timeout_s)
			: shell_interactive_status(&vm->res, timeout_s);
	if (vm->es.have_code)
		shell_result_set(&vm->sr, KTSTR_SR_EXITED, vm->es.exit_code, NULL);
	else if (rc == SHELL_EXIT_TIMEOUT)
		shell_result_set(&vm->sr, KTSTR_SR_TIMED_OUT, 0, "still running at --timeout");
	else
		shell_result_set(&vm->sr, KTSTR_SR_INFRA_ERROR, 0,
				 vm->res.error[0] ? vm->res.error
						  : "the command's exit status never arrived (the "
						    "console tail is on ktstr-orch's stderr)");
	shell_monitor_line(&vm->res, vm->o.watchdog_ms != 0);
	return rc;
}

/* A phase before the VM failed, or a stop came during it: a stop wins,
 * since the failure was most likely the stop killing a child (the
 * builder). usage_error: the failure is the user's (EXIT_USAGE). */
static int shell_early_exit(struct shell_vm *vm, bool usage_error)
{
	if (stop_signal()) {
		fprintf(stderr, "ktstr-orch shell: %s: stopped before the VM started\n",
			strsignal(stop_signal()));
		shell_result_set(&vm->sr, KTSTR_SR_INTERRUPTED, 0, strsignal(stop_signal()));
		return EXIT_INTERRUPTED;
	}
	shell_result_set(&vm->sr, KTSTR_SR_INFRA_ERROR, 0,
			 vm->err[0] ? vm->err
				    : "failed before the VM started (ktstr-orch's stderr says why)");
	if (vm->err[0])
		fprintf(stderr, "ktstr-orch shell: %s\n", vm->err);
	return usage_error ? EXIT_USAGE : EXIT_INFRA;
}

static void shell_vm_release(struct shell_vm *vm)
{
	if (vm->res.result)
		protobuf_c_message_free_unpacked(&vm->res.result->base, NULL);
	free(vm->suffix);
	if (vm->layout)
		ktstr__guest_kernel_layout__free_unpacked(vm->layout, NULL);
	if (vm->img.reply_ || vm->img.fd >= 0)
		builder_image_free(&vm->img);
	if (vm->kfd >= 0)
		close(vm->kfd);
	if (vm->bc.pid >= 0)
		builder_client_stop(&vm->bc);
	if (vm->reserved)
		hostres_close(&vm->hr);
	shell_result_free(&vm->sr);
}

int cmd_shell(struct global_opts *g, const struct cli_cmd *cmd, int argc, char **argv)
{
	struct shell_vm vm = { .go = *g, .kfd = -1, .img = { .fd = -1 },
			       .bc = { .pid = -1, .sock = -1 }, .sr = { .fd = -1 } };
	struct privdrop_opts po;
	struct cli_parser cp;
	int rc;

	cli_begin(&cp, cmd, &vm.go, argc, argv);
	if (!parse_shell_opts(&cp, &vm.o, &rc))
		return rc;
	/* Opened as the caller, before anything can fail on the way to a
	 * VM: from here every end writes it. */
	if (vm.o.result_json && shell_result_open(&vm.sr, vm.o.result_json, vm.err,
						  sizeof(vm.err))) {
		fprintf(stderr, "ktstr-orch shell: %s\n", vm.err);
		shell_result_free(&vm.sr);
		return cli_usage_hint(cmd);
	}
	po = global_privdrop_opts(&vm.go);
	if (cache_owner_resolve(&po, &vm.co, vm.err, sizeof(vm.err))) {
		fprintf(stderr, "ktstr-orch shell: %s\n", vm.err);
		shell_result_set(&vm.sr, KTSTR_SR_INFRA_ERROR, 0, vm.err);
		shell_result_finish(&vm.sr);
		shell_result_free(&vm.sr);
		return EXIT_USAGE;
	}
	if (shell_open_kernel(&vm)) {
		rc = shell_early_exit(&vm, true);
	} else if (shell_prepare(&vm) || stop_signal()) {
		rc = shell_early_exit(&vm, vm.usage_error);
	} else if ((rc = shell_reserve(&vm))) {
		/* printed */
		shell_result_set(&vm.sr, rc == EXIT_INTERRUPTED ? KTSTR_SR_INTERRUPTED
								: KTSTR_SR_INFRA_ERROR,
				 0, "the host-wide reservation failed (ktstr-orch's stderr says why)");
	} else {
		shell_run_vm(&vm);
		rc = shell_collect(&vm);
	}
	if (shell_result_finish(&vm.sr)) {
		fprintf(stderr, "ktstr-orch shell: --result-json %s: cannot write it\n",
			vm.o.result_json);
		if (rc != EXIT_INTERRUPTED)
			rc = EXIT_INFRA;
	}
	shell_vm_release(&vm);
	return rc;
}
