/* Every vCPU of an arm64 VM on its own thread until the first one ends the VM
 * (a64_vm.h, a64_vm_run). The x86 engine's scheme: the thread whose exit ends
 * the VM records why, sets the stop flag and kicks the others out of KVM_RUN
 * (immediate_exit, then a signal with a no-op handler so a blocked KVM_RUN
 * returns EINTR). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a64_vm.h"

struct vcpu_thread {
	struct a64_vm *vm;
	uint32_t cpu;
	atomic_bool *stop;
	struct a64_end *end;
	pthread_t tid;
	bool started;
	pthread_t *all; /* every thread's id, for the kick */
	bool *all_started;
};

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

/* Caller holds vm->lock. */
void a64_vm_kick_all(struct a64_vm *vm, const pthread_t *tids, const bool *started)
{
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		if (vm->run && vm->run[i])
			vm->run[i]->immediate_exit = 1;
		if (started[i])
			pthread_kill(tids[i], A64_KICK_SIGNAL);
	}
}

static void *vcpu_main(void *arg)
{
	struct vcpu_thread *t = arg;
	enum a64_exit_result res = A64_EXIT_CONTINUE;
	char err[256] = "";
	int rc = a64_vcpu_loop(t->vm, t->cpu, t->stop, &res, err, sizeof(err));
	if (rc < 0 || res != A64_EXIT_CONTINUE) {
		/* Under the lock: the first end wins, and started[] is
		 * written under it by a64_vm_run. */
		pthread_mutex_lock(&t->vm->lock);
		if (!t->end->ended) {
			t->end->ended = true;
			t->end->rc = rc;
			t->end->res = rc < 0 ? A64_EXIT_ERROR : res;
			t->end->cpu = t->cpu;
			snprintf(t->end->err, sizeof(t->end->err), "%s", err);
		}
		atomic_store(t->stop, true);
		a64_vm_kick_all(t->vm, t->all, t->all_started);
		pthread_mutex_unlock(&t->vm->lock);
	}
	return NULL;
}

int a64_vm_run(struct a64_vm *vm, atomic_bool *stop, struct a64_end *end)
{
	memset(end, 0, sizeof(*end));
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(A64_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	struct vcpu_thread *t = calloc(vm->ncpus, sizeof(*t));
	pthread_t *tids = calloc(vm->ncpus, sizeof(*tids));
	bool *started = calloc(vm->ncpus, sizeof(*started));
	int rc = 0;
	if (!t || !tids || !started) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		t[i] = (struct vcpu_thread){ .vm = vm, .cpu = i, .stop = stop, .end = end,
					     .all = tids, .all_started = started };
		/* started[i] is written under the lock a kicking thread
		 * holds while it reads started[]. */
		pthread_mutex_lock(&vm->lock);
		int e = pthread_create(&tids[i], NULL, vcpu_main, &t[i]);
		started[i] = e == 0;
		if (e) {
			rc = -e;
			atomic_store(stop, true);
			a64_vm_kick_all(vm, tids, started);
		}
		pthread_mutex_unlock(&vm->lock);
		if (e)
			break;
	}
	for (uint32_t i = 0; i < vm->ncpus; i++)
		if (started[i])
			pthread_join(tids[i], NULL);
out:
	free(started);
	free(tids);
	free(t);
	return rc;
}
