/* SPDX-License-Identifier: MIT */
#ifndef INLAY_UART_H
#define INLAY_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_RX_SIZE 1024

struct snap_writer;
struct snap_section;

/**
 * A 16550A UART (8 registers). Transmit is immediate: every THR write goes
 * to out_fd. Receive is fed by uart_receive() from the host side.
 */
struct uart {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm, fcr;
	uint8_t lsr_err; /* overrun, sticky until LSR is read */
	bool thre_pending;
	uint8_t rx[UART_RX_SIZE];
	unsigned rx_head, rx_count;
	int irq_level;
	int out_fd;				  /* -1 discards output */
	void (*set_irq)(void *opaque, int level); /* called with the lock held */
	/* Called (without the lock) when receive space frees up after a full buffer. */
	void (*rx_ready)(void *opaque);
	void *opaque;
	bool rx_was_full;
};

void uart_init(struct uart *u, int out_fd, void (*set_irq)(void *, int), void (*rx_ready)(void *),
	       void *opaque);
void uart_finish(struct uart *u);
/** bus_access_fn for the 8 ports at the UART's base. */
void uart_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);
/** Queue host input; returns how many bytes fit (the rest must be retried). */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

/** Append the registers and the receive buffer to the open section of @w. */
void uart_save(struct uart *u, struct snap_writer *w);
/**
 * Take back what uart_save() wrote, checking every value. Drives the IRQ
 * line to the saved level. Returns false (changing nothing) on bad state.
 */
bool uart_restore(struct uart *u, struct snap_section *s);

#endif
