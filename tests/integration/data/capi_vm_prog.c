/* The program tests/integration/capi_vm.c runs in a VM through
 * ktstr_vm_run: built static (the guest has busybox and no libc of its
 * own). It prints each argument between brackets, the CPUs it may run on
 * and the CPUs online, then does what its first argument says:
 * exit:N, sleep (past any timeout), segv. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	cpu_set_t set;

	for (int i = 1; i < argc; i++)
		printf("arg%d=[%s]\n", i, argv[i]);
	if (!sched_getaffinity(0, sizeof(set), &set))
		printf("affinity_cpus=%d\n", CPU_COUNT(&set));
	printf("online_cpus=%ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	/* Its whole environment, as the builder's env entries set it. */
	for (char **e = environ; *e; e++)
		printf("env:[%s]\n", *e);
	fflush(stdout);
	if (argc > 1 && !strncmp(argv[1], "exit:", 5))
		return atoi(argv[1] + 5);
	if (argc > 1 && !strcmp(argv[1], "sleep"))
		for (;;)
			pause();
	if (argc > 1 && !strcmp(argv[1], "segv"))
		raise(SIGSEGV);
	return 0;
}
