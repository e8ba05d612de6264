/* Length-capped protobuf-c frames over stream sockets. See ktstr/frame.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ktstr/frame.h"
#include "ktstr/le.h"
#include "ktstr/util.h"

int frame_send(int sock, const ProtobufCMessage *msg, const int *fds, size_t nfds)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf;
	size_t off = 0;
	int ret = 0;

	if (len > UINT32_MAX || nfds > KTSTR_FRAME_MAX_FDS)
		return -EMSGSIZE;
	buf = malloc(len + 4);
	if (!buf)
		return -ENOMEM;
	put_le32(buf, (uint32_t)len);
	protobuf_c_message_pack(msg, buf + 4);

	while (off < len + 4) {
		union {
			char b[CMSG_SPACE(sizeof(int) * KTSTR_FRAME_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = buf + off, .iov_len = len + 4 - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		/* fds ride only with the first byte of the frame. */
		if (off == 0 && nfds) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.b;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		off += (size_t)n;
	}
	free(buf);
	return ret;
}

/* Wait until sock is readable, at most timeout_ms (-1 = unbounded). */
static int wait_readable(int sock, int timeout_ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	uint64_t deadline = timeout_ms < 0 ? 0 : ktstr_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		int left = -1, n;

		if (timeout_ms >= 0) {
			uint64_t now = ktstr_now_ms();

			left = now >= deadline ? 0 : (int)(deadline - now);
		}
		n = poll(&p, 1, left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* recvmsg into buf, collecting any fds into fds[*nfds..]. */
static ssize_t recv_part(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *nfds,
			 int *fd_overflow)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * KTSTR_FRAME_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t n;

	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (mh.msg_flags & MSG_CTRUNC)
		*fd_overflow = 1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t cnt;
		int *in;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		in = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, &in[i], sizeof(fd));
			if (fds && *nfds < max_fds) {
				fds[(*nfds)++] = fd;
			} else {
				/* More fds than the caller accepts: never leak them. */
				close(fd);
				*fd_overflow = 1;
			}
		}
	}
	return n;
}

int frame_recv(int sock, uint8_t **buf, size_t *len, size_t max_len, int *fds, size_t max_fds,
	       size_t *nfds, int timeout_ms)
{
	uint8_t hdr[4];
	size_t got = 0, flen;
	uint8_t *b = NULL;
	int overflow = 0, ret;
	size_t nf = 0;

	*buf = NULL;
	*len = 0;
	if (nfds)
		*nfds = 0;

	while (got < 4) {
		ssize_t n;

		ret = wait_readable(sock, timeout_ms);
		if (ret)
			goto err;
		n = recv_part(sock, hdr + got, 4 - got, fds, fds ? max_fds : 0, &nf, &overflow);
		if (n < 0) {
			ret = (int)n;
			goto err;
		}
		if (n == 0) {
			ret = got ? -EPROTO : -EPIPE;
			goto err;
		}
		got += (size_t)n;
	}
	flen = get_le32(hdr);
	/* The cap is checked before any allocation sized by the peer. */
	if (flen > max_len) {
		ret = -EMSGSIZE;
		goto err;
	}
	b = malloc(flen ? flen : 1);
	if (!b) {
		ret = -ENOMEM;
		goto err;
	}
	got = 0;
	while (got < flen) {
		ssize_t n;

		ret = wait_readable(sock, timeout_ms);
		if (ret)
			goto err;
		n = recv_part(sock, b + got, flen - got, fds, fds ? max_fds : 0, &nf, &overflow);
		if (n < 0) {
			ret = (int)n;
			goto err;
		}
		if (n == 0) {
			ret = -EPROTO;
			goto err;
		}
		got += (size_t)n;
	}
	if (overflow) {
		ret = -EPROTO;
		goto err;
	}
	*buf = b;
	*len = flen;
	if (nfds)
		*nfds = nf;
	return 0;
err:
	free(b);
	if (fds)
		close_fds(fds, nf);
	return ret;
}

int frame_recv_msg(int sock, const ProtobufCMessageDescriptor *desc, size_t max_len,
		   ProtobufCMessage **out, int *fds, size_t max_fds, size_t *nfds, int timeout_ms)
{
	uint8_t *buf;
	size_t len, nf = 0;
	ProtobufCMessage *m;
	int ret;

	*out = NULL;
	ret = frame_recv(sock, &buf, &len, max_len, fds, max_fds, &nf, timeout_ms);
	if (ret)
		return ret;
	/* protobuf-c rejects truncated data and missing required fields. */
	m = protobuf_c_message_unpack(desc, NULL, len, buf);
	free(buf);
	if (!m) {
		if (fds)
			close_fds(fds, nf);
		return -EBADMSG;
	}
	*out = m;
	if (nfds)
		*nfds = nf;
	return 0;
}
