// SPDX-License-Identifier: MIT
#include "apic.h"

#include "guest.h"
#include "io.h"

#define LAPIC_ID	 0x20
#define LAPIC_EOI	 0xb0
#define LAPIC_SVR	 0xf0
#define LAPIC_ICR_LO	 0x300
#define LAPIC_ICR_HI	 0x310
#define LAPIC_LVT_TIMER	 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV	 0x3e0

#define LAPIC_SVR_ENABLE     0x100
#define LAPIC_TIMER_PERIODIC 0x20000
#define LAPIC_TIMER_DIV16    0x3
#define LAPIC_ICR_PENDING    0x1000
#define LAPIC_IPI_TIMEOUT_MS 100

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_REDTBL 0x10

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

void lapic_enable(uint8_t spurious_vector)
{
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | spurious_vector);
}

uint8_t lapic_id(void)
{
	return (uint8_t)(lapic_read(LAPIC_ID) >> 24);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_periodic(uint8_t vector, uint32_t count)
{
	lapic_write(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | vector);
	lapic_write(LAPIC_TIMER_INIT, count);
}

bool lapic_send_ipi(uint8_t apic_id, uint32_t icr_low)
{
	uint64_t deadline = deadline_in_ms(LAPIC_IPI_TIMEOUT_MS);

	lapic_write(LAPIC_ICR_HI, (uint32_t)apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_low);
	while (lapic_read(LAPIC_ICR_LO) & LAPIC_ICR_PENDING) {
		if (deadline_passed(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

void ioapic_route(uint8_t pin, uint8_t vector, uint8_t apic_id)
{
	/* High dword first: the entry is unmasked only once it is complete. */
	ioapic_write(IOAPIC_REDTBL + 2u * pin + 1, (uint32_t)apic_id << 24);
	ioapic_write(IOAPIC_REDTBL + 2u * pin, vector);
}
