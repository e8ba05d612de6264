/* A user of the VM builder (include/ktstr/ktstr.h), linked as a user
 * links libktstr, for tests/integration/capi_vm.c:
 *   capi-vm-run KERNEL TIMEOUT_S PROG [ARG]...
 * runs PROG with ARGs on topology 1,1,2,1 under the QEMU engine and prints
 * the typed result: rc=, outcome=, exit=, engine=, error=, then the output
 * after a "--- output ---" line. */
#include <stdio.h>
#include <stdlib.h>

#include <ktstr/ktstr.h>

int main(int argc, char **argv)
{
	struct ktstr_vm_builder *b;
	struct ktstr_vm_result r;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: capi-vm-run KERNEL TIMEOUT_S PROG [ARG]...\n");
		return 2;
	}
	b = ktstr_vm_builder_new();
	if (!b || ktstr_vm_builder_kernel(b, argv[1]) ||
	    ktstr_vm_builder_timeout_s(b, (unsigned)atoi(argv[2])) ||
	    ktstr_vm_builder_init(b, argv[3], (const char *const *)argv + 4, (size_t)argc - 4) ||
	    ktstr_vm_builder_topology(b, 1, 1, 2, 1) ||
	    ktstr_vm_builder_engine(b, KTSTR_VM_ENGINE_QEMU) ||
	    ktstr_vm_builder_env(b, "KTSTR_VM_TEST=x y'z")) {
		fprintf(stderr, "capi-vm-run: a builder setter failed\n");
		return 2;
	}
	rc = ktstr_vm_run(b, &r);
	printf("rc=%d\noutcome=%d\nexit=%d\nengine=%s\nerror=%s\n--- output ---\n", rc,
	       (int)r.outcome, r.exit_code, r.engine, r.error ? r.error : "");
	if (r.output)
		fwrite(r.output, 1, r.output_len, stdout);
	ktstr_vm_result_free(&r);
	ktstr_vm_builder_free(b);
	return 0;
}
