/* libktstr's reader of `shell --result-json` (libktstr/vm_result.c): every
 * bound of include/ktstr/shell_result.h is enforced, bad JSON is refused
 * with a message, and the builder's setters refuse what they cannot carry. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ktstr/ktstr.h>
#include <ktstr/shell_result.h>

#include "vm_result.h"

static int parse(const char *json, struct ktstr_vm_result *r, char *err, size_t errlen)
{
	err[0] = '\0';
	return ktstr_vm_result_parse(json, strlen(json), r, err, errlen);
}

Test(vm_result, exited_with_output_and_nul)
{
	static const char j[] = "{\"outcome\":\"exited\",\"exit_code\":7,\"output\":\"a\\u0000b\\n\","
				"\"output_bytes\":4,\"engine\":\"qemu\",\"wall_ms\":1234}\n";
	struct ktstr_vm_result r;
	char err[256];

	cr_assert_eq(ktstr_vm_result_parse(j, sizeof(j) - 1, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.outcome, KTSTR_VM_EXITED);
	cr_assert_eq(r.exit_code, 7);
	cr_assert_eq(r.output_len, 4);
	cr_assert_eq(memcmp(r.output, "a\0b\n", 5), 0);
	cr_assert_eq(r.output_bytes, 4);
	cr_assert_str_eq(r.engine, "qemu");
	cr_assert_eq(r.wall_ms, 1234);
	cr_assert_null(r.error);
	ktstr_vm_result_free(&r);
}

Test(vm_result, every_outcome_but_exited_needs_its_error)
{
	struct ktstr_vm_result r;
	char err[256];

	cr_assert_eq(parse("{\"outcome\":\"timed_out\",\"error\":\"still running\"}", &r, err,
			   sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.outcome, KTSTR_VM_TIMED_OUT);
	cr_assert_str_eq(r.error, "still running");
	cr_assert_str_eq(r.output, "");
	ktstr_vm_result_free(&r);
	cr_assert_eq(parse("{\"outcome\":\"interrupted\"}", &r, err, sizeof(err)), -EPROTO);
	cr_assert(strstr(err, "without an \"error\""), "%s", err);
	ktstr_vm_result_free(&r);
}

Test(vm_result, bad_json_is_refused_with_a_message)
{
	static const char *const bad[][2] = {
		{ "", "not one JSON object" },
		{ "{\"outcome\":", "not one JSON object" },
		{ "[1]", "another JSON value" },
		{ "{\"outcome\":\"exited\"} {}", "bytes after" },
		{ "{\"exit_code\":1}", "no \"outcome\"" },
		{ "{\"outcome\":\"exited\\u0000x\"}", "unknown outcome" },
		{ "{\"outcome\":\"crashed\"}", "unknown outcome" },
		{ "{\"outcome\":7}", "\"outcome\" is not a string" },
		{ "{\"outcome\":\"exited\",\"exit_code\":\"3\"}", "\"exit_code\" is not an integer" },
		{ "{\"outcome\":\"exited\",\"exit_code\":1.5}", "\"exit_code\" is not an integer" },
		{ "{\"outcome\":\"exited\",\"exit_code\":4294967296}", "\"exit_code\" is not an integer" },
		{ "{\"outcome\":\"exited\",\"wall_ms\":-1}", "\"wall_ms\" is not an integer" },
		{ "{\"outcome\":\"exited\",\"engine\":\"kvmkvmkvm\"}", "\"engine\" is" },
		{ "{\"outcome\":\"exited\",\"output\":{\"a\":1}}", "not one JSON object" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ktstr_vm_result r;
		char err[256];
		int ret = parse(bad[i][0], &r, err, sizeof(err));

		cr_assert_eq(ret, -EPROTO, "%s: %d", bad[i][0], ret);
		cr_assert(strstr(err, bad[i][1]), "%s: \"%s\" not in \"%s\"", bad[i][0], bad[i][1],
			  err);
		ktstr_vm_result_free(&r);
	}
}

/* A JSON document of `{"outcome":"exited","FIELD":"<n x c>"}`. */
static char *with_string(const char *field, size_t n, char c)
{
	char *j = malloc(n + 128);
	int k;

	cr_assert_not_null(j);
	k = sprintf(j, "{\"outcome\":\"exited\",\"%s\":\"", field);
	memset(j + k, c, n);
	strcpy(j + k + n, "\"}");
	return j;
}

