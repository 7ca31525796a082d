/* SPDX-License-Identifier: MIT */
/*
 * PVH entry: 32-bit protected mode, paging off, EBX = struct hvm_start_info.
 * Loads our own GDT (the loader's may sit in memory we later reuse), clears
 * .bss, switches to our stack and calls guest_start(start_info).
 */
#include "seg.h"
#include "vmm/pvh_start_info.h"

	.section .note.Xen, "a", @note
	.balign 4
	.long 4f - 3f		/* namesz */
	.long 6f - 5f		/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
3:	.asciz "Xen"
4:	.balign 4
5:	.long pvh_start
6:	.balign 4

	.text
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	lgdt gdt_ptr
	ljmp $SEG_CODE, $1f
1:	movl $SEG_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %ebx, %esi
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $stack_top, %esp
	pushl %esi
	call guest_start
2:	cli
	hlt
	jmp 2b

	.data
	.balign 8
	.globl gdt_ptr
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
gdt_end:
	.balign 4
	.word 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.balign 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
