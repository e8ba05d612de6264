/* ktstr_main: the two roles of one binary (docs/c-api.md). On the host it
 * never plans or runs anything itself: it renders its tests as a suite and
 * runs the unprivileged ktstr-orch on it, so the privilege design, the
 * planner and the reports are the ones a YAML suite gets. In the guest it
 * runs one function (ctx.c). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/ktstr.h>

#include "orch.h"
#include "render.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s list [ktstr-orch list options]   show the plan of this program's tests\n"
		"       %s run [ktstr-orch run options]     run them in VMs (--filter, --gauntlet, ...)\n"
		"       %s suite                            print them as a suite file\n"
		"The tests run under ktstr-orch ($KTSTR_ORCH, else ktstr-orch on PATH);\n"
		"see `ktstr-orch run --help` for the options and docs/c-api.md.\n",
		prog, prog, prog);
}

/* The program's own path, as the suite names it: ktstr-orch packs that
 * file into the guest image. */
static int self_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

static int render_to(const char *path, const struct ktstr_test *b, const struct ktstr_test *e,
		     const char *self)
{
	char err[512] = "";
	FILE *f = fopen(path, "w");
	int ret;

	if (!f) {
		fprintf(stderr, "ktstr: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	ret = ktstr_render_suite(f, b, e, self, err, sizeof(err));
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		fprintf(stderr, "ktstr: %s\n", err[0] ? err : strerror(-ret));
	return ret;
}

/* ktstr-orch CMD SUITE ARGS..., waited for; its exit status is ours. The
 * terminal's SIGINT reaches both of us: ktstr-orch stops its VMs and exits
 * 130, which is passed on, so we only wait. */
static int run_orch(const char *cmd, const char *suite, int argc, char **argv)
{
	const char *orch = ktstr_orch_path();
	char **av = calloc((size_t)argc + 4, sizeof(*av));
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_term;
	int st = 0;
	pid_t pid;

	if (!av)
		return 3;
	/* --workers is ktstr-orch's only option that must precede the
	 * command; the program takes it anywhere after its own. */
	{
		int n = 0;

		av[n++] = (char *)orch;
		for (int i = 0; i < argc; i++)
			if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
				av[n++] = argv[i];
				av[n++] = argv[++i];
			} else if (!strncmp(argv[i], "--workers=", 10)) {
				av[n++] = argv[i];
			}
		av[n++] = (char *)cmd;
		av[n++] = (char *)suite;
		for (int i = 0; i < argc; i++)
			if (!strcmp(argv[i], "--workers") && i + 1 < argc)
				i++;
			else if (strncmp(argv[i], "--workers=", 10))
				av[n++] = argv[i];
	}
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGTERM, &ign, &old_term);
	pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		execvp(orch, av);
		fprintf(stderr, "ktstr: cannot run %s: %s (set KTSTR_ORCH to its path)\n", orch,
			strerror(errno));
		_exit(3);
	}
	free(av);
	if (pid < 0) {
		fprintf(stderr, "ktstr: fork: %s\n", strerror(errno));
		st = 3 << 8;
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int host_role(const char *cmd, const struct ktstr_test *b, const struct ktstr_test *e,
		     int argc, char **argv)
{
	char self[PATH_MAX], dir[PATH_MAX], suite[PATH_MAX + 16];
	const char *tmp = getenv("TMPDIR");
	int rc;

	if (self_path(self, sizeof(self))) {
		fprintf(stderr, "ktstr: cannot read /proc/self/exe: %s\n", strerror(errno));
		return 3;
	}
	if (!strcmp(cmd, "suite")) {
		char err[512] = "";
		int ret = ktstr_render_suite(stdout, b, e, self, err, sizeof(err));

		if (!ret && fflush(stdout))
			ret = -errno;
		if (ret)
			fprintf(stderr, "ktstr: %s\n", err[0] ? err : strerror(-ret));
		return ret ? 2 : 0;
	}
	snprintf(dir, sizeof(dir), "%s/ktstr-c-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "ktstr: mkdtemp %s: %s\n", dir, strerror(errno));
		return 3;
	}
	/* ktstr-orch may read it as the unprivileged user it drops to; it
	 * holds nothing secret (names and paths). */
	chmod(dir, 0755);
	snprintf(suite, sizeof(suite), "%s/suite.yaml", dir);
	if (render_to(suite, b, e, self)) {
		unlink(suite);
		rmdir(dir);
		return 2;
	}
	chmod(suite, 0644);
	rc = run_orch(cmd, suite, argc, argv);
	if (rc == 2) {
		/* A suite error names lines of this file: keep it to look at. */
		fprintf(stderr, "ktstr: the suite made from this program's tests is kept at %s\n",
			suite);
		return rc;
	}
	unlink(suite);
	rmdir(dir);
	return rc;
}

int ktstr_main(const struct ktstr_test *begin, const struct ktstr_test *end, int argc,
	       char **argv)
{
	const char *prog = argc > 0 ? argv[0] : "ktstr-test";

	if (!begin || !end)
		begin = end = NULL;
	if (argc >= 3 && !strcmp(argv[1], KTSTR_CTEST_RUN_ARG))
		return ktstr_guest_run(begin, end, argv[2]);
	if (argc >= 2 && (!strcmp(argv[1], "list") || !strcmp(argv[1], "run")))
		return host_role(argv[1], begin, end, argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], "suite"))
		return host_role(argv[1], begin, end, 0, NULL);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout, prog);
		return 0;
	}
	usage(stderr, prog);
	return 2;
}
