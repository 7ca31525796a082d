// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <asm/bootparam.h>
#include <asm/e820.h>
#include <elf.h>

#include "vmm/boot.h"
#include "vmm/e820.h"
#include "vmm/layout.h"

#define RAM_SIZE   (64ULL << 20)
#define PAGE	   0x1000ULL
#define HDR_OFF	   offsetof(struct boot_params, hdr)
#define PM_LEN	   0x3000
#define INIT_SIZE  0x400000
#define HDR_END	   (HDR_OFF + sizeof(struct setup_header))
#define XEN_ENTRY  18
#define PVH_MAGIC  0x336ec578
#define SEG_OFFSET 0x200

/* Layout of Xen's struct hvm_start_info, version 1. */
struct start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

static int setup_mem(void **state)
{
	struct guest_mem *m = calloc(1, sizeof(*m));
	if (!m || guest_mem_init(m, RAM_SIZE)) {
		free(m);
		return -1;
	}
	*state = m;
	return 0;
}

static int teardown_mem(void **state)
{
	guest_mem_finish(*state);
	free(*state);
	return 0;
}

static void *gp(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);
	assert_non_null(p);
	return p;
}

/* ---- bzImage ---- */

struct bz_spec {
	uint8_t setup_sects; /* 0 means 4 */
	uint16_t version;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint32_t init_size;
};

static const struct bz_spec bz_default = {
    .setup_sects = 2,
    .version = 0x020f,
    .xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
    .cmdline_size = 2047,
    .initrd_addr_max = 0x7fffffff,
    .init_size = INIT_SIZE,
};

static uint8_t *make_bzimage(const struct bz_spec *s, size_t *len)
{
	size_t sects = s->setup_sects ? s->setup_sects : 4;
	size_t pm_off = (sects + 1) * 512;
	*len = pm_off + PM_LEN;
	uint8_t *k = calloc(1, *len);
	assert_non_null(k);

	struct setup_header h = {
	    .setup_sects = s->setup_sects,
	    .boot_flag = 0xaa55,
	    .jump = (uint16_t)(0xeb | (HDR_END - 0x202) << 8),
	    .header = 0x53726448,
	    .version = s->version,
	    .loadflags = LOADED_HIGH,
	    .initrd_addr_max = s->initrd_addr_max,
	    .kernel_alignment = 0x200000,
	    .relocatable_kernel = 1,
	    .xloadflags = s->xloadflags,
	    .cmdline_size = s->cmdline_size,
	    .init_size = s->init_size,
	};
	memcpy(k + HDR_OFF, &h, sizeof(h));
	for (size_t i = 0; i < PM_LEN; i++)
		k[pm_off + i] = (uint8_t)(i * 7 + 1);
	return k;
}

static int load(struct guest_mem *m, const uint8_t *k, size_t len, const char *cmdline,
		const uint8_t *initrd, size_t initrd_len, struct boot_entry *e, char *err)
{
	struct boot_images img = {
	    .kernel = k,
	    .kernel_len = len,
	    .initrd = initrd,
	    .initrd_len = initrd_len,
	    .cmdline = cmdline,
	    .nr_cpus = 2,
	};
	return boot_load(m, &img, e, err, 256);
}

static void check_e820_low(const struct boot_e820_entry *t, unsigned n)
{
	assert_int_equal(n, 3);
	assert_int_equal(t[0].addr, 0);
	assert_int_equal(t[0].size, LAYOUT_EBDA);
	assert_int_equal(t[0].type, E820_RAM);
	assert_int_equal(t[1].addr, LAYOUT_EBDA);
	assert_int_equal(t[1].size, LAYOUT_BIOS_END - LAYOUT_EBDA);
	assert_int_equal(t[1].type, E820_RESERVED);
	assert_int_equal(t[2].addr, LAYOUT_BIOS_END);
	assert_int_equal(t[2].size, RAM_SIZE - LAYOUT_BIOS_END);
	assert_int_equal(t[2].type, E820_RAM);
}

