// SPDX-License-Identifier: MIT
/*
 * Echoes what arrives on COM1 until SERIAL_SENTINEL. Bytes are taken only in
 * the receive interrupt (IRQ 4 through I/O APIC pin 4), so a lost interrupt
 * shows up as a timeout rather than being papered over by polling.
 */
#include "apic.h"
#include "guest.h"
#include "io.h"
#include "irq.h"
#include "serial.h"

#define SERIAL_VEC	  0x24
#define SERIAL_SENTINEL	  '~'
#define SERIAL_TIMEOUT_MS 30000
#define SERIAL_TICK_MS	  10
#define RX_RING		  256

/* The handler runs only inside irq_wait(), so head and tail never race. */
static uint8_t ring[RX_RING];
static volatile uint32_t ring_head, irqs;
static uint32_t ring_tail;
static volatile bool overflow;

static void on_rx(struct irq_frame *f)
{
	irqs++;
	while (serial_rx_ready()) {
		uint8_t b = serial_rx_byte();

		if (ring_head - ring_tail >= RX_RING)
			overflow = true;
		else
			ring[ring_head++ % RX_RING] = b;
	}
}

int guest_main(const char *cmdline)
{
	uint64_t deadline = deadline_in_ms(SERIAL_TIMEOUT_MS);
	uint32_t echoed = 0;

	irq_init(SERIAL_TICK_MS);
	irq_set_handler(SERIAL_VEC, on_rx);
	ioapic_route(SERIAL_IRQ, SERIAL_VEC, lapic_id());
	/* Drop anything that arrived before interrupts were wired up. */
	while (serial_rx_ready())
		serial_rx_byte();
	serial_rx_irq_enable();
	serial_printf("serial: ready\n");
	for (;;) {
		while (ring_tail != ring_head) {
			uint8_t b = ring[ring_tail++ % RX_RING];

			if (b == SERIAL_SENTINEL) {
				serial_printf("\nserial: echoed %u bytes, %u rx irqs\n", echoed,
					      irqs);
				return overflow ? GUEST_FAIL : GUEST_OK;
			}
			serial_putc((char)b);
			echoed++;
		}
		if (deadline_passed(deadline)) {
			serial_printf("\nserial: no sentinel after %u bytes, %u rx irqs\n", echoed,
				      irqs);
			return GUEST_TIMEOUT;
		}
		irq_wait();
	}
}
