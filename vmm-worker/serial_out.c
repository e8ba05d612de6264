/* Serial output from vCPU threads to the capture (serial_out.h). */
#include <time.h>

#include "capture.h"
#include "ktstr/log.h"
#include "serial_out.h"

void serial_out_put(struct serial_out *o, unsigned port, uint8_t b, bool interactive,
		    pthread_cond_t *cond)
{
	if (o->len == sizeof(o->buf)) {
		o->dropped++;
		return;
	}
	o->buf[o->len++] = b;
	if (o->len >= SERIAL_OUT_HIGH || (port == 1 && b == '\n' && interactive))
		pthread_cond_broadcast(cond);
}

void serial_out_wait_room(struct serial_out o[2], size_t need, pthread_mutex_t *lock,
			  pthread_cond_t *cond, const atomic_bool *stop)
{
	while (need && !atomic_load(stop) &&
	       (SERIAL_OUT_BUF - o[0].len < need || SERIAL_OUT_BUF - o[1].len < need)) {
		struct timespec ts;

		pthread_cond_broadcast(cond); /* the control thread drains */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(cond, lock, &ts);
	}
}

void serial_out_drain(struct serial_out o[2], struct vm_capture *cap, pthread_cond_t *cond)
{
	if (o[0].len)
		capture_com1(cap, o[0].buf, o[0].len);
	/* Shell mode: the capture also writes COM2 to its mirror (stdout_fd). */
	if (o[1].len)
		capture_com2(cap, o[1].buf, o[1].len);
	if (o[0].len || o[1].len)
		pthread_cond_broadcast(cond); /* vCPUs waiting for room */
	o[0].len = o[1].len = 0;
}

void serial_out_report(const struct serial_out o[2], const char *who)
{
	for (int i = 0; i < 2; i++)
		if (o[i].dropped)
			kwarn("%s: %llu bytes of COM%d output written after the VM ended were "
			      "dropped", who, (unsigned long long)o[i].dropped, i + 1);
}
