/* The guest's payload runner (guest/payload.c) on this host with /bin/sh,
 * and the payload rules' bounds (common/payload_rules.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "ktstr/payload.h"
#include "payload.h"

static Ktstr__PayloadSpec sh_spec(char **args, size_t n)
{
	Ktstr__PayloadSpec s = KTSTR__PAYLOAD_SPEC__INIT;

	s.name = "sh";
	s.path = "/bin/sh";
	s.args = args;
	s.n_args = n;
	return s;
}

static void run_sh(struct payload_run *p, const char *script, uint32_t timeout_ms, bool bg)
{
	char *args[] = { "-c", (char *)script };
	Ktstr__PayloadSpec s = sh_spec(args, 2);
	Ktstr__PayloadOp op = KTSTR__PAYLOAD_OP__INIT;
	char err[256] = "";

	op.name = "sh";
	op.background = bg;
	cr_assert_eq(payload_start(p, &s, &op, NULL, timeout_ms, err, sizeof(err)), 0, "%s", err);
}

Test(payload, exit_3_fails_with_its_status_and_output)
{
	struct payload_run p;
	char why[200] = "";
	size_t len;
	char *out;
	Ktstr__PayloadResult *r;

	run_sh(&p, "echo to-stdout; echo to-stderr >&2; exit 3", 10000, false);
	cr_assert_eq(payload_wait(&p, 0), 0);
	cr_assert(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 3);
	cr_assert(payload_failed(&p, why, sizeof(why)));
	cr_assert_str_eq(why, "payload sh: exit 3, expected 0");
	out = payload_tail(&p, &len);
	cr_assert_str_eq(out, "to-stdout\nto-stderr\n");
	free(out);
	r = payload_result(&p);
	cr_assert(r && r->has_exit_status && r->exit_status == 3 && r->output_bytes == 20);
	cr_assert(r->judged && !r->timed_out);
	ktstr__payload_result__free_unpacked(r, NULL);
	payload_release(&p);
}

Test(payload, expected_exit_passes)
{
	struct payload_run p;
	char *args[] = { "-c", "exit 7" };
	Ktstr__PayloadSpec s = sh_spec(args, 2);
	Ktstr__PayloadOp op = KTSTR__PAYLOAD_OP__INIT;
	char err[256], why[200];

	op.name = "sh";
	op.has_expect_exit = 1;
	op.expect_exit = 7;
	cr_assert_eq(payload_start(&p, &s, &op, NULL, 10000, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(payload_wait(&p, 0), 0);
	cr_assert_not(payload_failed(&p, why, sizeof(why)));
	payload_release(&p);
}

Test(payload, op_args_follow_the_declared_ones)
{
	struct payload_run p;
	char *args[] = { "-c", "echo \"$0 $1\"" };
	char *more[] = { "first", "second" };
	Ktstr__PayloadSpec s = sh_spec(args, 2);
	Ktstr__PayloadOp op = KTSTR__PAYLOAD_OP__INIT;
	char err[256];
	size_t len;
	char *out;

	op.name = "sh";
	op.args = more;
	op.n_args = 2;
	cr_assert_eq(payload_start(&p, &s, &op, NULL, 10000, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(payload_wait(&p, 0), 0);
	out = payload_tail(&p, &len);
	cr_assert_str_eq(out, "first second\n");
	free(out);
	payload_release(&p);
}

/* The bound: the newest KTSTR_PAYLOAD_TAIL_BYTES are kept, the rest counted. */
Test(payload, output_tail_is_bounded_and_counted)
{
	struct payload_run p;
	size_t len;
	char *out;

	run_sh(&p, "head -c 100000 /dev/zero | tr '\\000' a; printf END", 10000, false);
	cr_assert_eq(payload_wait(&p, 0), 0);
	cr_assert_eq(p.total, 100003);
	out = payload_tail(&p, &len);
	cr_assert_eq(len, KTSTR_PAYLOAD_TAIL_BYTES);
	cr_assert_str_eq(out + len - 4, "aEND");
	cr_assert_eq(out[0], 'a');
	free(out);
	payload_release(&p);
}

Test(payload, timeout_kills_the_group_and_fails)
{
	struct payload_run p;
	char why[200];

	run_sh(&p, "sleep 30 & sleep 30", 200, false);
	cr_assert_eq(payload_wait(&p, 0), 0);
	cr_assert(p.timed_out);
	cr_assert(WIFSIGNALED(p.status));
	cr_assert(payload_failed(&p, why, sizeof(why)));
	cr_assert(strstr(why, "timed out after"), "%s", why);
	cr_assert(p.t_end - p.t_start < 5000);
	payload_release(&p);
}

Test(payload, stop_ends_a_background_run_unjudged)
{
	struct payload_run p;
	char why[200];
	Ktstr__PayloadResult *r;

	run_sh(&p, "echo started; exec sleep 30", 0, true);
	payload_stop(&p, "killed by kill_payload");
	cr_assert(p.done && WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM);
	cr_assert_not(payload_failed(&p, why, sizeof(why)));
	r = payload_result(&p);
	cr_assert(r && r->has_signal && r->signal == SIGTERM && !r->judged);
	cr_assert_str_eq(r->note, "killed by kill_payload");
	ktstr__payload_result__free_unpacked(r, NULL);
	payload_release(&p);
}

Test(payload, invalid_utf8_becomes_question_marks)
{
	struct payload_run p;
	Ktstr__PayloadResult *r;

	run_sh(&p, "printf 'a\\377b'", 10000, false);
	cr_assert_eq(payload_wait(&p, 0), 0);
	r = payload_result(&p);
	cr_assert_str_eq(r->output, "a?b");
	ktstr__payload_result__free_unpacked(r, NULL);
	payload_release(&p);
}

