/* SPDX-License-Identifier: MIT */
/*
 * Application processor start-up. The BSP copies trampoline_start..end to a
 * page below 1 MiB, stores its GDTR there (trampoline_gdtr, SGDT format) and
 * sends INIT-SIPI-SIPI with that page's number. The AP starts in real mode,
 * loads that GDT, enters protected mode and jumps to ap_entry32, which
 * records its APIC id and halts. APs need no stack.
 */
#include "seg.h"

#define LAPIC_ID_REG 0xfee00020
#define AP_MAX 64

	.text
	.code16
	.globl trampoline_start, trampoline_gdtr, trampoline_end
trampoline_start:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl trampoline_gdtr - trampoline_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEG_CODE, $ap_entry32
	.balign 4
trampoline_gdtr:
	.skip 6
trampoline_end:

	.code32
ap_entry32:
	movl $SEG_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl LAPIC_ID_REG, %eax
	shrl $24, %eax
	movl $1, %ecx
	lock xaddl %ecx, ap_slots
	cmpl $AP_MAX, %ecx
	jae 1f
	movb %al, ap_apic_ids(%ecx)
1:	lock incl ap_started
2:	cli
	hlt
	jmp 2b

	.bss
	.balign 4
	.globl ap_slots, ap_started, ap_apic_ids
ap_slots:
	.long 0
ap_started:
	.long 0
ap_apic_ids:
	.skip AP_MAX

	.section .note.GNU-stack, "", @progbits
