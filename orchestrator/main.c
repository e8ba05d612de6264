/* ktstr-orch: the unprivileged front end. Finds the command on the line and
 * hands off to it; never opens /dev/kvm, never runs tenant code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/log.h>

#include "cli.h"
#include "stop.h"

/* Whether argv[i], a global option before the command, takes the next
 * word as its argument ("--user NAME", "-j 4"; not "--user=NAME", "-j4"). */
static bool takes_next(const char *w)
{
	const struct cli_opt *hit = NULL;

	if (w[1] == '-') {
		size_t n = strcspn(w + 2, "=");

		if (w[2 + n] == '=')
			return false;
		for (const struct cli_opt *o = cli_globals; o->name; o++) {
			if (strncmp(o->name, w + 2, n))
				continue;
			if (strlen(o->name) == n)
				return o->arg != NULL;
			hit = hit ? NULL : o; /* an unambiguous abbreviation */
		}
		return hit && hit->arg;
	}
	for (const char *c = w + 1; *c; c++) {
		for (const struct cli_opt *o = cli_globals; o->name; o++)
			if (o->short_name == *c && o->arg)
				return c[1] == '\0';
	}
	return false;
}

/* The index of the first word that is not a global option or its argument
 * from start on, or argc. */
static int next_word(int argc, char **argv, int start)
{
	for (int i = start; i < argc; i++) {
		const char *w = argv[i];

		if (!strcmp(w, "--"))
			return argc;
		if (w[0] != '-' || !w[1])
			return i;
		if (takes_next(w))
			i++;
	}
	return argc;
}

static bool asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* `kernel` alone or `kernel --help`: its commands. */
static int kernel_group(int argc, char **argv, const char *sub)
{
	if (!sub && asks_help(argc, argv)) {
		puts("usage: ktstr-orch kernel COMMAND [options]\n\ncommands:");
		for (size_t i = 0; i < cli_ncmds; i++)
			if (!strncmp(cli_cmds[i].name, "kernel ", 7))
				printf("  %-14s %s\n", cli_cmds[i].name + 7, cli_cmds[i].summary);
		puts("\n'ktstr-orch kernel COMMAND --help' shows a command's options.");
		return fflush(stdout) ? EXIT_INFRA : 0;
	}
	if (!sub)
		fprintf(stderr, "ktstr-orch kernel: which one: fetch, build, list, path or clean?\n");
	else
		fprintf(stderr, "ktstr-orch kernel: unknown command '%s' (fetch, build, list, path, "
				"clean)\n", sub);
	fputs("usage: ktstr-orch kernel COMMAND [options]\nsee 'ktstr-orch kernel --help'\n",
	      stderr);
	return EXIT_USAGE;
}

static int dispatch(const struct cli_cmd *cmd, struct global_opts *g, int argc, char **argv)
{
	if (!strcmp(cmd->name, "run"))
		return cmd_run(g, cmd, argc, argv, 0);
	if (!strcmp(cmd->name, "list"))
		return cmd_run(g, cmd, argc, argv, 1);
	if (!strcmp(cmd->name, "shell"))
		return cmd_shell(g, cmd, argc, argv);
	/* kernel fetch/list/path manage the cache of whoever runs them (root's
	 * own cache when root): they start no VM and no builder, so they keep
	 * their ids (docs/security.md). */
	if (!strncmp(cmd->name, "kernel ", 7))
		return cmd_kernel(g, cmd, argc, argv);
	/* locks only reads the shared lock directory: keeps its ids too. */
	if (!strcmp(cmd->name, "locks"))
		return cmd_locks(g, cmd, argc, argv);
	/* merge only reads result files and writes the merged ones. */
	if (!strcmp(cmd->name, "merge"))
		return cmd_merge(g, cmd, argc, argv);
	/* compare and report only read result files and write their output. */
	if (!strcmp(cmd->name, "compare"))
		return cmd_compare(g, cmd, argc, argv);
	if (!strcmp(cmd->name, "report"))
		return cmd_report(g, cmd, argc, argv);
	return EXIT_USAGE;
}

static int cli_main(int argc, char **argv)
{
	struct global_opts g = { 0 };
	const struct cli_cmd *cmd;
	char name[64], *display = NULL, **av = NULL;
	int at[2] = { -1, -1 }, n = 0, rc;

	at[0] = next_word(argc, argv, 1);
	if (at[0] == argc) {
		/* No command: --help, --version, or a usage error. */
		struct cli_parser p;
		int c;

		argv[0] = "ktstr-orch";
		cli_begin(&p, &cli_top, &g, argc, argv);
		c = cli_next(&p);
		if (c == CLI_STOP)
			return p.exit;
		fprintf(stderr, "ktstr-orch: no command given\n");
		return cli_usage_hint(NULL);
	}
	snprintf(name, sizeof(name), "%s", argv[at[0]]);
	if (!strcmp(name, "kernel")) {
		at[1] = next_word(argc, argv, at[0] + 1);
		if (at[1] == argc)
			return kernel_group(argc, argv, at[1] == argc ? NULL : argv[at[1]]);
		snprintf(name, sizeof(name), "kernel %s", argv[at[1]]);
		cmd = cli_cmd_find(name);
		if (!cmd)
			return kernel_group(argc, argv, argv[at[1]]);
	} else {
		cmd = cli_cmd_find(name);
		if (!cmd || !strncmp(name, "kernel ", 7)) {
			fprintf(stderr, "ktstr-orch: unknown command '%s'\n", argv[at[0]]);
			return cli_usage_hint(NULL);
		}
	}
	/* The command's own argv: its name for messages, then every other
	 * word, globals before the command included (the parser permutes). */
	av = calloc((size_t)argc + 1, sizeof(*av));
	if (!av || asprintf(&display, "ktstr-orch %s", cmd->name) < 0) {
		free(av);
		fprintf(stderr, "ktstr-orch: out of memory\n");
		return EXIT_INFRA;
	}
	av[n++] = display;
	for (int i = 1; i < argc; i++)
		if (i != at[0] && i != at[1])
			av[n++] = argv[i];
	av[n] = NULL;
	if (!strcmp(cmd->name, "completion")) {
		struct cli_parser p;
		int c;

		cli_begin(&p, cmd, &g, n, av);
		c = cli_next(&p);
		if (c == CLI_STOP)
			rc = p.exit;
		else if (strcmp(av[optind], "bash"))
			rc = cli_usage_error(cmd, "only bash is known, not '%s'", av[optind]);
		else
			rc = cli_completion_bash(stdout) ? EXIT_INFRA : 0;
	} else {
		rc = dispatch(cmd, &g, n, av);
	}
	free(display);
	free(av);
	return rc;
}

int main(int argc, char **argv)
{
	/* First: a signal from here on is a stop request (stop.h), never a
	 * kill in the middle of a build or with a terminal left raw. */
	if (stop_init())
		fprintf(stderr, "ktstr-orch: warning: cannot arm the stop-signal handling; "
				"SIGINT/SIGTERM kill at once\n");
	klog_init("ktstr-orch");
	return cli_main(argc, argv);
}
