// SPDX-License-Identifier: MIT
/* Linux x86 boot protocol (Documentation/x86/boot.rst), 64-bit entry. */
#include "boot_internal.h"
#include "e820.h"
#include "layout.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#define BZ_HDR_OFF	  offsetof(struct boot_params, hdr) /* 0x1f1 */
#define BZ_HDR_FIELD(f)	  (BZ_HDR_OFF + offsetof(struct setup_header, f))
#define BZ_HDR_MAX	  offsetof(struct boot_params, edd_mbr_sig_buffer) /* 0x290 */
#define BZ_MAGIC_HDRS	  0x53726448					   /* "HdrS" */
#define BZ_BOOT_FLAG	  0xaa55
#define BZ_MIN_VERSION	  0x020c /* 2.12: xloadflags, XLF_KERNEL_64 */
#define BZ_ENTRY64	  0x200	 /* 64-bit entry, from the protected-mode code start */
#define BZ_LOADER_UNKNOWN 0xff
#define BZ_HEAP_END	  0xde00 /* 0xe000 - 0x200, as boot.rst suggests */
#define BZ_DEFAULT_SECTS  4
#define BZ_SECTOR	  512

#define PTE_PRESENT  0x1ULL
#define PTE_WRITE    0x2ULL
#define PTE_HUGE     0x80ULL
#define PT_ENTRIES   512
#define IDENTITY_PDS 4 /* 4 x 1 GiB */

/* Offset of the end of the setup header inside the zero page / image. */
static size_t bz_header_end(const uint8_t *k)
{
	/* byte 0x201 is the displacement of the short jump that follows the header */
	return BZ_HDR_FIELD(jump) + 2 + k[BZ_HDR_FIELD(jump) + 1];
}

bool boot_bzimage_detect(const uint8_t *kernel, size_t len)
{
	return len >= BZ_HDR_FIELD(boot_flag) + 2 &&
	       (kernel[BZ_HDR_FIELD(boot_flag)] | kernel[BZ_HDR_FIELD(boot_flag) + 1] << 8) ==
		   BZ_BOOT_FLAG;
}

/* Check the setup header and copy it, as long as the image says it is, into @zp. */
static int bz_read_header(struct boot_ctx *ctx, struct boot_params *zp)
{
	const uint8_t *k = ctx->img->kernel;
	size_t len = ctx->img->kernel_len;
	struct setup_header *hdr = &zp->hdr;

	if (len < BZ_HDR_FIELD(version) + sizeof(hdr->version))
		return boot_fail(ctx, -EINVAL, "kernel: truncated setup header");
	uint32_t magic;
	uint16_t version;
	memcpy(&magic, k + BZ_HDR_FIELD(header), sizeof(magic));
	memcpy(&version, k + BZ_HDR_FIELD(version), sizeof(version));
	if (magic != BZ_MAGIC_HDRS)
		return boot_fail(ctx, -ENOEXEC, "kernel: bzImage without the HdrS signature");
	if (version < BZ_MIN_VERSION)
		return boot_fail(ctx, -ENOTSUP,
				 "kernel: boot protocol %u.%02u is too old (2.12 or newer needed)",
				 version >> 8, version & 0xff);

	size_t end = bz_header_end(k);
	if (end < BZ_HDR_FIELD(init_size) + sizeof(hdr->init_size))
		return boot_fail(ctx, -EINVAL,
				 "kernel: setup header too short for protocol %u.%02u",
				 version >> 8, version & 0xff);
	if (end > len)
		return boot_fail(ctx, -EINVAL, "kernel: truncated setup header");
	if (end > BZ_HDR_MAX)
		end = BZ_HDR_MAX;
	memcpy((uint8_t *)zp + BZ_HDR_OFF, k + BZ_HDR_OFF, end - BZ_HDR_OFF);

	if (!(hdr->xloadflags & XLF_KERNEL_64))
		return boot_fail(ctx, -ENOTSUP,
				 "kernel: bzImage has no 64-bit entry (XLF_KERNEL_64)");
	return 0;
}

static void bz_fill_e820(const struct guest_mem *mem, struct boot_params *zp)
{
	struct e820_range map[E820_MAX_RANGES];
	unsigned n = e820_build(mem, map);
	for (unsigned i = 0; i < n; i++) {
		zp->e820_table[i].addr = map[i].addr;
		zp->e820_table[i].size = map[i].size;
		zp->e820_table[i].type = map[i].type;
	}
	zp->e820_entries = (uint8_t)n;
}

