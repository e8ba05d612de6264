/* ktstr-vmrun: run ONE VM through the real ktstr-vmm-worker and print its
 * VmResult as "KEY value" lines. It is the nested rig's driver (scripts/
 * nested-rig runs it inside L1, where /dev/kvm is real KVM), so it is
 * linked static and takes everything on the command line; it deliberately
 * reuses the orchestrator's worker_client.c so the rig exercises the same
 * spawn/RunVm/event path as ktstr-orch.
 *
 *   ktstr-vmrun --kernel K [--initrd I] --topology N,L,C,T [--memory-mb M]
 *               [--timeout S] [--engine kvm|qemu|auto] [--cpu-features-off a,b]
 *               [--cmdline-extra "..."] [--worker PATH] [--prefix P]
 *               [--shm-kb KB] [--layout FILE [--watchdog-ms MS]]
 *
 * --layout FILE is a packed GuestKernelLayout (proto/monitor.proto) of the
 * kernel, written on the host by tests/nested/layout-dump.c with the
 * orchestrator's own kernel_layout_from_vmlinux(): it turns the worker's
 * host-side monitor on (docs/monitor.md), as ktstr-orch does, with
 * MonitorSpec's defaults and --watchdog-ms as its watchdog_timeout_ms
 * (default 4000; 0 leaves the kernel's timeout alone).
 *
 * Output (every line starts with the prefix, default "VMRUN "):
 *   outcome OUTCOME_POWER_OFF | engine ENGINE_KVM | setup_us N | ...
 *   com2 <line>   one per COM2 line      com1 <line>   console tail lines
 *   ring <TYPE> crc_ok <0|1> <payload>      one per ring message
 *   monitor <key> <value>   the MonitorReport, one fact per line (verdict,
 *                           samples, evaluated, nr_cpus, cpu_peak ..., ...)
 *   monitor_off <why>       when the worker ran without the monitor
 * Exit status: 0 when the VM ran (whatever its outcome), 1 when the worker
 * could not be run (infra error), 2 for bad arguments. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/log.h>
#include <ktstr/ring.h>
#include <ktstr/util.h>

#include "worker_client.h"

#define MAX_FEATURES 64

static const char *prefix = "VMRUN ";

static void usage(FILE *f)
{
	fprintf(f, "usage: ktstr-vmrun --kernel FILE [--initrd FILE] --topology N,L,C,T\n"
		   "       [--memory-mb MB] [--timeout SECONDS] [--engine kvm|qemu|auto]\n"
		   "       [--cpu-features-off xsave,avx,...] [--cmdline-extra WORDS]\n"
		   "       [--worker PATH] [--prefix STRING] [--shm-kb KB]\n"
		   "       [--layout PACKED_GUEST_KERNEL_LAYOUT [--watchdog-ms MS]]\n");
}

/* Print each line of buf with prefix+tag; non-printable bytes become '.',
 * so a grep on the output never trips over control characters. */
static void print_lines(const char *tag, const uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && buf[j] != '\n')
			j++;
		printf("%s%s ", prefix, tag);
		for (size_t k = i; k < j; k++) {
			uint8_t c = buf[k];

			if (c == '\r')
				continue;
			putchar(c >= 0x20 && c < 0x7f ? c : '.');
		}
		putchar('\n');
		i = j + 1;
	}
}

static int parse_topology(const char *s, Ktstr__Topology *t)
{
	unsigned n, l, c, th;
	char extra;

	if (sscanf(s, "%u,%u,%u,%u%c", &n, &l, &c, &th, &extra) != 4 || !n || !l || !c || !th)
		return -EINVAL;
	t->numa_nodes = n;
	t->llcs = l;
	t->cores_per_llc = c;
	t->threads_per_core = th;
	return 0;
}

/* The worker maps the initrd MAP_PRIVATE from its fd; a plain O_RDONLY file
 * works as well as the builder's sealed memfd. */
static int open_ro(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "ktstr-vmrun: cannot open the %s %s: %s; check the path\n", what, path,
			strerror(errno));
	return fd;
}

/* The packed GuestKernelLayout written by layout-dump (a few KiB; 1 MiB
 * bounds a wrong file). NULL with a message on any error. */
