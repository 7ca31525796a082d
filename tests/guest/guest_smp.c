// SPDX-License-Identifier: MIT
/*
 * Checks the MP table against "cpus=N" (default 1), starts every other
 * processor it lists with INIT-SIPI-SIPI through a real-mode trampoline at
 * TRAMPOLINE_ADDR, and waits for each AP to report its APIC id.
 */
#include "apic.h"
#include "guest.h"
#include "irq.h"
#include "lib.h"
#include "mptable.h"
#include "serial.h"

/* Free in the VMM's low-memory map (start info ends at 0x7fff, bzImage page
 * tables begin at 0x9000) and in a PC's conventional memory. */
#define TRAMPOLINE_ADDR	    0x8000u
#define AP_START_TIMEOUT_MS 10000
#define INIT_DELAY_US	    10000
#define SIPI_DELAY_US	    200
#define SMP_TICK_MS	    10

extern const uint8_t trampoline_start[], trampoline_gdtr[], trampoline_end[];
extern volatile uint32_t ap_slots, ap_started;
extern volatile uint8_t ap_apic_ids[MPT_MAX_CPUS];

static void install_trampoline(void)
{
	uint8_t *dst = (uint8_t *)TRAMPOLINE_ADDR;

	_Static_assert((TRAMPOLINE_ADDR & 0xfff) == 0 && TRAMPOLINE_ADDR < 0x100000,
		       "SIPI vector addresses a page below 1 MiB");
	memcpy(dst, trampoline_start, (size_t)(trampoline_end - trampoline_start));
	__asm__ volatile("sgdt %0"
			 : "=m"(*(uint8_t(*)[6])(dst + (trampoline_gdtr - trampoline_start))));
}

static bool start_ap(uint8_t apic_id)
{
	uint32_t sipi = LAPIC_ICR_STARTUP | TRAMPOLINE_ADDR >> 12;

	if (!lapic_send_ipi(apic_id, LAPIC_ICR_INIT | LAPIC_ICR_LEVEL_ASSERT))
		return false;
	delay_us(INIT_DELAY_US);
	if (!lapic_send_ipi(apic_id, sipi))
		return false;
	delay_us(SIPI_DELAY_US);
	return lapic_send_ipi(apic_id, sipi);
}

static bool listed(const struct mpt_info *mp, uint8_t id)
{
	for (uint32_t i = 0; i < mp->nr_cpus; i++)
		if (mp->apic_id[i] == id)
			return true;
	return false;
}

int guest_main(const char *cmdline)
{
	uint32_t expected = cmdline_uint(cmdline, "cpus", 1), want_aps, up;
	struct mpt_info mp;
	uint8_t self;
	uint64_t deadline;

	irq_init(SMP_TICK_MS);
	self = lapic_id();
	if (mpt_read(&mp))
		return GUEST_FAIL;
	serial_printf("smp: mptable lists %u cpus, bsp apic id %u, %u I/O APICs; this cpu is "
		      "apic id %u\n",
		      mp.nr_cpus, mp.bsp_apic_id, mp.nr_ioapics, self);
	if (mp.nr_cpus != expected || mp.bsp_apic_id != self || !listed(&mp, self)) {
		serial_printf("smp: expected %u cpus with this cpu as the bsp\n", expected);
		return GUEST_FAIL;
	}
	install_trampoline();
	for (uint32_t i = 0; i < mp.nr_cpus; i++) {
		if (mp.apic_id[i] == self)
			continue;
		if (!start_ap(mp.apic_id[i])) {
			serial_printf("smp: IPI to apic id %u stuck pending\n", mp.apic_id[i]);
			return GUEST_FAIL;
		}
	}
	want_aps = mp.nr_cpus - 1;
	deadline = deadline_in_ms(AP_START_TIMEOUT_MS);
	while (ap_started < want_aps && !deadline_passed(deadline))
		delay_us(1000);
	up = ap_started;
	for (uint32_t i = 0; i < up && i < MPT_MAX_CPUS; i++) {
		serial_printf("smp: ap apic id %u\n", ap_apic_ids[i]);
		if (!listed(&mp, ap_apic_ids[i]) || ap_apic_ids[i] == self) {
			serial_printf("smp: apic id %u is not an AP of the MP table\n",
				      ap_apic_ids[i]);
			return GUEST_FAIL;
		}
	}
	serial_printf("cpus up: %u\n", up + 1);
	return up == want_aps ? GUEST_OK : GUEST_TIMEOUT;
}
