/* capture.c: what the worker learns from serial bytes and ring messages. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ktstr/frame.h>
#include <ktstr/ring.h>

#include "capture.h"

static Ktstr__VmSpec spec;

static void setup(void)
{
	ktstr__vm_spec__init(&spec);
}

static void feed1(struct vm_capture *c, const char *s)
{
	capture_com1(c, (const uint8_t *)s, strlen(s));
}

static void feed2(struct vm_capture *c, const char *s)
{
	capture_com2(c, (const uint8_t *)s, strlen(s));
}

TestSuite(capture, .init = setup);

Test(capture, markers_split_across_chunks)
{
	struct vm_capture *c = capture_new(&spec, -1);
	feed1(c, "[    1.0] Linux ver");
	feed1(c, "sion 7.2.0-test (gcc 12) #1 SMP\r\n[    2.0] Kernel pa");
	cr_assert(!capture_saw_panic(c));
	feed1(c, "nic - not syncing: Attempted to kill init!\n");
	cr_assert(capture_saw_panic(c));
	feed2(c, "KTSTR_INIT_");
	cr_assert_eq(capture_init_started_us(c), 0);
	feed2(c, "STARTED\r\nKTSTR_EX");
	cr_assert_gt(capture_init_started_us(c), 0);
	feed2(c, "IT=4");
	feed2(c, "2\r\n");
	int32_t code = 0;
	cr_assert(capture_exit_code(c, &code));
	cr_assert_eq(code, 42);

	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(c, 1, &r);
	cr_assert_str_eq(r.kernel_version, "7.2.0-test");
	cr_assert(r.has_guest_exit_code && r.guest_exit_code == 42);
	cr_assert(r.has_boot_to_init_us && r.boot_to_init_us > 0);
	capture_free(c);
}

Test(capture, exit_code_from_an_unterminated_last_line)
{
	struct vm_capture *c = capture_new(&spec, -1);
	feed2(c, "KTSTR_EXIT=-3");
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(c, 0, &r);
	cr_assert(r.has_guest_exit_code);
	cr_assert_eq(r.guest_exit_code, -3);
	cr_assert(!r.has_boot_to_init_us, "no KTSTR_INIT_STARTED, no boot_to_init");
	capture_free(c);
}

Test(capture, console_tail_keeps_the_last_bytes_across_wraparound)
{
	spec.console_tail_bytes = 8;
	struct vm_capture *c = capture_new(&spec, -1);
	feed1(c, "abcdef");
	feed1(c, "ghijkl");
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(c, 0, &r);
	cr_assert_eq(r.console_tail.len, 8);
	cr_assert_eq(memcmp(r.console_tail.data, "efghijkl", 8), 0);

	feed1(c, "0123456789XYZ"); /* one chunk larger than the tail */
	capture_fill_result(c, 0, &r);
	cr_assert_eq(r.console_tail.len, 8);
	cr_assert_eq(memcmp(r.console_tail.data, "56789XYZ", 8), 0);
	capture_free(c);
}

Test(capture, console_tail_shorter_than_cap_is_verbatim)
{
	spec.console_tail_bytes = 64;
	struct vm_capture *c = capture_new(&spec, -1);
	feed1(c, "boot\n");
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(c, 0, &r);
	cr_assert_eq(r.console_tail.len, 5);
	cr_assert_eq(memcmp(r.console_tail.data, "boot\n", 5), 0);
	capture_free(c);
}

Test(capture, guest_output_is_capped_but_still_scanned)
{
	spec.guest_output_max = 5;
	struct vm_capture *c = capture_new(&spec, -1);
	feed2(c, "hello world\n");
	feed2(c, "KTSTR_EXIT=9\n");
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(c, 0, &r);
	cr_assert_eq(r.guest_output.len, 5);
	cr_assert_eq(memcmp(r.guest_output.data, "hello", 5), 0);
	cr_assert(r.has_guest_exit_code && r.guest_exit_code == 9,
		  "markers past the cap still count");
	capture_free(c);
}

