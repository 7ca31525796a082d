/* SPDX-License-Identifier: MIT */
/* What boot.c shares with the bzImage and PVH loaders. */
#ifndef INLAY_BOOT_INTERNAL_H
#define INLAY_BOOT_INTERNAL_H

#include "boot.h"

#include <stdint.h>

#define BOOT_PAGE_SIZE 0x1000ULL

struct boot_ctx {
	struct guest_mem *mem;
	const struct boot_images *img;
	char *err;
	size_t errlen;
};

/** Format the cause into ctx->err and return @ret (a -errno). */
int boot_fail(struct boot_ctx *ctx, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * Write the command line (or "" when there is none) NUL-terminated at
 * LAYOUT_CMDLINE; fails when it is longer than @max_len bytes.
 */
int boot_write_cmdline(struct boot_ctx *ctx, uint64_t max_len);

/**
 * Copy the initrd page-aligned as high as possible inside [@lowest, @limit)
 * and store its address in @addr (0 when there is no initrd).
 */
int boot_place_initrd(struct boot_ctx *ctx, uint64_t lowest, uint64_t limit, uint64_t *addr);

/** True when @kernel carries the bzImage boot sector signature. */
bool boot_bzimage_detect(const uint8_t *kernel, size_t len);
int boot_bzimage_load(struct boot_ctx *ctx, struct boot_entry *out);

/** True when @kernel starts with the ELF magic. */
bool boot_pvh_detect(const uint8_t *kernel, size_t len);
int boot_pvh_load(struct boot_ctx *ctx, struct boot_entry *out);

#endif
