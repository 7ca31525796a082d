/* SPDX-License-Identifier: MIT */
/* Intel MultiProcessor Specification 1.4 table reader. */
#ifndef GUEST_MPTABLE_H
#define GUEST_MPTABLE_H

#include <stdint.h>

#define MPT_MAX_CPUS 64

struct mpt_info {
	uint32_t nr_cpus; /* enabled processor entries */
	uint8_t apic_id[MPT_MAX_CPUS];
	uint8_t bsp_apic_id;
	uint32_t nr_ioapics;
};

/**
 * Find the "_MP_" floating pointer in the BIOS area, check both checksums
 * and the entry layout, and collect the processors. Returns 0, or -1 after
 * printing what is wrong.
 */
int mpt_read(struct mpt_info *info);

#endif
