/* SPDX-License-Identifier: MIT */
/* IDT, interrupt dispatch and a periodic tick that bounds HLT waits. */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdint.h>

#define IRQ_VEC_TICK	 0x20
#define IRQ_VEC_SPURIOUS 0xff

/* Layout pushed by isr.S. */
struct irq_frame {
	uint32_t edi, esi, ebp, esp_dummy, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

typedef void (*irq_handler)(struct irq_frame *f);

/**
 * Load the IDT, mask the 8259 PICs (interrupts come through the APICs
 * only), enable the local APIC and start a tick every ~@tick_ms so that
 * HLT never sleeps unbounded. Interrupts stay disabled (cli) until waited for.
 */
void irq_init(uint32_t tick_ms);
/** Call @h for @vector (>= 32); the dispatcher sends the EOI. */
void irq_set_handler(uint8_t vector, irq_handler h);
/** Ticks seen so far. */
uint32_t irq_ticks(void);

void irq_dispatch(struct irq_frame *f);

#endif
