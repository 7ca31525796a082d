// SPDX-License-Identifier: MIT
/*
 * virtio-console driven by MSI-X: receive one line from the host (port 0,
 * no MULTIPORT), send it back upper-cased. The rx wait sleeps in HLT and must
 * be woken by the queue's MSI-X vector; the tick only bounds the wait.
 */
#include "apic.h"
#include "guest.h"
#include "io.h"
#include "irq.h"
#include "serial.h"
#include "virtio.h"

#include <linux/virtio_ids.h>

#define CON_VEC_RX	  0x41
#define CON_VEC_TX	  0x42
#define CON_CHUNK	  64
#define CON_LINE_MAX	  128
#define CON_RX_TIMEOUT_MS 30000
#define CON_TX_TIMEOUT_MS 10000
#define CON_IRQ_GRACE_MS  1000
#define CON_TICK_MS	  10

static volatile uint32_t rx_irqs, tx_irqs;
static uint8_t chunk[CON_CHUNK];
static uint8_t line[CON_LINE_MAX];

static void on_rx(struct irq_frame *f)
{
	rx_irqs++;
}

static void on_tx(struct irq_frame *f)
{
	tx_irqs++;
}

static int setup(struct vio_dev *d, struct vio_queue *rx, struct vio_queue *tx)
{
	uint16_t tx_entry = VIRTIO_MSI_NO_VECTOR;
	pci_devfn df;

	if (!pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_CONSOLE, 0, &df)) {
		serial_printf("console: no virtio-console device\n");
		return -1;
	}
	if (vio_init(d, df, 0) || vio_msix_route(d, 0, lapic_id(), CON_VEC_RX))
		return -1;
	if (d->msix_size > 1 && !vio_msix_route(d, 1, lapic_id(), CON_VEC_TX))
		tx_entry = 1;
	if (vio_queue_init(d, rx, 0, 0) || vio_queue_init(d, tx, 1, tx_entry))
		return -1;
	return vio_driver_ok(d);
}

/* Collects chunks until a newline; returns the line length or -1. */
static int receive_line(struct vio_queue *rx)
{
	uint32_t have = 0, got;

	while (have == 0 || line[have - 1] != '\n') {
		struct vio_buf b = {chunk, CON_CHUNK, true};

		if (vio_submit(rx, &b, 1) || vio_wait(rx, VIO_HALT, CON_RX_TIMEOUT_MS, &got))
			return -1;
		if (got > CON_CHUNK || got > CON_LINE_MAX - have) {
			serial_printf("console: %u bytes overflow the line (%u so far)\n", got,
				      have);
			return -1;
		}
		for (uint32_t i = 0; i < got; i++)
			line[have++] = chunk[i];
	}
	return (int)have;
}

int guest_main(const char *cmdline)
{
	struct vio_dev dev;
	struct vio_queue rx, tx;
	uint64_t grace;
	uint32_t sent;
	int len;

	irq_init(CON_TICK_MS);
	irq_set_handler(CON_VEC_RX, on_rx);
	irq_set_handler(CON_VEC_TX, on_tx);
	if (setup(&dev, &rx, &tx))
		return GUEST_FAIL;
	serial_printf("console: waiting for a line\n");
	len = receive_line(&rx);
	if (len < 0)
		return GUEST_TIMEOUT;
	/* The used ring may be seen on a tick just before the MSI lands. */
	grace = deadline_in_ms(CON_IRQ_GRACE_MS);
	while (!rx_irqs && !deadline_passed(grace))
		irq_wait();
	for (int i = 0; i < len; i++)
		if (line[i] >= 'a' && line[i] <= 'z')
			line[i] -= 'a' - 'A';
	{
		struct vio_buf b = {line, (uint32_t)len, false};

		if (vio_submit(&tx, &b, 1) || vio_wait(&tx, VIO_HALT, CON_TX_TIMEOUT_MS, &sent))
			return GUEST_TIMEOUT;
	}
	serial_printf("console: echoed %d bytes, rx irqs %u, tx irqs %u, ticks %u\n", len, rx_irqs,
		      tx_irqs, irq_ticks());
	if (!rx_irqs) {
		serial_printf("console: data arrived without an MSI-X interrupt\n");
		return GUEST_FAIL;
	}
	return GUEST_OK;
}
