/* include/ktstr/error.h: the one error record, from the point of failure
 * through the wire to the message a user reads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <ktstr/error.h>

Test(error, the_first_error_is_the_root_cause_and_is_kept)
{
	struct ktstr_error e = { 0 };
	char out[2048];

	cr_assert_eq(ktstr_error_set(&e, ENOENT, "open scheduler", "/x/sched", "build it first",
				     "no such file (%d tries)", 2), -ENOENT);
	cr_assert_eq(ktstr_error_set(&e, -EIO, "later step", NULL, NULL, "consequence"), -EIO);
	cr_assert_eq(e.errnum, ENOENT);
	ktstr_error_format(&e, out, sizeof(out));
	cr_assert_str_eq(out, "open scheduler: /x/sched: no such file (2 tries) (build it first)");
	memset(&e, 0, sizeof(e));
	cr_assert_eq(ktstr_error_set(&e, 0, "step", NULL, NULL, "why"), -EINVAL, "0 is EINVAL");
	ktstr_error_format(&e, out, sizeof(out));
	cr_assert_str_eq(out, "step: why");
}

Test(error, it_crosses_the_wire_whole)
{
	struct ktstr_error e = { 0 }, back;
	Ktstr__Error pb;
	uint8_t buf[8192];
	Ktstr__Error *got;
	size_t n;

	ktstr_error_set(&e, EACCES, "open /dev/kvm", "/dev/kvm", "add the user to group kvm",
			"permission denied");
	ktstr_error_to_pb(&e, &pb);
	n = ktstr__error__pack(&pb, buf);
	got = ktstr__error__unpack(NULL, n, buf);
	cr_assert_not_null(got);
	ktstr_error_from_pb(got, "fallback", &back);
	ktstr__error__free_unpacked(got, NULL);
	cr_assert_eq(memcmp(&e, &back, sizeof(e)), 0, "what/where/why/hint/errno survive");
}

/* A peer's error is untrusted: missing fields get defaults, long strings
 * are cut to the field, a missing or negative errno becomes EIO. */
Test(error, a_received_error_is_bounded_and_never_empty)
{
	static char huge[100000];
	Ktstr__Error pb = KTSTR__ERROR__INIT;
	struct ktstr_error e;

	memset(huge, 'A', sizeof(huge) - 1);
	ktstr_error_from_pb(NULL, "worker failed", &e);
	cr_assert_str_eq(e.what, "worker failed");
	cr_assert_eq(e.errnum, EIO);
	pb.what = "";
	pb.why = huge;
	pb.where = huge;
	pb.has_errno_value = 1;
	pb.errno_value = -5;
	ktstr_error_from_pb(&pb, "worker failed", &e);
	cr_assert_str_eq(e.what, "worker failed");
	cr_assert_eq(strlen(e.why), sizeof(e.why) - 1);
	cr_assert_eq(strlen(e.where), sizeof(e.where) - 1);
	cr_assert_eq(e.errnum, EIO);
}
