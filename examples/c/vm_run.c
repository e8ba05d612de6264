/* The VM builder (docs/c-api.md, "Programmatic runs"): run one program in
 * a VM and print how it ended.
 *
 *   ktstr-example-vm_run [-k KERNEL] [-t TIMEOUT_S] [-T N,L,C,T] [-m MB]
 *                        [-e auto|kvm|qemu] [-E NAME=VALUE]... PROG [ARG]...
 *
 * prints rc=, outcome=, exit=, engine=, error= lines, then the program's
 * output after a "--- output ---" line. It has a main of its own, so the
 * library's (libktstr_main.a) is not linked in; ktstr-orch is
 * $KTSTR_ORCH, else ktstr-orch on PATH. tests/integration/capi_vm.c runs
 * it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/ktstr.h>

static const char *const outcome_names[] = { "?", "exited", "timed_out", "infra_error",
					     "interrupted" };

static int usage(void)
{
	fprintf(stderr, "usage: ktstr-example-vm_run [-k KERNEL] [-t TIMEOUT_S] [-T N,L,C,T] "
			"[-m MB] [-e auto|kvm|qemu] [-E NAME=VALUE]... PROG [ARG]...\n");
	return 2;
}

/* Each option through its setter; 0 or the setter's -errno. */
static int apply(struct ktstr_vm_builder *b, int c, const char *arg)
{
	unsigned t[4];

	switch (c) {
	case 'k':
		return ktstr_vm_builder_kernel(b, arg);
	case 't':
		return ktstr_vm_builder_timeout_s(b, (unsigned)strtoul(arg, NULL, 10));
	case 'm':
		return ktstr_vm_builder_memory_mb(b, (unsigned)strtoul(arg, NULL, 10));
	case 'T':
		if (sscanf(arg, "%u,%u,%u,%u", &t[0], &t[1], &t[2], &t[3]) != 4)
			return -1;
		return ktstr_vm_builder_topology(b, t[0], t[1], t[2], t[3]);
	case 'e':
		return ktstr_vm_builder_engine(b, !strcmp(arg, "kvm")	 ? KTSTR_VM_ENGINE_KVM
						  : !strcmp(arg, "qemu") ? KTSTR_VM_ENGINE_QEMU
						  : !strcmp(arg, "auto") ? KTSTR_VM_ENGINE_AUTO
									 : (enum ktstr_vm_engine)-1);
	case 'E':
		return ktstr_vm_builder_env(b, arg);
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	struct ktstr_vm_builder *b = ktstr_vm_builder_new();
	struct ktstr_vm_result r;
	int c, rc;

	if (!b)
		return 3;
	/* "+": options end at PROG; its own arguments are its. */
	while ((c = getopt(argc, argv, "+k:t:T:m:e:E:")) != -1)
		if (apply(b, c, optarg)) {
			ktstr_vm_builder_free(b);
			return usage();
		}
	if (optind >= argc ||
	    ktstr_vm_builder_init(b, argv[optind], (const char *const *)argv + optind + 1,
				  (size_t)(argc - optind - 1))) {
		ktstr_vm_builder_free(b);
		return usage();
	}
	rc = ktstr_vm_run(b, &r);
	printf("rc=%d\noutcome=%s\nexit=%d\nengine=%s\nerror=%s\n--- output ---\n", rc,
	       outcome_names[r.outcome <= KTSTR_VM_INTERRUPTED ? r.outcome : 0], r.exit_code,
	       r.engine, r.error ? r.error : "");
	if (r.output)
		fwrite(r.output, 1, r.output_len, stdout);
	ktstr_vm_result_free(&r);
	ktstr_vm_builder_free(b);
	return rc ? 3 : 0;
}
