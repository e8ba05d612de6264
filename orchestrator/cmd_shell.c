/* `ktstr-orch shell`: boot a VM whose guest runs busybox. With --exec the
 * command's output is printed and its exit status becomes ours
 * (KTSTR_EXEC_EXIT=N on COM2); otherwise the terminal is bridged to the
 * guest shell through the worker (FD_STDIN/FD_STDOUT) and the shell's exit
 * status becomes ours. A command or shell still running at --timeout exits
 * 124, as with timeout(1). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/topology.h>
#include <ktstr/util.h>

#include "builder_client.h"
#include "cli.h"
#include "hostcaps.h"
#include "images.h"
#include "kernel_cache.h"
#include "preflight.h"
#include "stop.h"
#include "spec_build.h"
#include "strv.h"
#include "verdict.h"
#include "vm_backend_worker.h"

#define SHELL_EXEC_TIMEOUT_MS (300u * 1000)
#define SHELL_INTERACTIVE_TIMEOUT_MS (12u * 3600 * 1000)
#define SHELL_MAX_INCLUDES 64

struct shell_opts {
	struct ktstr_topo topo;
	uint32_t memory_mb, timeout_ms;
	const char *kernel, *exec;
	Ktstr__Engine engine;
	const char *includes[SHELL_MAX_INCLUDES];
	size_t nincludes;
};

/* Exit status of a command stopped by --timeout, as timeout(1) uses. */
#define SHELL_EXIT_TIMEOUT 124

/* --exec output relay. COM2 is raw in exec mode (guest/report.c clears
 * OPOST), so the bytes are the command's own and pass through verbatim,
 * '\r' included. After the command the guest writes a trailer,
 *   "\nKTSTR_EXEC_EXIT=<status>\n" "KTSTR_EXIT=<status>\n"
 * (guest/shell.c, guest/report.c), whose leading newline only makes sure the
 * status starts a line. The trailer is recognised only as the exact end of
 * the stream: bytes that could still be its start are held back, and
 * written out as output as soon as anything else follows. So a command may
 * print any line, "KTSTR_..." ones included, and its last line need not end
 * in a newline. */
struct exec_stream {
	char hold[64]; /* a prefix of the trailer (at most 53 bytes) */
	size_t held;
	bool quiet; /* parse only: the output was already shown */
	bool any;   /* some bytes arrived */
	bool have_code;
	int exit_code;
};

/* Is s[0..n) the trailer? -1: no (nor a prefix of it), 0: a prefix that
 * is not yet a status, 1: the status line is complete (the KTSTR_EXIT line
 * after it may be partial or missing: a VM stopped mid-write). */
static int trailer_match(const char *s, size_t n, int *code)
{
	static const char *const lit[2] = { "\nKTSTR_EXEC_EXIT=", "KTSTR_EXIT=" };
	size_t i = 0;

	for (int part = 0; part < 2; part++) {
		size_t start, digits = 0;

		for (const char *l = lit[part]; *l; l++, i++) {
			if (i == n)
				return part;
			if (s[i] != *l)
				return -1;
		}
		start = i;
		if (i < n && s[i] == '-')
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 10) {
			i++;
			digits++;
		}
		if (i == n)
			return part;
		if (s[i] != '\n' || !digits)
			return -1;
		if (part == 0) {
			long v = strtol(&s[start], NULL, 10);

			*code = (int)(v < INT_MIN ? INT_MIN : v > INT_MAX ? INT_MAX : v);
		}
		if (++i == n)
			return 1;
	}
	return -1; /* bytes after the KTSTR_EXIT line */
}

static void stream_out(struct exec_stream *es, const char *p, size_t n)
{
	if (!es->quiet && n)
		fwrite(p, 1, n, stdout);
}

static void stream_feed(struct exec_stream *es, const uint8_t *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len;
	int code;

	if (len)
		es->any = true;
	while (p < end) {
		if (!es->held) {
			/* Fast path: everything before the next newline is output. */
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			stream_out(es, p, (size_t)((nl ? nl : end) - p));
			if (!nl)
				break;
			p = nl;
		}
		es->hold[es->held++] = *p++;
		/* hold[0] is a newline; on a mismatch it and what follows up to
		 * the next held newline are output, then the rest is retried. */
		while (es->held && trailer_match(es->hold, es->held, &code) < 0) {
			const char *nl = memchr(es->hold + 1, '\n', es->held - 1);
			size_t n = nl ? (size_t)(nl - es->hold) : es->held;

			stream_out(es, es->hold, n);
			memmove(es->hold, es->hold + n, es->held - n);
			es->held -= n;
		}
	}
	if (!es->quiet)
		fflush(stdout);
}

