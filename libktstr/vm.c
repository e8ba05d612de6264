/* The VM builder (include/ktstr/ktstr.h, docs/c-api.md): a client of the
 * unprivileged `ktstr-orch shell --exec --result-json`, never a VMM of its
 * own, so the image is built by the confined builder and the VM runs in a
 * confined worker, as for every test. The program's argv reaches it as
 * words: each is single-quoted for the guest's `sh -c`, which then does no
 * expansion at all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ktstr/ktstr.h>
#include <ktstr/strv.h>
#include <ktstr/util.h>

#include "orch.h"
#include "vm_result.h"

extern char **environ;

/* Besides the timeout, what ktstr-orch may spend on booking the host
 * (--reserve-timeout, 600 s by default), building the image and booting
 * under TCG: past it ktstr-orch is stopped, as a hung one. */
#define VM_RUN_SLACK_S 1200u
/* What a stopped ktstr-orch gets to stop its VM before SIGKILL. */
#define VM_STOP_GRACE_S 30u
/* How much of ktstr-orch's stderr an error quotes when it left no result. */
#define VM_STDERR_TAIL 2048

struct ktstr_vm_builder {
	char *kernel;		/* owned; NULL: ktstr-orch's choice */
	char *init;		/* owned; the host path */
	struct strv args;	/* owned: init's argv[1..] */
	size_t arg_bytes;
	struct strv env;	/* owned: NAME=VALUE */
	struct strv includes;	/* owned: host paths */
	unsigned topo[4];
	unsigned memory_mb;	/* 0: ktstr-orch's default */
	unsigned timeout_s;
	enum ktstr_vm_engine engine;
};

struct ktstr_vm_builder *ktstr_vm_builder_new(void)
{
	struct ktstr_vm_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	for (int i = 0; i < 4; i++)
		b->topo[i] = 1;
	b->timeout_s = 300;
	return b;
}

void ktstr_vm_builder_free(struct ktstr_vm_builder *b)
{
	if (!b)
		return;
	free(b->kernel);
	free(b->init);
	strv_free(&b->args);
	strv_free(&b->env);
	strv_free(&b->includes);
	free(b);
}

static int set_str(char **dst, const char *s)
{
	char *d;

	if (!s || !*s)
		return -EINVAL;
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int ktstr_vm_builder_kernel(struct ktstr_vm_builder *b, const char *kernel)
{
	return b ? set_str(&b->kernel, kernel) : -EINVAL;
}

/* The guest finds a file at /include-files/<basename>: a path must name
 * one. */
static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	s = s ? s + 1 : path;
	return *s && strcmp(s, ".") && strcmp(s, "..") ? s : NULL;
}

int ktstr_vm_builder_init(struct ktstr_vm_builder *b, const char *path,
			  const char *const *args, size_t nargs)
{
	struct strv av = { 0 };
	size_t bytes = 0;
	char *p;

	if (!b || !path || !base_of(path) || (nargs && !args))
		return -EINVAL;
	if (nargs > KTSTR_VM_MAX_ARGS)
		return -E2BIG;
	for (size_t i = 0; i < nargs; i++) {
		if (!args[i])
			return -EINVAL;
		bytes += strlen(args[i]) + 1;
		if (bytes > KTSTR_VM_MAX_ARG_BYTES)
			return -E2BIG;
	}
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < nargs; i++)
		if (strv_push(&av, args[i])) {
			strv_free(&av);
			free(p);
			return -ENOMEM;
		}
	free(b->init);
	b->init = p;
	strv_free(&b->args);
	b->args = av;
	b->arg_bytes = bytes;
	return 0;
}

int ktstr_vm_builder_topology(struct ktstr_vm_builder *b, unsigned numa_nodes, unsigned llcs,
			      unsigned cores_per_llc, unsigned threads_per_core)
{
	/* ktstr-orch validates the shape against its own limits; here only
	 * what cannot be a topology at all. */
	if (!b || !numa_nodes || !llcs || !cores_per_llc || !threads_per_core)
		return -EINVAL;
	b->topo[0] = numa_nodes;
	b->topo[1] = llcs;
	b->topo[2] = cores_per_llc;
	b->topo[3] = threads_per_core;
	return 0;
}

int ktstr_vm_builder_memory_mb(struct ktstr_vm_builder *b, unsigned mb)
{
	if (!b || mb < 128 || mb > (1u << 20))
		return -EINVAL;
	b->memory_mb = mb;
	return 0;
}

