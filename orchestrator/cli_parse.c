/* The command line: which command, then its options and the global ones in
 * any order (GNU getopt permutation: `list x.yaml --workers 2` works; "--"
 * ends the options, so an operand may start with '-'). Every usage error is
 * one line naming the problem, the command's synopsis and where its help
 * is; never the whole help. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/log.h>
#include <ktstr/version.h>

#include "cli.h"

static void msg_prefix(FILE *f, const struct cli_cmd *cmd)
{
	fprintf(f, "ktstr-orch%s%s: ", cmd && cmd->name[0] ? " " : "", cmd ? cmd->name : "");
}

int cli_usage_hint(const struct cli_cmd *cmd)
{
	if (!cmd || !cmd->name[0]) {
		fputs("usage: ktstr-orch [global options] COMMAND [options] [ARGS]\n"
		      "see 'ktstr-orch --help'\n",
		      stderr);
		return EXIT_USAGE;
	}
	fprintf(stderr, "usage: ktstr-orch %s [options]%s%s\nsee 'ktstr-orch %s --help'\n",
		cmd->name, cmd->operands[0] ? " " : "", cmd->operands, cmd->name);
	return EXIT_USAGE;
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	msg_prefix(stderr, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return cli_usage_hint(cmd);
}

static void add_opt(struct cli_parser *p, const struct cli_opt *o)
{
	size_t n = p->nmap, len = strlen(p->shorts);

	/* A distinct val per entry, never 0: glibc reports "--gauntlet=1"
	 * to a no-argument option through optopt = val (0 would read as
	 * unknown), and takes an abbreviation that fits entries with equal
	 * vals as unambiguous (--ver: --verbose or --version?). The entry
	 * is found by its index (cli_next), never by val. */
	p->longs[n] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
				       0x1000 + (int)n };
	p->map[n] = o;
	p->nmap++;
	/* A command's own short option wins over a global one's letter
	 * (`kernel build -j` is make's -j, which takes no --workers). */
	if (o->short_name && !strchr(p->shorts + 2, o->short_name)) {
		p->shorts[len++] = o->short_name;
		if (o->arg)
			p->shorts[len++] = ':';
		p->shorts[len] = '\0';
	}
}

void cli_begin(struct cli_parser *p, const struct cli_cmd *cmd, struct global_opts *g, int argc,
	       char **argv)
{
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->g = g;
	p->argc = argc;
	p->argv = argv;
	p->nops = 0;
	/* '-': operands come back in order (code 1) instead of getopt
	 * permuting argv, so options after operands work even with
	 * POSIXLY_CORRECT set; cli_next moves the operands to the end
	 * itself. ':': a missing argument is told from an unknown option. */
	p->shorts[0] = '-';
	p->shorts[1] = ':';
	for (const struct cli_opt *o = cmd->opts; o->name; o++)
		add_opt(p, o);
	for (const struct cli_opt *o = cli_globals; o->name; o++)
		add_opt(p, o);
	p->longs[p->nmap] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0; /* a full re-initialisation of getopt (GNU) */
	opterr = 0; /* our messages, in our form */
}

static const struct cli_opt *by_short(const struct cli_parser *p, int c)
{
	/* The first with that letter: the command's own (add_opt). */
	for (size_t i = 0; i < p->nmap; i++)
		if (p->map[i]->short_name == c)
			return p->map[i];
	return NULL;
}

static int stop(struct cli_parser *p, int status)
{
	p->exit = status;
	return CLI_STOP;
}

/* The option text as given, without "=value", for messages. */
static void opt_text(const char *arg, char *buf, size_t len)
{
	size_t n = strcspn(arg, "=");

	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), arg);
}

/* An option this command does not take may be another's: say whose, so
 * `list --cpu-cap` reads as a misplaced option, not a typo. */
static int unknown_long(struct cli_parser *p, const char *text)
{
	char whose[128] = "";
	size_t at = 0, len = strlen(text + 2);

	/* getopt_long refuses an abbreviation that fits several options. */
	for (size_t i = 0; i < p->nmap && len; i++) {
		if (strncmp(p->map[i]->name, text + 2, len))
			continue;
		at += (size_t)snprintf(whose + at, sizeof(whose) - at, "%s--%s", at ? ", " : "",
				       p->map[i]->name);
		if (at >= sizeof(whose))
			at = sizeof(whose) - 1;
	}
	if (at)
		return stop(p, cli_usage_error(p->cmd, "ambiguous option '%s' (%s)", text, whose));
	for (size_t i = 0; i < cli_ncmds; i++) {
		for (const struct cli_opt *o = cli_cmds[i].opts; o->name; o++) {
			if (strcmp(o->name, text + 2))
				continue;
			at += (size_t)snprintf(whose + at, sizeof(whose) - at, "%s%s",
					       at ? ", " : "", cli_cmds[i].name);
			if (at >= sizeof(whose))
				at = sizeof(whose) - 1;
		}
	}
	if (at)
		return stop(p, cli_usage_error(p->cmd, "unknown option '%s' (an option of: %s)",
					       text, whose));
	return stop(p, cli_usage_error(p->cmd, "unknown option '%s'", text));
}

