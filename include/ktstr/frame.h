/* Length-capped protobuf-c frames over a stream socket (socketpair between
 * ktstr processes). Wire format: u32 little-endian length, then that many
 * bytes of one packed protobuf message. File descriptors ride as SCM_RIGHTS
 * on the first byte of the frame and arrive close-on-exec.
 *
 * The receiver checks the length against its own cap *before* reading or
 * allocating, so a hostile peer cannot make it allocate more than the cap. */
#ifndef KTSTR_FRAME_H
#define KTSTR_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define KTSTR_FRAME_MAX_FDS 8
/* Default caps per direction: requests are small; results carry logs and
 * ring contents. */
#define KTSTR_FRAME_CAP_REQUEST (4u << 20)
#define KTSTR_FRAME_CAP_RESULT (64u << 20)

/* Pack msg and send it with fds attached. Retries EINTR, handles short
 * writes. Returns 0 or -errno (-EPIPE when the peer is gone). The fds stay
 * owned by the caller. */
int frame_send(int sock, const ProtobufCMessage *msg, const int *fds, size_t nfds);

/* Receive one frame. Waits at most timeout_ms for the frame to start
 * (-1 = no bound; only for callers that have another bound, such as a
 * signalfd in the same poll loop), and at most timeout_ms between parts of it.
 * On success *buf is malloc'd (caller frees), *len set, received fds stored in
 * fds[0..*nfds) (caller owns and closes them; at most max_fds; extra fds are
 * closed and make the call fail with -EPROTO).
 * Returns 0, -EPIPE on orderly EOF before a frame, -EMSGSIZE if the announced
 * length exceeds max_len (the connection is then unusable), -ETIMEDOUT,
 * -EPROTO on a truncated frame, or another -errno. */
int frame_recv(int sock, uint8_t **buf, size_t *len, size_t max_len, int *fds,
	       size_t max_fds, size_t *nfds, int timeout_ms);

/* frame_recv + protobuf_c_message_unpack(desc). On success *out is owned by
 * the caller (free with protobuf_c_message_free_unpacked). A frame that does
 * not decode as desc (missing required fields, bad wire data) is -EBADMSG;
 * its fds are closed. */
int frame_recv_msg(int sock, const ProtobufCMessageDescriptor *desc, size_t max_len,
		   ProtobufCMessage **out, int *fds, size_t max_fds, size_t *nfds,
		   int timeout_ms);

#endif
