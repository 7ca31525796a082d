// SPDX-License-Identifier: MIT
#include "mptable.h"
#include "layout.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Structures of the Intel MultiProcessor Specification 1.4, chapter 4. */
struct mpf_intel {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature1;
	uint8_t feature2;
	uint8_t feature3;
	uint8_t feature4;
	uint8_t feature5;
} __attribute__((packed));

struct mpc_table {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount; /* number of entries */
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };

#define MPC_CPU_ENABLED	  0x01
#define MPC_CPU_BSP	  0x02
#define MPC_APIC_ENABLED  0x01
#define MP_IRQ_INT	  0
#define MP_IRQ_NMI	  1
#define MP_IRQ_EXTINT	  3
#define MP_APIC_ALL	  0xff
#define MP_LAPIC_VERSION  0x14 /* integrated APIC, as KVM's in-kernel LAPIC */
#define MP_IOAPIC_VERSION 0x11 /* as KVM's in-kernel IOAPIC */
#define MP_BUS_PCI	  0
#define MP_BUS_ISA	  1
#define MP_ISA_IRQS	  16

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature; /* CPUID signature */
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

/* I/O and local interrupt assignment entries share one layout. */
struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag; /* 0: polarity and trigger conform to the bus */
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

#define MP_TABLE_MAX                                                                               \
	(sizeof(struct mpf_intel) + sizeof(struct mpc_table) +                                     \
	 LAYOUT_MAX_CPUS * sizeof(struct mpc_cpu) + 2 * sizeof(struct mpc_bus) +                   \
	 sizeof(struct mpc_ioapic) + (MP_ISA_IRQS + 2) * sizeof(struct mpc_intsrc))

_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer is 16 bytes");
_Static_assert(sizeof(struct mpc_table) == 44, "MP table header is 44 bytes");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry is 20 bytes");
_Static_assert(LAYOUT_MPTABLE + MP_TABLE_MAX <= LAYOUT_BIOS_END, "MP table fits the BIOS area");

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

/* Appends entries to a host buffer; the table is small and bounded. */
struct mp_writer {
	uint8_t buf[MP_TABLE_MAX];
	size_t pos;
	uint16_t count;
};

static void mp_put(struct mp_writer *w, const void *entry, size_t len)
{
	memcpy(w->buf + w->pos, entry, len);
	w->pos += len;
	w->count++;
}

/* MP strings are space-padded and not NUL-terminated. */
static void mp_put_bus(struct mp_writer *w, uint8_t busid, const char type[6])
{
	struct mpc_bus e = {.type = MP_BUS, .busid = busid};
	memcpy(e.bustype, type, sizeof(e.bustype));
	mp_put(w, &e, sizeof(e));
}

static void mp_put_intsrc(struct mp_writer *w, uint8_t type, uint8_t irqtype, uint8_t srcbus,
			  uint8_t srcbusirq, uint8_t dstapic, uint8_t dstirq)
{
	struct mpc_intsrc e = {
	    .type = type,
	    .irqtype = irqtype,
	    .srcbus = srcbus,
	    .srcbusirq = srcbusirq,
	    .dstapic = dstapic,
	    .dstirq = dstirq,
	};
	mp_put(w, &e, sizeof(e));
}

int mptable_write(struct guest_mem *mem, unsigned nr_cpus, char *err, size_t errlen)
{
	if (nr_cpus == 0 || nr_cpus > LAYOUT_MAX_CPUS) {
		snprintf(err, errlen, "mptable: %u vCPUs (supported: 1 to %d)", nr_cpus,
			 LAYOUT_MAX_CPUS);
		return -EINVAL;
	}
	struct mp_writer w = {.pos = sizeof(struct mpf_intel) + sizeof(struct mpc_table)};
	uint8_t ioapic_id = (uint8_t)nr_cpus;

	for (unsigned i = 0; i < nr_cpus; i++) {
		struct mpc_cpu cpu = {
		    .type = MP_PROCESSOR,
		    .apicid = (uint8_t)i,
		    .apicver = MP_LAPIC_VERSION,
		    .cpuflag = MPC_CPU_ENABLED | (i == 0 ? MPC_CPU_BSP : 0),
		    .cpufeature = 0x600,  /* family 6 */
		    .featureflag = 0x201, /* FPU, APIC */
		};
		mp_put(&w, &cpu, sizeof(cpu));
	}
	mp_put_bus(&w, MP_BUS_PCI, "PCI   ");
	mp_put_bus(&w, MP_BUS_ISA, "ISA   ");
	struct mpc_ioapic ioapic = {
	    .type = MP_IOAPIC,
	    .apicid = ioapic_id,
	    .apicver = MP_IOAPIC_VERSION,
	    .flags = MPC_APIC_ENABLED,
	    .apicaddr = (uint32_t)LAYOUT_IOAPIC,
	};
	mp_put(&w, &ioapic, sizeof(ioapic));
	/* KVM's default GSI routing sends ISA IRQ n to IOAPIC pin n. */
	for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++)
		mp_put_intsrc(&w, MP_INTSRC, MP_IRQ_INT, MP_BUS_ISA, irq, ioapic_id, irq);
	mp_put_intsrc(&w, MP_LINTSRC, MP_IRQ_EXTINT, MP_BUS_ISA, 0, MP_APIC_ALL, 0);
	mp_put_intsrc(&w, MP_LINTSRC, MP_IRQ_NMI, MP_BUS_ISA, 0, MP_APIC_ALL, 1);

	struct mpc_table table = {
	    .length = (uint16_t)(w.pos - sizeof(struct mpf_intel)),
	    .spec = 4,
	    .oemcount = w.count,
	    .lapic = (uint32_t)LAYOUT_LAPIC,
	};
	memcpy(table.signature, "PCMP", sizeof(table.signature));
	memcpy(table.oem, "INLAY   ", sizeof(table.oem));
	memcpy(table.productid, "INLAY-VMM   ", sizeof(table.productid));
	uint8_t *tp = w.buf + sizeof(struct mpf_intel);
	memcpy(tp, &table, sizeof(table));
	tp[offsetof(struct mpc_table, checksum)] = mp_checksum(tp, table.length);

	struct mpf_intel mpf = {
	    .physptr = (uint32_t)(LAYOUT_MPTABLE + sizeof(struct mpf_intel)),
	    .length = 1,
	    .specification = 4,
	};
	memcpy(mpf.signature, "_MP_", sizeof(mpf.signature));
	memcpy(w.buf, &mpf, sizeof(mpf));
	w.buf[offsetof(struct mpf_intel, checksum)] = mp_checksum(w.buf, sizeof(mpf));

	if (!guest_mem_write(mem, LAYOUT_MPTABLE, w.buf, w.pos)) {
		snprintf(err, errlen, "mptable: guest RAM does not cover 0x%llx",
			 (unsigned long long)LAYOUT_MPTABLE);
		return -ENOSPC;
	}
	return 0;
}
