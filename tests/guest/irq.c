// SPDX-License-Identifier: MIT
#include "irq.h"

#include "apic.h"
#include "guest.h"
#include "io.h"
#include "seg.h"
#include "serial.h"

#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1
#define IDT_GATE_INTR32 0x8e00u
/* KVM's APIC timer counts at 1 GHz; divided by 16 that is 62500 per ms. */
#define TICK_COUNT_PER_MS 62500u

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint16_t flags;
	uint16_t off_hi;
};

extern const uint8_t isr_stubs[];

static struct idt_gate idt[256];
static irq_handler handlers[256];
static volatile uint32_t ticks;

static void tick(struct irq_frame *f)
{
	ticks++;
}

void irq_init(uint32_t tick_ms)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idtr = {sizeof(idt) - 1, (uintptr_t)idt};

	for (int v = 0; v < 256; v++) {
		uintptr_t stub = (uintptr_t)isr_stubs + 16u * v;

		idt[v] = (struct idt_gate){(uint16_t)stub, SEG_CODE, IDT_GATE_INTR32,
					   (uint16_t)(stub >> 16)};
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	lapic_enable(IRQ_VEC_SPURIOUS);
	handlers[IRQ_VEC_TICK] = tick;
	lapic_timer_periodic(IRQ_VEC_TICK, tick_ms * TICK_COUNT_PER_MS);
}

void irq_set_handler(uint8_t vector, irq_handler h)
{
	handlers[vector] = h;
}

uint32_t irq_ticks(void)
{
	return ticks;
}

void irq_dispatch(struct irq_frame *f)
{
	uint8_t v = (uint8_t)f->vector;

	if (v < 32) {
		serial_printf("irq: exception %u error %x at eip %x\n", v, f->error, f->eip);
		guest_exit(GUEST_EXCEPTION);
	}
	if (v == IRQ_VEC_SPURIOUS)
		return;
	if (handlers[v])
		handlers[v](f);
	else
		serial_printf("irq: unexpected vector 0x%x\n", v);
	lapic_eoi();
}
