/* Holder records (hostres_record.c): what a run writes is what `locks`
 * and other runs read back; records come from co-tenants, so every bound
 * and malformation is refused with a reason. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostres_record.h"

static void sample(struct hostres_record *r)
{
	memset(r, 0, sizeof(*r));
	r->pid = 4242;
	r->start_ticks = 123456789;
	r->since = 1700000000;
	r->cap = 2;
	cpulist_parse("2-3", &r->cpus);
	r->mem_mib = 4096;
	r->vms = 2;
	snprintf(r->cmd, sizeof(r->cmd), "ktstr-orch run suite.yaml --cpu-cap 2");
}

Test(hostres_record, written_padded_and_read_back_whole)
{
	struct hostres_record r, back;
	char buf[HOSTRES_RECORD_SIZE], why[256] = "";

	sample(&r);
	cr_assert_eq(hostres_record_format(&r, buf), 0);
	cr_expect_eq(buf[HOSTRES_RECORD_SIZE - 1], '\n', "padded to the full size");
	cr_assert_eq(hostres_record_parse(buf, sizeof(buf), &back, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(back.pid, 4242);
	cr_expect_eq(back.start_ticks, 123456789);
	cr_expect_eq(back.since, 1700000000);
	cr_expect_eq(back.cap, 2);
	cr_expect(cpuset_equal(&back.cpus, &r.cpus));
	cr_expect_eq(back.mem_mib, 4096);
	cr_expect_eq(back.vms, 2);
	cr_expect_str_eq(back.cmd, r.cmd);
	memset(&r.cpus, 0, sizeof(r.cpus));
	cr_assert_eq(hostres_record_format(&r, buf), 0);
	cr_expect(strstr(buf, "\ncpus -\n"), "no CPUs is written as '-'");
	cr_assert_eq(hostres_record_parse(buf, sizeof(buf), &back, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(cpuset_count(&back.cpus), 0);
}

Test(hostres_record, the_longest_cpu_list_fits_the_record)
{
	struct hostres_record r, back;
	char buf[HOSTRES_RECORD_SIZE], why[256] = "";

	sample(&r);
	memset(&r.cpus, 0, sizeof(r.cpus));
	for (unsigned c = 0; c < CPUSET_WORDS * 64; c += 2)
		cpuset_add(&r.cpus, c); /* "0,2,4,...,1022": no ranges at all */
	memset(r.cmd, 'x', HOSTRES_CMD_MAX);
	r.cmd[HOSTRES_CMD_MAX] = '\0';
	cr_assert_eq(hostres_record_format(&r, buf), 0);
	cr_assert_eq(hostres_record_parse(buf, sizeof(buf), &back, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(cpuset_count(&back.cpus), 512);
}

static void expect_refused(const char *text, const char *why_part)
{
	struct hostres_record r;
	char why[256] = "";

	cr_expect_neq(hostres_record_parse(text, strlen(text), &r, why, sizeof(why)), 0,
		      "accepted: %s", text);
	cr_expect(strstr(why, why_part), "why '%s' lacks '%s' for: %s", why, why_part, text);
}

#define HEAD "ktstr-holder 1\n"
#define BODY "pid 7\nstart 1\nsince 2\ncap 0\ncpus 0\nmem_mib 5\nvms 1\n"

Test(hostres_record, malformed_records_are_refused_with_the_reason)
{
	struct hostres_record r;
	char why[256], big[HOSTRES_RECORD_SIZE + 2];

	expect_refused("", "empty");
	expect_refused("ktstr-holder 2\n" BODY "cmd x\n", "does not start with");
	expect_refused("\n" HEAD BODY "cmd x\n", "does not start with");
	expect_refused(HEAD BODY, "no 'cmd' line");
	expect_refused(HEAD "pid 7\nstart 1\nsince 2\ncap 0\ncpus 0\nvms 1\ncmd x\n", "mem_mib");
	expect_refused(HEAD BODY "cmd x\npid 8\n", "repeated 'pid'");
	expect_refused(HEAD "pid 0\nstart 1\nsince 2\ncap 0\ncpus 0\nmem_mib 5\nvms 1\ncmd x\n",
		       "bad value for 'pid'");
	expect_refused(HEAD "pid 4194305\nstart 1\nsince 2\ncap 0\ncpus 0\nmem_mib 5\nvms 1\ncmd x\n",
		       "bad value for 'pid'");
	expect_refused(HEAD "pid -1\nstart 1\nsince 2\ncap 0\ncpus 0\nmem_mib 5\nvms 1\ncmd x\n",
		       "bad value for 'pid'");
	expect_refused(HEAD "pid 7\nstart 1\nsince 2\ncap 0\ncpus 0\nmem_mib 4294967297\nvms 1\n"
			    "cmd x\n", "bad value for 'mem_mib'");
	expect_refused(HEAD "pid 7\nstart 1\nsince 2\ncap 1025\ncpus 0\nmem_mib 5\nvms 1\ncmd x\n",
		       "bad value for 'cap'");
	expect_refused(HEAD "pid 7\nstart 1\nsince 2\ncap 0\ncpus 0-2000\nmem_mib 5\nvms 1\ncmd x\n",
		       "bad value for 'cpus'");
	expect_refused(HEAD "pid 7\nstart 1\nsince 2\ncap 0\ncpus 0\nmem_mib 5\nvms 65537\ncmd x\n",
		       "bad value for 'vms'");
	expect_refused(HEAD "pid 7\nstart 1\nsince 2\ncap 0\ncpus 0\nmem_mib 5x\nvms 1\ncmd x\n",
		       "bad value for 'mem_mib'");
	expect_refused(HEAD BODY "cmd a\033[2Jb\n", "bad value for 'cmd'");
	expect_refused(HEAD BODY "pid\ncmd x\n", "'pid'");
	/* A NUL inside: the text must not end early and hide what follows. */
	{
		const char t[] = HEAD BODY "cmd x\0y\n";

		cr_expect_neq(hostres_record_parse(t, sizeof(t) - 1, &r, why, sizeof(why)), 0);
		cr_expect(strstr(why, "NUL"), "%s", why);
	}
	/* A cmd one byte over its bound. */
	{
		char t[1024];

		snprintf(t, sizeof(t), HEAD BODY "cmd %0*d\n", HOSTRES_CMD_MAX + 1, 0);
		expect_refused(t, "bad value for 'cmd'");
		snprintf(t, sizeof(t), HEAD BODY "cmd %0*d\n", HOSTRES_CMD_MAX, 0);
		cr_expect_eq(hostres_record_parse(t, strlen(t), &r, why, sizeof(why)), 0, "%s", why);
	}
	/* One byte over the record size. */
	memset(big, '\n', sizeof(big));
	memcpy(big, HEAD BODY "cmd x\n", strlen(HEAD BODY "cmd x\n"));
	cr_expect_eq(hostres_record_parse(big, HOSTRES_RECORD_SIZE, &r, why, sizeof(why)), 0, "%s",
		     why);
	cr_expect_eq(hostres_record_parse(big, HOSTRES_RECORD_SIZE + 1, &r, why, sizeof(why)),
		     -EFBIG);
	cr_expect(strstr(why, "more than a record's"), "%s", why);
}

Test(hostres_record, unknown_keys_from_a_newer_ktstr_are_skipped)
{
	struct hostres_record r;
	char why[256] = "";
	const char t[] = HEAD "future_key whatever\n" BODY "cmd x\n";

	cr_expect_eq(hostres_record_parse(t, strlen(t), &r, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(r.pid, 7);
}

Test(hostres_record, command_lines_are_joined_cleaned_and_cut)
{
	char out[HOSTRES_CMD_MAX + 1], raw[600];

	hostres_cmd_summary("ktstr-orch\0run\0a b.yaml\0", 25, out, sizeof(out));
	cr_expect_str_eq(out, "ktstr-orch run a b.yaml");
	hostres_cmd_summary("x\033[31m\n\0y\0", 10, out, sizeof(out));
	cr_expect_str_eq(out, "x?[31m? y", "control characters never reach a terminal");
	memset(raw, 'a', sizeof(raw));
	hostres_cmd_summary(raw, sizeof(raw), out, sizeof(out));
	cr_expect_eq(strlen(out), HOSTRES_CMD_MAX);
	cr_expect_str_eq(out + HOSTRES_CMD_MAX - 3, "...", "a cut is marked");
	hostres_cmd_summary(raw, HOSTRES_CMD_MAX, out, sizeof(out));
	cr_expect_eq(strlen(out), HOSTRES_CMD_MAX);
	cr_expect_eq(out[HOSTRES_CMD_MAX - 1], 'a', "exactly the bound: nothing cut");
	hostres_cmd_summary(raw, 10, out, 5);
	cr_expect_str_eq(out, "a...", "the caller's smaller buffer bounds it too");
}
