/* Serial output on its way from a vCPU thread to the control thread, shared
 * by the KVM engines (x86_64 kvm/kvm_io.c, aarch64 aarch64/a64_engine.c).
 * Only the control thread touches the capture (which sends frames on the
 * control socket): vCPU threads, which run guest code, then need no socket
 * syscall at all. 64 KiB per port holds one maximal rep-outsb exit (4 KiB)
 * many times over; a vCPU that finds no room waits for the next drain, as a
 * real UART holds a guest that writes faster than the line.
 *
 * Every call is made under the engine's lock (which cond belongs to). */
#ifndef KTSTR_WORKER_SERIAL_OUT_H
#define KTSTR_WORKER_SERIAL_OUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm_capture;

#define SERIAL_OUT_BUF (64u << 10)
#define SERIAL_OUT_HIGH (4u << 10) /* wake the control thread from here on */

struct serial_out {
	uint8_t buf[SERIAL_OUT_BUF];
	size_t len;
	uint64_t dropped; /* bytes written after the VM ended with no room left */
};

/* Queue byte b of port (0 = COM1, 1 = COM2). Full: counted in dropped (the
 * caller made room first, see serial_out_wait_room, so that happens only
 * after the VM ended). Wakes cond at SERIAL_OUT_HIGH bytes, and for every
 * COM2 newline when interactive (a shell's line should reach the terminal
 * now, not at the next tick). */
void serial_out_put(struct serial_out *o, unsigned port, uint8_t b, bool interactive,
		    pthread_cond_t *cond);
/* On a vCPU thread, under lock, before an exit that may emit need bytes on
 * either port changes any device state: wait until both ports have that
 * much room. Bounded: the control thread drains every tick (woken here),
 * and once *stop is set nothing waits. */
void serial_out_wait_room(struct serial_out o[2], size_t need, pthread_mutex_t *lock,
			  pthread_cond_t *cond, const atomic_bool *stop);
/* Control thread, under lock: hand both ports' bytes to the capture (COM2
 * also to its mirror in shell mode) and wake vCPUs waiting for room. */
void serial_out_drain(struct serial_out o[2], struct vm_capture *cap, pthread_cond_t *cond);
/* After the VM: warn about dropped bytes (who names the engine). */
void serial_out_report(const struct serial_out o[2], const char *who);

#endif