static int bad_option(struct cli_parser *p, int c)
{
	const char *last = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "";
	bool is_long = !strncmp(last, "--", 2);
	char text[64];

	if (is_long)
		opt_text(last, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "-%c", optopt);
	if (c == ':')
		return stop(p, cli_usage_error(p->cmd, "option '%s' needs an argument", text));
	if (is_long && optopt)
		return stop(p, cli_usage_error(p->cmd, "option '%s' takes no argument", text));
	if (is_long)
		return unknown_long(p, text);
	return stop(p, cli_usage_error(p->cmd, "unknown option '%s'", text));
}

/* Apply -q/-v: this process's log level and, through KTSTR_LOG, the
 * builder's and every worker's (they read it; docs/environment.md). */
static void apply_verbosity(const struct global_opts *g)
{
	enum klog_level lvl = g->verbosity < 0 ? KLOG_WARN : KLOG_DEBUG;

	if (!g->verbosity)
		return;
	klog_set_level(lvl);
	setenv("KTSTR_LOG", klog_level_name(lvl), 1);
}

static int global(struct cli_parser *p, const struct cli_opt *o)
{
	unsigned cls = cli_global_class(o->code);
	struct global_opts *g = p->g;

	if (cls && !(p->cmd->globals & cls))
		return stop(p, cli_usage_error(p->cmd, "--%s has no effect on this command", o->name));
	switch (o->code) {
	case GOPT_WORKERS: {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || end == optarg || *end || optarg[0] == '-' || v == 0 || v > 256)
			return stop(p, cli_usage_error(p->cmd, "--workers takes 1..256, got '%s'",
						       optarg));
		g->workers = (unsigned)v;
		return 0;
	}
	case GOPT_USER:
		g->user = optarg;
		return 0;
	case GOPT_CACHE_USER:
		g->cache_user = optarg;
		return 0;
	case GOPT_NO_DROP:
		g->no_drop_privileges = true;
		return 0;
	case GOPT_INSECURE:
		g->insecure_no_sandbox = true;
		return 0;
	case GOPT_QUIET:
	case GOPT_VERBOSE: {
		int want = o->code == GOPT_QUIET ? -1 : 1;

		if (g->verbosity && g->verbosity != want)
			return stop(p, cli_usage_error(p->cmd, "-q and -v: choose one"));
		g->verbosity = want;
		return 0;
	}
	case GOPT_HELP:
		cli_help(stdout, p->cmd->name[0] ? p->cmd : NULL);
		return stop(p, fflush(stdout) ? EXIT_INFRA : 0);
	case GOPT_VERSION:
		printf("ktstr-orch %s\n", ktstr_version());
		return stop(p, fflush(stdout) ? EXIT_INFRA : 0);
	}
	return stop(p, cli_usage_error(p->cmd, "internal: global option --%s unhandled", o->name));
}

/* The operands to argv's tail, in order, and optind to the first: what
 * GNU permutation gives, whatever the environment. Each operand seen so far
 * was kept in argv[1..nops] (slots getopt has already passed); those after
 * "--" are still at optind. */
static void operands_to_tail(struct cli_parser *p)
{
	int rest = p->argc - optind, n = p->nops + rest;

	memmove(&p->argv[p->nops + 1], &p->argv[optind], (size_t)rest * sizeof(char *));
	memmove(&p->argv[p->argc - n], &p->argv[1], (size_t)n * sizeof(char *));
	optind = p->argc - n;
}

int cli_next(struct cli_parser *p)
{
	int n;

	for (;;) {
		const struct cli_opt *o;
		int li = -1, c;

		c = getopt_long(p->argc, p->argv, p->shorts, p->longs, &li);
		if (c == ':' || c == '?')
			return bad_option(p, c);
		if (c == 1) {
			/* optind - 1 >= nops + 1: getopt is past this slot. */
			p->argv[++p->nops] = optarg;
			continue;
		}
		if (c == -1) {
			operands_to_tail(p);
			break;
		}
		o = li >= 0 ? p->map[li] : by_short(p, c);
		if (!o)
			return bad_option(p, '?');
		if (o->code < GOPT_USER)
			return o->code;
		if (global(p, o) == CLI_STOP)
			return CLI_STOP;
	}
	n = p->argc - optind;
	if (p->cmd->max_operands >= 0 && n > p->cmd->max_operands)
		return stop(p, cli_usage_error(p->cmd, "unexpected argument '%s'",
					       p->argv[optind + p->cmd->max_operands]));
	if (n < p->cmd->min_operands)
		return stop(p, cli_usage_error(p->cmd, "missing %s", p->cmd->operands));
	apply_verbosity(p->g);
	return CLI_END;
}
