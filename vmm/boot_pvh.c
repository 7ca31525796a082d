// SPDX-License-Identifier: MIT
/* ELF kernels with a Xen PVH entry note: i386 test guests and x86_64 vmlinux. */
#include "boot_internal.h"
#include "e820.h"
#include "layout.h"
#include "pvh_start_info.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

_Static_assert(LAYOUT_PVH_START_INFO + sizeof(struct hvm_start_info) <= LAYOUT_PVH_MEMMAP,
	       "start info below the memmap");
_Static_assert(LAYOUT_PVH_MEMMAP + E820_MAX_RANGES * sizeof(struct hvm_memmap_table_entry) <=
		   LAYOUT_PVH_MODLIST,
	       "memmap below the modlist");

/* ELF32 and ELF64 headers, reduced to what loading needs. */
struct elf_file {
	const uint8_t *data;
	size_t len;
	bool is64;
	unsigned type, machine, phentsize, phnum;
	uint64_t phoff;
};

struct elf_seg {
	uint32_t type;
	uint64_t offset;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

/*
 * Elf32_* and Elf64_* headers name the same fields in different widths and
 * orders: read one (the caller checked its bounds) and widen what we use.
 */
#define ELF_READ_EHDR(type_, f)                                                                    \
	do {                                                                                       \
		type_ eh;                                                                          \
		memcpy(&eh, (f)->data, sizeof(eh));                                                \
		(f)->type = eh.e_type;                                                             \
		(f)->machine = eh.e_machine;                                                       \
		(f)->phentsize = eh.e_phentsize;                                                   \
		(f)->phnum = eh.e_phnum;                                                           \
		(f)->phoff = eh.e_phoff;                                                           \
	} while (0)

#define ELF_READ_PHDR(type_, data, out)                                                            \
	do {                                                                                       \
		type_ ph;                                                                          \
		memcpy(&ph, data, sizeof(ph));                                                     \
		*(out) = (struct elf_seg){.type = ph.p_type,                                       \
					  .offset = ph.p_offset,                                   \
					  .paddr = ph.p_paddr,                                     \
					  .filesz = ph.p_filesz,                                   \
					  .memsz = ph.p_memsz,                                     \
					  .align = ph.p_align};                                    \
	} while (0)

/* True when [off, off + size) lies inside a file of @len bytes. */
static bool in_file(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

bool boot_pvh_detect(const uint8_t *kernel, size_t len)
{
	return len >= SELFMAG && !memcmp(kernel, ELFMAG, SELFMAG);
}

static int elf_parse(struct boot_ctx *ctx, struct elf_file *f)
{
	const uint8_t *k = ctx->img->kernel;
	size_t len = ctx->img->kernel_len;
	unsigned machine, phentsize;

	*f = (struct elf_file){.data = k, .len = len};
	if (len < EI_NIDENT)
		return boot_fail(ctx, -EINVAL, "kernel: truncated ELF header");
	if (k[EI_DATA] != ELFDATA2LSB)
		return boot_fail(ctx, -ENOEXEC, "kernel: ELF is not little-endian");
	if (k[EI_CLASS] == ELFCLASS64) {
		if (len < sizeof(Elf64_Ehdr))
			return boot_fail(ctx, -EINVAL, "kernel: truncated ELF header");
		ELF_READ_EHDR(Elf64_Ehdr, f);
		f->is64 = true;
		machine = EM_X86_64;
		phentsize = sizeof(Elf64_Phdr);
	} else if (k[EI_CLASS] == ELFCLASS32) {
		if (len < sizeof(Elf32_Ehdr))
			return boot_fail(ctx, -EINVAL, "kernel: truncated ELF header");
		ELF_READ_EHDR(Elf32_Ehdr, f);
		machine = EM_386;
		phentsize = sizeof(Elf32_Phdr);
	} else {
		return boot_fail(ctx, -ENOEXEC, "kernel: unknown ELF class %u", k[EI_CLASS]);
	}
	if (f->machine != machine || f->phentsize != phentsize)
		return boot_fail(
		    ctx, -ENOEXEC, "kernel: ELF%s for machine %u (phentsize %u), expected %s",
		    f->is64 ? "64" : "32", f->machine, f->phentsize, f->is64 ? "x86_64" : "i386");
	if (f->type != ET_EXEC)
		return boot_fail(ctx, -ENOEXEC, "kernel: ELF type %u is not an executable",
				 f->type);
	if (!f->phnum)
		return boot_fail(ctx, -ENOEXEC, "kernel: ELF has no program headers");
	if (!in_file(f->phoff, (uint64_t)f->phnum * f->phentsize, len))
		return boot_fail(ctx, -EINVAL, "kernel: truncated ELF program headers");
	return 0;
}

/* Program header @i; elf_parse() checked that all of them are in the file. */
static void elf_seg(const struct elf_file *f, unsigned i, struct elf_seg *s)
{
	const uint8_t *p = f->data + f->phoff + (uint64_t)i * f->phentsize;
	if (f->is64)
		ELF_READ_PHDR(Elf64_Phdr, p, s);
	else
		ELF_READ_PHDR(Elf32_Phdr, p, s);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * Look for the PVH entry in one PT_NOTE segment. Returns 1 and sets @entry
 * when found, 0 when not, -errno on a malformed note.
 */
static int elf_find_pvh_note(struct boot_ctx *ctx, const struct elf_file *f,
			     const struct elf_seg *s, uint64_t *entry)
{
	/* Notes are 4-byte aligned, or 8 in segments that say so. */
	uint64_t a = s->align == 8 ? 8 : 4;
	const uint8_t *p = f->data + s->offset;
	uint64_t left = s->filesz;

	while (left >= sizeof(Elf32_Nhdr)) {
		Elf32_Nhdr nh; /* Elf64_Nhdr has the same 32-bit fields */
		memcpy(&nh, p, sizeof(nh));
		uint64_t name_sz = align_up(nh.n_namesz, a);
		uint64_t desc_sz = align_up(nh.n_descsz, a);
		left -= sizeof(nh);
		p += sizeof(nh);
		if (name_sz > left || desc_sz > left - name_sz)
			return boot_fail(ctx, -EINVAL, "kernel: malformed ELF note");
		const uint8_t *name = p, *desc = p + name_sz;
		p += name_sz + desc_sz;
		left -= name_sz + desc_sz;
		if (nh.n_type != XEN_ELFNOTE_PHYS32_ENTRY || nh.n_namesz != 4 ||
		    memcmp(name, "Xen", 4))
			continue;
		if (nh.n_descsz == 4) {
			uint32_t e32;
			memcpy(&e32, desc, sizeof(e32));
			*entry = e32;
		} else if (nh.n_descsz == 8) {
			memcpy(entry, desc, sizeof(*entry));
		} else {
			return boot_fail(ctx, -EINVAL, "kernel: PVH entry note of %u bytes",
					 nh.n_descsz);
		}
		return 1;
	}
	return 0;
}

static int elf_pvh_entry(struct boot_ctx *ctx, const struct elf_file *f, uint64_t *entry)
{
	for (unsigned i = 0; i < f->phnum; i++) {
		struct elf_seg s;
		elf_seg(f, i, &s);
		if (s.type != PT_NOTE)
			continue;
		if (!in_file(s.offset, s.filesz, f->len))
			return boot_fail(ctx, -EINVAL, "kernel: truncated ELF note segment %u", i);
		int ret = elf_find_pvh_note(ctx, f, &s, entry);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	return boot_fail(ctx, -ENOEXEC,
			 "kernel: ELF has no PVH entry note (Xen note XEN_ELFNOTE_PHYS32_ENTRY)");
}

/* Load the PT_LOAD segments; @low_end gets the end of those in RAM below 4 GiB. */
static int elf_load_segments(struct boot_ctx *ctx, const struct elf_file *f, uint64_t *low_end)
{
	unsigned loaded = 0;

	*low_end = LAYOUT_KERNEL;
	for (unsigned i = 0; i < f->phnum; i++) {
		struct elf_seg s;
		elf_seg(f, i, &s);
		if (s.type != PT_LOAD || !s.memsz)
			continue;
		if (s.filesz > s.memsz)
			return boot_fail(
			    ctx, -EINVAL,
			    "kernel: segment %u: file size 0x%llx above memory size 0x%llx", i,
			    (unsigned long long)s.filesz, (unsigned long long)s.memsz);
		if (!in_file(s.offset, s.filesz, f->len))
			return boot_fail(ctx, -EINVAL, "kernel: segment %u: truncated file", i);
		/* the boot structures live below 1 MiB */
		if (s.paddr < LAYOUT_KERNEL)
			return boot_fail(
			    ctx, -EINVAL,
			    "kernel: segment %u at 0x%llx is in the boot area below 0x%llx", i,
			    (unsigned long long)s.paddr, (unsigned long long)LAYOUT_KERNEL);
		uint8_t *dst = guest_mem_ptr(ctx->mem, s.paddr, s.memsz);
		if (!dst)
			return boot_fail(
			    ctx, -ENOSPC,
			    "kernel: segment %u [0x%llx, +0x%llx) is outside guest RAM", i,
			    (unsigned long long)s.paddr, (unsigned long long)s.memsz);
		memcpy(dst, f->data + s.offset, s.filesz);
		memset(dst + s.filesz, 0, s.memsz - s.filesz);
		if (s.paddr < ctx->mem->low_size && s.paddr + s.memsz > *low_end)
			*low_end = s.paddr + s.memsz;
		loaded++;
	}
	if (!loaded)
		return boot_fail(ctx, -ENOEXEC, "kernel: ELF has no loadable segment");
	return 0;
}

static bool pvh_write_start_info(struct guest_mem *mem, uint64_t initrd, uint64_t initrd_len)
{
	struct e820_range map[E820_MAX_RANGES];
	unsigned n = e820_build(mem, map);
	for (unsigned i = 0; i < n; i++) {
		struct hvm_memmap_table_entry e = {
		    .addr = map[i].addr,
		    .size = map[i].size,
		    .type = map[i].type,
		};
		if (!guest_mem_write(mem, LAYOUT_PVH_MEMMAP + i * sizeof(e), &e, sizeof(e)))
			return false;
	}
	struct hvm_start_info si = {
	    .magic = XEN_HVM_START_MAGIC,
	    .version = 1,
	    .cmdline_paddr = LAYOUT_CMDLINE,
	    .memmap_paddr = LAYOUT_PVH_MEMMAP,
	    .memmap_entries = n,
	};
	if (initrd_len) {
		struct hvm_modlist_entry mod = {.paddr = initrd, .size = initrd_len};
		if (!guest_mem_write(mem, LAYOUT_PVH_MODLIST, &mod, sizeof(mod)))
			return false;
		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST;
	}
	return guest_mem_write(mem, LAYOUT_PVH_START_INFO, &si, sizeof(si));
}

int boot_pvh_load(struct boot_ctx *ctx, struct boot_entry *out)
{
	struct elf_file f;
	uint64_t entry = 0, low_end, initrd;
	int ret;

	ret = elf_parse(ctx, &f);
	if (ret)
		return ret;
	ret = elf_pvh_entry(ctx, &f, &entry);
	if (ret)
		return ret;
	if (entry > UINT32_MAX || !guest_mem_ptr(ctx->mem, entry, 1))
		return boot_fail(ctx, -EINVAL, "kernel: PVH entry 0x%llx is outside guest RAM",
				 (unsigned long long)entry);
	ret = elf_load_segments(ctx, &f, &low_end);
	if (ret)
		return ret;
	ret = boot_write_cmdline(ctx, LAYOUT_CMDLINE_MAX - 1);
	if (ret)
		return ret;
	ret = boot_place_initrd(ctx, low_end, ctx->mem->low_size, &initrd);
	if (ret)
		return ret;
	if (!pvh_write_start_info(ctx->mem, initrd, ctx->img->initrd_len))
		return boot_fail(ctx, -ENOSPC, "guest RAM does not cover the PVH start info");

	out->mode = BOOT_MODE_PVH32;
	out->rip = entry;
	out->rbx = LAYOUT_PVH_START_INFO;
	return 0;
}
