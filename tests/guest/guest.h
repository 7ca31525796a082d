/* SPDX-License-Identifier: MIT */
/*
 * Runtime shared by all test guests: start-up, command line, timeouts, exit.
 * Each guest defines guest_main(); its return value is written to the exit
 * port (0 = pass).
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/pvh_start_info.h"

#define GUEST_EXIT_PORT 0x501

/* Status codes guests report through the exit port. */
enum guest_status {
	GUEST_OK = 0,
	GUEST_FAIL = 1,		    /* a check failed; the serial log says which */
	GUEST_TIMEOUT = 2,	    /* a bounded wait expired */
	GUEST_EXCEPTION = 0x70,	    /* unexpected CPU exception */
	GUEST_STILL_RUNNING = 0x7f, /* an exit/reset request did not stop the VM */
};

/** Implemented by each guest; @cmdline is the boot command line (never NULL). */
int guest_main(const char *cmdline);

/** Write @status to the exit port and stop. */
__attribute__((noreturn)) void guest_exit(uint8_t status);

/**
 * Find "@key" or "@key=value" among the space-separated words of @cmdline.
 * Returns the value (pointing into @cmdline, ending at a space or NUL; empty
 * for a bare key), or NULL when absent.
 */
const char *cmdline_get(const char *cmdline, const char *key);
/** Numeric value of "@key=N" (decimal or 0x hex), or @def when absent/invalid. */
uint32_t cmdline_uint(const char *cmdline, const char *key, uint32_t def);

/**
 * Deadlines count TSC cycles assuming a TSC of at most 4 GHz, so a timeout
 * may last up to a few times longer than asked on slower clocks, never less.
 */
uint64_t deadline_in_ms(uint32_t ms);
bool deadline_passed(uint64_t deadline);
/** Busy-wait roughly @us microseconds (for INIT/SIPI pacing). */
void delay_us(uint32_t us);

#endif
