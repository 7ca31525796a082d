/* SPDX-License-Identifier: MIT */
/*
 * Guest physical memory map. RAM starts at 0; what does not fit below the
 * 32-bit PCI hole continues at 4 GiB. Boot structures live in low memory the
 * way a PC BIOS would leave them, so Linux finds them where it looks.
 */
#ifndef INLAY_LAYOUT_H
#define INLAY_LAYOUT_H

#define LAYOUT_GDT	      0x00000500ULL /* boot GDT (4 entries) */
#define LAYOUT_PVH_START_INFO 0x00006000ULL /* struct hvm_start_info */
#define LAYOUT_PVH_MEMMAP     0x00006100ULL /* hvm_memmap_table_entry[] */
#define LAYOUT_PVH_MODLIST    0x00006f00ULL /* hvm_modlist_entry[] (initrd) */
#define LAYOUT_ZERO_PAGE      0x00007000ULL /* struct boot_params (bzImage) */
#define LAYOUT_PML4	      0x00009000ULL /* identity page tables: PML4 */
#define LAYOUT_PDPT	      0x0000a000ULL /* one PDPT */
#define LAYOUT_PD	      0x0000b000ULL /* four PDs: 4 GiB in 2 MiB pages */
#define LAYOUT_BOOT_STACK     0x0008f000ULL /* stack top for 64-bit entry */
#define LAYOUT_CMDLINE	      0x00020000ULL
#define LAYOUT_CMDLINE_MAX    0x00010000ULL /* 64 KiB, caps what we copy */
#define LAYOUT_EBDA	      0x0009fc00ULL /* start of the reserved BIOS area */
#define LAYOUT_MPTABLE	      0x000f0000ULL /* MP floating pointer + table */
#define LAYOUT_BIOS_END	      0x00100000ULL
#define LAYOUT_KERNEL	      0x00100000ULL /* bzImage protected-mode code */

#define LAYOUT_PCI_HOLE	     0xc0000000ULL /* RAM below 4 GiB ends here */
#define LAYOUT_PCI_MMIO	     0xc0000000ULL /* 32-bit BAR window */
#define LAYOUT_PCI_MMIO_SIZE 0x20000000ULL
#define LAYOUT_IOAPIC	     0xfec00000ULL
#define LAYOUT_LAPIC	     0xfee00000ULL
#define LAYOUT_IDENTITY_MAP  0xfeffc000ULL /* KVM_SET_IDENTITY_MAP_ADDR, 1 page */
#define LAYOUT_TSS	     0xfeffd000ULL /* KVM_SET_TSS_ADDR, 3 pages */
#define LAYOUT_HIGH_RAM	     0x100000000ULL

/* I/O ports */
#define LAYOUT_PORT_COM1       0x3f8
#define LAYOUT_IRQ_COM1	       4
#define LAYOUT_PORT_I8042_DATA 0x60
#define LAYOUT_PORT_I8042_CMD  0x64
#define LAYOUT_PORT_PCI_ADDR   0xcf8
#define LAYOUT_PORT_PCI_DATA   0xcfc
/*
 * Inlay exit port: a guest writes one byte; 0 means success, anything else a
 * guest-reported failure (see docs/VMM.md for the exit codes).
 */
#define LAYOUT_PORT_EXIT 0x501
/*
 * Snapshot port (docs/SNAPSHOTS.md): a guest writes 1 once its app has drawn
 * its first frame (`inlay-vmm bake` snapshots it then); a 32-bit read returns
 * the clone generation, 0 in a VM that was booted, one more per restore.
 */
#define LAYOUT_PORT_SNAPSHOT 0x502

#define LAYOUT_IOAPIC_PINS 24
#define LAYOUT_MAX_CPUS	   64

#endif
