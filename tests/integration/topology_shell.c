/* Issue 3's proof: the CPU topology a guest sees is the ktstr model
 * (include/ktstr/topology.h), read back from sysfs inside the guest through
 * the real `ktstr-orch shell --exec`, on both test kernels (sid 7.2 with
 * sched_ext, bookworm 6.12 without). Expected values are computed from the
 * model, never written out by hand, so a new topology is one line here.
 *
 * Each VM runs a single shell command that prints a verbatim block (so every
 * boot also proves --exec output reaches our stdout unchanged) and then one
 * "T <sysfs path> <content>" line per file checked. Boots cost 10-40 s each
 * under TCG on a 2-core runner, so the set is fixed at 4 topologies x 2
 * kernels, and all problems of one boot are reported together.
 *
 * Also here: --timeout stops a hung --exec command, and the interactive shell
 * takes a script on piped stdin. (`--exec 'exit 7'` is in orch_shell.c.) */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ktstr/cpulist.h>
#include <ktstr/topology.h>
#include <ktstr/util.h>

#include "cli.h" /* ktstr-orch's exit statuses */
#include "lib/vmtest.h"

/* The VM's own bound (shell --timeout) for a topology boot: 9 vCPUs of TCG
 * on 2 loaded host cores have taken 40 s; five times that is still a hang. */
#define TOPO_VM_TIMEOUT_S 240
/* Ours, above the orchestrator's: it must get the chance to stop the VM and
 * report before we kill it. */
#define GRACE_S 60

struct shell_run {
	char *out, *err;
	size_t outlen;
	int status; /* exit status, or 128 + signal */
	int rc;	    /* vmtest_run_io's: 0 or -ETIMEDOUT/-errno */
	double secs;
};

static void shell_run_free(struct shell_run *r)
{
	free(r->out);
	free(r->err);
}

/* `ktstr-orch shell --topology topo --kernel <kind> [--timeout s] [--exec
 * cmd]` with stdin_data piped in (NULL: empty stdin). Skips the test when the
 * binary or kernel is missing (vmtest_kernel aborts instead under CI). */
static void run_shell(const char *kind, const char *topo, const char *timeout_s, const char *exec,
		      const char *stdin_data, int bound_s, struct shell_run *r)
{
	char orch[1024], kernel[1024];
	char *argv[16];
	int n = 0;

	memset(r, 0, sizeof(*r));
	if (vmtest_bin("ktstr-orch", orch, sizeof(orch)))
		test_missing("ktstr-orch not built");
	if (vmtest_kernel(kind, kernel, sizeof(kernel)))
		test_missing("no %s kernel to boot (set KTSTR_TEST_KERNEL%s)", kind,
			     strcmp(kind, "noscx") ? "" : "_NOSCX");
	argv[n++] = orch;
	argv[n++] = "shell";
	argv[n++] = "--topology";
	argv[n++] = (char *)topo;
	argv[n++] = "--kernel";
	argv[n++] = kernel;
	if (timeout_s) {
		argv[n++] = "--timeout";
		argv[n++] = (char *)timeout_s;
	}
	if (exec) {
		argv[n++] = "--exec";
		argv[n++] = (char *)exec;
	}
	argv[n] = NULL;

	uint64_t t0 = ktstr_now_ms();
	int st = 0;
	r->rc = vmtest_run_io(argv, stdin_data, stdin_data ? strlen(stdin_data) : 0,
			      bound_s * 1000, &r->out, &r->outlen, &r->err, &st);
	r->secs = (double)(ktstr_now_ms() - t0) / 1000.0;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* Boot times feed the CI budget for this file (~4 min): keep them
	 * visible in every log. */
	fprintf(stderr, "topology_shell: %s kernel %s, topology %s: %.1f s, exit %d\n", kind,
		kernel, topo, r->secs, r->status);
	if (!r->out || !r->err)
		cr_assert_fail("out of memory capturing ktstr-orch's output");
	cr_assert_neq(r->rc, -ETIMEDOUT,
		      "ktstr-orch shell (%s, %s kernel) still running after %d s, killed: its own "
		      "--timeout did not end the VM.\n--- stdout ---\n%s\n--- stderr ---\n%s",
		      topo, kind, bound_s, r->out, r->err);
	cr_assert_eq(r->rc, 0, "running %s: %s", orch, strerror(-r->rc));
}

