// SPDX-License-Identifier: MIT
#include "serial.h"

#include "io.h"

#include <linux/serial_reg.h>
#include <stdarg.h>

/* Bounds the wait for a transmitter that never drains. */
#define SERIAL_TX_SPINS 100000

void serial_init(void)
{
	outb(SERIAL_PORT + UART_IER, 0);
	outb(SERIAL_PORT + UART_LCR, UART_LCR_DLAB);
	outb(SERIAL_PORT + UART_DLL, 1);
	outb(SERIAL_PORT + UART_DLM, 0);
	outb(SERIAL_PORT + UART_LCR, UART_LCR_WLEN8);
	outb(SERIAL_PORT + UART_FCR,
	     UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	outb(SERIAL_PORT + UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
}

void serial_putc(char c)
{
	for (int i = 0; i < SERIAL_TX_SPINS; i++)
		if (inb(SERIAL_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	outb(SERIAL_PORT + UART_TX, (uint8_t)c);
}

static void put_str(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

static void put_num(uint64_t v, unsigned base, int width, char pad, bool neg)
{
	char buf[24];
	int n = 0;

	/* 64-bit division needs libgcc, so split into 32-bit halves for hex and
	 * keep decimal to 32 bits (all decimal callers pass 32-bit values). */
	if (base == 16) {
		do {
			buf[n++] = "0123456789abcdef"[v & 0xf];
			v >>= 4;
		} while (v);
	} else {
		uint32_t d = (uint32_t)v;

		do {
			buf[n++] = (char)('0' + d % 10);
			d /= 10;
		} while (d);
	}
	if (neg)
		buf[n++] = '-';
	while (n < width && n < (int)sizeof(buf))
		buf[n++] = pad;
	while (n)
		serial_putc(buf[--n]);
}

void serial_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			put_str(va_arg(ap, const char *));
			break;
		case 'c':
			serial_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			int v = va_arg(ap, int);

			put_num(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
			put_num(va_arg(ap, unsigned), 10, width, pad, false);
			break;
		case 'x':
			if (longs >= 2)
				put_num(va_arg(ap, uint64_t), 16, width, pad, false);
			else
				put_num(va_arg(ap, unsigned), 16, width, pad, false);
			break;
		case 'p':
			put_str("0x");
			put_num((uintptr_t)va_arg(ap, void *), 16, 8, '0', false);
			break;
		case '\0':
			fmt--;
			break;
		default:
			serial_putc(*fmt);
			break;
		}
	}
	va_end(ap);
}

void serial_hexdump(const char *prefix, const uint8_t *buf, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		if (i % 32 == 0)
			put_str(prefix);
		put_num(buf[i], 16, 2, '0', false);
		if (i % 32 == 31 || i + 1 == len)
			serial_putc('\n');
	}
}

bool serial_rx_ready(void)
{
	return inb(SERIAL_PORT + UART_LSR) & UART_LSR_DR;
}

uint8_t serial_rx_byte(void)
{
	return inb(SERIAL_PORT + UART_RX);
}

void serial_rx_irq_enable(void)
{
	outb(SERIAL_PORT + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	outb(SERIAL_PORT + UART_IER, UART_IER_RDI);
}
