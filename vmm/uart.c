// SPDX-License-Identifier: MIT
#include "uart.h"
#include "snapshot/snap_format.h"

#include <errno.h>
#include <linux/serial_reg.h>
#include <string.h>
#include <unistd.h>

void uart_init(struct uart *u, int out_fd, void (*set_irq)(void *, int), void (*rx_ready)(void *),
	       void *opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->set_irq = set_irq;
	u->rx_ready = rx_ready;
	u->opaque = opaque;
	u->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	u->dll = 12; /* 9600 baud, as firmware leaves it */
}

void uart_finish(struct uart *u)
{
	pthread_mutex_destroy(&u->lock);
}

/* Interrupt identification by 16550 priority: line status, data, THR empty, modem. */
static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & UART_FCR_ENABLE_FIFO) ? 0xc0 : 0;
	if ((u->ier & UART_IER_RLSI) && u->lsr_err)
		return fifo | UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return fifo | UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_ANY_DELTA))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

/*
 * Drive the line under the lock: two threads signalling outside it could
 * reorder a rise and a fall and leave the edge-triggered pin stuck.
 */
static void uart_update_irq(struct uart *u)
{
	int level = !(uart_iir(u) & UART_IIR_NO_INT);
	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->set_irq)
		u->set_irq(u->opaque, level);
}

/* Queue @c for the guest; false when the FIFO is full. */
static bool uart_rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_count == UART_RX_SIZE)
		return false;
	u->rx[(u->rx_head + u->rx_count++) % UART_RX_SIZE] = c;
	return true;
}

static void uart_put(struct uart *u, uint8_t c)
{
	if (u->mcr & UART_MCR_LOOP) {
		if (!uart_rx_push(u, c))
			u->lsr_err |= UART_LSR_OE;
		return;
	}
	if (u->out_fd < 0)
		return;
	for (;;) {
		ssize_t n = write(u->out_fd, &c, 1);
		if (n == 1 || (n < 0 && errno != EINTR))
			return;
	}
}

/* In loopback the modem inputs follow the modem outputs (16550 data sheet). */
static uint8_t uart_msr(struct uart *u)
{
	if (!(u->mcr & UART_MCR_LOOP))
		return u->msr;
	uint8_t m = 0;
	if (u->mcr & UART_MCR_RTS)
		m |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		m |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		m |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		m |= UART_MSR_DCD;
	return m;
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_TX:
		if (dlab) {
			u->dll = v;
			break;
		}
		uart_put(u, v);
		/* The byte left at once: THR is empty again. */
		u->thre_pending = true;
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises it, as on the real part. */
		if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
			u->thre_pending = true;
		u->ier = v & 0x0f;
		break;
	case UART_FCR:
		if (v & UART_FCR_CLEAR_RCVR) {
			u->rx_count = 0;
			u->rx_head = 0;
		}
		u->fcr = v & (UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only */
	case UART_SCR:
		u->scr = v;
		break;
	}
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_RX: {
		if (dlab)
			return u->dll;
		if (!u->rx_count)
			return 0;
		uint8_t c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
		u->rx_count--;
		return c;
	}
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR: {
		uint8_t iir = uart_iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((iir & 0x0f) == UART_IIR_THRI)
			u->thre_pending = false;
		return iir;
	}
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR: {
		uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_err;
		if (u->rx_count)
			lsr |= UART_LSR_DR;
		u->lsr_err = 0;
		return lsr;
	}
	case UART_MSR: {
		uint8_t m = uart_msr(u);
		u->msr &= ~UART_MSR_ANY_DELTA;
		return m;
	}
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

void uart_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct uart *u = opaque;
	if (offset >= 8 || len != 1)
		return;
	pthread_mutex_lock(&u->lock);
	if (is_write)
		uart_write_reg(u, (unsigned)offset, data[0]);
	else
		data[0] = uart_read_reg(u, (unsigned)offset);
	uart_update_irq(u);
	bool wake = u->rx_was_full && u->rx_count < UART_RX_SIZE;
	if (wake)
		u->rx_was_full = false;
	pthread_mutex_unlock(&u->lock);
	if (wake && u->rx_ready)
		u->rx_ready(u->opaque);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	pthread_mutex_lock(&u->lock);
	while (n < len && uart_rx_push(u, buf[n]))
		n++;
	if (n < len)
		u->rx_was_full = true;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

void uart_save(struct uart *u, struct snap_writer *w)
{
	pthread_mutex_lock(&u->lock);
	const uint8_t regs[] = {u->ier,
				u->lcr,
				u->mcr,
				u->msr,
				u->scr,
				u->dll,
				u->dlm,
				u->fcr,
				u->lsr_err,
				u->thre_pending,
				(uint8_t)u->irq_level};
	snap_put_bytes(w, regs, sizeof(regs));
	snap_put_u32(w, u->rx_count);
	for (unsigned i = 0; i < u->rx_count; i++)
		snap_put_u8(w, u->rx[(u->rx_head + i) % UART_RX_SIZE]);
	pthread_mutex_unlock(&u->lock);
}

bool uart_restore(struct uart *u, struct snap_section *s)
{
	uint8_t r[11];
	uint32_t count;
	if (!snap_get_bytes(s, r, sizeof(r)) || !snap_get_u32(s, &count))
		return false;
	/* Only values the guest could have produced through uart_io(). */
	if (r[0] & ~0x0fu || r[2] & ~0x1fu ||
	    r[7] & ~(UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK) || r[8] & ~UART_LSR_OE ||
	    r[9] > 1 || r[10] > 1 || count > UART_RX_SIZE)
		return snap_fail(s);
	const uint8_t *rx = snap_get_ref(s, count);
	if (!rx)
		return false;
	pthread_mutex_lock(&u->lock);
	u->ier = r[0];
	u->lcr = r[1];
	u->mcr = r[2];
	u->msr = r[3];
	u->scr = r[4];
	u->dll = r[5];
	u->dlm = r[6];
	u->fcr = r[7];
	u->lsr_err = r[8];
	u->thre_pending = r[9];
	memcpy(u->rx, rx, count);
	u->rx_head = 0;
	u->rx_count = count;
	/* The restored irqchip expects the line where it was. */
	u->irq_level = r[10];
	if (u->set_irq)
		u->set_irq(u->opaque, u->irq_level);
	pthread_mutex_unlock(&u->lock);
	return true;
}