int ktstr_vm_builder_engine(struct ktstr_vm_builder *b, enum ktstr_vm_engine engine)
{
	if (!b || (engine != KTSTR_VM_ENGINE_AUTO && engine != KTSTR_VM_ENGINE_KVM &&
		   engine != KTSTR_VM_ENGINE_QEMU))
		return -EINVAL;
	b->engine = engine;
	return 0;
}

int ktstr_vm_builder_timeout_s(struct ktstr_vm_builder *b, unsigned s)
{
	if (!b || !s || s > 86400)
		return -EINVAL;
	b->timeout_s = s;
	return 0;
}

int ktstr_vm_builder_include(struct ktstr_vm_builder *b, const char *path)
{
	if (!b || !path || !base_of(path))
		return -EINVAL;
	if (b->includes.n >= KTSTR_VM_MAX_INCLUDES)
		return -E2BIG;
	return strv_push(&b->includes, path);
}

int ktstr_vm_builder_env(struct ktstr_vm_builder *b, const char *nv)
{
	const char *eq = nv ? strchr(nv, '=') : NULL;

	/* A name `env` takes as an assignment, not as the program. */
	if (!b || !eq || eq == nv || (nv[0] >= '0' && nv[0] <= '9'))
		return -EINVAL;
	for (const char *c = nv; c < eq; c++)
		if (!(*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9')))
			return -EINVAL;
	if (b->env.n >= KTSTR_VM_MAX_ENV)
		return -E2BIG;
	return strv_push(&b->env, nv);
}

/* s as one single-quoted sh word: ' becomes '\'' ; nothing else is
 * special inside single quotes. */
static int sq_append(struct strbuf *sb, const char *s)
{
	int ret = sb_append(sb, " '", 2);

	for (const char *q; !ret && (q = strchr(s, '\'')); s = q + 1) {
		ret = sb_append(sb, s, (size_t)(q - s));
		if (!ret)
			ret = sb_append(sb, "'\\''", 4);
	}
	if (!ret)
		ret = sb_append(sb, s, strlen(s));
	if (!ret)
		ret = sb_append(sb, "'", 2); /* with the terminating NUL */
	if (!ret)
		sb->len--;
	return ret;
}

/* The guest command: exec [env 'N=V'...] '/include-files/BASE' 'ARG'... */
static int guest_command(const struct ktstr_vm_builder *b, struct strbuf *sb)
{
	char guest[PATH_MAX];
	int ret = sb_append(sb, "exec", 4);

	if (!ret && b->env.n)
		ret = sb_append(sb, " env", 4);
	for (size_t i = 0; !ret && i < b->env.n; i++)
		ret = sq_append(sb, b->env.v[i]);
	snprintf(guest, sizeof(guest), "/include-files/%s", base_of(b->init));
	if (!ret)
		ret = sq_append(sb, guest);
	for (size_t i = 0; !ret && i < b->args.n; i++)
		ret = sq_append(sb, b->args.v[i]);
	return ret;
}

static int fail(struct ktstr_vm_result *out, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ktstr_vm_result *out, int ret, const char *fmt, ...)
{
	va_list ap;
	char *e = NULL;

	free(out->error);
	va_start(ap, fmt);
	if (vasprintf(&e, fmt, ap) < 0)
		e = NULL;
	va_end(ap);
	out->error = e;
	out->outcome = KTSTR_VM_INFRA_ERROR;
	return ret;
}

/* The last VM_STDERR_TAIL bytes of the file at path, for an error. */
static void stderr_tail(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)len - 1)
		lseek(fd, end - (off_t)len + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read_full(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static const char *engine_word(enum ktstr_vm_engine e)
{
	return e == KTSTR_VM_ENGINE_KVM ? "kvm" : e == KTSTR_VM_ENGINE_QEMU ? "qemu" : "auto";
}

/* Wait for pid at most timeout_s; past it, SIGTERM (ktstr-orch stops its
 * VM), then SIGKILL after the grace. 0 with *st, or -ETIMEDOUT (reaped). */
static int wait_bounded(pid_t pid, unsigned timeout_s, int *st)
{
	const struct timespec tick = { 0, 50 * 1000 * 1000 };
	unsigned long ticks = (unsigned long)timeout_s * 20;
	pid_t r;

	for (unsigned long i = 0;; i++) {
		r = waitpid(pid, st, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (i == ticks)
			kill(pid, SIGTERM);
		if (i == ticks + VM_STOP_GRACE_S * 20) {
			kill(pid, SIGKILL);
			while (waitpid(pid, st, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		nanosleep(&tick, NULL);
	}
}

int ktstr_vm_run(struct ktstr_vm_builder *b, struct ktstr_vm_result *out)
{
	char dir[PATH_MAX], res[PATH_MAX + 16], errp[PATH_MAX + 16], topo[64], mem[16], tmo[16];
	char msg[512], tail[VM_STDERR_TAIL];
	const char *tmp = getenv("TMPDIR"), *orch = ktstr_orch_path();
	struct strbuf cmd = { 0 };
	struct strv av = { 0 };
	posix_spawn_file_actions_t fa;
	bool fa_init = false;
	pid_t pid;
	int ret, st = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!b || !b->init)
		return fail(out, -EINVAL, "no program to run: call ktstr_vm_builder_init first");
	for (size_t i = 0; i < b->includes.n; i++)
		if (!strcmp(base_of(b->includes.v[i]), base_of(b->init)))
			return fail(out, -EINVAL,
				    "include %s has the program's name in the guest "
				    "(/include-files/%s): rename one",
				    b->includes.v[i], base_of(b->init));
	snprintf(dir, sizeof(dir), "%s/ktstr-vm-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return fail(out, -errno, "mkdtemp %s: %s", dir, strerror(errno));
	snprintf(res, sizeof(res), "%s/result.json", dir);
	snprintf(errp, sizeof(errp), "%s/stderr", dir);
	snprintf(topo, sizeof(topo), "%u,%u,%u,%u", b->topo[0], b->topo[1], b->topo[2],
		 b->topo[3]);
	snprintf(mem, sizeof(mem), "%u", b->memory_mb);
	snprintf(tmo, sizeof(tmo), "%u", b->timeout_s);
	ret = guest_command(b, &cmd);
	if (!ret)
		ret = strv_push(&av, orch) ?: strv_push(&av, "shell") ?: strv_push(&av, "--exec") ?:
		      strv_push(&av, cmd.buf) ?: strv_push(&av, "--include") ?:
		      strv_push(&av, b->init) ?: strv_push(&av, "--topology") ?:
		      strv_push(&av, topo) ?: strv_push(&av, "--engine") ?:
		      strv_push(&av, engine_word(b->engine)) ?: strv_push(&av, "--timeout") ?:
		      strv_push(&av, tmo) ?: strv_push(&av, "--result-json") ?:
		      strv_push(&av, res);
	for (size_t i = 0; !ret && i < b->includes.n; i++)
		ret = strv_push(&av, "--include") ?: strv_push(&av, b->includes.v[i]);
	if (!ret && b->memory_mb)
		ret = strv_push(&av, "--memory-mb") ?: strv_push(&av, mem);
	if (!ret && b->kernel)
		ret = strv_push(&av, "--kernel") ?: strv_push(&av, b->kernel);
	if (ret) {
		fail(out, ret, "out of memory");
		goto err_dir;
	}
	/* stdout: the output, which the result carries; stderr kept for an
	 * error when ktstr-orch leaves no result. */
	if (posix_spawn_file_actions_init(&fa)) {
		ret = fail(out, -ENOMEM, "out of memory");
		goto err_dir;
	}
	fa_init = true;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) ||
	    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) {
		ret = fail(out, -ENOMEM, "out of memory");
		goto err_dir;
	}
	ret = -posix_spawnp(&pid, orch, &fa, NULL, av.v, environ);
	if (ret) {
		fail(out, ret, "cannot run %s: %s (set KTSTR_ORCH to its path)", orch,
		     strerror(-ret));
		goto err_dir;
	}
	ret = wait_bounded(pid, b->timeout_s + VM_RUN_SLACK_S, &st);
	stderr_tail(errp, tail, sizeof(tail));
	if (ret == -ETIMEDOUT) {
		fail(out, ret, "%s shell did not end within %u s; stopped. Its stderr ends: %s",
		     orch, b->timeout_s + VM_RUN_SLACK_S, tail);
		goto err_dir;
	}
	if (ret) {
		fail(out, ret, "waiting for %s: %s", orch, strerror(-ret));
		goto err_dir;
	}
	ret = ktstr_vm_result_read(res, out, msg, sizeof(msg));
	if (ret) {
		ktstr_vm_result_free(out);
		fail(out, -EPROTO, "%s shell exited %d without a usable result (%s); its stderr "
				   "ends: %s",
		     orch, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), msg, tail);
		ret = -EPROTO;
	}
err_dir:
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	unlink(res);
	unlink(errp);
	rmdir(dir);
	strv_free(&av);
	free(cmd.buf);
	return ret;
}

void ktstr_vm_result_free(struct ktstr_vm_result *r)
{
	if (!r)
		return;
	free(r->output);
	free(r->error);
	memset(r, 0, sizeof(*r));
}
