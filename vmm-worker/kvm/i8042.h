/* The bit of an i8042 keyboard controller a kernel needs: status/data ports,
 * the self-test and command-byte commands Linux probes with, and 0xFE on
 * port 0x64 (pulse the reset line), which is how `reboot=k` resets. */
#ifndef KTSTR_I8042_H
#define KTSTR_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_DATA_PORT 0x60u
#define I8042_CMD_PORT 0x64u
#define I8042_CMD_RESET 0xFEu

struct i8042 {
	uint8_t ctr;	      /* controller command byte */
	uint8_t out;	      /* output buffer */
	bool out_full;
	uint8_t pending_cmd;  /* command waiting for its data byte */
	bool reset_requested; /* the guest asked for a system reset */
};

void i8042_init(struct i8042 *k);
uint8_t i8042_read(struct i8042 *k, uint16_t port);
/* Returns true when the write requested a system reset. */
bool i8042_write(struct i8042 *k, uint16_t port, uint8_t v);

#endif
