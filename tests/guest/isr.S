/* SPDX-License-Identifier: MIT */
/*
 * 256 interrupt entry stubs, 16 bytes apart, so the IDT can be built by
 * arithmetic. Each pushes an error code (a dummy 0 where the CPU pushes
 * none) and its vector, then irq_dispatch(struct irq_frame *) runs.
 */
	.text
	.code32
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushl $0
	.endif
	pushl $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	cld
	pushal
	pushl %esp
	call irq_dispatch
	addl $4, %esp
	popal
	addl $8, %esp
	/*
	 * Return without IRET: KVM's instruction emulator (which runs all CPL0
	 * code on software-virtualized hosts) handles IRET only in real mode.
	 * Same-privilege return needs just EFLAGS and CS:EIP back; an interrupt
	 * landing between POPF and LRET nests harmlessly on this stack.
	 */
	pushl 8(%esp)
	popfl
	lret $4

	.section .note.GNU-stack, "", @progbits
