/* The arm64 vCPUs on threads (a64_vm.h): the shared pool (vcpu_pool.h)
 * runs a64_vcpu_loop on each; the vCPU whose exit ends the VM records why,
 * sets the stop flag and kicks the others out of KVM_RUN. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "a64_vm.h"
#include "vcpu_pool.h"

static void kick_handler(int sig)
{
	(void)sig; /* its only job is to make KVM_RUN return EINTR */
}

int a64_kick_handler_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN must return */
	sigemptyset(&sa.sa_mask);
	return sigaction(A64_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

void a64_runner_stop(struct a64_runner *r)
{
	atomic_store(r->stop, true);
	for (uint32_t i = 0; r->vm->run && i < r->vm->ncpus; i++)
		if (r->vm->run[i])
			r->vm->run[i]->immediate_exit = 1;
	if (r->pool)
		vcpu_pool_kick(r->pool);
}

void a64_runner_vcpu(struct a64_runner *r, uint32_t cpu)
{
	enum a64_exit_result res = A64_EXIT_CONTINUE;
	char err[256] = "";
	int rc = a64_vcpu_loop(r->vm, cpu, r->stop, &res, err, sizeof(err));

	if (rc == 0 && res == A64_EXIT_CONTINUE)
		return; /* stopped from outside */
	pthread_mutex_lock(&r->vm->lock);
	if (!r->end->ended) { /* the first end wins */
		r->end->ended = true;
		r->end->rc = rc;
		r->end->res = rc < 0 ? A64_EXIT_ERROR : res;
		r->end->cpu = cpu;
		snprintf(r->end->err, sizeof(r->end->err), "%s", err);
	}
	if (r->cond)
		pthread_cond_broadcast(r->cond);
	pthread_mutex_unlock(&r->vm->lock);
	a64_runner_stop(r);
}

static void run_cb(void *ctx, uint32_t cpu)
{
	a64_runner_vcpu(ctx, cpu);
}

int a64_vm_run(struct a64_vm *vm, atomic_bool *stop, struct a64_end *end)
{
	static const struct vcpu_pool_ops ops = { .run = run_cb };
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct vcpu_pool pool;
	struct a64_runner r = { .vm = vm, .stop = stop, .end = end, .pool = &pool, .cond = &cond };
	char why[160];
	int rc;

	memset(end, 0, sizeof(*end));
	rc = a64_kick_handler_install();
	if (rc)
		return rc;
	rc = vcpu_pool_init(&pool, vm->ncpus, &vm->lock, &cond, stop, A64_KICK_SIGNAL,
			    "arm64 KVM engine", &ops, &r);
	if (rc)
		return rc;
	rc = vcpu_pool_start(&pool, why, sizeof(why));
	if (rc) {
		snprintf(end->err, sizeof(end->err), "%s", why);
		a64_runner_stop(&r);
	}
	vcpu_pool_open_gate(&pool);
	vcpu_pool_join(&pool);
	vcpu_pool_free(&pool);
	pthread_cond_destroy(&cond);
	return rc;
}
