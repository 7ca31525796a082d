/* SPDX-License-Identifier: MIT */
/*
 * PVH boot ABI, from Xen's public header arch-x86/hvm/start_info.h (not part
 * of the Linux UAPI headers). Shared by the loader and the freestanding test
 * guests, so it needs nothing beyond <stdint.h>; assembly sees the macros only.
 */
#ifndef INLAY_PVH_START_INFO_H
#define INLAY_PVH_START_INFO_H

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_HVM_START_MAGIC	 0x336ec578

#ifndef __ASSEMBLER__
#include <stdint.h>

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	/* version 1 and newer */
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/* Memory types are the e820 ones. */
struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist entry layout");
#endif

#endif
