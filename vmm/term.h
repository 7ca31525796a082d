/* SPDX-License-Identifier: MIT */
#ifndef INLAY_TERM_H
#define INLAY_TERM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct vm;
struct uart;

/**
 * Host input for the serial console: reads @fd on the event loop and feeds
 * the UART, pausing while its receive buffer is full. On a terminal, the
 * terminal is raw (restored by term_input_finish) and Ctrl-A x quits,
 * Ctrl-A Ctrl-A sends a Ctrl-A.
 */
struct term_input {
	struct vm *vm;
	struct uart *uart;
	int fd;
	pthread_mutex_t lock;
	bool watching;
	bool eof;
	bool escape;
	bool raw;
	struct termios saved;
	uint8_t pending[256];
	size_t pending_len, pending_off;
};

/** Returns 0; input that cannot be watched (a regular file) is treated as EOF. */
int term_input_init(struct term_input *t, struct vm *vm, struct uart *uart, int fd);
void term_input_finish(struct term_input *t);
/** uart rx_ready callback: the guest drained its receive buffer. */
void term_input_resume(void *opaque);

#endif
