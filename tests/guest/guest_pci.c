// SPDX-License-Identifier: MIT
/* Lists every PCI function on bus 0 with its ids and class. */
#include "guest.h"
#include "pci.h"
#include "serial.h"

#include <linux/pci_regs.h>

int guest_main(const char *cmdline)
{
	unsigned cursor = 0, found = 0;
	pci_devfn df;

	while (pci_next(&cursor, &df)) {
		serial_printf("pci 00:%02x.%u %04x:%04x class %06x\n", df >> 3, df & 7,
			      pci_read16(df, PCI_VENDOR_ID), pci_read16(df, PCI_DEVICE_ID),
			      pci_read32(df, PCI_CLASS_REVISION) >> 8);
		found++;
	}
	serial_printf("pci: %u functions\n", found);
	return found ? GUEST_OK : GUEST_FAIL;
}
