/* SPDX-License-Identifier: MIT */
/* PCI configuration mechanism 1 on bus 0, and memory BAR placement. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR_VIRTIO 0x1af4

/* Device/function on bus 0, as (slot << 3) | function. */
typedef uint8_t pci_devfn;

uint32_t pci_read32(pci_devfn df, uint8_t off);
uint16_t pci_read16(pci_devfn df, uint8_t off);
uint8_t pci_read8(pci_devfn df, uint8_t off);
void pci_write32(pci_devfn df, uint8_t off, uint32_t v);
void pci_write16(pci_devfn df, uint8_t off, uint16_t v);

/** Does a function answer at @df (vendor id not 0xffff)? */
bool pci_present(pci_devfn df);
/** Is @df's slot multi-function (header type bit 7 of function 0)? */
bool pci_multifunction(pci_devfn df);
/**
 * Iterate the functions of bus 0: start with *@cursor = 0; each call sets
 * *@out to the next present function, false at the end.
 */
bool pci_next(unsigned *cursor, pci_devfn *out);
/**
 * Find the @nth (0-based) function with @vendor:@device on bus 0.
 * Returns true and sets *@out when found.
 */
bool pci_find(uint16_t vendor, uint16_t device, unsigned nth, pci_devfn *out);
/**
 * Address of memory BAR @bar, enabling memory decode and bus mastering. A BAR
 * nobody placed (or a 64-bit one above 4 GiB, out of reach with paging off)
 * is sized and placed in 0xc0000000-0xdfffffff. Returns 0 for an I/O BAR,
 * an absent BAR or when the window is full.
 */
uint32_t pci_bar_map(pci_devfn df, int bar);
/**
 * Offset of the first capability with id @cap_id after @from (0 = start of
 * the list), or 0. The walk is bounded so a looping list cannot hang.
 */
uint8_t pci_find_cap(pci_devfn df, uint8_t cap_id, uint8_t from);

#endif
