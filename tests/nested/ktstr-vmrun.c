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
 *               [--shm-kb KB]
 *
 * Output (every line starts with the prefix, default "VMRUN "):
 *   outcome OUTCOME_POWER_OFF | engine ENGINE_KVM | setup_us N | ...
 *   com2 <line>   one per COM2 line      com1 <line>   console tail lines
 *   ring <TYPE> crc_ok <0|1> <payload>      one per ring message
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
		   "       [--worker PATH] [--prefix STRING] [--shm-kb KB]\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Ktstr__VmSpec spec = KTSTR__VM_SPEC__INIT;
	Ktstr__Topology topo = KTSTR__TOPOLOGY__INIT;
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
	close(fds.kernel_fd);
	if (fds.initrd_fd >= 0)
		close(fds.initrd_fd);
	return rc;
}
