/* `shell --result-json`: the output tail keeps exactly the last bytes and
 * counts all of them, the trailer never enters it, and what the writer
 * (orchestrator/shell_result.c) writes the reader libktstr's ktstr_vm_run
 * uses (libktstr/vm_result.c) reads back, at its 1 MiB bound and with NULs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ktstr/guest_contract.h>
#include <ktstr/ktstr.h>
#include <ktstr/shell_result.h>

#include "shell_exec.h"
#include "shell_result.h"
#include "vm_result.h"

Test(shell_result, tail_keeps_the_last_bytes_across_the_wrap)
{
	char buf[4], out[4];
	struct exec_tail t = { .buf = buf, .cap = sizeof(buf) };

	exec_tail_add(&t, "abc", 3);
	exec_tail_add(&t, "de", 2);
	exec_tail_add(&t, "f", 1);
	cr_assert_eq(t.len, 4);
	cr_assert_eq(t.total, 6);
	exec_tail_copy(&t, out);
	cr_assert_eq(memcmp(out, "cdef", 4), 0);
	exec_tail_add(&t, "0123456789", 10); /* longer than cap at once */
	exec_tail_copy(&t, out);
	cr_assert_eq(memcmp(out, "6789", 4), 0);
	cr_assert_eq(t.total, 16);
}

Test(shell_result, trailer_is_not_output)
{
	static const char s[] = "hi\n\n" KTSTR_COM2_EXEC_EXIT "5\n" KTSTR_COM2_EXIT "5\n";
	char buf[64], out[64];
	struct exec_tail t = { .buf = buf, .cap = sizeof(buf) };
	struct exec_stream es = { .tail = &t };

	exec_stream_feed(&es, (const uint8_t *)s, sizeof(s) - 1);
	exec_stream_finish(&es);
	cr_assert(es.have_code);
	cr_assert_eq(es.exit_code, 5);
	exec_tail_copy(&t, out);
	cr_assert_eq(t.len, 3);
	cr_assert_eq(memcmp(out, "hi\n", 3), 0);
}

Test(shell_result, written_file_reads_back_at_the_bound)
{
	char path[] = "/tmp/ktstr-sr-XXXXXX", err[256] = "";
	struct shell_result sr = { .fd = -1 };
	struct ktstr_vm_result r;
	size_t n = KTSTR_SR_OUTPUT_MAX + 100;
	char *big = malloc(n);
	int fd = mkstemp(path);

	cr_assert(big && fd >= 0);
	close(fd);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)(i % 251); /* every byte value but a few, NULs included */
	cr_assert_eq(shell_result_open(&sr, path, err, sizeof(err)), 0, "%s", err);
	exec_tail_add(&sr.tail, big, n);
	sr.engine = "qemu";
	shell_result_set(&sr, KTSTR_SR_EXITED, 42, NULL);
	shell_result_set(&sr, KTSTR_SR_INFRA_ERROR, 3, "later: ignored");
	cr_assert_eq(shell_result_finish(&sr), 0);
	shell_result_free(&sr);
	cr_assert_eq(ktstr_vm_result_read(path, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.outcome, KTSTR_VM_EXITED);
	cr_assert_eq(r.exit_code, 42);
	cr_assert_eq(r.output_len, KTSTR_VM_OUTPUT_MAX);
	cr_assert_eq(r.output_bytes, n);
	cr_assert_eq(memcmp(r.output, big + 100, KTSTR_SR_OUTPUT_MAX), 0);
	cr_assert_str_eq(r.engine, "qemu");
	cr_assert_null(r.error);
	ktstr_vm_result_free(&r);
	unlink(path);
	free(big);
}

Test(shell_result, an_undecided_end_is_an_infra_error)
{
	char path[] = "/tmp/ktstr-sr-XXXXXX", err[256] = "";
	struct shell_result sr = { .fd = -1 };
	struct ktstr_vm_result r;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(shell_result_open(&sr, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(shell_result_finish(&sr), 0);
	shell_result_free(&sr);
	cr_assert_eq(ktstr_vm_result_read(path, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.outcome, KTSTR_VM_INFRA_ERROR);
	cr_assert_str_eq(r.error, "ended without a status");
	ktstr_vm_result_free(&r);
	unlink(path);
}

Test(shell_result, a_planted_link_is_not_written_through)
{
	char dir[] = "/tmp/ktstr-sr-XXXXXX", link[64], target[64], err[256] = "";
	struct shell_result sr = { .fd = -1 };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/r.json", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_neq(shell_result_open(&sr, link, err, sizeof(err)), 0);
	cr_assert(strstr(err, "--result-json"), "%s", err);
	shell_result_free(&sr);
	cr_assert_neq(access(target, F_OK), 0);
	unlink(link);
	rmdir(dir);
}
