/* `ktstr-orch completion bash`: a bash completion script written from the
 * option table (cli_table.c), so it offers exactly what the parser takes.
 * make install stores it where bash-completion looks for it. The script
 * finds the command (skipping global options and their arguments), then
 * offers that command's options, the choices of an option's argument,
 * files, or the cached kernels' keys (`ktstr-orch kernel list`). */
#include <string.h>

#include "cli.h"

/* The shell words of one option: "--name" and "-c". */
static void put_names(FILE *f, const struct cli_opt *o, const char *sep)
{
	fprintf(f, "--%s", o->name);
	if (o->short_name)
		fprintf(f, "%s-%c", sep, o->short_name);
}

static bool global_applies(const struct cli_cmd *cmd, const struct cli_opt *o)
{
	unsigned cls = cli_global_class(o->code);

	return !cls || (cmd->globals & cls);
}

/* One case arm per option argument kind: "--engine) COMPREPLY=...". */
static void put_arg_case(FILE *f, const struct cli_opt *o)
{
	fputs("\t\t", f);
	put_names(f, o, "|");
	switch (o->complete) {
	case CLI_C_WORDS:
		fprintf(f, ") COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return ;;\n", o->words);
		break;
	case CLI_C_FILE:
		fputs(") _ktstr_orch_files; return ;;\n", f);
		break;
	case CLI_C_DIR:
		fputs(") _ktstr_orch_dirs; return ;;\n", f);
		break;
	case CLI_C_KERNEL:
		fputs(") _ktstr_orch_kernels; return ;;\n", f);
		break;
	case CLI_C_USER:
		fputs(") COMPREPLY=($(compgen -u -- \"$cur\")); return ;;\n", f);
		break;
	case CLI_C_NONE:
		fputs(") return ;;\n", f);
		break;
	}
}

static const char *operand_fn(enum cli_complete c)
{
	switch (c) {
	case CLI_C_FILE:
		return "_ktstr_orch_files";
	case CLI_C_DIR:
		return "_ktstr_orch_dirs";
	case CLI_C_KERNEL:
		return "_ktstr_orch_kernels";
	default:
		return ":";
	}
}

static void put_cmd(FILE *f, const struct cli_cmd *cmd)
{
	fprintf(f, "\t'%s')\n\t\topts='", cmd->name);
	for (const struct cli_opt *o = cmd->opts; o->name; o++) {
		put_names(f, o, " ");
		fputc(' ', f);
	}
	for (const struct cli_opt *o = cli_globals; o->name; o++) {
		if (!global_applies(cmd, o))
			continue;
		put_names(f, o, " ");
		fputc(o[1].name ? ' ' : '\'', f);
	}
	fputs("\n\t\tcase $prev in\n", f);
	for (const struct cli_opt *o = cmd->opts; o->name; o++)
		if (o->arg)
			put_arg_case(f, o);
	for (const struct cli_opt *o = cli_globals; o->name; o++)
		if (o->arg && global_applies(cmd, o))
			put_arg_case(f, o);
	fputs("\t\tesac\n", f);
	if (!strcmp(cmd->name, "completion"))
		fputs("\t\toperand=\"COMPREPLY=(\\$(compgen -W bash -- \\\"\\$cur\\\"))\" ;;\n", f);
	else
		fprintf(f, "\t\toperand=%s ;;\n", operand_fn(cmd->operand_complete));
}

int cli_completion_bash(FILE *f)
{
	fputs("# bash completion for ktstr-orch, written by `ktstr-orch completion bash`\n"
	      "# from its option table: regenerate it, do not edit it.\n"
	      "_ktstr_orch_files() {\n"
	      "\tcompopt -o filenames 2>/dev/null\n"
	      "\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "}\n"
	      "_ktstr_orch_dirs() {\n"
	      "\tcompopt -o filenames 2>/dev/null\n"
	      "\tCOMPREPLY=($(compgen -d -- \"$cur\"))\n"
	      "}\n"
	      "# A kernel is a cached kernel's key or a path.\n"
	      "_ktstr_orch_kernels() {\n"
	      "\tlocal keys\n"
	      "\tkeys=$(\"${COMP_WORDS[0]}\" kernel list 2>/dev/null | awk '{ print $1 }')\n"
	      "\tcompopt -o filenames 2>/dev/null\n"
	      "\tCOMPREPLY=($(compgen -W \"$keys\" -- \"$cur\") $(compgen -f -- \"$cur\"))\n"
	      "}\n"
	      "_ktstr_orch() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tlocal cmd= i w skip= opts operand\n"
	      "\tCOMPREPLY=()\n"
	      "\t# The command: the first words that are no option nor a global\n"
	      "\t# option's argument (two for kernel).\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tw=${COMP_WORDS[i]}\n"
	      "\t\tif [[ -n $skip ]]; then skip=; continue; fi\n"
	      "\t\tcase $w in\n"
	      "\t\t--) break ;;\n"
	      "\t\t",
	      f);
	/* Globals whose argument is the next word. */
	bool first = true;

	for (const struct cli_opt *o = cli_globals; o->name; o++) {
		if (!o->arg)
			continue;
		if (!first)
			fputc('|', f);
		put_names(f, o, "|");
		first = false;
	}
	fputs(") skip=1; continue ;;\n"
	      "\t\t-*) continue ;;\n"
	      "\t\tesac\n"
	      "\t\tif [[ -z $cmd ]]; then\n"
	      "\t\t\tcmd=$w\n"
	      "\t\t\t[[ $cmd == kernel ]] || break\n"
	      "\t\telse\n"
	      "\t\t\tcmd=\"kernel $w\"\n"
	      "\t\t\tbreak\n"
	      "\t\tfi\n"
	      "\tdone\n"
	      "\tcase $cmd in\n"
	      "\t'')\n"
	      "\t\tcase $prev in\n",
	      f);
	for (const struct cli_opt *o = cli_globals; o->name; o++)
		if (o->arg)
			put_arg_case(f, o);
	fputs("\t\tesac\n\t\topts='", f);
	for (const struct cli_opt *o = cli_globals; o->name; o++) {
		put_names(f, o, " ");
		fputc(o[1].name ? ' ' : '\'', f);
	}
	fputs("\n\t\toperand=\"COMPREPLY=(\\$(compgen -W '", f);
	for (size_t i = 0; i < cli_ncmds; i++)
		if (strncmp(cli_cmds[i].name, "kernel ", 7))
			fprintf(f, "%s ", cli_cmds[i].name);
	fputs("kernel' -- \\\"\\$cur\\\"))\" ;;\n"
	      "\tkernel)\n"
	      "\t\topts='--help -h'\n"
	      "\t\toperand=\"COMPREPLY=(\\$(compgen -W '",
	      f);
	first = true;
	for (size_t i = 0; i < cli_ncmds; i++) {
		if (strncmp(cli_cmds[i].name, "kernel ", 7))
			continue;
		fprintf(f, "%s%s", first ? "" : " ", cli_cmds[i].name + 7);
		first = false;
	}
	fputs("' -- \\\"\\$cur\\\"))\" ;;\n", f);
	for (size_t i = 0; i < cli_ncmds; i++)
		put_cmd(f, &cli_cmds[i]);
	fputs("\t*) return ;;\n"
	      "\tesac\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\teval \"$operand\"\n"
	      "}\n"
	      "complete -F _ktstr_orch ktstr-orch\n",
	      f);
	return ferror(f) || fflush(f) ? -1 : 0;
}
