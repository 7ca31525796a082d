// SPDX-License-Identifier: MIT
#include "e820.h"
#include "layout.h"

#include <asm/e820.h>

static unsigned e820_add(struct e820_range *out, unsigned n, uint64_t start, uint64_t end,
			 uint32_t type)
{
	if (end <= start)
		return n;
	out[n] = (struct e820_range){.addr = start, .size = end - start, .type = type};
	return n + 1;
}

unsigned e820_build(const struct guest_mem *mem, struct e820_range out[E820_MAX_RANGES])
{
	uint64_t low = mem->low_size;
	uint64_t high = guest_mem_high_size(mem);
	unsigned n = 0;

	n = e820_add(out, n, 0, low < LAYOUT_EBDA ? low : LAYOUT_EBDA, E820_RAM);
	n = e820_add(out, n, LAYOUT_EBDA, LAYOUT_BIOS_END, E820_RESERVED);
	n = e820_add(out, n, LAYOUT_BIOS_END, low, E820_RAM);
	if (high)
		n = e820_add(out, n, LAYOUT_HIGH_RAM, LAYOUT_HIGH_RAM + high, E820_RAM);
	return n;
}