Test(payload, exec_failure_is_reported_at_start)
{
	struct payload_run p;
	Ktstr__PayloadSpec s = sh_spec(NULL, 0);
	Ktstr__PayloadOp op = KTSTR__PAYLOAD_OP__INIT;
	char err[256] = "";

	s.path = "/nonexistent/payload";
	op.name = "sh";
	cr_assert_eq(payload_start(&p, &s, &op, NULL, 1000, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "exec /nonexistent/payload"), "%s", err);
}

/* ---- rules: every bound, at its edge ---- */

static Ktstr__Op *mk_op(Ktstr__Op__Kind kind, const char *name)
{
	Ktstr__Op *op = calloc(1, sizeof(*op));
	Ktstr__PayloadOp *po = calloc(1, sizeof(*po));

	ktstr__op__init(op);
	ktstr__payload_op__init(po);
	op->kind = kind;
	po->name = (char *)name;
	op->payload = po;
	return op;
}

static int check_ops(Ktstr__Op **ops, size_t n, Ktstr__PayloadSpec *decl, char *path, char *why)
{
	Ktstr__Step st = KTSTR__STEP__INIT;
	Ktstr__Step *steps[1] = { &st };
	Ktstr__Scenario sc = KTSTR__SCENARIO__INIT;
	Ktstr__PayloadSpec *pl[1] = { decl };

	st.ops = ops;
	st.n_ops = n;
	sc.name = "t";
	sc.steps = steps;
	sc.n_steps = 1;
	return ktstr_payload_ops_check(&sc, pl, 1, path, 96, why, 600);
}

Test(payload_rules, runs_bounded)
{
	Ktstr__Op *ops[KTSTR_PAYLOAD_RUNS_MAX + 1];
	Ktstr__PayloadSpec d = sh_spec(NULL, 0);
	char path[96], why[600];

	d.path = "/payloads/sh/sh";
	for (size_t i = 0; i <= KTSTR_PAYLOAD_RUNS_MAX; i++)
		ops[i] = mk_op(KTSTR__OP__KIND__RUN_PAYLOAD, "sh");
	cr_assert_eq(check_ops(ops, KTSTR_PAYLOAD_RUNS_MAX, &d, path, why), 0, "%s", why);
	cr_assert_eq(check_ops(ops, KTSTR_PAYLOAD_RUNS_MAX + 1, &d, path, why), -EINVAL);
	cr_assert(strstr(why, "at most 16 runs"), "%s", why);
	for (size_t i = 0; i <= KTSTR_PAYLOAD_RUNS_MAX; i++) {
		free(ops[i]->payload);
		free(ops[i]);
	}
}

Test(payload_rules, args_timeout_and_exit_bounded)
{
	static char *many[KTSTR_PAYLOAD_ARGS_MAX + 1];
	static char big[KTSTR_PAYLOAD_ARG_MAX + 2];
	Ktstr__Op *op = mk_op(KTSTR__OP__KIND__RUN_PAYLOAD, "sh");
	Ktstr__PayloadSpec d = sh_spec(NULL, 0);
	char path[96], why[600];

	d.path = "/payloads/sh/sh";
	for (size_t i = 0; i <= KTSTR_PAYLOAD_ARGS_MAX; i++)
		many[i] = "x";
	op->payload->args = many;
	op->payload->n_args = KTSTR_PAYLOAD_ARGS_MAX;
	cr_assert_eq(check_ops(&op, 1, &d, path, why), 0, "%s", why);
	op->payload->n_args = KTSTR_PAYLOAD_ARGS_MAX + 1;
	cr_assert_eq(check_ops(&op, 1, &d, path, why), -EINVAL);
	cr_assert_str_eq(path, "steps[0].ops[0].payload.args");
	memset(big, 'a', KTSTR_PAYLOAD_ARG_MAX);
	many[0] = big;
	op->payload->n_args = 1;
	cr_assert_eq(check_ops(&op, 1, &d, path, why), 0, "%s", why);
	big[KTSTR_PAYLOAD_ARG_MAX] = 'a';
	cr_assert_eq(check_ops(&op, 1, &d, path, why), -EINVAL);
	op->payload->n_args = 0;
	op->payload->timeout_ms = KTSTR_PAYLOAD_TIMEOUT_MAX_MS;
	cr_assert_eq(check_ops(&op, 1, &d, path, why), 0, "%s", why);
	op->payload->timeout_ms = KTSTR_PAYLOAD_TIMEOUT_MAX_MS + 1;
	cr_assert_eq(check_ops(&op, 1, &d, path, why), -EINVAL);
	op->payload->timeout_ms = 0;
	op->payload->expect_exit = 255;
	cr_assert_eq(check_ops(&op, 1, &d, path, why), 0, "%s", why);
	op->payload->expect_exit = 256;
	cr_assert_eq(check_ops(&op, 1, &d, path, why), -EINVAL);
	/* A declaration the image does not put at /payloads/NAME/BASENAME. */
	op->payload->expect_exit = 0;
	d.path = "/bin/sh";
	cr_assert_eq(check_ops(&op, 1, &d, path, why), -EINVAL);
	cr_assert_str_eq(path, "payloads[0].path");
	free(op->payload);
	free(op);
}

Test(payload_rules, guest_path_keeps_the_basename)
{
	char buf[64];

	cr_assert_eq(ktstr_payload_guest_path("stress", "/usr/bin/stress-ng", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "/payloads/stress/stress-ng");
	cr_assert_eq(ktstr_payload_guest_path("x", "/a/very-long-name-indeed", buf, 16),
		     -ENAMETOOLONG);
}