/* ---- the verbatim block --------------------------------------------- */

/* Bytes a naive relay could damage: tabs, leading/trailing blanks, an empty
 * line, shell and printf metacharacters, UTF-8, carriage returns (COM2 is
 * raw in exec mode: every CR is the command's), lines in the guest's
 * "KTSTR_" sentinel namespace, the exact status line the guest ends with
 * (only the last one, at the very end, is the guest's), and a line longer
 * than any small buffer. */
static size_t verbatim_payload(char *buf, size_t len)
{
	static const char head[] = "verbatim-start\n"
				   "\ttab-led line, trailing blanks \t \n"
				   "\n"
				   "   back\\slash 100% %s %d $HOME `id` 'single' \"double\" *?[x]\n"
				   "utf-8: h\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\xa7\n"
				   "crlf line\r\n\rcr-led, lone\rcr\n"
				   "KTSTR_INIT_STARTED\n"
				   "KTSTR_EXEC_EXIT=9\n"
				   "\nKTSTR_EXEC_EXIT=8\nKTSTR_EXIT=8\n"
				   "KTSTR_user line\n";
	static const char tail[] = "\nverbatim-end\n";
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 0;

	cr_assert(len > sizeof(head) + sizeof(tail) + 3000);
	memcpy(buf, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	for (int i = 0; i < 3000; i++)
		buf[n++] = alnum[i % (sizeof(alnum) - 1)];
	memcpy(buf + n, tail, sizeof(tail));
	return n + sizeof(tail) - 1;
}

/* printf '<payload>' with every non-alphanumeric byte as a \ooo escape: the
 * guest's shell and printf then cannot reinterpret any of it. */
static void sb_printf_verbatim(struct strbuf *sb, const char *p, size_t n)
{
	sb_printf(sb, "printf '");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (isalnum(c))
			sb_append(sb, &p[i], 1);
		else
			sb_printf(sb, "\\%03o", c);
	}
	sb_printf(sb, "'\n");
}

/* ---- the sysfs dump ------------------------------------------------- */

/* One "T <path> <first line>" per file, "?missing" where a file does not
 * exist; "T end" last so a truncated dump is told apart from a wrong one. */
static const char DUMP[] =
	"cd /sys/devices/system || exit 90\n"
	"r() { if [ -r \"$1\" ]; then echo \"T $1 $(cat \"$1\")\"; else echo \"T $1 ?missing\"; fi; }\n"
	"r cpu/online\n"
	"for c in cpu/cpu[0-9]*; do\n"
	"  for f in topology/thread_siblings_list topology/core_cpus_list cache/index3/level "
	"cache/index3/shared_cpu_list; do r $c/$f; done\n"
	"done\n"
	"for n in node/node[0-9]*; do r $n/cpulist; r $n/distance; done\n"
	"echo 'T end'\n";

struct kv {
	char *key, *val;
};

struct dump {
	struct kv *v;
	size_t n;
	bool ended;
};

static void dump_parse(char *text, struct dump *d)
{
	memset(d, 0, sizeof(*d));
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "T ", 2))
			continue;
		char *key = l + 2, *sp = strchr(key, ' ');
		if (!sp) {
			d->ended |= !strcmp(key, "end");
			continue;
		}
		*sp = '\0';
		char *val = sp + 1;
		size_t vl = strlen(val);
		while (vl && isspace((unsigned char)val[vl - 1]))
			val[--vl] = '\0';
		struct kv *nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
		cr_assert(nv, "out of memory");
		d->v = nv;
		d->v[d->n++] = (struct kv){ key, val };
	}
}

static const char *dump_get(const struct dump *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].key, key))
			return d->v[i].val;
	return NULL;
}

/* One checked file: "<who>: <path>: expected "x", got "y"". */
static void expect(struct strbuf *pb, const struct dump *d, const char *who, const char *path,
		   const char *want)
{
	const char *got = dump_get(d, path);

	if (!got)
		sb_printf(pb, "  %s: %s: expected \"%s\", not reported by the guest\n", who, path,
			  want);
	else if (!strcmp(got, "?missing"))
		sb_printf(pb, "  %s: %s: expected \"%s\", the file does not exist\n", who, path,
			  want);
	else if (strcmp(got, want))
		sb_printf(pb, "  %s: %s: expected \"%s\", got \"%s\"\n", who, path, want, got);
}