Test(capture, ring_exit_wins_over_com2_and_sched_exit_is_flagged)
{
	struct vm_capture *c = capture_new(&spec, -1);
	feed2(c, "KTSTR_EXIT=3\n");
	uint8_t seven[4] = { 7, 0, 0, 0 };
	capture_ring(c, KTSTR_MSG_EXIT, seven, 4, true, false);
	uint8_t bad[4] = { 9, 0, 0, 0 };
	capture_ring(c, KTSTR_MSG_EXIT, bad, 4, false, false); /* CRC bad: ignored */
	cr_assert(!capture_saw_sched_exit(c));
	uint8_t one[4] = { 1, 0, 0, 0 };
	capture_ring(c, KTSTR_MSG_SCHED_EXIT, one, 4, true, true);
	cr_assert(capture_saw_sched_exit(c));
	capture_ring_stats(c, 5, 0);

	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(c, 0, &r);
	cr_assert_eq(r.guest_exit_code, 7);
	cr_assert_eq(r.n_ring, 3);
	cr_assert_eq(r.ring[0]->type, KTSTR_MSG_EXIT);
	cr_assert(r.ring[0]->crc_ok && !r.ring[0]->live);
	cr_assert(!r.ring[1]->crc_ok);
	cr_assert(r.ring[2]->live);
	cr_assert_eq(r.ring_crc_errors, 1);
	cr_assert_eq(r.ring_drops, 5);
	capture_free(c);
}

Test(capture, negative_exit_code_from_ring)
{
	struct vm_capture *c = capture_new(&spec, -1);
	uint8_t m1[4] = { 0xff, 0xff, 0xff, 0xff };
	capture_ring(c, KTSTR_MSG_EXIT, m1, 4, true, false);
	int32_t code = 0;
	cr_assert(capture_exit_code(c, &code));
	cr_assert_eq(code, -1);
	capture_free(c);
}

Test(capture, live_events_reach_the_control_socket)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	spec.has_stream_output = true;
	spec.stream_output = true;
	struct vm_capture *c = capture_new(&spec, sv[0]);
	capture_vm_started(c, KTSTR__ENGINE__ENGINE_QEMU, "qemu-tcg", 123, 99);
	capture_vm_started(c, KTSTR__ENGINE__ENGINE_QEMU, "qemu-tcg", 456, 99); /* ignored */
	feed2(c, "hi");
	capture_ring(c, KTSTR_MSG_CRASH, (const uint8_t *)"boom", 4, true, true);

	ProtobufCMessage *m;
	Ktstr__WorkerEvent *ev;
	cr_assert_eq(frame_recv_msg(sv[1], &ktstr__worker_event__descriptor, 1 << 20, &m, NULL, 0,
				    NULL, 1000), 0);
	ev = (Ktstr__WorkerEvent *)m;
	cr_assert_eq(ev->ev_case, KTSTR__WORKER_EVENT__EV_STARTED);
	cr_assert_eq(ev->started->setup_us, 123);
	protobuf_c_message_free_unpacked(m, NULL);
	cr_assert_eq(frame_recv_msg(sv[1], &ktstr__worker_event__descriptor, 1 << 20, &m, NULL, 0,
				    NULL, 1000), 0);
	ev = (Ktstr__WorkerEvent *)m;
	cr_assert_eq(ev->ev_case, KTSTR__WORKER_EVENT__EV_OUTPUT, "second VmStarted was not sent");
	cr_assert_eq(ev->output->port, 2);
	cr_assert_eq(ev->output->data.len, 2);
	protobuf_c_message_free_unpacked(m, NULL);
	cr_assert_eq(frame_recv_msg(sv[1], &ktstr__worker_event__descriptor, 1 << 20, &m, NULL, 0,
				    NULL, 1000), 0);
	ev = (Ktstr__WorkerEvent *)m;
	cr_assert_eq(ev->ev_case, KTSTR__WORKER_EVENT__EV_RING);
	cr_assert_eq(ev->ring->type, KTSTR_MSG_CRASH);
	cr_assert(ev->ring->live);
	protobuf_c_message_free_unpacked(m, NULL);
	capture_free(c);
	close(sv[0]);
	close(sv[1]);
}

