/* SPDX-License-Identifier: MIT */
/* Local APIC (xAPIC MMIO) and I/O APIC access. */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE  0xfee00000u
#define IOAPIC_BASE 0xfec00000u

/* ICR delivery modes and flags used for AP start-up. */
#define LAPIC_ICR_INIT	       0x00000500u
#define LAPIC_ICR_STARTUP      0x00000600u
#define LAPIC_ICR_LEVEL_ASSERT 0x00004000u

/** Software-enable this CPU's local APIC with @spurious_vector. */
void lapic_enable(uint8_t spurious_vector);
uint8_t lapic_id(void);
void lapic_eoi(void);
/** Periodic timer on @vector every @count bus clocks divided by 16. */
void lapic_timer_periodic(uint8_t vector, uint32_t count);
/** Send an IPI (@icr_low) to @apic_id; false if it stayed pending too long. */
bool lapic_send_ipi(uint8_t apic_id, uint32_t icr_low);
/** Route I/O APIC @pin (edge, active high) to @vector on @apic_id. */
void ioapic_route(uint8_t pin, uint8_t vector, uint8_t apic_id);

#endif
