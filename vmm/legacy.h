/* SPDX-License-Identifier: MIT */
#ifndef INLAY_LEGACY_H
#define INLAY_LEGACY_H

#include <stdbool.h>

struct vm;
struct i8042;
struct debug_exit;
struct snap_writer;
struct snap_section;

/**
 * The i8042 keyboard controller, only as far as a PC guest needs it to
 * reset the machine (command 0xfe, or output-port bit 0 cleared).
 * NULL on failure. Destroy is safe on NULL.
 */
struct i8042 *i8042_create(struct vm *vm);
void i8042_destroy(struct i8042 *k);
/** Append the controller's state to the open section of @w. */
void i8042_save(struct i8042 *k, struct snap_writer *w);
/** Take it back, checking every value; false (changing nothing) on bad state. */
bool i8042_restore(struct i8042 *k, struct snap_section *s);

/** The exit port (LAYOUT_PORT_EXIT): one byte, 0 = success. */
struct debug_exit *debug_exit_create(struct vm *vm);
void debug_exit_destroy(struct debug_exit *d);

#endif
