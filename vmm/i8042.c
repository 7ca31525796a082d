// SPDX-License-Identifier: MIT
#include "layout.h"
#include "legacy.h"
#include "vm.h"
#include "snapshot/snap_format.h"

#include <stdlib.h>

#define I8042_STATUS_OBF 0x01
#define I8042_STATUS_SYS 0x04

#define I8042_CMD_READ_CTR     0x20
#define I8042_CMD_WRITE_CTR    0x60
#define I8042_CMD_AUX_TEST     0xa9
#define I8042_CMD_SELF_TEST    0xaa
#define I8042_CMD_KBD_TEST     0xab
#define I8042_CMD_WRITE_OUTPUT 0xd1
#define I8042_CMD_PULSE_RESET  0xfe

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ctr;
	uint8_t out;
	bool out_full;
	uint8_t pending_cmd; /* a command waiting for its data byte */
};

static void i8042_reply(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->out_full = true;
}

static bool i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case I8042_CMD_READ_CTR:
		i8042_reply(k, k->ctr);
		break;
	case I8042_CMD_WRITE_CTR:
	case I8042_CMD_WRITE_OUTPUT:
		k->pending_cmd = cmd;
		break;
	case I8042_CMD_SELF_TEST:
		i8042_reply(k, 0x55);
		break;
	case I8042_CMD_KBD_TEST:
	case I8042_CMD_AUX_TEST:
		i8042_reply(k, 0x00);
		break;
	case I8042_CMD_PULSE_RESET:
		return true;
	}
	return false;
}

static bool i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;
	k->pending_cmd = 0;
	if (cmd == I8042_CMD_WRITE_CTR)
		k->ctr = v;
	else if (cmd == I8042_CMD_WRITE_OUTPUT)
		return !(v & 1); /* bit 0 drives the CPU reset line, active low */
	return false;
}

static void i8042_access(struct i8042 *k, bool cmd_port, uint8_t *data, uint32_t len, bool is_write)
{
	bool reset = false;
	if (len != 1)
		return;
	pthread_mutex_lock(&k->lock);
	if (is_write) {
		reset = cmd_port ? i8042_command(k, data[0]) : i8042_data(k, data[0]);
	} else if (cmd_port) {
		data[0] = I8042_STATUS_SYS | (k->out_full ? I8042_STATUS_OBF : 0);
	} else {
		data[0] = k->out;
		k->out_full = false;
	}
	pthread_mutex_unlock(&k->lock);
	if (reset)
		vm_request_exit(k->vm, VM_EXIT_RESET);
}

static void i8042_data_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	i8042_access(opaque, false, data, len, is_write);
}

static void i8042_cmd_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	i8042_access(opaque, true, data, len, is_write);
}

struct i8042 *i8042_create(struct vm *vm)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->vm = vm;
	k->ctr = 0x01; /* keyboard interrupt enabled, as firmware leaves it */
	pthread_mutex_init(&k->lock, NULL);
	if (bus_register(&vm->pio, LAYOUT_PORT_I8042_DATA, 1, i8042_data_io, k) < 0)
		goto err_free;
	if (bus_register(&vm->pio, LAYOUT_PORT_I8042_CMD, 1, i8042_cmd_io, k) < 0)
		goto err_data;
	return k;
err_data:
	bus_unregister(&vm->pio, LAYOUT_PORT_I8042_DATA, k);
err_free:
	pthread_mutex_destroy(&k->lock);
	free(k);
	return NULL;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	bus_unregister(&k->vm->pio, LAYOUT_PORT_I8042_DATA, k);
	bus_unregister(&k->vm->pio, LAYOUT_PORT_I8042_CMD, k);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void i8042_save(struct i8042 *k, struct snap_writer *w)
{
	pthread_mutex_lock(&k->lock);
	const uint8_t st[] = {k->ctr, k->out, k->out_full, k->pending_cmd};
	snap_put_bytes(w, st, sizeof(st));
	pthread_mutex_unlock(&k->lock);
}

bool i8042_restore(struct i8042 *k, struct snap_section *s)
{
	uint8_t st[4];
	if (!snap_get_bytes(s, st, sizeof(st)))
		return false;
	if (st[2] > 1 || (st[3] && st[3] != I8042_CMD_WRITE_CTR && st[3] != I8042_CMD_WRITE_OUTPUT))
		return snap_fail(s);
	pthread_mutex_lock(&k->lock);
	k->ctr = st[0];
	k->out = st[1];
	k->out_full = st[2];
	k->pending_cmd = st[3];
	pthread_mutex_unlock(&k->lock);
	return true;
}
