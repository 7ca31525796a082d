/* SPDX-License-Identifier: MIT */
#ifndef INLAY_MPTABLE_H
#define INLAY_MPTABLE_H

#include "guest_mem.h"

#include <stddef.h>

/**
 * Write an Intel MP 1.4 floating pointer and configuration table at
 * LAYOUT_MPTABLE: @nr_cpus processors (APIC ids 0..n-1, 0 is the BSP), an ISA
 * and a PCI bus, one IOAPIC (id @nr_cpus) with ISA IRQs 0-15 on pins 0-15,
 * ExtINT on LINT0 and NMI on LINT1. Returns 0 or -errno with the cause in @err.
 */
int mptable_write(struct guest_mem *mem, unsigned nr_cpus, char *err, size_t errlen);

#endif
