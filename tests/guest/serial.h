/* SPDX-License-Identifier: MIT */
/* 8250 UART on COM1: polled output with minimal printf, receive helpers. */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define SERIAL_PORT 0x3f8
#define SERIAL_IRQ  4

/** Program 115200 8N1 with FIFOs; interrupts stay off. */
void serial_init(void);
void serial_putc(char c);
/**
 * printf subset: %s %c %d %u %x %p %%, with an optional '0' flag and width
 * for the numbers (%08x). %llx prints a uint64_t in hex.
 */
void serial_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Print @len bytes as hex, 32 per line, each line prefixed by @prefix. */
void serial_hexdump(const char *prefix, const uint8_t *buf, uint32_t len);
/** Is a received byte waiting (LSR data ready)? */
bool serial_rx_ready(void);
uint8_t serial_rx_byte(void);
/** Raise IRQ 4 when a byte arrives (IER bit 0, MCR OUT2). */
void serial_rx_irq_enable(void);

#endif
