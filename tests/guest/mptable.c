// SPDX-License-Identifier: MIT
#include "mptable.h"

#include "lib.h"
#include "serial.h"

#define MPT_SCAN_START 0xf0000u
#define MPT_SCAN_END   0x100000u
#define MPT_HDR_LEN    44
#define MPT_MAX_LEN    0x10000u

enum { MPT_PROCESSOR = 0, MPT_BUS, MPT_IOAPIC, MPT_IOINT, MPT_LINT };

#define MPT_CPU_ENABLED 1
#define MPT_CPU_BSP	2

static uint8_t sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const uint8_t *find_fp(void)
{
	for (uint32_t a = MPT_SCAN_START; a < MPT_SCAN_END; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (!memcmp(p, "_MP_", 4) && p[8] == 1 && sum(p, 16) == 0)
			return p;
	}
	return NULL;
}

static int parse_entries(const uint8_t *t, uint32_t len, uint16_t count, struct mpt_info *info)
{
	uint32_t off = MPT_HDR_LEN;

	for (uint16_t i = 0; i < count; i++) {
		uint32_t elen = off < len && t[off] == MPT_PROCESSOR ? 20 : 8;

		if (off >= len || len - off < elen || t[off] > MPT_LINT) {
			serial_printf("mptable: entry %u at +%u is invalid or overruns the table "
				      "(%u bytes)\n",
				      i, off, len);
			return -1;
		}
		if (t[off] == MPT_PROCESSOR && (t[off + 3] & MPT_CPU_ENABLED)) {
			if (info->nr_cpus >= MPT_MAX_CPUS) {
				serial_printf("mptable: more than %u processors\n", MPT_MAX_CPUS);
				return -1;
			}
			info->apic_id[info->nr_cpus++] = t[off + 1];
			if (t[off + 3] & MPT_CPU_BSP)
				info->bsp_apic_id = t[off + 1];
		} else if (t[off] == MPT_IOAPIC) {
			info->nr_ioapics++;
		}
		off += elen;
	}
	return 0;
}

int mpt_read(struct mpt_info *info)
{
	const uint8_t *fp = find_fp(), *t;
	uint32_t addr, len;

	*info = (struct mpt_info){0};
	if (!fp) {
		serial_printf("mptable: no valid _MP_ floating pointer in 0xf0000-0xfffff\n");
		return -1;
	}
	addr = get32(fp + 4);
	serial_printf("mptable: floating pointer at %p, table at 0x%x\n", (const void *)fp, addr);
	t = (const uint8_t *)addr;
	if (!addr || addr > 0xffffffffu - MPT_MAX_LEN || memcmp(t, "PCMP", 4)) {
		serial_printf("mptable: no PCMP table at 0x%x\n", addr);
		return -1;
	}
	len = get16(t + 4);
	if (len < MPT_HDR_LEN || sum(t, len) != 0) {
		serial_printf("mptable: bad table length %u or checksum\n", len);
		return -1;
	}
	return parse_entries(t, len, get16(t + 34), info);
}