Test(capture, a_vanished_orchestrator_does_not_stop_capture)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	spec.has_stream_output = true;
	spec.stream_output = true;
	struct vm_capture *c = capture_new(&spec, sv[0]);
	feed2(c, "still captured\n");
	feed2(c, "more\n");
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(c, 0, &r);
	cr_assert_eq(r.guest_output.len, strlen("still captured\nmore\n"));
	capture_free(c);
	close(sv[0]);
}

/* ---- the interactive shell's KTSTR_SHELL_READY handshake ------------- */

/* A capture mirroring COM2 into a pipe, as the engines mirror it to the
 * terminal; the pipe is far larger than anything written here. */
struct mirrored {
	struct vm_capture *c;
	int rd, wr;
};

static void mirrored_new(struct mirrored *m)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	m->rd = p[0];
	m->wr = p[1];
	spec.guest_output_max = 4096;
	m->c = capture_new(&spec, -1);
	cr_assert(m->c);
	capture_set_com2_mirror(m->c, m->wr);
}

/* Everything mirrored so far must be want (closes the write end). */
static void mirrored_expect(struct mirrored *m, const char *want)
{
	char buf[4096];
	ssize_t n;

	close(m->wr);
	m->wr = -1;
	n = read(m->rd, buf, sizeof(buf) - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	cr_assert_str_eq(buf, want);
}

static void mirrored_free(struct mirrored *m)
{
	capture_free(m->c);
	close(m->rd);
	if (m->wr >= 0)
		close(m->wr);
}

Test(capture, shell_ready_marker_split_across_chunks_is_stripped)
{
	struct mirrored m;

	mirrored_new(&m);
	cr_assert(!capture_shell_ready(m.c), "not ready before the marker");
	feed2(m.c, "ktstr-guest: booting\nKTSTR_SHE");
	cr_assert(!capture_shell_ready(m.c));
	feed2(m.c, "LL_READY\r");
	cr_assert(!capture_shell_ready(m.c), "ready only once the line has ended");
	feed2(m.c, "\n/ # ");
	cr_assert(capture_shell_ready(m.c));
	mirrored_expect(&m, "ktstr-guest: booting\n/ # ");

	/* The record of COM2 stays verbatim: only the terminal is spared. */
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;
	capture_fill_result(m.c, 0, &r);
	const char all[] = "ktstr-guest: booting\nKTSTR_SHELL_READY\r\n/ # ";
	cr_assert_eq(r.guest_output.len, sizeof(all) - 1);
	cr_assert_eq(memcmp(r.guest_output.data, all, sizeof(all) - 1), 0);
	mirrored_free(&m);
}

Test(capture, shell_ready_marker_fed_byte_by_byte_with_plain_newline)
{
	static const char in[] = "KTSTR_SHELL_READY\nhi\n";
	struct mirrored m;

	mirrored_new(&m);
	for (size_t i = 0; i < sizeof(in) - 1; i++)
		capture_com2(m.c, (const uint8_t *)&in[i], 1);
	cr_assert(capture_shell_ready(m.c));
	mirrored_expect(&m, "hi\n");
	mirrored_free(&m);
}

Test(capture, shell_ready_lookalikes_are_output_and_do_not_open_stdin)
{
	/* Not at a line start, cut short, longer, a stray CR, lower case. */
	static const char near[] = "xKTSTR_SHELL_READY\n"
				   "KTSTR_SHELL_READ\n"
				   "KTSTR_SHELL_READYX\n"
				   "KTSTR_SHELL_READY\r\r\n"
				   "ktstr_shell_ready\n"
				   "KTSTR_KTSTR_SHELL_READY\n";
	struct mirrored m;

	mirrored_new(&m);
	feed2(m.c, near);
	cr_assert(!capture_shell_ready(m.c), "a lookalike opened stdin");
	/* The real one, then a user's own copy after it: output. */
	feed2(m.c, "KTSTR_SHELL_READY\n$ echo KTSTR_SHELL_READY\nKTSTR_SHELL_READY\n");
	cr_assert(capture_shell_ready(m.c));
	mirrored_expect(&m, "xKTSTR_SHELL_READY\n"
			    "KTSTR_SHELL_READ\n"
			    "KTSTR_SHELL_READYX\n"
			    "KTSTR_SHELL_READY\r\r\n"
			    "ktstr_shell_ready\n"
			    "KTSTR_KTSTR_SHELL_READY\n"
			    "$ echo KTSTR_SHELL_READY\nKTSTR_SHELL_READY\n");
	mirrored_free(&m);
}

Test(capture, shell_ready_is_seen_without_a_mirror)
{
	/* The KVM engine gates stdin on it too, mirror or not. */
	struct vm_capture *c = capture_new(&spec, -1);

	feed2(c, "boot\r\nKTSTR_SHELL_READY\r\n");
	cr_assert(capture_shell_ready(c));
	capture_free(c);
}

/* ---- bounds on a hostile guest's ring traffic (capture.h) -------------- */

static Ktstr__VmResult fill(struct vm_capture *c)
{
	Ktstr__VmResult r = KTSTR__VM_RESULT__INIT;

	capture_fill_result(c, 0, &r);
	return r;
}

/* Zero-length messages are not free: each costs its header, and past the
 * flood bound the drain stops and the engine is told to end the VM. What is
 * kept stays within CAPTURE_KEEP_MSGS. Was: every message kept and relayed,
 * the worker grew without bound. */
Test(capture, a_zero_length_flood_is_bounded_and_flagged)
{
	struct vm_capture *c = capture_new(&spec, -1);
	uint32_t i;
	int stop = 0;
	char text[256];

	for (i = 0; i < CAPTURE_FLOOD_MSGS + 10 && !stop; i++)
		stop = capture_ring(c, KTSTR_MSG_STIMULUS, (const uint8_t *)"", 0, true, true);
	cr_assert(stop, "no stop signal after %u messages", i);
	cr_assert_eq(i, CAPTURE_FLOOD_MSGS + 1, "stopped at message %u", i);
	cr_assert(capture_flooded(c));
	cr_assert_eq(capture_ring(c, KTSTR_MSG_STIMULUS, (const uint8_t *)"", 0, true, true), 1,
		     "once flooded, every further message stops the drain");
	Ktstr__VmResult r = fill(c);
	cr_assert_leq(r.n_ring, CAPTURE_KEEP_MSGS);
	cr_assert_eq(r.ring_messages_total, CAPTURE_FLOOD_MSGS + 1);
	cr_assert_eq(r.ring_host_drops, CAPTURE_FLOOD_MSGS + 1 - CAPTURE_KEEP_MSGS);
	capture_flood_text(c, text, sizeof(text));
	cr_assert(strstr(text, "guest flooded the ring: 100001 messages (1600016 bytes with headers) "), "%s", text);
	capture_free(c);
}

/* The bytes bound counts headers and payloads alike. */
Test(capture, a_byte_flood_is_flagged_at_the_byte_bound)
{
	struct vm_capture *c = capture_new(&spec, -1);
	static uint8_t big[1u << 20];
	uint64_t sent = 0;
	int stop = 0;

	while (!stop && sent <= CAPTURE_FLOOD_BYTES + (2u << 20)) {
		stop = capture_ring(c, KTSTR_MSG_PROFRAW, big, sizeof(big), true, false);
		sent += sizeof(big) + KTSTR_RING_MSG_HDR_SIZE;
	}
	cr_assert(stop && capture_flooded(c));
	cr_assert_gt(sent, CAPTURE_FLOOD_BYTES);
	cr_assert_leq(sent, CAPTURE_FLOOD_BYTES + sizeof(big) + KTSTR_RING_MSG_HDR_SIZE);
	Ktstr__VmResult r = fill(c);
	uint64_t kept = 0;

	for (size_t i = 0; i < r.n_ring; i++)
		kept += r.ring[i]->payload.len + KTSTR_RING_MSG_HDR_SIZE;
	cr_assert_leq(kept, CAPTURE_KEEP_BYTES);
	capture_free(c);
}

/* The attack as reported: two ~8 MiB filler messages exhaust the keep
 * budget, then PID 1's TEST_RESULT arrives. It is kept (control budget),
 * the count says 1, and the filler's drop is recorded. */
Test(capture, pid1s_result_cannot_be_displaced_by_filler)
{
	struct vm_capture *c = capture_new(&spec, -1);
	static uint8_t filler[(8u << 20) + 512];
	const uint8_t result[] = { 0x08, 0x01 };
	bool found = false;

	cr_assert_eq(capture_ring(c, KTSTR_MSG_PROFRAW, filler, sizeof(filler), true, true), 0);
	cr_assert_eq(capture_ring(c, KTSTR_MSG_PROFRAW, filler, sizeof(filler), true, true), 0);
	cr_assert_eq(capture_ring(c, KTSTR_MSG_TEST_RESULT, result, sizeof(result), true, true), 0);
	Ktstr__VmResult r = fill(c);
	for (size_t i = 0; i < r.n_ring; i++)
		found |= r.ring[i]->type == KTSTR_MSG_TEST_RESULT;
	cr_assert(found, "PID 1's result was displaced");
	cr_assert_eq(r.ring_results, 1);
	cr_assert_eq(r.ring_host_drops, 1, "the second filler is the one dropped");
	capture_free(c);
}

/* Control messages have a budget of their own too: a guest repeating
 * TEST_RESULTs cannot grow the worker, and the count tells the verdict. */
Test(capture, repeated_results_are_counted_and_bounded)
{
	struct vm_capture *c = capture_new(&spec, -1);
	const uint8_t result[] = { 0x08, 0x01 };

	for (int i = 0; i < 1000; i++)
		capture_ring(c, KTSTR_MSG_TEST_RESULT, result, sizeof(result), true, true);
	Ktstr__VmResult r = fill(c);
	cr_assert_eq(r.ring_results, 1000);
	cr_assert_eq(r.n_ring, CAPTURE_CONTROL_MSGS);
	cr_assert_eq(r.ring_host_drops, 1000 - CAPTURE_CONTROL_MSGS);
	capture_free(c);
}

/* Counts frames until EOF (a reader thread: a unix socket holds far fewer
 * small frames than the burst, so the sender needs someone reading). */
static void *count_frames(void *arg)
{
	int fd = *(int *)arg;
	unsigned long n = 0;

	for (;;) {
		ProtobufCMessage *m;

		if (frame_recv_msg(fd, &ktstr__worker_event__descriptor, 1 << 20, &m, NULL, 0, NULL,
				   5000))
			break;
		protobuf_c_message_free_unpacked(m, NULL);
		n++;
	}
	return (void *)n;
}

/* Live relays are rate-limited: a burst, then CAPTURE_LIVE_PER_SEC. */
Test(capture, live_relays_are_rate_limited)
{
	int sv[2];
	struct vm_capture *c;
	pthread_t th;
	void *ret;
	unsigned got;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(pthread_create(&th, NULL, count_frames, &sv[1]), 0);
	c = capture_new(&spec, sv[0]);
	for (int i = 0; i < 5000; i++)
		capture_ring(c, KTSTR_MSG_STIMULUS, (const uint8_t *)"s", 1, true, true);
	Ktstr__VmResult r = fill(c);
	close(sv[0]);
	pthread_join(th, &ret);
	got = (unsigned)(unsigned long)ret;
	cr_assert_geq(got, CAPTURE_LIVE_BURST);
	cr_assert_lt(got, CAPTURE_LIVE_BURST + 200, "%u relayed in well under a second", got);
	cr_assert_eq(r.ring_live_suppressed, 5000 - got);
	cr_assert_eq(r.n_ring, 5000, "all kept for the result (within the budget)");
	capture_free(c);
	close(sv[1]);
}

/* COM2 past its cap: counted, so a result after the cap is known lost. */
Test(capture, com2_bytes_past_the_cap_are_counted)
{
	struct vm_capture *c;

	spec.guest_output_max = 8;
	c = capture_new(&spec, -1);
	feed2(c, "12345");
	feed2(c, "67890");
	Ktstr__VmResult r = fill(c);
	cr_assert_eq(r.guest_output.len, 8);
	cr_assert_eq(r.guest_output_dropped, 2);
	capture_free(c);
}
