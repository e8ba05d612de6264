/* --help text, from the option table (cli_table.c). */
#include <string.h>

#include "cli.h"

#define HELP_COL 26 /* where an option's text starts */

static void put_opt(FILE *f, const struct cli_opt *o)
{
	char label[64];
	const char *h = o->help;
	int n;

	if (o->short_name)
		n = snprintf(label, sizeof(label), "  -%c, --%s%s%s", o->short_name, o->name,
			     o->arg ? " " : "", o->arg ? o->arg : "");
	else
		n = snprintf(label, sizeof(label), "      --%s%s%s", o->name, o->arg ? " " : "",
			     o->arg ? o->arg : "");
	if (n >= HELP_COL - 1)
		fprintf(f, "%s\n%*s", label, HELP_COL, "");
	else
		fprintf(f, "%-*s", HELP_COL, label);
	for (;;) {
		size_t len = strcspn(h, "\n");

		fprintf(f, "%.*s\n", (int)len, h);
		if (!h[len])
			break;
		h += len + 1;
		fprintf(f, "%*s", HELP_COL, "");
	}
}

static void put_globals(FILE *f, unsigned classes)
{
	for (const struct cli_opt *o = cli_globals; o->name; o++) {
		unsigned cls = cli_global_class(o->code);

		if (!cls || (classes & cls))
			put_opt(f, o);
	}
}

static void help_top(FILE *f)
{
	fputs("usage: ktstr-orch [global options] COMMAND [options] [ARGS]\n"
	      "\n"
	      "Tests sched_ext schedulers: each test boots a kernel in a VM with a\n"
	      "synthetic CPU topology, runs the scheduler and its scenarios, and judges them.\n"
	      "\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < cli_ncmds; i++) {
		char label[48];

		snprintf(label, sizeof(label), "%s%s%s", cli_cmds[i].name,
			 cli_cmds[i].operands[0] ? " " : "", cli_cmds[i].operands);
		if (strlen(label) + 2 >= HELP_COL - 1)
			fprintf(f, "  %s\n%*s%s\n", label, HELP_COL, "", cli_cmds[i].summary);
		else
			fprintf(f, "  %-*s%s\n", HELP_COL - 2, label, cli_cmds[i].summary);
	}
	fputs("\nglobal options (accepted anywhere on the line, before or after the command;\n"
	      "each command takes those it uses):\n",
	      f);
	put_globals(f, ~0u);
	fputs("\n'ktstr-orch COMMAND --help' shows a command's options; 'man ktstr-orch'\n"
	      "and 'man ktstr-orch-COMMAND' have the details.\n\n",
	      f);
	fputs(cli_exit_status_help, f);
}

void cli_help(FILE *f, const struct cli_cmd *cmd)
{
	char page[32];

	if (!cmd || !cmd->name[0]) {
		help_top(f);
		return;
	}
	fprintf(f, "usage: ktstr-orch %s [options]%s%s\n\n%s\n", cmd->name,
		cmd->operands[0] ? " " : "", cmd->operands, cmd->about);
	if (cmd->opts[0].name) {
		fputs("\noptions:\n", f);
		for (const struct cli_opt *o = cmd->opts; o->name; o++)
			put_opt(f, o);
	}
	fputs("\nglobal options:\n", f);
	put_globals(f, cmd->globals);
	/* One man page per command; the kernel commands share one. */
	snprintf(page, sizeof(page), "%.*s", (int)strcspn(cmd->name, " "), cmd->name);
	fputs("\nexit status: ", f);
	for (const char *e = cmd->exits;;) {
		size_t len = strcspn(e, "\n");

		fprintf(f, "%.*s\n", (int)len, e);
		if (!e[len])
			break;
		e += len + 1;
		fputs("             ", f);
	}
	fprintf(f, "\n'man ktstr-orch-%s' has the details.\n", page);
}