static void check_gdt(struct guest_mem *m)
{
	const uint64_t *gdt = gp(m, LAYOUT_GDT, BOOT_GDT_ENTRIES * 8);
	const uint64_t l_bit = 1ULL << 53, d_bit = 1ULL << 54, present = 1ULL << 47;
	assert_int_equal(gdt[0], 0);
	/* 0x08: 32-bit code (D set, L clear), 0x10: 64-bit code (L set, D clear) */
	assert_true(gdt[BOOT_SEL_CODE32 / 8] & d_bit);
	assert_false(gdt[BOOT_SEL_CODE32 / 8] & l_bit);
	assert_true(gdt[BOOT_SEL_CODE64 / 8] & l_bit);
	assert_false(gdt[BOOT_SEL_CODE64 / 8] & d_bit);
	for (unsigned i = 1; i < BOOT_GDT_ENTRIES; i++)
		assert_true(gdt[i] & present);
	/* code segments are executable, data is not */
	assert_int_equal((gdt[BOOT_SEL_CODE64 / 8] >> 40) & 0x1f, 0x1b);
	assert_int_equal((gdt[BOOT_SEL_DATA / 8] >> 40) & 0x1f, 0x13);
	assert_int_equal(BOOT_SEL_CODE64, 0x10);
	assert_int_equal(BOOT_SEL_DATA, 0x18);
}

