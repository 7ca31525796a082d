// SPDX-License-Identifier: MIT
#include "guest.h"

#include "io.h"
#include "lib.h"
#include "serial.h"

#define CMDLINE_MAX 256
#define TSC_MAX_KHZ 4000000ull

static char cmdline[CMDLINE_MAX];

void guest_start(const struct hvm_start_info *si);

/* The loader's start info and command line live in low memory that guests
 * may reuse, so copy the command line out first. */
static void copy_cmdline(const struct hvm_start_info *si)
{
	const char *src;

	if (!si || si->magic != XEN_HVM_START_MAGIC) {
		serial_printf("guest: bad start info %p\n", (const void *)si);
		guest_exit(GUEST_FAIL);
	}
	if (!si->cmdline_paddr || si->cmdline_paddr >= 0xffffffffull - CMDLINE_MAX)
		return;
	src = (const char *)(uintptr_t)si->cmdline_paddr;
	for (int i = 0; i < CMDLINE_MAX - 1 && src[i]; i++)
		cmdline[i] = src[i];
}

void guest_start(const struct hvm_start_info *si)
{
	serial_init();
	copy_cmdline(si);
	serial_printf("guest: start, cmdline '%s'\n", cmdline);
	guest_exit((uint8_t)guest_main(cmdline));
}

void guest_exit(uint8_t status)
{
	serial_printf("guest: exit %u\n", status);
	outb(GUEST_EXIT_PORT, status);
	for (;;) {
		irq_disable();
		__asm__ volatile("hlt");
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

const char *cmdline_get(const char *cl, const char *key)
{
	size_t klen = strlen(key);

	while (*cl) {
		const char *word = cl;

		while (*cl && !is_space(*cl))
			cl++;
		if ((size_t)(cl - word) >= klen && !memcmp(word, key, klen)) {
			if (word + klen == cl)
				return cl;
			if (word[klen] == '=')
				return word + klen + 1;
		}
		while (is_space(*cl))
			cl++;
	}
	return NULL;
}

uint32_t cmdline_uint(const char *cl, const char *key, uint32_t def)
{
	const char *v = cmdline_get(cl, key);
	unsigned base = 10;
	uint32_t n = 0;

	if (!v || !*v || is_space(*v))
		return def;
	if (v[0] == '0' && v[1] == 'x') {
		base = 16;
		v += 2;
	}
	for (; *v && !is_space(*v); v++) {
		unsigned d;

		if (*v >= '0' && *v <= '9')
			d = (unsigned)(*v - '0');
		else if (base == 16 && *v >= 'a' && *v <= 'f')
			d = (unsigned)(*v - 'a' + 10);
		else
			return def;
		if (d >= base || n > (0xffffffffu - d) / base)
			return def;
		n = n * base + d;
	}
	return n;
}

uint64_t deadline_in_ms(uint32_t ms)
{
	return rdtsc() + ms * TSC_MAX_KHZ;
}

bool deadline_passed(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

void delay_us(uint32_t us)
{
	uint64_t end = rdtsc() + us * (TSC_MAX_KHZ / 1000);

	while (!deadline_passed(end))
		cpu_relax();
}
