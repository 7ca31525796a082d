/* SPDX-License-Identifier: MIT */
/*
 * Benchmark guests, one per -D: each does the least a measurement needs, so
 * what is timed is the VMM and not the guest.
 *   BENCH_EXIT    first instruction writes 0 to the exit port
 *   BENCH_SERIAL  first instruction writes one byte to COM1, then exits
 *   BENCH_IDLE    prints "ready\n" on COM1, then halts with interrupts off
 */
#define PORT_COM1 0x3f8
#define PORT_EXIT 0x501
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.code32
	.section .text
	.globl _start
_start:
#if defined(BENCH_EXIT)
	movw $PORT_EXIT, %dx
	xorb %al, %al
	outb %al, %dx
#elif defined(BENCH_SERIAL)
	movw $PORT_COM1, %dx
	movb $'!', %al
	outb %al, %dx
	movw $PORT_EXIT, %dx
	xorb %al, %al
	outb %al, %dx
#elif defined(BENCH_IDLE)
	movl $ready, %esi
	movw $PORT_COM1, %dx
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:
#else
#error "define BENCH_EXIT, BENCH_SERIAL or BENCH_IDLE"
#endif
	cli
3:	hlt
	jmp 3b

	.section .rodata
ready:	.asciz "ready\n"

	.section .note.pvh, "a"
	.p2align 2
	.long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.p2align 2
	.long _start
