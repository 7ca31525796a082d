// SPDX-License-Identifier: MIT
#include "pci.h"

#include "io.h"
#include "serial.h"

#include <linux/pci_regs.h>

#define PCI_ADDR_PORT	 0xcf8
#define PCI_DATA_PORT	 0xcfc
#define PCI_WINDOW_START 0xc0000000u
#define PCI_WINDOW_END	 0xe0000000u
#define PCI_MAX_CAPS	 48

static uint32_t window_next = PCI_WINDOW_START;

static void pci_select(pci_devfn df, uint8_t off)
{
	outl(PCI_ADDR_PORT, 0x80000000u | (uint32_t)df << 8 | (off & 0xfc));
}

uint32_t pci_read32(pci_devfn df, uint8_t off)
{
	pci_select(df, off);
	return inl(PCI_DATA_PORT);
}

uint16_t pci_read16(pci_devfn df, uint8_t off)
{
	pci_select(df, off);
	return inw(PCI_DATA_PORT + (off & 2));
}

uint8_t pci_read8(pci_devfn df, uint8_t off)
{
	pci_select(df, off);
	return inb(PCI_DATA_PORT + (off & 3));
}

void pci_write32(pci_devfn df, uint8_t off, uint32_t v)
{
	pci_select(df, off);
	outl(PCI_DATA_PORT, v);
}

void pci_write16(pci_devfn df, uint8_t off, uint16_t v)
{
	pci_select(df, off);
	outw(PCI_DATA_PORT + (off & 2), v);
}

bool pci_present(pci_devfn df)
{
	return pci_read16(df, PCI_VENDOR_ID) != 0xffff;
}

bool pci_multifunction(pci_devfn df)
{
	return pci_read8(df & ~7, PCI_HEADER_TYPE) & 0x80;
}

bool pci_next(unsigned *cursor, pci_devfn *out)
{
	while (*cursor < 256) {
		pci_devfn df = (pci_devfn)*cursor;
		bool whole_slot;

		(*cursor)++;
		if (!pci_present(df)) {
			whole_slot = (df & 7) == 0;
		} else {
			/* Functions 1-7 of a single-function device may alias 0. */
			if ((df & 7) == 0 && !pci_multifunction(df))
				*cursor = (df | 7u) + 1;
			*out = df;
			return true;
		}
		if (whole_slot)
			*cursor = (df | 7u) + 1;
	}
	return false;
}

bool pci_find(uint16_t vendor, uint16_t device, unsigned nth, pci_devfn *out)
{
	unsigned cursor = 0;
	pci_devfn df;

	while (pci_next(&cursor, &df)) {
		if (pci_read16(df, PCI_VENDOR_ID) == vendor &&
		    pci_read16(df, PCI_DEVICE_ID) == device && nth-- == 0) {
			*out = df;
			return true;
		}
	}
	return false;
}

static uint32_t bar_place(pci_devfn df, uint8_t reg, bool is64)
{
	uint32_t size, addr;

	pci_write32(df, reg, 0xffffffffu);
	size = ~(pci_read32(df, reg) & PCI_BASE_ADDRESS_MEM_MASK) + 1;
	if (is64)
		pci_write32(df, reg + 4, 0);
	if (size == 0 || (size & (size - 1)))
		return 0;
	addr = (window_next + size - 1) & ~(size - 1);
	if (addr < window_next || addr > PCI_WINDOW_END - size)
		return 0;
	window_next = addr + size;
	pci_write32(df, reg, addr);
	serial_printf("pci: %02x.%u BAR at 0x%x+0x%x (placed by guest)\n", df >> 3, df & 7, addr,
		      size);
	return addr;
}

uint32_t pci_bar_map(pci_devfn df, int bar)
{
	uint8_t reg = (uint8_t)(PCI_BASE_ADDRESS_0 + 4 * bar);
	uint32_t lo, addr;
	uint16_t cmd;
	bool is64;

	if (bar < 0 || bar > 5)
		return 0;
	lo = pci_read32(df, reg);
	if (lo & PCI_BASE_ADDRESS_SPACE_IO)
		return 0;
	is64 = (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (is64 && bar == 5)
		return 0;
	addr = lo & PCI_BASE_ADDRESS_MEM_MASK;
	if (addr == 0 || (is64 && pci_read32(df, reg + 4) != 0)) {
		cmd = pci_read16(df, PCI_COMMAND);
		pci_write16(df, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
		addr = bar_place(df, reg, is64);
	}
	if (!addr)
		return 0;
	cmd = pci_read16(df, PCI_COMMAND);
	pci_write16(df, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return addr;
}

uint8_t pci_find_cap(pci_devfn df, uint8_t cap_id, uint8_t from)
{
	uint8_t off;

	if (from)
		off = pci_read8(df, from + PCI_CAP_LIST_NEXT);
	else if (pci_read16(df, PCI_STATUS) & PCI_STATUS_CAP_LIST)
		off = pci_read8(df, PCI_CAPABILITY_LIST);
	else
		return 0;
	for (int i = 0; i < PCI_MAX_CAPS && off >= 0x40; i++) {
		off &= 0xfc;
		if (pci_read8(df, off + PCI_CAP_LIST_ID) == cap_id)
			return off;
		off = pci_read8(df, off + PCI_CAP_LIST_NEXT);
	}
	return 0;
}