static void fmt_set(const struct cpuset_bits *s, char *buf, size_t len)
{
	cr_assert_geq(cpulist_format(s, buf, len), 0, "cpu list too long");
}

/* Every expectation of topology t against the dump, into pb. */
static void check_dump(const struct ktstr_topo *t, const struct dump *d, struct strbuf *pb)
{
	uint32_t ncpu = topo_cpus(t);
	struct cpuset_bits all, set;
	char want[4096], path[128], who[96];

	if (!d->ended)
		sb_printf(pb, "  the dump is truncated (no \"T end\" line): the command died "
			      "or its output was cut\n");
	cpuset_clear_all(&all);
	for (uint32_t c = 0; c < ncpu; c++)
		cpuset_add(&all, c);
	fmt_set(&all, want, sizeof(want));
	expect(pb, d, "system", "cpu/online", want);

	for (uint32_t c = 0; c < ncpu; c++) {
		struct ktstr_cpu_coords me, o;

		topo_cpu_coords(t, c, &me);
		snprintf(who, sizeof(who), "cpu%u (node %u, llc %u, core %u, thread %u)", c, me.node,
			 me.llc, me.core, me.thread);
		/* SMT siblings: same LLC and core. */
		cpuset_clear_all(&set);
		for (uint32_t x = 0; x < ncpu; x++) {
			topo_cpu_coords(t, x, &o);
			if (o.llc == me.llc && o.core == me.core)
				cpuset_add(&set, x);
		}
		fmt_set(&set, want, sizeof(want));
		snprintf(path, sizeof(path), "cpu/cpu%u/topology/thread_siblings_list", c);
		expect(pb, d, who, path, want);
		snprintf(path, sizeof(path), "cpu/cpu%u/topology/core_cpus_list", c);
		expect(pb, d, who, path, want);
		/* index3 must be the L3 for shared_cpu_list to mean "LLC". */
		snprintf(path, sizeof(path), "cpu/cpu%u/cache/index3/level", c);
		expect(pb, d, who, path, "3");
		cpuset_clear_all(&set);
		for (uint32_t x = 0; x < ncpu; x++) {
			topo_cpu_coords(t, x, &o);
			if (o.llc == me.llc)
				cpuset_add(&set, x);
		}
		fmt_set(&set, want, sizeof(want));
		snprintf(path, sizeof(path), "cpu/cpu%u/cache/index3/shared_cpu_list", c);
		expect(pb, d, who, path, want);
	}

	for (uint32_t nd = 0; nd < t->numa_nodes; nd++) {
		struct ktstr_cpu_coords o;
		size_t off = 0;

		snprintf(who, sizeof(who), "node%u", nd);
		cpuset_clear_all(&set);
		for (uint32_t x = 0; x < ncpu; x++) {
			topo_cpu_coords(t, x, &o);
			if (o.node == nd)
				cpuset_add(&set, x);
		}
		fmt_set(&set, want, sizeof(want));
		snprintf(path, sizeof(path), "node/node%u/cpulist", nd);
		expect(pb, d, who, path, want);
		/* SLIT: 10 to itself, 20 to every other node. */
		for (uint32_t j = 0; j < t->numa_nodes && off < sizeof(want); j++)
			off += (size_t)snprintf(want + off, sizeof(want) - off, "%s%u", j ? " " : "",
						j == nd ? 10u : 20u);
		snprintf(path, sizeof(path), "node/node%u/distance", nd);
		expect(pb, d, who, path, want);
	}

	/* Nothing beyond the model: no extra CPU or node directories. */
	for (size_t i = 0; i < d->n; i++) {
		unsigned k;
		const char *key = d->v[i].key;

		if ((sscanf(key, "cpu/cpu%u/", &k) == 1 && k >= ncpu) ||
		    (sscanf(key, "node/node%u/", &k) == 1 && k >= t->numa_nodes))
			sb_printf(pb, "  unexpected: %s = \"%s\" (the model has %u CPUs, %u nodes)\n",
				  key, d->v[i].val, ncpu, t->numa_nodes);
	}
}

/* Where stdout stops being the verbatim block: the first differing byte and
 * a little of both sides, escaped, so whitespace damage is visible. */
