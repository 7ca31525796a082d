// SPDX-License-Identifier: MIT
/*
 * Ends the VM the way the command line asks:
 *   status=N   write N to the exit port (default 0),
 *   triple     fault with an empty IDT (the VMM should report a crash).
 */
#include "guest.h"
#include "serial.h"

static __attribute__((noreturn)) void triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idtr = {0, 0};

	serial_printf("exit: triple fault\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(idtr));
	__builtin_unreachable();
}

int guest_main(const char *cmdline)
{
	uint32_t status = cmdline_uint(cmdline, "status", 0);

	if (cmdline_get(cmdline, "triple"))
		triple_fault();
	serial_printf("exit: status %u\n", status & 0xff);
	return (int)(status & 0xff);
}