static Ktstr__GuestKernelLayout *load_layout(const char *path)
{
	static uint8_t buf[1 << 20];
	Ktstr__GuestKernelLayout *l;
	size_t len = 0;
	ssize_t n;
	int fd = open_ro("layout", path);

	if (fd < 0)
		return NULL;
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len == sizeof(buf)) {
		fprintf(stderr, "ktstr-vmrun: the layout %s is over 1 MiB: not a packed GuestKernelLayout\n", path);
		return NULL;
	}
	l = ktstr__guest_kernel_layout__unpack(NULL, len, buf);
	if (!l)
		fprintf(stderr, "ktstr-vmrun: %s is not a packed GuestKernelLayout (write it with layout-dump)\n",
			path);
	return l;
}

/* One "monitor KEY value" line per fact of the MonitorReport; strings are
 * printed through print_lines so a hostile byte cannot break a line. */
static void print_str(const char *tag, const char *s)
{
	if (s)
		print_lines(tag, (const uint8_t *)s, strlen(s));
}

static void print_monitor(const Ktstr__VmResult *r)
{
	const Ktstr__MonitorReport *m = r->monitor;

	if (r->monitor_off)
		print_str("monitor_off", r->monitor_off);
	if (!m)
		return;
	const ProtobufCEnumValue *vv =
		protobuf_c_enum_descriptor_get_value(&ktstr__monitor_verdict__descriptor, (int)m->verdict);
	printf("%smonitor verdict %s\n", prefix, vv ? vv->name : "?");
	print_str("monitor summary", m->summary);
#define U64(f)                                                                                   \
	do {                                                                                     \
		if (m->has_##f)                                                                  \
			printf("%smonitor " #f " %llu\n", prefix, (unsigned long long)m->f);     \
	} while (0)
	U64(samples);
	U64(implausible);
	U64(evaluated);
	U64(ready_at_ns);
	U64(scx_enabled_at_ns);
	U64(nr_cpus);
	U64(cpu_peaks_omitted);
	U64(violations_omitted);
	U64(watchdog_timeout_ms);
	U64(watchdog_writes);
	U64(debug_dump_requested);
	U64(cost_samples);
	U64(cost_ns);
	U64(cost_max_ns);
	U64(interval_ms);
#undef U64
	print_str("monitor first_implausible", m->first_implausible);
	if (m->has_worst_imbalance_ratio)
		printf("%smonitor worst_imbalance_ratio %.2f\n", prefix, m->worst_imbalance_ratio);
	for (size_t i = 0; i < m->n_cpu_peaks; i++)
		printf("%smonitor cpu_peak %u max_nr_running %u max_local_dsq %u\n", prefix,
		       m->cpu_peaks[i]->cpu, m->cpu_peaks[i]->max_nr_running,
		       m->cpu_peaks[i]->max_local_dsq);
	for (size_t i = 0; i < m->n_violations; i++) {
		const ProtobufCEnumValue *cv = protobuf_c_enum_descriptor_get_value(
			&ktstr__monitor_check__descriptor, (int)m->violations[i]->check);
		char tag[96];

		snprintf(tag, sizeof(tag), "monitor violation %s", cv ? cv->name : "?");
		print_str(tag, m->violations[i]->message);
	}
	for (size_t i = 0; i < m->n_events; i++) {
		char tag[128];

		snprintf(tag, sizeof(tag), "monitor event %.64s", m->events[i]->name ? m->events[i]->name : "?");
		printf("%s%s %lld\n", prefix, tag, (long long)m->events[i]->value);
	}
	for (size_t i = 0; i < m->n_notes; i++)
		print_str("monitor note", m->notes[i]);
	print_str("monitor watchdog_note", m->watchdog_note);
}

static void print_result(const struct worker_outcome *o)
{
	const Ktstr__VmResult *r = o->result;
	const ProtobufCEnumValue *ov = protobuf_c_enum_descriptor_get_value(&ktstr__outcome__descriptor,
									      (int)r->outcome);
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(&ktstr__engine__descriptor,
									      (int)r->engine);

	printf("%soutcome %s\n", prefix, ov ? ov->name : "?");
	printf("%sengine %s\n", prefix, ev ? ev->name : "?");
	printf("%sengine_detail %s\n", prefix, r->engine_detail ? r->engine_detail : "");
	printf("%sinfra_error %d\n", prefix, o->infra_error ? 1 : 0);
	printf("%skvm_kind %s\n", prefix, o->kvm_kind);
	printf("%ssandboxed %d\n", prefix, r->has_sandboxed ? (int)r->sandboxed : -1);
	printf("%sworker_exit %d\n", prefix,
	       o->reaped && WIFEXITED(o->worker_status)	    ? WEXITSTATUS(o->worker_status)
	       : o->reaped && WIFSIGNALED(o->worker_status) ? 128 + WTERMSIG(o->worker_status)
							    : -1);
	if (r->has_setup_us)
		printf("%ssetup_us %llu\n", prefix, (unsigned long long)r->setup_us);
	if (r->has_boot_to_init_us)
		printf("%sboot_to_init_us %llu\n", prefix, (unsigned long long)r->boot_to_init_us);
	if (r->has_total_us)
		printf("%stotal_us %llu\n", prefix, (unsigned long long)r->total_us);
	if (r->has_guest_exit_code)
		printf("%sguest_exit_code %d\n", prefix, r->guest_exit_code);
	if (r->kernel_version)
		printf("%skernel_version %s\n", prefix, r->kernel_version);
	if (r->has_kvm_exit_reason)
		printf("%skvm_exit_reason %u\n", prefix, r->kvm_exit_reason);
	if (r->has_kvm_suberror)
		printf("%skvm_suberror %u\n", prefix, r->kvm_suberror);
	if (r->has_fault_rip)
		printf("%sfault_rip 0x%llx\n", prefix, (unsigned long long)r->fault_rip);
	if (r->has_fault_insn) {
		printf("%sfault_insn", prefix);
		for (size_t i = 0; i < r->fault_insn.len; i++)
			printf(" %02x", r->fault_insn.data[i]);
		putchar('\n');
	}
	if (r->error) {
		printf("%serror_what %s\n", prefix, r->error->what ? r->error->what : "");
		printf("%serror_where %s\n", prefix, r->error->where ? r->error->where : "");
		printf("%serror_why %s\n", prefix, r->error->why ? r->error->why : "");
		printf("%serror_hint %s\n", prefix, r->error->hint ? r->error->hint : "");
		if (r->error->has_errno_value)
			printf("%serror_errno %d\n", prefix, r->error->errno_value);
	}
	if (r->has_worker_rss_kb)
		printf("%sworker_rss_kb %llu\n", prefix, (unsigned long long)r->worker_rss_kb);
	printf("%sring_messages %zu\n", prefix, r->n_ring);
	for (size_t i = 0; i < r->n_ring; i++) {
		const char *name = ring_msg_name(r->ring[i]->type);
		char tag[64];

		snprintf(tag, sizeof(tag), "ring %s crc_ok %d", name ? name : "?",
			 r->ring[i]->crc_ok ? 1 : 0);
		print_lines(tag, r->ring[i]->payload.data, r->ring[i]->payload.len);
	}
	print_monitor(r);
	if (r->has_guest_output)
		print_lines("com2", r->guest_output.data, r->guest_output.len);
	if (r->has_console_tail)
		print_lines("com1", r->console_tail.data, r->console_tail.len);
	printf("%send\n", prefix);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "topology", required_argument, NULL, 't' },
		{ "memory-mb", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "engine", required_argument, NULL, 'e' },
		{ "cpu-features-off", required_argument, NULL, 'f' },
		{ "cmdline-extra", required_argument, NULL, 'c' },
		{ "worker", required_argument, NULL, 'w' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "shm-kb", required_argument, NULL, 's' },
		{ "layout", required_argument, NULL, 'L' },
		{ "watchdog-ms", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology topo = KTSTR__TOPOLOGY__INIT;
	Ktstr__MonitorSpec mon = KTSTR__MONITOR_SPEC__INIT;
	Ktstr__GuestKernelLayout *layout = NULL;
	const char *layout_path = NULL;
	const char *kernel = NULL, *initrd = NULL, *worker = NULL;
	char *features[MAX_FEATURES], *flist = NULL;
	struct worker_fds fds = { -1, -1, -1, -1 };
	struct worker_client_opts wo = { 0 };
	struct worker_outcome out;
	unsigned long timeout_s = 60;
	bool have_topo = false;
	int c, rc;

	klog_init("ktstr-vmrun");
	spec.engine = KTSTR__ENGINE__ENGINE_KVM;
	spec.memory_mb = 256;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 't':
			if (parse_topology(optarg, &topo)) {
				fprintf(stderr, "ktstr-vmrun: --topology %s: expected N,L,C,T with every value >= 1 (nodes,llcs,cores_per_llc,threads_per_core)\n",
					optarg);
				return 2;
			}
			have_topo = true;
			break;
		case 'm': spec.memory_mb = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'T': timeout_s = strtoul(optarg, NULL, 0); break;
		case 'e':
			if (!strcmp(optarg, "kvm"))
				spec.engine = KTSTR__ENGINE__ENGINE_KVM;
			else if (!strcmp(optarg, "qemu"))
				spec.engine = KTSTR__ENGINE__ENGINE_QEMU;
			else if (!strcmp(optarg, "auto"))
				spec.engine = KTSTR__ENGINE__ENGINE_AUTO;
			else {
				fprintf(stderr, "ktstr-vmrun: --engine %s: expected kvm, qemu or auto\n", optarg);
				return 2;
			}
			break;
		case 'f': flist = optarg; break;
		case 'c': spec.cmdline_extra = optarg; break;
		case 'w': worker = optarg; break;
		case 'p': prefix = optarg; break;
		case 's':
			/* The guest's ring (tiny guests write one message there). */
			spec.has_shm_size = true;
			spec.shm_size = (uint32_t)strtoul(optarg, NULL, 0) * 1024;
			break;
		case 'L': layout_path = optarg; break;
		case 'W': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || *end || v > 3600000) {
				fprintf(stderr, "ktstr-vmrun: --watchdog-ms %s: expected 0..3600000 ms\n", optarg);
				return 2;
			}
			mon.has_watchdog_timeout_ms = true;
			mon.watchdog_timeout_ms = (uint32_t)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!kernel || !have_topo || optind != argc || timeout_s == 0 || timeout_s > 3600) {
		usage(stderr);
		fprintf(stderr, "ktstr-vmrun: --kernel and --topology are required; --timeout must be 1..3600 s\n");
		return 2;
	}
	spec.topology = &topo;
	spec.timeout_ms = (uint32_t)(timeout_s * 1000);
	if (flist && *flist) {
		for (char *save = NULL, *w = strtok_r(flist, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
			if (spec.n_cpu_features_off == MAX_FEATURES) {
				fprintf(stderr, "ktstr-vmrun: --cpu-features-off: at most %d names\n", MAX_FEATURES);
				return 2;
			}
			features[spec.n_cpu_features_off++] = w;
		}
		spec.cpu_features_off = features;
	}
	spec.label = "ktstr-vmrun";
	if (mon.has_watchdog_timeout_ms && !layout_path) {
		fprintf(stderr, "ktstr-vmrun: --watchdog-ms needs --layout (the monitor writes the timeout)\n");
		return 2;
	}
	if (layout_path) {
		/* As ktstr-orch: the layout and a MonitorSpec, its unset
		 * fields keeping the proto defaults. */
		layout = load_layout(layout_path);
		if (!layout)
			return 2;
		spec.kernel_layout = layout;
		spec.monitor = &mon;
	}

	fds.kernel_fd = open_ro("kernel", kernel);
	if (fds.kernel_fd < 0)
		return 2;
	if (initrd && (fds.initrd_fd = open_ro("initrd", initrd)) < 0)
		return 2;
	wo.worker_path = worker; /* NULL: $KTSTR_VMM_WORKER, else beside us */
	wo.stderr_fd = -2;	 /* the worker's log goes to our stderr */
	wo.grace_ms = 30000;

	fflush(stdout);
	rc = worker_run_vm(&spec, &fds, &wo, &out);
	if (rc < 0) {
		fprintf(stderr, "ktstr-vmrun: worker_run_vm: %s\n", strerror(-rc));
		return 2;
	}
	print_result(&out);
	rc = out.infra_error ? 1 : 0;
	worker_outcome_free(&out);
	if (layout)
		ktstr__guest_kernel_layout__free_unpacked(layout, NULL);
	close(fds.kernel_fd);
	if (fds.initrd_fd >= 0)
		close(fds.initrd_fd);
	return rc;
}