static void check_verbatim(const char *want, size_t wlen, const char *got, size_t glen,
			   struct strbuf *pb)
{
	size_t i = 0;

	while (i < wlen && i < glen && want[i] == got[i])
		i++;
	if (i == wlen)
		return;
	sb_printf(pb, "  --exec output not verbatim at byte %zu of the %zu-byte block: expected ",
		  i, wlen);
	for (int side = 0; side < 2; side++) {
		const char *p = side ? got : want;
		size_t n = side ? glen : wlen;

		sb_printf(pb, "%s\"", side ? ", got " : "");
		for (size_t j = i; j < n && j < i + 24; j++) {
			unsigned char c = (unsigned char)p[j];

			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
				sb_append(pb, &p[j], 1);
			else
				sb_printf(pb, "\\x%02x", c);
		}
		sb_printf(pb, "%s\"", i + 24 < n ? "..." : "");
	}
	sb_printf(pb, "\n");
}

static void check_topology(const char *kind, const char *kname, struct ktstr_topo t)
{
	char topo[64], label[32], vb[4096], bound[16];
	struct strbuf cmd = { 0 }, pb = { 0 };
	struct shell_run r;
	struct dump d;
	size_t vlen = verbatim_payload(vb, sizeof(vb));

	snprintf(topo, sizeof(topo), "%u,%u,%u,%u", t.numa_nodes, t.llcs, t.cores_per_llc,
		 t.threads_per_core);
	topo_label(&t, label, sizeof(label));
	snprintf(bound, sizeof(bound), "%d", TOPO_VM_TIMEOUT_S);
	sb_printf_verbatim(&cmd, vb, vlen);
	sb_append(&cmd, DUMP, sizeof(DUMP)); /* with the NUL */
	cr_assert(cmd.buf, "out of memory");

	run_shell(kind, topo, bound, cmd.buf, NULL, TOPO_VM_TIMEOUT_S + GRACE_S, &r);

	if (r.status != 0)
		sb_printf(&pb, "  ktstr-orch shell exited %d, expected 0\n", r.status);
	check_verbatim(vb, vlen, r.out, r.outlen, &pb);
	/* The dump follows the block; parse a copy, the original goes into the
	 * failure message. */
	char *rest = strdup(r.outlen >= vlen && !memcmp(r.out, vb, vlen) ? r.out + vlen : r.out);
	cr_assert(rest, "out of memory");
	dump_parse(rest, &d);
	check_dump(&t, &d, &pb);
	/* The guest's own view, from the first dump line: the verbatim block
	 * is 3 KiB of noise here and its damage is already described. */
	const char *view = strncmp(r.out, "T ", 2) ? strstr(r.out, "\nT ") : r.out;
	cr_assert(pb.len == 0,
		  "%s kernel, topology %s (%s): the guest does not match the model:\n%s"
		  "--- the guest's sysfs ---\n%s\n--- ktstr-orch stderr ---\n%s",
		  kname, topo, label, pb.buf ? pb.buf : "", view ? view : "(no dump lines)\n",
		  r.err);
	free(d.v);
	free(rest);
	sb_free(&cmd);
	sb_free(&pb);
	shell_run_free(&r);
}

/* kind: vmtest_kernel's ("vmlinux" = sid 7.2 sched_ext, "noscx" = bookworm
 * 6.12). 4 topologies: the smallest SMP, SMT within split LLCs, two NUMA
 * nodes with a SLIT, and non-power-of-two cores and LLCs (APIC ID gaps). */
#define TOPO_TEST(kn, kind, kname, N, L, C, T)                                     \
	Test(topology_shell, kn##_##N##n##L##l##C##c##T##t,                         \
	     .timeout = TOPO_VM_TIMEOUT_S + 2 * GRACE_S)                           \
	{                                                                           \
		check_topology(kind, kname, (struct ktstr_topo){ N, L, C, T });     \
	}

TOPO_TEST(k72, "vmlinux", "sid 7.2", 1, 1, 2, 1)
TOPO_TEST(k72, "vmlinux", "sid 7.2", 1, 2, 2, 2)
TOPO_TEST(k72, "vmlinux", "sid 7.2", 2, 4, 2, 1)
TOPO_TEST(k72, "vmlinux", "sid 7.2", 1, 3, 3, 1)
TOPO_TEST(k612, "noscx", "bookworm 6.12", 1, 1, 2, 1)
TOPO_TEST(k612, "noscx", "bookworm 6.12", 1, 2, 2, 2)
TOPO_TEST(k612, "noscx", "bookworm 6.12", 2, 4, 2, 1)
TOPO_TEST(k612, "noscx", "bookworm 6.12", 1, 3, 3, 1)

