/* SPDX-License-Identifier: MIT */
#ifndef INLAY_BOOT_H
#define INLAY_BOOT_H

#include "guest_mem.h"

#include <stddef.h>
#include <stdint.h>

/** How the boot vCPU starts. */
enum boot_mode {
	/* PVH: 32-bit protected mode, paging off, flat segments, EBX = start info */
	BOOT_MODE_PVH32,
	/* Linux 64-bit boot protocol: long mode, identity map, RSI = zero page */
	BOOT_MODE_LINUX64,
};

/*
 * The boot GDT at LAYOUT_GDT, shared by both modes: null, flat 32-bit code,
 * 64-bit code, flat data (Linux wants __BOOT_CS 0x10 and __BOOT_DS 0x18).
 */
#define BOOT_GDT_ENTRIES 4
#define BOOT_SEL_CODE32	 0x08
#define BOOT_SEL_CODE64	 0x10
#define BOOT_SEL_DATA	 0x18

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t rsi; /* LINUX64: zero page */
	uint64_t rbx; /* PVH32: hvm_start_info */
	uint64_t rsp; /* LINUX64: a usable stack */
	uint64_t cr3; /* LINUX64: identity page tables written by the loader */
	uint64_t gdt; /* guest address of the boot GDT (LAYOUT_GDT) */
	/* selectors into that GDT */
	uint16_t cs, ds;
};

/** What to load. Images are bytes in host memory, already read from disk. */
struct boot_images {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd; /* may be NULL */
	size_t initrd_len;
	const char *cmdline; /* may be NULL */
	unsigned nr_cpus;
};

/**
 * Detect the kernel format (bzImage or ELF with a PVH note) and load it with
 * its initrd and command line into @mem; write e820/memmap, the MP table and
 * the boot GDT (and page tables for LINUX64). Returns 0 or -errno, with a
 * human-readable cause in @err (e.g. "kernel: truncated setup header").
 */
int boot_load(struct guest_mem *mem, const struct boot_images *img, struct boot_entry *out,
	      char *err, size_t errlen);

#endif