/* PML4 -> PDPT -> 4 PDs of 2 MiB pages: the first 4 GiB mapped 1:1. */
static bool bz_write_page_tables(struct guest_mem *mem)
{
	uint64_t page[PT_ENTRIES] = {LAYOUT_PDPT | PTE_PRESENT | PTE_WRITE};
	if (!guest_mem_write(mem, LAYOUT_PML4, page, sizeof(page)))
		return false;

	memset(page, 0, sizeof(page));
	for (unsigned i = 0; i < IDENTITY_PDS; i++)
		page[i] = (LAYOUT_PD + i * BOOT_PAGE_SIZE) | PTE_PRESENT | PTE_WRITE;
	if (!guest_mem_write(mem, LAYOUT_PDPT, page, sizeof(page)))
		return false;

	for (unsigned i = 0; i < IDENTITY_PDS; i++) {
		for (unsigned j = 0; j < PT_ENTRIES; j++)
			page[j] = ((uint64_t)(i * PT_ENTRIES + j) << 21) | PTE_PRESENT | PTE_WRITE |
				  PTE_HUGE;
		if (!guest_mem_write(mem, LAYOUT_PD + i * BOOT_PAGE_SIZE, page, sizeof(page)))
			return false;
	}
	return true;
}

int boot_bzimage_load(struct boot_ctx *ctx, struct boot_entry *out)
{
	const struct boot_images *img = ctx->img;
	struct guest_mem *mem = ctx->mem;
	struct boot_params zp;
	int ret;

	memset(&zp, 0, sizeof(zp));
	ret = bz_read_header(ctx, &zp);
	if (ret)
		return ret;

	size_t sects = zp.hdr.setup_sects ? zp.hdr.setup_sects : BZ_DEFAULT_SECTS;
	size_t pm_off = (sects + 1) * BZ_SECTOR;
	if (pm_off >= img->kernel_len)
		return boot_fail(ctx, -EINVAL,
				 "kernel: truncated: %zu bytes of setup code, no kernel after them",
				 pm_off);
	size_t pm_len = img->kernel_len - pm_off;
	uint64_t need = pm_len > zp.hdr.init_size ? pm_len : zp.hdr.init_size;
	uint8_t *dst = guest_mem_ptr(mem, LAYOUT_KERNEL, need);
	if (!dst)
		return boot_fail(
		    ctx, -ENOSPC,
		    "kernel: needs 0x%llx bytes at 0x%llx, RAM below 4 GiB ends at 0x%llx",
		    (unsigned long long)need, (unsigned long long)LAYOUT_KERNEL,
		    (unsigned long long)mem->low_size);

	ret = boot_write_cmdline(ctx, zp.hdr.cmdline_size);
	if (ret)
		return ret;
	uint64_t initrd;
	ret = boot_place_initrd(ctx, LAYOUT_KERNEL + need, (uint64_t)zp.hdr.initrd_addr_max + 1,
				&initrd);
	if (ret)
		return ret;
	memcpy(dst, img->kernel + pm_off, pm_len);

	zp.hdr.type_of_loader = BZ_LOADER_UNKNOWN;
	zp.hdr.loadflags |= CAN_USE_HEAP;
	zp.hdr.heap_end_ptr = BZ_HEAP_END;
	zp.hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	zp.hdr.ramdisk_image = (uint32_t)initrd;
	zp.hdr.ramdisk_size = (uint32_t)img->initrd_len;
	zp.hdr.setup_data = 0;
	bz_fill_e820(mem, &zp);
	if (!guest_mem_write(mem, LAYOUT_ZERO_PAGE, &zp, sizeof(zp)) || !bz_write_page_tables(mem))
		return boot_fail(ctx, -ENOSPC, "guest RAM does not cover the boot structures");

	out->mode = BOOT_MODE_LINUX64;
	out->rip = LAYOUT_KERNEL + BZ_ENTRY64;
	out->rsi = LAYOUT_ZERO_PAGE;
	out->rsp = LAYOUT_BOOT_STACK;
	out->cr3 = LAYOUT_PML4;
	return 0;
}
