#include <string.h>

#include "i8042.h"

#define ST_OBF 0x01
#define ST_SYS 0x04 /* system flag: POST passed */
#define ST_UNLOCKED 0x10 /* keyboard inhibit switch off; clear, Linux warns "Keylock active" */
#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_SELF_TEST 0xAA
#define CMD_KBD_TEST 0xAB

void i8042_init(struct i8042 *k)
{
	memset(k, 0, sizeof(*k));
	k->ctr = 0x44; /* translation on, system flag, no interrupts */
}

static void respond(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->out_full = true;
}

uint8_t i8042_read(struct i8042 *k, uint16_t port)
{
	if (port == I8042_CMD_PORT)
		return (uint8_t)(ST_SYS | ST_UNLOCKED | (k->out_full ? ST_OBF : 0));
	k->out_full = false;
	return k->out;
}

bool i8042_write(struct i8042 *k, uint16_t port, uint8_t v)
{
	if (port == I8042_DATA_PORT) {
		if (k->pending_cmd == CMD_WRITE_CTR)
			k->ctr = v;
		k->pending_cmd = 0;
		return false;
	}
	switch (v) {
	case I8042_CMD_RESET:
		k->reset_requested = true;
		return true;
	case CMD_READ_CTR:
		respond(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
		k->pending_cmd = v;
		break;
	case CMD_SELF_TEST:
		respond(k, 0x55);
		break;
	case CMD_KBD_TEST:
		respond(k, 0x00);
		break;
	default:
		break;
	}
	return false;
}
