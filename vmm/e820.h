/* SPDX-License-Identifier: MIT */
#ifndef INLAY_E820_H
#define INLAY_E820_H

#include "guest_mem.h"

#include <stdint.h>

/* Entries e820_build() can produce: low RAM, BIOS area, RAM above 1 MiB, high RAM. */
#define E820_MAX_RANGES 4

/** One range of the guest memory map; type is E820_RAM or E820_RESERVED (asm/e820.h). */
struct e820_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/**
 * Describe @mem as a PC would: RAM below the EBDA, the reserved BIOS area up
 * to 1 MiB, RAM from 1 MiB to the end of low RAM and RAM at 4 GiB when there
 * is high memory. Fills @out and returns the number of entries used.
 */
unsigned e820_build(const struct guest_mem *mem, struct e820_range out[E820_MAX_RANGES]);

#endif
