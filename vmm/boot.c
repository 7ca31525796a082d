// SPDX-License-Identifier: MIT
#include "boot.h"
#include "boot_internal.h"
#include "layout.h"
#include "mptable.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Descriptors with the accessed bit preset so the CPU never writes them back. */
static const uint64_t boot_gdt[BOOT_GDT_ENTRIES] = {
    [BOOT_SEL_CODE32 / 8] = 0x00cf9b000000ffffULL, /* base 0, 4 GiB, 32-bit code */
    [BOOT_SEL_CODE64 / 8] = 0x00af9b000000ffffULL, /* long mode code */
    [BOOT_SEL_DATA / 8] = 0x00cf93000000ffffULL,   /* base 0, 4 GiB, read/write */
};

int boot_fail(struct boot_ctx *ctx, int ret, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (ctx->errlen)
		vsnprintf(ctx->err, ctx->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

int boot_write_cmdline(struct boot_ctx *ctx, uint64_t max_len)
{
	const char *cmdline = ctx->img->cmdline ? ctx->img->cmdline : "";
	if (max_len > LAYOUT_CMDLINE_MAX - 1)
		max_len = LAYOUT_CMDLINE_MAX - 1;
	size_t len = strnlen(cmdline, max_len + 1);
	if (len > max_len)
		return boot_fail(ctx, -E2BIG,
				 "cmdline: longer than the %llu bytes the kernel accepts",
				 (unsigned long long)max_len);
	if (!guest_mem_write(ctx->mem, LAYOUT_CMDLINE, cmdline, len + 1))
		return boot_fail(ctx, -ENOSPC, "cmdline: guest RAM does not cover 0x%llx",
				 (unsigned long long)LAYOUT_CMDLINE);
	return 0;
}

int boot_place_initrd(struct boot_ctx *ctx, uint64_t lowest, uint64_t limit, uint64_t *addr)
{
	const struct boot_images *img = ctx->img;
	*addr = 0;
	if (!img->initrd_len)
		return 0;
	if (limit > ctx->mem->low_size)
		limit = ctx->mem->low_size;
	if (img->initrd_len > limit || lowest > limit)
		goto err_fit;
	uint64_t a = (limit - img->initrd_len) & ~(BOOT_PAGE_SIZE - 1);
	if (a < lowest)
		goto err_fit;
	if (!guest_mem_write(ctx->mem, a, img->initrd, img->initrd_len))
		goto err_fit;
	*addr = a;
	return 0;
err_fit:
	return boot_fail(ctx, -ENOSPC,
			 "initrd: %zu bytes do not fit in guest RAM between 0x%llx and 0x%llx",
			 img->initrd_len, (unsigned long long)lowest, (unsigned long long)limit);
}

int boot_load(struct guest_mem *mem, const struct boot_images *img, struct boot_entry *out,
	      char *err, size_t errlen)
{
	struct boot_ctx ctx = {.mem = mem, .img = img, .err = err, .errlen = errlen};
	int ret;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	if (!mem->host || mem->low_size < LAYOUT_BIOS_END)
		return boot_fail(&ctx, -ENOSPC, "guest RAM below 4 GiB is smaller than 1 MiB");
	if (!img->kernel)
		return boot_fail(&ctx, -EINVAL, "kernel: no image");
	if (img->initrd_len && !img->initrd)
		return boot_fail(&ctx, -EINVAL, "initrd: no data");
	ret = mptable_write(mem, img->nr_cpus, err, errlen);
	if (ret)
		return ret;

	if (boot_bzimage_detect(img->kernel, img->kernel_len))
		ret = boot_bzimage_load(&ctx, out);
	else if (boot_pvh_detect(img->kernel, img->kernel_len))
		ret = boot_pvh_load(&ctx, out);
	else
		ret = boot_fail(&ctx, -ENOEXEC, "kernel: not a bzImage or ELF (%zu bytes)",
				img->kernel_len);
	if (ret)
		return ret;

	if (!guest_mem_write(mem, LAYOUT_GDT, boot_gdt, sizeof(boot_gdt)))
		return boot_fail(&ctx, -ENOSPC, "guest RAM does not cover the boot GDT");
	out->gdt = LAYOUT_GDT;
	out->cs = out->mode == BOOT_MODE_LINUX64 ? BOOT_SEL_CODE64 : BOOT_SEL_CODE32;
	out->ds = BOOT_SEL_DATA;
	return 0;
}
