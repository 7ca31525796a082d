// SPDX-License-Identifier: MIT
/* Asks the i8042 keyboard controller for a system reset. */
#include "guest.h"
#include "io.h"
#include "serial.h"

#define I8042_CMD	0x64
#define I8042_CMD_RESET 0xfe
#define RESET_WAIT_MS	5000

int guest_main(const char *cmdline)
{
	uint64_t deadline = deadline_in_ms(RESET_WAIT_MS);

	serial_printf("reset: pulsing the reset line via the i8042\n");
	outb(I8042_CMD, I8042_CMD_RESET);
	while (!deadline_passed(deadline))
		cpu_relax();
	serial_printf("reset: still running\n");
	return GUEST_STILL_RUNNING;
}
