#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.pb-c.h"
#include "ktstr/frame.h"
#include "worker.pb-c.h"

static int sp[2];

static void setup(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
}

static void teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

TestSuite(frame, .init = setup, .fini = teardown);

Test(frame, roundtrip_with_fd)
{
	Ktstr__StopVm stop = KTSTR__STOP_VM__INIT;
	Ktstr__WorkerRequest req = KTSTR__WORKER_REQUEST__INIT;
	ProtobufCMessage *m;
	int fds[4], pfd[2];
	size_t nfds;

	stop.reason = "test";
	req.req_case = KTSTR__WORKER_REQUEST__REQ_STOP;
	req.stop = &stop;
	cr_assert_eq(pipe(pfd), 0);
	cr_assert_eq(frame_send(sp[0], &req.base, &pfd[1], 1), 0);
	cr_assert_eq(frame_recv_msg(sp[1], &ktstr__worker_request__descriptor, 1024, &m, fds, 4,
				    &nfds, 1000),
		     0);
	cr_assert_eq(nfds, 1);
	cr_assert(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, "received fds must be close-on-exec");
	/* the fd is the same pipe: write through it */
	cr_assert_eq(write(fds[0], "x", 1), 1);
	{
		char c;
		cr_assert_eq(read(pfd[0], &c, 1), 1);
	}
	cr_assert_str_eq(((Ktstr__WorkerRequest *)m)->stop->reason, "test");
	protobuf_c_message_free_unpacked(m, NULL);
	close(fds[0]);
	close(pfd[0]);
	close(pfd[1]);
}

Test(frame, oversized_frame_rejected_before_allocation)
{
	uint8_t hdr[4] = { 0xff, 0xff, 0xff, 0x7f };
	uint8_t *buf;
	size_t len;

	cr_assert_eq(write(sp[0], hdr, 4), 4);
	cr_assert_eq(frame_recv(sp[1], &buf, &len, 4096, NULL, 0, NULL, 1000), -EMSGSIZE);
}

Test(frame, eof_and_truncation)
{
	uint8_t hdr[6] = { 10, 0, 0, 0, 1, 2 };
	uint8_t *buf;
	size_t len;

	cr_assert_eq(write(sp[0], hdr, 6), 6);
	close(sp[0]);
	sp[0] = open("/dev/null", O_RDONLY);
	cr_assert_eq(frame_recv(sp[1], &buf, &len, 4096, NULL, 0, NULL, 1000), -EPROTO);
	cr_assert_eq(frame_recv(sp[1], &buf, &len, 4096, NULL, 0, NULL, 1000), -EPIPE);
}

Test(frame, timeout_is_bounded)
{
	uint8_t *buf;
	size_t len;

	cr_assert_eq(frame_recv(sp[1], &buf, &len, 4096, NULL, 0, NULL, 50), -ETIMEDOUT);
}

Test(frame, garbage_is_ebadmsg_and_fds_closed)
{
	uint8_t bad[7] = { 3, 0, 0, 0, 0xff, 0xff, 0xff };
	ProtobufCMessage *m;
	int fds[2];
	size_t nfds;

	cr_assert_eq(write(sp[0], bad, 7), 7);
	cr_assert_eq(frame_recv_msg(sp[1], &ktstr__worker_request__descriptor, 1024, &m, fds, 2,
				    &nfds, 1000),
		     -EBADMSG);
	cr_assert_null(m);
}

Test(frame, missing_required_field_is_ebadmsg)
{
	/* A Topology with only numa_nodes set: three required fields missing. */
	uint8_t msg[6] = { 2, 0, 0, 0, 0x08, 0x01 };
	ProtobufCMessage *m;

	cr_assert_eq(write(sp[0], msg, 6), 6);
	cr_assert_eq(frame_recv_msg(sp[1], &ktstr__topology__descriptor, 1024, &m, NULL, 0, NULL,
				    1000),
		     -EBADMSG);
}

Test(frame, too_many_fds_are_closed_not_leaked)
{
	Ktstr__StopVm stop = KTSTR__STOP_VM__INIT;
	Ktstr__WorkerRequest req = KTSTR__WORKER_REQUEST__INIT;
	int pfd[2], send[3], fds[1];
	size_t nfds;
	uint8_t *buf;
	size_t len;

	req.req_case = KTSTR__WORKER_REQUEST__REQ_STOP;
	req.stop = &stop;
	cr_assert_eq(pipe(pfd), 0);
	send[0] = send[1] = send[2] = pfd[1];
	cr_assert_eq(frame_send(sp[0], &req.base, send, 3), 0);
	close(pfd[1]);
	cr_assert_eq(frame_recv(sp[1], &buf, &len, 1024, fds, 1, &nfds, 1000), -EPROTO);
	/* every received copy of the write end was closed: reader sees EOF */
	{
		char c;
		cr_assert_eq(read(pfd[0], &c, 1), 0);
	}
	close(pfd[0]);
}