Test(vm_result, output_and_error_bounds)
{
	struct ktstr_vm_result r;
	char err[256], *j;

	j = with_string("output", KTSTR_SR_OUTPUT_MAX, 'x');
	cr_assert_eq(parse(j, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.output_len, KTSTR_VM_OUTPUT_MAX);
	ktstr_vm_result_free(&r);
	free(j);
	j = with_string("output", KTSTR_SR_OUTPUT_MAX + 1, 'x');
	cr_assert_eq(parse(j, &r, err, sizeof(err)), -EPROTO);
	cr_assert(strstr(err, "\"output\" is 1048577 bytes, above its bound 1048576"), "%s", err);
	ktstr_vm_result_free(&r);
	free(j);
	j = with_string("error", KTSTR_SR_ERROR_MAX + 1, 'e');
	cr_assert_eq(parse(j, &r, err, sizeof(err)), -EPROTO);
	cr_assert(strstr(err, "\"error\" is"), "%s", err);
	ktstr_vm_result_free(&r);
	free(j);
}

Test(vm_result, oversized_file_is_refused_before_parsing)
{
	struct ktstr_vm_result r;
	size_t n = KTSTR_SR_FILE_MAX + 1;
	char err[256], *j = malloc(n);

	cr_assert_not_null(j);
	memset(j, ' ', n);
	cr_assert_eq(ktstr_vm_result_parse(j, n, &r, err, sizeof(err)), -EFBIG);
	cr_assert(strstr(err, "above its bound"), "%s", err);
	ktstr_vm_result_free(&r);
	free(j);
}

Test(vm_result, nested_depth_is_bounded)
{
	struct ktstr_vm_result r;
	char err[256];

	cr_assert_eq(parse("{\"outcome\":\"exited\",\"x\":[[[[1]]]]}", &r, err, sizeof(err)),
		     -EPROTO);
	cr_assert(strstr(err, "not one JSON object"), "%s", err);
	ktstr_vm_result_free(&r);
}

Test(vm_builder, setters_refuse_what_they_cannot_carry)
{
	struct ktstr_vm_builder *b = ktstr_vm_builder_new();
	const char **many = calloc(KTSTR_VM_MAX_ARGS + 1, sizeof(*many));
	char *big = malloc(KTSTR_VM_MAX_ARG_BYTES + 1);
	const char *one[1];
	struct ktstr_vm_result r;

	cr_assert(b && many && big);
	for (size_t i = 0; i <= KTSTR_VM_MAX_ARGS; i++)
		many[i] = "a";
	cr_assert_eq(ktstr_vm_builder_init(b, "/bin/true", many, KTSTR_VM_MAX_ARGS + 1), -E2BIG);
	cr_assert_eq(ktstr_vm_builder_init(b, "/bin/true", many, KTSTR_VM_MAX_ARGS), 0);
	memset(big, 'a', KTSTR_VM_MAX_ARG_BYTES);
	big[KTSTR_VM_MAX_ARG_BYTES] = '\0';
	one[0] = big;
	cr_assert_eq(ktstr_vm_builder_init(b, "/bin/true", one, 1), -E2BIG);
	big[KTSTR_VM_MAX_ARG_BYTES - 1] = '\0';
	cr_assert_eq(ktstr_vm_builder_init(b, "/bin/true", one, 1), 0);
	cr_assert_eq(ktstr_vm_builder_init(b, "/tmp/", NULL, 0), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_topology(b, 1, 0, 2, 1), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_memory_mb(b, 127), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_timeout_s(b, 0), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_timeout_s(b, 86401), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_engine(b, (enum ktstr_vm_engine)9), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_env(b, "=x"), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_env(b, "A-B=x"), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_env(b, "1A=x"), -EINVAL);
	cr_assert_eq(ktstr_vm_builder_env(b, "NOEQ"), -EINVAL);
	for (int i = 0; i < KTSTR_VM_MAX_ENV; i++)
		cr_assert_eq(ktstr_vm_builder_env(b, "A_1=x y"), 0);
	cr_assert_eq(ktstr_vm_builder_env(b, "A=1"), -E2BIG);
	for (int i = 0; i < KTSTR_VM_MAX_INCLUDES; i++)
		cr_assert_eq(ktstr_vm_builder_include(b, "/etc/hosts"), 0);
	cr_assert_eq(ktstr_vm_builder_include(b, "/etc/passwd"), -E2BIG);
	ktstr_vm_builder_free(b);

	/* The program's guest name clashing with an include's. */
	b = ktstr_vm_builder_new();
	cr_assert_eq(ktstr_vm_builder_init(b, "/bin/true", NULL, 0), 0);
	cr_assert_eq(ktstr_vm_builder_include(b, "/usr/bin/true"), 0);
	cr_assert_eq(ktstr_vm_run(b, &r), -EINVAL);
	cr_assert_eq(r.outcome, KTSTR_VM_INFRA_ERROR);
	cr_assert(strstr(r.error, "/include-files/true"), "%s", r.error);
	ktstr_vm_result_free(&r);
	ktstr_vm_builder_free(b);
	free(many);
	free(big);
}