/* End of the stream: a complete trailer gives the status, anything else
 * held is output. */
static void stream_finish(struct exec_stream *es)
{
	int code = 0;

	if (es->held && trailer_match(es->hold, es->held, &code) == 1) {
		es->have_code = true;
		es->exit_code = code;
	} else {
		stream_out(es, es->hold, es->held);
	}
	es->held = 0;
	if (!es->quiet)
		fflush(stdout);
}

static void on_output(void *arg, uint32_t port, const uint8_t *data, size_t len)
{
	if (port == 2)
		stream_feed(arg, data, len);
}

static int parse_shell_opts(int argc, char **argv, struct shell_opts *o, struct global_opts *g)
{
	static const struct option opts[] = {
		{ "topology", required_argument, NULL, 'T' }, { "memory-mb", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },   { "include", required_argument, NULL, 'i' },
		{ "exec", required_argument, NULL, 'x' },     { "engine", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },  GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int c;

	o->topo = (struct ktstr_topo){ 1, 1, 1, 1 };
	while ((c = getopt_long(argc, argv, "i:", opts, NULL)) != -1) {
		unsigned long v;
		char *end;

		switch (c) {
		case 'T':
			if (topo_parse(optarg, &o->topo, err, sizeof(err)) ||
			    topo_validate(&o->topo, err, sizeof(err))) {
				fprintf(stderr, "ktstr-orch shell: --topology %s: %s\n", optarg, err);
				return -EINVAL;
			}
			break;
		case 'm':
			v = strtoul(optarg, &end, 10);
			if (*end || v < 128 || v > (1u << 20)) {
				fprintf(stderr, "ktstr-orch shell: --memory-mb takes 128..1048576, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			o->memory_mb = (uint32_t)v;
			break;
		case 't':
			v = strtoul(optarg, &end, 10);
			if (*end || v == 0 || v > 86400) {
				fprintf(stderr, "ktstr-orch shell: --timeout takes 1..86400 seconds\n");
				return -EINVAL;
			}
			o->timeout_ms = (uint32_t)v * 1000;
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case 'x':
			o->exec = optarg;
			break;
		case 'e':
			if (engine_parse(optarg, &o->engine)) {
				fprintf(stderr, "ktstr-orch shell: --engine takes auto, kvm or qemu\n");
				return -EINVAL;
			}
			break;
		case 'i':
			if (o->nincludes == SHELL_MAX_INCLUDES) {
				fprintf(stderr, "ktstr-orch shell: at most %d --include files\n",
					SHELL_MAX_INCLUDES);
				return -EINVAL;
			}
			if (access(optarg, R_OK)) {
				fprintf(stderr, "ktstr-orch shell: --include %s: %s\n", optarg,
					strerror(errno));
				return -EINVAL;
			}
			o->includes[o->nincludes++] = optarg;
			break;
		default:
			if (global_opt(g, c, optarg))
				break;
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ktstr-orch shell: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Base image: ktstr-guest as /init, busybox, includes under /include-files. */
static int build_shell_image(const struct shell_opts *o, bool insecure, struct builder_image *img,
			     char *err, size_t errlen)
{
	struct builder_client bc = { .pid = -1, .sock = -1 };
	struct builder_client_opts bo = { .stderr_fd = -2, .insecure_no_sandbox = insecure };
	Ktstr__BuildRequest req = KTSTR__BUILD_REQUEST__INIT;
	Ktstr__FileSpec specs[SHELL_MAX_INCLUDES + 1];
	Ktstr__FileSpec *files[SHELL_MAX_INCLUDES + 1];
	char guest[PATH_MAX], bb[PATH_MAX];
	struct strv gpaths = { 0 };
	int ret;

	ret = guest_binary_path(guest, sizeof(guest), err, errlen);
	if (!ret)
		ret = busybox_path(bb, sizeof(bb), err, errlen);
	if (ret)
		return ret;
	ktstr__file_spec__init(&specs[0]);
	specs[0].host_path = bb;
	specs[0].guest_path = "/bin/busybox";
	specs[0].has_resolve_libs = 1;
	specs[0].resolve_libs = 0;
	files[0] = &specs[0];
	for (size_t i = 0; i < o->nincludes; i++) {
		char *dup = strdup(o->includes[i]);

		ret = dup ? strv_pushf(&gpaths, "/include-files/%s", basename(dup)) : -ENOMEM;
		free(dup);
		if (ret)
			goto out;
		ktstr__file_spec__init(&specs[i + 1]);
		specs[i + 1].host_path = (char *)o->includes[i];
		specs[i + 1].guest_path = gpaths.v[i];
		files[i + 1] = &specs[i + 1];
	}
	req.init_path = guest;
	req.n_files = 1 + o->nincludes;
	req.files = files;
	ret = builder_client_start(&bc, &bo, err, errlen);
	if (!ret) {
		ret = builder_client_build(&bc, &req, 0, img, err, errlen);
		builder_client_stop(&bc);
	}
	if (!ret && !insecure && !(img->ok->has_sandboxed && img->ok->sandboxed)) {
		/* Fail closed, as for `run` (images.c). */
		snprintf(err, errlen, "initramfs builder ran UNSANDBOXED (BuildOk.sandboxed=false) "
				      "although --insecure-no-sandbox was not given: fix the host "
				      "(docs/security.md) or pass --insecure-no-sandbox");
		ret = -EPERM;
	}
out:
	strv_free(&gpaths);
	return ret;
}

static int pack_shell_spec(const struct shell_opts *o, uint8_t **suffix, size_t *suflen)
{
	Ktstr__GuestSpec gs = KTSTR__GUEST_SPEC__INIT;
	Ktstr__Topology t = KTSTR__TOPOLOGY__INIT;
	uint8_t *buf;
	size_t n;
	int ret;

	gs.mode = KTSTR__GUEST_SPEC__MODE__MODE_SHELL;
	gs.test_name = "shell";
	gs.exec_cmd = (char *)o->exec;
	t.numa_nodes = o->topo.numa_nodes;
	t.llcs = o->topo.llcs;
	t.cores_per_llc = o->topo.cores_per_llc;
	t.threads_per_core = o->topo.threads_per_core;
	gs.topology = &t;
	gs.has_ring_disabled = 1;
	gs.ring_disabled = 1; /* the shell reports through COM2 only */
	n = ktstr__guest_spec__get_packed_size(&gs);
	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	ktstr__guest_spec__pack(&gs, buf);
	ret = spec_build_suffix(buf, n, suffix, suflen);
	free(buf);
	return ret;
}

/* What ended the VM, for messages: the outcome's name, or why there is no
 * result. */
static const char *vm_end_text(const Ktstr__VmResult *r)
{
	const ProtobufCEnumValue *ev;

	if (!r)
		return "the VM worker sent no result";
	ev = protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor, r->outcome);
	return ev ? ev->name : "the VM ended with an unknown outcome";
}

static void print_console_tail(const Ktstr__VmResult *r)
{
	char *tail;

	if (!r || !r->has_console_tail || !r->console_tail.len)
		return;
	tail = text_tail_lines((const char *)r->console_tail.data, r->console_tail.len, 20);
	fprintf(stderr, "--- console (tail) ---\n%s\n", tail ? tail : "");
	free(tail);
}

/* Interactive: the guest shell's status (KTSTR_EXIT=N after the shell,
 * VmResult.guest_exit_code) becomes ours, so a piped script can be checked.
 * A timeout comes first: a status seen before it can only be a line the
 * user's session printed, not the guest's. */
static int shell_interactive_status(const struct vm_job_result *res, unsigned timeout_s)
{
	const Ktstr__VmResult *r = res->result;

	if (res->infra || !r) {
		fprintf(stderr, "ktstr-orch shell: %s\n",
			res->error[0] ? res->error : "the VM worker sent no result");
		return EXIT_INFRA;
	}
	if (r->outcome == KTSTR__OUTCOME__OUTCOME_TIMEOUT) {
		fprintf(stderr, "ktstr-orch shell: shell still running after --timeout %u s; VM "
				"stopped (exit status %d, as timeout(1))\n",
			timeout_s, SHELL_EXIT_TIMEOUT);
		return SHELL_EXIT_TIMEOUT;
	}
	if (r->has_guest_exit_code)
		return r->guest_exit_code & 0xff;
	fprintf(stderr, "ktstr-orch shell: the guest shell's exit status never arrived (no "
			"KTSTR_EXIT line on COM2; VM ended: %s)%s%s\n",
		vm_end_text(r), res->error[0] ? ": " : "", res->error);
	print_console_tail(r);
	return EXIT_INFRA;
}

int cmd_shell(const struct global_opts *g, int argc, char **argv)
{
	struct global_opts go = *g;
	struct shell_opts o = { 0 };
	struct host_caps hc;
	struct kernel_choice kc;
	struct builder_image img = { .fd = -1 };
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology topo = KTSTR__TOPOLOGY__INIT;
	struct vm_backend be;
	struct vm_backend_worker_cfg wcfg = { 0 };
	struct vm_cancel cancel = { 0 };
	struct vm_job job = { 0 };
	struct vm_job_result res = { 0 };
	struct exec_stream es = { 0 };
	struct termios saved;
	bool raw = false;
	uint8_t *suffix = NULL;
	size_t suflen = 0;
	char err[2048], cmdline[64];
	int kfd = -1, rc = EXIT_INFRA;
	unsigned timeout_s = 0;

	if (parse_shell_opts(argc, argv, &o, &go)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	hostcaps_probe(o.engine, &hc);
	if (kernel_resolve(o.kernel, hc.engine, &kc, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch shell: %s\n", err);
		return EXIT_USAGE;
	}
	kfd = open(kc.image, O_RDONLY | O_CLOEXEC);
	if (kfd < 0) {
		fprintf(stderr, "ktstr-orch shell: cannot open kernel %s: %s\n", kc.image,
			strerror(errno));
		return EXIT_USAGE;
	}
	/* Kernel open: nothing else needs root. */
	if (global_drop_privileges(&go))
		goto out;
	if (kernel_fd_for_vms(kc.image, hc.engine, &kfd, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch shell: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < o.nincludes; i++) {
		if (access(o.includes[i], R_OK)) {
			fprintf(stderr, "ktstr-orch shell: --include %s is not readable by uid %u, "
					"whom ktstr-orch runs as after dropping root (%s): make it "
					"readable, pass --user, or --no-drop-privileges\n",
				o.includes[i], (unsigned)getuid(), strerror(errno));
			goto out;
		}
	}
	if (preflight_engine(&hc, NULL, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch shell: %s\n", err);
		goto out;
	}
	if (build_shell_image(&o, go.insecure_no_sandbox, &img, err, sizeof(err))) {
		fprintf(stderr, "ktstr-orch shell: %s\n", err);
		goto out;
	}
	if (pack_shell_spec(&o, &suffix, &suflen)) {
		fprintf(stderr, "ktstr-orch shell: out of memory building the guest spec\n");
		goto out;
	}
	topo.numa_nodes = o.topo.numa_nodes;
	topo.llcs = o.topo.llcs;
	topo.cores_per_llc = o.topo.cores_per_llc;
	topo.threads_per_core = o.topo.threads_per_core;
	spec.engine = hc.engine;
	spec.topology = &topo;
	spec.memory_mb = o.memory_mb ? o.memory_mb
				     : (topo_cpus(&o.topo) * 64 > 512 ? topo_cpus(&o.topo) * 64 : 512);
	spec.timeout_ms = o.timeout_ms ? o.timeout_ms
			  : o.exec     ? SHELL_EXEC_TIMEOUT_MS
				       : SHELL_INTERACTIVE_TIMEOUT_MS;
	snprintf(cmdline, sizeof(cmdline), "KTSTR_MODE=shell");
	spec.cmdline_extra = cmdline;
	spec.has_shm_size = 1;
	spec.shm_size = 0;
	spec.has_initrd_suffix = 1;
	spec.initrd_suffix.data = suffix;
	spec.initrd_suffix.len = suflen;
	spec.label = "shell";
	if (go.insecure_no_sandbox) {
		spec.has_insecure_no_sandbox = 1;
		spec.insecure_no_sandbox = 1;
		fprintf(stderr, "ktstr-orch shell: WARNING: --insecure-no-sandbox: builder and VM "
				"worker run UNSANDBOXED\n");
	}
	spec.has_interactive = 1;
	spec.interactive = !o.exec;
	spec.has_stream_output = 1;
	spec.stream_output = o.exec != NULL;
	job.label = "shell";
	job.spec = &spec;
	job.kernel_fd = kfd;
	job.initrd_fd = img.fd;
	job.stdin_fd = o.exec ? -1 : STDIN_FILENO;
	job.stdout_fd = o.exec ? -1 : STDOUT_FILENO;
	if (o.exec) {
		job.on_output = on_output;
		job.on_output_arg = &es;
	} else if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		/* The guest's line discipline does the editing: pass keys raw. */
		struct termios rawt = saved;

		cfmakeraw(&rawt);
		/* Restored by the stop watcher too: a signal never leaves the
		 * terminal raw (stop.h). */
		stop_watch_tty(STDIN_FILENO, &saved);
		raw = !tcsetattr(STDIN_FILENO, TCSANOW, &rawt);
		fprintf(stderr, "ktstr-orch shell: booting %s; leave with `exit` or poweroff\r\n",
			kc.image);
	}
	vm_backend_worker_init(&be, &wcfg);
	stop_link_flag(&cancel.requested);
	be.run(&be, &job, &cancel, &res);
	stop_link_flag(NULL);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	stop_watch_tty(-1, NULL);
	if (stop_signal()) {
		fprintf(stderr, "ktstr-orch shell: %s: the VM was stopped\n",
			strsignal(stop_signal()));
		rc = EXIT_INTERRUPTED;
		goto out;
	}
	if (res.result && !go.insecure_no_sandbox && !res.infra &&
	    !(res.result->has_sandboxed && res.result->sandboxed)) {
		/* Fail closed: the guest ran, but unconfined; do not pass its
		 * status off as a normal result. */
		fprintf(stderr, "ktstr-orch shell: the VM worker ran UNSANDBOXED "
				"(VmResult.sandboxed=false) without --insecure-no-sandbox: its "
				"confinement was not applied; fix the host (docs/security.md) or pass "
				"--insecure-no-sandbox\n");
		rc = EXIT_INFRA;
		goto out;
	}
	timeout_s = spec.timeout_ms / 1000;
	if (!o.exec) {
		rc = shell_interactive_status(&res, timeout_s);
		goto out;
	}
	if (es.any)
		stream_finish(&es);
	/* No live stream (or it missed the end): the full COM2 capture, shown
	 * only if nothing was shown live. */
	if (!es.have_code && res.result && res.result->has_guest_output) {
		struct exec_stream again = { .quiet = es.any };

		stream_feed(&again, res.result->guest_output.data, res.result->guest_output.len);
		stream_finish(&again);
		es.have_code = again.have_code;
		es.exit_code = again.exit_code;
	}
	fflush(stdout);
	if (es.have_code) {
		rc = es.exit_code & 0xff;
	} else if (res.result && !res.infra &&
		   res.result->outcome == KTSTR__OUTCOME__OUTCOME_TIMEOUT) {
		fprintf(stderr, "ktstr-orch shell: command still running after --timeout %u s; VM "
				"stopped (exit status %d, as timeout(1)); raise --timeout if the "
				"command needs longer\n",
			timeout_s, SHELL_EXIT_TIMEOUT);
		rc = SHELL_EXIT_TIMEOUT;
	} else {
		fprintf(stderr, "ktstr-orch shell: the command's exit status never arrived "
				"(no KTSTR_EXEC_EXIT line at the end of the guest's COM2 output): "
				"%s\n",
			res.error[0] ? res.error : vm_end_text(res.result));
		print_console_tail(res.result);
		rc = EXIT_INFRA;
	}
out:
	if (res.result)
		protobuf_c_message_free_unpacked(&res.result->base, NULL);
	free(suffix);
	if (img.reply_ || img.fd >= 0)
		builder_image_free(&img);
	if (kfd >= 0)
		close(kfd);
	return rc;
}