/* ---- shell behaviour -------------------------------------------------- */

/* Short enough to keep this file in its CI budget, long enough that a
 * 1-vCPU guest has booted (6-24 s under load) and printed "started". */
#define HANG_TIMEOUT_S 40

Test(topology_shell, exec_timeout_stops_a_hung_command,
     .timeout = HANG_TIMEOUT_S + 3 * GRACE_S)
{
	struct shell_run r;
	char to[16];
	bool named = false;

	snprintf(to, sizeof(to), "%d", HANG_TIMEOUT_S);
	run_shell("vmlinux", "1,1,1,1", to, "echo started; sleep 600", NULL,
		  HANG_TIMEOUT_S + 2 * GRACE_S, &r);
	/* The command ran and its output streamed before the stop. */
	cr_expect(strstr(r.out, "started\n"), "the command's output before the hang is missing:\n%s",
		  r.out);
	/* The message must say the command was stopped by --timeout, from
	 * ktstr-orch itself (the worker's info log saying OUTCOME_TIMEOUT is
	 * not a message to a user). */
	char *errs = strdup(r.err);
	cr_assert(errs, "out of memory");
	for (char *save = NULL, *l = strtok_r(errs, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, "ktstr-orch shell:", 17) &&
		    (strcasestr(l, "timed out") || strcasestr(l, "timeout")))
			named = true;
	free(errs);
	cr_expect(named,
		  "no ktstr-orch message says the command was stopped by --timeout %d:\n%s", HANG_TIMEOUT_S,
		  r.err);
	/* 124, as timeout(1): not success, not a usage error, not the
	 * infrastructure failure status a caller would retry, not a signal
	 * death. */
	cr_expect_eq(r.status, 124, "a timed-out command exited %d, not 124 (as timeout(1))%s",
		     r.status,
		     r.status == EXIT_INFRA ? ": that is an infrastructure failure (EXIT_INFRA)"
		     : r.status == 0	    ? ": that is success"
					    : "");
	cr_expect(r.secs < HANG_TIMEOUT_S + GRACE_S, "stopped only after %.0f s", r.secs);
	shell_run_free(&r);
}

/* `printf 'echo hi; exit 5\n' | ktstr-orch shell`: the script arrives on the
 * guest shell's terminal, its output comes back, and the shell's status
 * becomes ours as with --exec (else a piped session cannot be scripted). The
 * input is written at once, before the guest has booted, as a pipe does.
 * Not `exit 3`: that is EXIT_INFRA, which a lost status also gives. */
Test(topology_shell, interactive_shell_takes_piped_stdin, .timeout = 60 + 3 * GRACE_S)
{
	struct shell_run r;
	bool hi = false;

	/* --timeout 60 bounds a shell whose `exit` got lost: a terminal never
	 * sees EOF from our closed pipe. */
	run_shell("vmlinux", "1,1,1,1", "60", NULL, "echo hi; exit 5\n", 60 + 2 * GRACE_S, &r);
	/* A terminal: lines end in \r\n; "hi" alone on a line is echo's output,
	 * not the echoed input line. */
	char *outs = strdup(r.out);
	cr_assert(outs, "out of memory");
	for (char *save = NULL, *l = strtok_r(outs, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strcmp(l, "hi\r") || !strcmp(l, "hi"))
			hi = true;
	free(outs);
	cr_expect(hi, "no \"hi\" line from the guest shell: input sent before the guest opened "
		      "its COM2 is lost (does the worker wait for KTSTR_SHELL_READY?)."
		      "\n--- stdout ---\n%s\n--- stderr ---\n%s",
		  r.out, r.err);
	cr_expect_eq(r.status, 5, "the shell ran `exit 5` but ktstr-orch exited %d\n--- stderr ---\n%s",
		     r.status, r.err);
	/* The handshake line is the guest's, not the session's. */
	cr_expect(!strstr(r.out, "KTSTR_SHELL_READY"),
		  "the guest's ready marker reached the terminal:\n%s", r.out);
	shell_run_free(&r);
}