static void test_bzimage_load(void **state)
{
	struct guest_mem *m = *state;
	size_t len, initrd_len = 10000;
	uint8_t *k = make_bzimage(&bz_default, &len);
	uint8_t *initrd = malloc(initrd_len);
	struct boot_entry e;
	char err[256];
	for (size_t i = 0; i < initrd_len; i++)
		initrd[i] = (uint8_t)(i * 13);

	assert_int_equal(load(m, k, len, "console=ttyS0 quiet", initrd, initrd_len, &e, err), 0);
	assert_int_equal(e.mode, BOOT_MODE_LINUX64);
	assert_int_equal(e.rip, LAYOUT_KERNEL + 0x200);
	assert_int_equal(e.rsi, LAYOUT_ZERO_PAGE);
	assert_int_equal(e.rsp, LAYOUT_BOOT_STACK);
	assert_int_equal(e.cr3, LAYOUT_PML4);
	assert_int_equal(e.gdt, LAYOUT_GDT);
	assert_int_equal(e.cs, 0x10);
	assert_int_equal(e.ds, 0x18);
	check_gdt(m);

	/* protected-mode code at 1 MiB */
	assert_memory_equal(gp(m, LAYOUT_KERNEL, PM_LEN), k + 3 * 512, PM_LEN);

	struct boot_params zp;
	memcpy(&zp, gp(m, LAYOUT_ZERO_PAGE, sizeof(zp)), sizeof(zp));
	assert_int_equal(zp.hdr.header, 0x53726448);
	assert_int_equal(zp.hdr.version, 0x020f);
	assert_int_equal(zp.hdr.boot_flag, 0xaa55);
	assert_int_equal(zp.hdr.kernel_alignment, 0x200000);
	assert_int_equal(zp.hdr.init_size, INIT_SIZE);
	assert_int_equal(zp.hdr.type_of_loader, 0xff);
	assert_true(zp.hdr.loadflags & CAN_USE_HEAP);
	assert_true(zp.hdr.loadflags & LOADED_HIGH);
	assert_int_not_equal(zp.hdr.heap_end_ptr, 0);
	assert_int_equal(zp.hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_int_equal(zp.ext_cmd_line_ptr, 0);
	assert_string_equal((char *)gp(m, LAYOUT_CMDLINE, 20), "console=ttyS0 quiet");

	/* initrd: page-aligned, above the kernel's init_size, as high as possible */
	uint64_t ri = zp.hdr.ramdisk_image;
	assert_int_equal(zp.hdr.ramdisk_size, initrd_len);
	assert_int_equal(ri % PAGE, 0);
	assert_true(ri >= LAYOUT_KERNEL + INIT_SIZE);
	assert_true(ri + initrd_len <= RAM_SIZE);
	assert_true(ri + initrd_len + PAGE > RAM_SIZE);
	assert_memory_equal(gp(m, ri, initrd_len), initrd, initrd_len);

	check_e820_low(zp.e820_table, zp.e820_entries);

	/* identity map of the first 4 GiB with 2 MiB pages */
	const uint64_t *pml4 = gp(m, LAYOUT_PML4, PAGE);
	const uint64_t *pdpt = gp(m, LAYOUT_PDPT, PAGE);
	const uint64_t *pd = gp(m, LAYOUT_PD, 4 * PAGE);
	assert_int_equal(pml4[0], LAYOUT_PDPT | 3);
	assert_int_equal(pml4[1], 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pdpt[i], (LAYOUT_PD + i * PAGE) | 3);
	assert_int_equal(pdpt[4], 0);
	for (unsigned i = 0; i < 4 * 512; i++)
		assert_int_equal(pd[i], ((uint64_t)i << 21) | 0x83);

	/* the MP table is written too */
	assert_memory_equal(gp(m, LAYOUT_MPTABLE, 4), "_MP_", 4);
	free(initrd);
	free(k);
}

static void test_bzimage_setup_sects_zero(void **state)
{
	struct bz_spec s = bz_default;
	s.setup_sects = 0;
	size_t len;
	uint8_t *k = make_bzimage(&s, &len);
	struct boot_entry e;
	char err[256];
	assert_int_equal(load(*state, k, len, NULL, NULL, 0, &e, err), 0);
	assert_memory_equal(gp(*state, LAYOUT_KERNEL, PM_LEN), k + 5 * 512, PM_LEN);
	/* no cmdline: an empty string; no initrd: zeros */
	assert_int_equal(*(char *)gp(*state, LAYOUT_CMDLINE, 1), '\0');
	struct boot_params *zp = gp(*state, LAYOUT_ZERO_PAGE, sizeof(*zp));
	assert_int_equal(zp->hdr.ramdisk_image, 0);
	assert_int_equal(zp->hdr.ramdisk_size, 0);
	free(k);
}

static void test_bzimage_initrd_addr_max(void **state)
{
	struct bz_spec s = bz_default;
	s.initrd_addr_max = 0x1ffffff; /* 32 MiB - 1 */
	size_t len, initrd_len = 3 * PAGE + 5;
	uint8_t *k = make_bzimage(&s, &len);
	uint8_t *initrd = calloc(1, initrd_len);
	struct boot_entry e;
	char err[256];
	assert_int_equal(load(*state, k, len, NULL, initrd, initrd_len, &e, err), 0);
	struct boot_params *zp = gp(*state, LAYOUT_ZERO_PAGE, sizeof(*zp));
	uint64_t end = (uint64_t)zp->hdr.ramdisk_image + initrd_len;
	assert_true(end <= 0x2000000);
	assert_true(end + PAGE > 0x2000000);
	assert_int_equal(zp->hdr.ramdisk_image % PAGE, 0);

	/* an initrd that does not fit between the kernel and that limit */
	free(initrd);
	initrd_len = 0x2000000 - LAYOUT_KERNEL - INIT_SIZE + 1;
	initrd = calloc(1, initrd_len);
	assert_int_equal(load(*state, k, len, NULL, initrd, initrd_len, &e, err), -ENOSPC);
	assert_non_null(strstr(err, "initrd"));
	free(initrd);
	free(k);
}

static void test_bzimage_cmdline_limit(void **state)
{
	struct bz_spec s = bz_default;
	s.cmdline_size = 16;
	size_t len;
	uint8_t *k = make_bzimage(&s, &len);
	struct boot_entry e;
	char err[256];
	assert_int_equal(load(*state, k, len, "0123456789abcdef", NULL, 0, &e, err), 0);
	assert_string_equal((char *)gp(*state, LAYOUT_CMDLINE, 17), "0123456789abcdef");
	assert_int_equal(load(*state, k, len, "0123456789abcdefg", NULL, 0, &e, err), -E2BIG);
	assert_non_null(strstr(err, "cmdline"));
	free(k);
}

/* Loading @k, cut to @cut bytes unless 0, fails with @ret and names @cause; frees @k. */
static void expect_load_error(void **state, uint8_t *k, size_t len, size_t cut, int ret,
			      const char *cause)
{
	struct boot_entry e;
	char err[256];

	assert_int_equal(load(*state, k, cut ? cut : len, NULL, NULL, 0, &e, err), ret);
	assert_non_null(strstr(err, "kernel: "));
	if (!strstr(err, cause))
		fail_msg("error \"%s\" does not mention \"%s\"", err, cause);
	free(k);
}

static void expect_bz_error(void **state, const struct bz_spec *s, size_t cut, int ret,
			    const char *cause)
{
	size_t len;
	uint8_t *k = make_bzimage(s, &len);

	expect_load_error(state, k, len, cut, ret, cause);
}

static void test_bzimage_errors(void **state)
{
	struct bz_spec s = bz_default;
	expect_bz_error(state, &s, 0x204, -EINVAL, "truncated setup header");
	expect_bz_error(state, &s, 0x240, -EINVAL, "truncated setup header");
	/* the file ends right after the setup sectors */
	expect_bz_error(state, &s, 3 * 512, -EINVAL, "truncated");
	s.version = 0x0209;
	expect_bz_error(state, &s, 0, -ENOTSUP, "2.09 is too old");
	s = bz_default;
	s.xloadflags = 0;
	expect_bz_error(state, &s, 0, -ENOTSUP, "64-bit");
	s = bz_default;
	s.init_size = RAM_SIZE;
	expect_bz_error(state, &s, 0, -ENOSPC, "needs");
}

static void test_bzimage_bad_magic(void **state)
{
	size_t len;
	uint8_t *k = make_bzimage(&bz_default, &len);
	struct boot_entry e;
	char err[256];
	memcpy(k + 0x202, "HdrX", 4);
	assert_int_equal(load(*state, k, len, NULL, NULL, 0, &e, err), -ENOEXEC);
	assert_non_null(strstr(err, "HdrS"));
	k[0x1fe] = 0;
	assert_int_equal(load(*state, k, len, NULL, NULL, 0, &e, err), -ENOEXEC);
	assert_non_null(strstr(err, "kernel: not a bzImage or ELF"));
	assert_int_equal(load(*state, k, 3, NULL, NULL, 0, &e, err), -ENOEXEC);
	assert_non_null(strstr(err, "not a bzImage or ELF"));
	free(k);
}

static void test_nr_cpus(void **state)
{
	size_t len;
	uint8_t *k = make_bzimage(&bz_default, &len);
	struct boot_entry e;
	char err[256];
	struct boot_images img = {.kernel = k, .kernel_len = len, .nr_cpus = LAYOUT_MAX_CPUS + 1};
	assert_int_equal(boot_load(*state, &img, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vCPUs"));
	img.nr_cpus = 0;
	assert_int_equal(boot_load(*state, &img, &e, err, sizeof(err)), -EINVAL);
	img.nr_cpus = LAYOUT_MAX_CPUS;
	assert_int_equal(boot_load(*state, &img, &e, err, sizeof(err)), 0);
	free(k);
}

/* ---- ELF with a PVH note ---- */

struct elf_spec {
	bool is64;
	unsigned desc_size;  /* 0: no Xen note */
	unsigned note_align; /* 0: 4 */
	uint16_t machine;    /* 0: the right one for the class */
	uint64_t entry;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

/* Write one note padded to @align; returns its size. */
static uint32_t put_note(uint8_t *p, const char *name, uint32_t type, uint32_t descsz,
			 uint64_t desc, uint32_t align)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	uint32_t name_pad = (namesz + align - 1) & ~(align - 1);
	Elf32_Nhdr nh = {.n_namesz = namesz, .n_descsz = descsz, .n_type = type};
	memcpy(p, &nh, sizeof(nh));
	memcpy(p + sizeof(nh), name, namesz);
	memcpy(p + sizeof(nh) + name_pad, &desc, descsz);
	return (uint32_t)sizeof(nh) + name_pad + ((descsz + align - 1) & ~(align - 1));
}

/* ehdr, 2 phdrs at 0x40 (PT_NOTE, PT_LOAD), notes at 0x100, segment at 0x200 */
static uint8_t *make_elf(const struct elf_spec *s, size_t *len)
{
	*len = SEG_OFFSET + s->filesz;
	uint8_t *k = calloc(1, *len);
	assert_non_null(k);
	uint32_t align = s->note_align ? s->note_align : 4;
	/* a note to skip, with name and descriptor that need padding */
	uint32_t notes_len = put_note(k + 0x100, "Linux", 1, 1, 0x2a, align);
	if (s->desc_size)
		notes_len += put_note(k + 0x100 + notes_len, "Xen", XEN_ENTRY, s->desc_size,
				      s->entry, align);
	if (s->is64) {
		Elf64_Ehdr eh = {
		    .e_type = ET_EXEC,
		    .e_machine = s->machine ? s->machine : EM_X86_64,
		    .e_version = EV_CURRENT,
		    .e_entry = 0xffffffff81000000ULL,
		    .e_phoff = 0x40,
		    .e_ehsize = sizeof(eh),
		    .e_phentsize = sizeof(Elf64_Phdr),
		    .e_phnum = 2,
		};
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		Elf64_Phdr ph[2] = {
		    {.p_type = PT_NOTE, .p_offset = 0x100, .p_filesz = notes_len, .p_align = align},
		    {.p_type = PT_LOAD,
		     .p_offset = SEG_OFFSET,
		     .p_vaddr = s->paddr + 0xffffffff80000000ULL,
		     .p_paddr = s->paddr,
		     .p_filesz = s->filesz,
		     .p_memsz = s->memsz,
		     .p_align = 0x1000},
		};
		memcpy(k, &eh, sizeof(eh));
		memcpy(k + 0x40, ph, sizeof(ph));
	} else {
		Elf32_Ehdr eh = {
		    .e_type = ET_EXEC,
		    .e_machine = s->machine ? s->machine : EM_386,
		    .e_version = EV_CURRENT,
		    .e_entry = (uint32_t)s->entry,
		    .e_phoff = 0x40,
		    .e_ehsize = sizeof(eh),
		    .e_phentsize = sizeof(Elf32_Phdr),
		    .e_phnum = 2,
		};
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		Elf32_Phdr ph[2] = {
		    {.p_type = PT_NOTE, .p_offset = 0x100, .p_filesz = notes_len, .p_align = align},
		    {.p_type = PT_LOAD,
		     .p_offset = SEG_OFFSET,
		     .p_vaddr = (uint32_t)s->paddr,
		     .p_paddr = (uint32_t)s->paddr,
		     .p_filesz = (uint32_t)s->filesz,
		     .p_memsz = (uint32_t)s->memsz,
		     .p_align = 0x1000},
		};
		memcpy(k, &eh, sizeof(eh));
		memcpy(k + 0x40, ph, sizeof(ph));
	}
	for (uint64_t i = 0; i < s->filesz; i++)
		k[SEG_OFFSET + i] = (uint8_t)(i * 3 + 5);
	return k;
}

static const struct elf_spec elf32_default = {
    .desc_size = 4,
    .entry = 0x100010,
    .paddr = 0x100000,
    .filesz = 0x300,
    .memsz = 0x2000,
};

static const struct elf_spec elf64_default = {
    .is64 = true,
    .desc_size = 8,
    .entry = 0x1000000,
    .paddr = 0x1000000,
    .filesz = 0x1800,
    .memsz = 0x5000,
};

static void check_pvh_load(struct guest_mem *m, const struct elf_spec *s, const uint8_t *initrd,
			   size_t initrd_len, const char *cmdline)
{
	size_t len;
	uint8_t *k = make_elf(s, &len);
	struct boot_entry e;
	char err[256];

	/* stale bytes where the bss goes must be cleared */
	memset(gp(m, s->paddr, s->memsz), 0xcc, s->memsz);
	assert_int_equal(load(m, k, len, cmdline, initrd, initrd_len, &e, err), 0);
	assert_int_equal(e.mode, BOOT_MODE_PVH32);
	assert_int_equal(e.rip, s->entry);
	assert_int_equal(e.rbx, LAYOUT_PVH_START_INFO);
	assert_int_equal(e.gdt, LAYOUT_GDT);
	assert_int_equal(e.cs, 0x08);
	assert_int_equal(e.ds, 0x18);
	check_gdt(m);

	const uint8_t *seg = gp(m, s->paddr, s->memsz);
	assert_memory_equal(seg, k + SEG_OFFSET, s->filesz);
	for (uint64_t i = s->filesz; i < s->memsz; i++)
		assert_int_equal(seg[i], 0);

	struct start_info si;
	memcpy(&si, gp(m, LAYOUT_PVH_START_INFO, sizeof(si)), sizeof(si));
	assert_int_equal(si.magic, PVH_MAGIC);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.flags, 0);
	assert_int_equal(si.cmdline_paddr, LAYOUT_CMDLINE);
	assert_int_equal(si.rsdp_paddr, 0);
	assert_int_equal(si.memmap_paddr, LAYOUT_PVH_MEMMAP);
	assert_string_equal((char *)gp(m, LAYOUT_CMDLINE, 1), cmdline ? cmdline : "");

	struct memmap_entry mm[3];
	struct boot_e820_entry as_e820[3];
	memcpy(mm, gp(m, LAYOUT_PVH_MEMMAP, sizeof(mm)), sizeof(mm));
	for (unsigned i = 0; i < 3; i++) {
		as_e820[i] = (struct boot_e820_entry){mm[i].addr, mm[i].size, mm[i].type};
		assert_int_equal(mm[i].reserved, 0);
	}
	check_e820_low(as_e820, si.memmap_entries);

	if (!initrd_len) {
		assert_int_equal(si.nr_modules, 0);
		assert_int_equal(si.modlist_paddr, 0);
	} else {
		struct modlist_entry mod;
		assert_int_equal(si.nr_modules, 1);
		assert_int_equal(si.modlist_paddr, LAYOUT_PVH_MODLIST);
		memcpy(&mod, gp(m, LAYOUT_PVH_MODLIST, sizeof(mod)), sizeof(mod));
		assert_int_equal(mod.size, initrd_len);
		assert_int_equal(mod.paddr % PAGE, 0);
		assert_true(mod.paddr >= s->paddr + s->memsz);
		assert_true(mod.paddr + initrd_len <= RAM_SIZE);
		assert_true(mod.paddr + initrd_len + PAGE > RAM_SIZE);
		assert_memory_equal(gp(m, mod.paddr, initrd_len), initrd, initrd_len);
	}
	free(k);
}

static void test_pvh_elf32(void **state)
{
	uint8_t initrd[5000];
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	check_pvh_load(*state, &elf32_default, initrd, sizeof(initrd), "quiet");
	check_pvh_load(*state, &elf32_default, NULL, 0, NULL);
}

static void test_pvh_elf64(void **state)
{
	uint8_t initrd[PAGE];
	memset(initrd, 0x77, sizeof(initrd));
	check_pvh_load(*state, &elf64_default, initrd, sizeof(initrd), "console=hvc0");
	check_pvh_load(*state, &elf64_default, NULL, 0, NULL);
	/* a 4-byte entry note in an ELF64 is fine too */
	struct elf_spec s = elf64_default;
	s.desc_size = 4;
	check_pvh_load(*state, &s, NULL, 0, NULL);
	/* notes in a segment aligned to 8 are padded to 8 */
	s = elf64_default;
	s.note_align = 8;
	check_pvh_load(*state, &s, NULL, 0, NULL);
}

static void test_pvh_cmdline_limit(void **state)
{
	size_t len;
	uint8_t *k = make_elf(&elf32_default, &len);
	char *cmdline = malloc(LAYOUT_CMDLINE_MAX + 1);
	struct boot_entry e;
	char err[256];
	memset(cmdline, 'x', LAYOUT_CMDLINE_MAX);
	cmdline[LAYOUT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(load(*state, k, len, cmdline, NULL, 0, &e, err), 0);
	assert_int_equal(strlen(gp(*state, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX)),
			 LAYOUT_CMDLINE_MAX - 1);
	cmdline[LAYOUT_CMDLINE_MAX - 1] = 'x';
	cmdline[LAYOUT_CMDLINE_MAX] = '\0';
	assert_int_equal(load(*state, k, len, cmdline, NULL, 0, &e, err), -E2BIG);
	assert_non_null(strstr(err, "cmdline"));
	free(cmdline);
	free(k);
}

static void test_pvh_initrd_too_big(void **state)
{
	size_t len;
	uint8_t *k = make_elf(&elf64_default, &len);
	/* everything above the kernel's end, plus one byte */
	size_t initrd_len = RAM_SIZE - (elf64_default.paddr + elf64_default.memsz) + 1;
	uint8_t *initrd = calloc(1, initrd_len);
	struct boot_entry e;
	char err[256];
	assert_int_equal(load(*state, k, len, NULL, initrd, initrd_len, &e, err), -ENOSPC);
	assert_non_null(strstr(err, "initrd"));
	/* one page less fits */
	assert_int_equal(load(*state, k, len, NULL, initrd, initrd_len - PAGE, &e, err), 0);
	free(initrd);
	free(k);
}

static void expect_elf_error(void **state, const struct elf_spec *s, size_t cut, int ret,
			     const char *cause)
{
	size_t len;
	uint8_t *k = make_elf(s, &len);

	expect_load_error(state, k, len, cut, ret, cause);
}

static void test_pvh_errors(void **state)
{
	struct elf_spec s = elf32_default;
	s.desc_size = 0;
	expect_elf_error(state, &s, 0, -ENOEXEC, "no PVH entry note");
	s.is64 = true;
	expect_elf_error(state, &s, 0, -ENOEXEC, "no PVH entry note");

	s = elf32_default;
	expect_elf_error(state, &s, 30, -EINVAL, "truncated ELF header");
	expect_elf_error(state, &s, 0x60, -EINVAL, "truncated ELF program headers");
	expect_elf_error(state, &s, 0x108, -EINVAL, "truncated ELF note");
	expect_elf_error(state, &s, SEG_OFFSET + 0x10, -EINVAL, "segment 1: truncated");
	s.desc_size = 6;
	expect_elf_error(state, &s, 0, -EINVAL, "PVH entry note of 6 bytes");

	s = elf32_default;
	s.paddr = RAM_SIZE - 0x1000; /* memsz 0x2000 runs past the end of RAM */
	s.entry = s.paddr;
	expect_elf_error(state, &s, 0, -ENOSPC, "outside guest RAM");
	s.paddr = 0x8000;
	s.entry = s.paddr;
	expect_elf_error(state, &s, 0, -EINVAL, "boot area");

	s = elf32_default;
	s.filesz = 0x3000;
	expect_elf_error(state, &s, 0, -EINVAL, "file size");

	s = elf64_default;
	s.paddr = UINT64_MAX - 0x100; /* paddr + memsz wraps */
	expect_elf_error(state, &s, 0, -ENOSPC, "outside guest RAM");
	s = elf64_default;
	s.entry = 0x100000000ULL;
	expect_elf_error(state, &s, 0, -EINVAL, "PVH entry 0x100000000");
	s = elf64_default;
	s.machine = EM_386;
	expect_elf_error(state, &s, 0, -ENOEXEC, "machine");
}

static void test_pvh_malformed_note(void **state)
{
	size_t len;
	uint8_t *k = make_elf(&elf32_default, &len);
	struct boot_entry e;
	char err[256];
	uint32_t huge = 0xfffffff0;
	memcpy(k + 0x100, &huge, 4); /* namesz of the first note */
	assert_int_equal(load(*state, k, len, NULL, NULL, 0, &e, err), -EINVAL);
	assert_non_null(strstr(err, "malformed ELF note"));
	free(k);
}

static void test_e820_high(void **state)
{
	/* e820_build only looks at the sizes */
	struct guest_mem m = {.size = 5ULL << 30, .low_size = LAYOUT_PCI_HOLE};
	struct e820_range r[E820_MAX_RANGES];
	assert_int_equal(e820_build(&m, r), 4);
	assert_int_equal(r[2].addr, LAYOUT_BIOS_END);
	assert_int_equal(r[2].size, LAYOUT_PCI_HOLE - LAYOUT_BIOS_END);
	assert_int_equal(r[3].addr, LAYOUT_HIGH_RAM);
	assert_int_equal(r[3].size, (5ULL << 30) - LAYOUT_PCI_HOLE);
	assert_int_equal(r[3].type, E820_RAM);

	m = (struct guest_mem){.size = 2ULL << 20, .low_size = 2ULL << 20};
	assert_int_equal(e820_build(&m, r), 3);
	assert_int_equal(r[2].size, (2ULL << 20) - LAYOUT_BIOS_END);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_mem, teardown_mem)
	const struct CMUnitTest tests[] = {
	    T(test_bzimage_load),
	    T(test_bzimage_setup_sects_zero),
	    T(test_bzimage_initrd_addr_max),
	    T(test_bzimage_cmdline_limit),
	    T(test_bzimage_errors),
	    T(test_bzimage_bad_magic),
	    T(test_nr_cpus),
	    T(test_pvh_elf32),
	    T(test_pvh_elf64),
	    T(test_pvh_cmdline_limit),
	    T(test_pvh_initrd_too_big),
	    T(test_pvh_errors),
	    T(test_pvh_malformed_note),
	    cmocka_unit_test(test_e820_high),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
