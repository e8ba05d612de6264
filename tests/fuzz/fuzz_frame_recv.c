/* libFuzzer target for frame_recv_msg: the input is the byte stream a
 * hostile peer writes on the control socket (length prefix included),
 * decoded as a WorkerRequest, the message a worker reads from the
 * orchestrator. The cap is small so the oversize path is reached too. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ktstr/frame.h"
#include "worker.pb-c.h"

#define FUZZ_FRAME_CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ProtobufCMessage *msg = NULL;
	int sv[2], fds[KTSTR_FRAME_MAX_FDS];
	size_t nfds = 0;
	int ret;

	/* a stream socket holds well over the fuzzer's -max_len in its buffer */
	if (size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	close(sv[1]); /* EOF after the input: every truncation path ends */
	do {
		ret = frame_recv_msg(sv[0], &ktstr__worker_request__descriptor, FUZZ_FRAME_CAP, &msg,
				     fds, KTSTR_FRAME_MAX_FDS, &nfds, 0);
		if (ret == 0) {
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
			protobuf_c_message_free_unpacked(msg, NULL);
			msg = NULL;
		}
	} while (ret == 0);
	if (ret == -EMSGSIZE || ret == -EPIPE || ret == -EPROTO || ret == -EBADMSG ||
	    ret == -ETIMEDOUT)
		ret = 0;
	close(sv[0]);
	if (ret != 0)
		abort(); /* an error the header does not document */
	return 0;
}
