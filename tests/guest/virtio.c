// SPDX-License-Identifier: MIT
#include "virtio.h"

#include "guest.h"
#include "io.h"
#include "serial.h"

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stddef.h>

#define VIO_MAX_QUEUES	     4
#define VIO_RESET_TIMEOUT_MS 1000
#define MSI_ADDR_BASE	     0xfee00000u

/* One page per queue: descriptors, then avail ring, then used ring. */
#define RING_AVAIL_OFF 256
#define RING_USED_OFF  1024
static uint8_t ring_pages[VIO_MAX_QUEUES][4096] __attribute__((aligned(4096)));
static unsigned ring_pages_used;

_Static_assert(VIO_QUEUE_MAX * sizeof(struct vring_desc) <= RING_AVAIL_OFF, "desc table");
_Static_assert(RING_AVAIL_OFF + 6 + 2 * VIO_QUEUE_MAX <= RING_USED_OFF, "avail ring");
_Static_assert(RING_USED_OFF + 6 + 8 * VIO_QUEUE_MAX <= 4096, "used ring");

static uint32_t cap_read32(pci_devfn df, uint8_t cap, uint8_t off)
{
	return pci_read32(df, cap + off);
}

/* Resolve a virtio capability to an address, checking the range fits. */
static uintptr_t cap_addr(pci_devfn df, uint8_t cap, uint32_t *len)
{
	uint8_t bar = pci_read8(df, cap + VIRTIO_PCI_CAP_BAR);
	uint32_t off = cap_read32(df, cap, VIRTIO_PCI_CAP_OFFSET);
	uint32_t base;

	*len = cap_read32(df, cap, VIRTIO_PCI_CAP_LENGTH);
	if (bar > 5)
		return 0;
	base = pci_bar_map(df, bar);
	if (!base || base + off < base || base + off + *len < base + off)
		return 0;
	return base + off;
}

static int find_caps(struct vio_dev *d)
{
	uint32_t common_len = 0, isr_len = 0;

	for (uint8_t cap = pci_find_cap(d->df, PCI_CAP_ID_VNDR, 0); cap;
	     cap = pci_find_cap(d->df, PCI_CAP_ID_VNDR, cap)) {
		uint8_t type = pci_read8(d->df, cap + VIRTIO_PCI_CAP_CFG_TYPE);

		if (type == VIRTIO_PCI_CAP_COMMON_CFG && !d->common) {
			d->common = cap_addr(d->df, cap, &common_len);
		} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !d->notify) {
			d->notify = cap_addr(d->df, cap, &d->notify_len);
			d->notify_mult = cap_read32(d->df, cap, VIRTIO_PCI_NOTIFY_CAP_MULT);
		} else if (type == VIRTIO_PCI_CAP_ISR_CFG && !d->isr) {
			d->isr = cap_addr(d->df, cap, &isr_len);
		} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !d->device) {
			d->device = cap_addr(d->df, cap, &d->device_len);
		}
	}
	if (!d->common || common_len < sizeof(struct virtio_pci_common_cfg) || !d->notify ||
	    d->notify_len < 2 || !d->isr || !isr_len) {
		serial_printf(
		    "virtio: %02x.%u: missing/short capability (common %x/%u notify %x/%u "
		    "isr %x/%u)\n",
		    d->df >> 3, d->df & 7, d->common, common_len, d->notify, d->notify_len, d->isr,
		    isr_len);
		return -1;
	}
	return 0;
}

static void find_msix(struct vio_dev *d)
{
	uint8_t cap = pci_find_cap(d->df, PCI_CAP_ID_MSIX, 0);
	uint32_t table, base;

	if (!cap)
		return;
	table = cap_read32(d->df, cap, PCI_MSIX_TABLE);
	base = pci_bar_map(d->df, table & PCI_MSIX_TABLE_BIR);
	if (!base)
		return;
	d->msix_cap = cap;
	d->msix_size = (pci_read16(d->df, cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
	d->msix_table = base + (table & PCI_MSIX_TABLE_OFFSET);
}

static uint8_t status_read(struct vio_dev *d)
{
	return mmio_read8(d->common + VIRTIO_PCI_COMMON_STATUS);
}

static void status_set(struct vio_dev *d, uint8_t bits)
{
	mmio_write8(d->common + VIRTIO_PCI_COMMON_STATUS, status_read(d) | bits);
}

static int negotiate(struct vio_dev *d, uint64_t wanted)
{
	uint64_t offered;

	mmio_write32(d->common + VIRTIO_PCI_COMMON_DFSELECT, 0);
	offered = mmio_read32(d->common + VIRTIO_PCI_COMMON_DF);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_DFSELECT, 1);
	offered |= (uint64_t)mmio_read32(d->common + VIRTIO_PCI_COMMON_DF) << 32;
	if (!(offered & (1ull << VIRTIO_F_VERSION_1))) {
		serial_printf("virtio: %02x.%u: VERSION_1 not offered (features %llx)\n",
			      d->df >> 3, d->df & 7, offered);
		return -1;
	}
	d->features = offered & (wanted | 1ull << VIRTIO_F_VERSION_1);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_GFSELECT, 0);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_GF, (uint32_t)d->features);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_GFSELECT, 1);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_GF, (uint32_t)(d->features >> 32));
	status_set(d, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(status_read(d) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		serial_printf("virtio: %02x.%u: FEATURES_OK refused\n", d->df >> 3, d->df & 7);
		return -1;
	}
	return 0;
}

int vio_init(struct vio_dev *d, pci_devfn df, uint64_t wanted)
{
	uint64_t deadline = deadline_in_ms(VIO_RESET_TIMEOUT_MS);

	*d = (struct vio_dev){.df = df};
	if (find_caps(d))
		return -1;
	find_msix(d);
	mmio_write8(d->common + VIRTIO_PCI_COMMON_STATUS, 0);
	while (status_read(d) != 0) {
		if (deadline_passed(deadline)) {
			serial_printf("virtio: %02x.%u: reset timed out\n", df >> 3, df & 7);
			return -1;
		}
		cpu_relax();
	}
	status_set(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	status_set(d, VIRTIO_CONFIG_S_DRIVER);
	if (negotiate(d, wanted))
		return -1;
	mmio_write16(d->common + VIRTIO_PCI_COMMON_MSIX, VIRTIO_MSI_NO_VECTOR);
	return 0;
}

int vio_msix_route(struct vio_dev *d, uint16_t entry, uint8_t apic_id, uint8_t vector)
{
	uintptr_t e = d->msix_table + (uintptr_t)entry * PCI_MSIX_ENTRY_SIZE;
	uint16_t flags;

	if (!d->msix_table || entry >= d->msix_size) {
		serial_printf("virtio: %02x.%u: no MSI-X entry %u (table size %u)\n", d->df >> 3,
			      d->df & 7, entry, d->msix_size);
		return -1;
	}
	mmio_write32(e + PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR_BASE | (uint32_t)apic_id << 12);
	mmio_write32(e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
	mmio_write32(e + PCI_MSIX_ENTRY_DATA, vector);
	mmio_write32(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	flags = pci_read16(d->df, d->msix_cap + PCI_MSIX_FLAGS);
	flags = (flags | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL;
	pci_write16(d->df, d->msix_cap + PCI_MSIX_FLAGS, flags);
	return 0;
}

int vio_queue_init(struct vio_dev *d, struct vio_queue *q, uint16_t index, uint16_t msix_entry)
{
	uint16_t size, noff;
	uint8_t *mem;

	if (ring_pages_used >= VIO_MAX_QUEUES)
		return -1;
	mmio_write16(d->common + VIRTIO_PCI_COMMON_Q_SELECT, index);
	size = mmio_read16(d->common + VIRTIO_PCI_COMMON_Q_SIZE);
	if (size == 0) {
		serial_printf("virtio: %02x.%u: queue %u does not exist\n", d->df >> 3, d->df & 7,
			      index);
		return -1;
	}
	if (size > VIO_QUEUE_MAX)
		size = VIO_QUEUE_MAX;
	noff = mmio_read16(d->common + VIRTIO_PCI_COMMON_Q_NOFF);
	if ((uint32_t)noff * d->notify_mult > d->notify_len - 2) {
		serial_printf("virtio: %02x.%u: queue %u notify offset %u outside the region\n",
			      d->df >> 3, d->df & 7, index, noff);
		return -1;
	}
	mem = ring_pages[ring_pages_used++];
	*q = (struct vio_queue){
	    .dev = d,
	    .index = index,
	    .size = size,
	    .desc = (struct vring_desc *)mem,
	    .avail = (struct vring_avail *)(mem + RING_AVAIL_OFF),
	    .used = (struct vring_used *)(mem + RING_USED_OFF),
	    .notify = d->notify + (uint32_t)noff * d->notify_mult,
	};
	mmio_write16(d->common + VIRTIO_PCI_COMMON_Q_SIZE, size);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_Q_DESCLO, (uintptr_t)q->desc);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_Q_DESCHI, 0);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_Q_AVAILLO, (uintptr_t)q->avail);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_Q_AVAILHI, 0);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_Q_USEDLO, (uintptr_t)q->used);
	mmio_write32(d->common + VIRTIO_PCI_COMMON_Q_USEDHI, 0);
	mmio_write16(d->common + VIRTIO_PCI_COMMON_Q_MSIX, msix_entry);
	if (mmio_read16(d->common + VIRTIO_PCI_COMMON_Q_MSIX) != msix_entry) {
		serial_printf("virtio: %02x.%u: queue %u refused MSI-X entry %u\n", d->df >> 3,
			      d->df & 7, index, msix_entry);
		return -1;
	}
	mmio_write16(d->common + VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	return 0;
}

int vio_driver_ok(struct vio_dev *d)
{
	uint8_t st;

	status_set(d, VIRTIO_CONFIG_S_DRIVER_OK);
	st = status_read(d);
	if (st & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED) ||
	    !(st & VIRTIO_CONFIG_S_DRIVER_OK)) {
		serial_printf("virtio: %02x.%u: bad status %x after DRIVER_OK\n", d->df >> 3,
			      d->df & 7, st);
		return -1;
	}
	return 0;
}

uint32_t vio_config_read(struct vio_dev *d, uint32_t off, uint32_t len)
{
	if (!d->device || off > d->device_len || len > d->device_len - off)
		return 0;
	if (len == 1)
		return mmio_read8(d->device + off);
	if (len == 2)
		return mmio_read16(d->device + off);
	return mmio_read32(d->device + off);
}

int vio_submit(struct vio_queue *q, const struct vio_buf *bufs, unsigned n)
{
	if (n == 0 || n > q->size || q->avail_idx != q->used_idx)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		q->desc[i] = (struct vring_desc){
		    .addr = (uintptr_t)bufs[i].addr,
		    .len = bufs[i].len,
		    .flags = (uint16_t)((bufs[i].device_writes ? VRING_DESC_F_WRITE : 0) |
					(i + 1 < n ? VRING_DESC_F_NEXT : 0)),
		    .next = (uint16_t)(i + 1 < n ? i + 1 : 0),
		};
	}
	q->avail->ring[q->avail_idx % q->size] = 0;
	barrier();
	q->avail->idx = ++q->avail_idx;
	mb();
	if (!(q->used->flags & VRING_USED_F_NO_NOTIFY))
		mmio_write16(q->notify, q->index);
	return 0;
}

int vio_wait(struct vio_queue *q, enum vio_wait_mode mode, uint32_t timeout_ms, uint32_t *len)
{
	uint64_t deadline = deadline_in_ms(timeout_ms);
	volatile uint16_t *used_idx = &q->used->idx;
	struct vring_used_elem e;

	while (*used_idx == q->used_idx) {
		if (deadline_passed(deadline)) {
			serial_printf("virtio: %02x.%u: queue %u: timeout after %u ms\n",
				      q->dev->df >> 3, q->dev->df & 7, q->index, timeout_ms);
			return -1;
		}
		if (mode == VIO_HALT)
			irq_wait();
		else
			cpu_relax();
	}
	barrier();
	e = ((volatile struct vring_used_elem *)q->used->ring)[q->used_idx % q->size];
	q->used_idx++;
	if (e.id != 0 || *used_idx != q->used_idx) {
		serial_printf("virtio: %02x.%u: queue %u: bad used entry id %u (used idx %u, "
			      "expected %u)\n",
			      q->dev->df >> 3, q->dev->df & 7, q->index, e.id, *used_idx,
			      q->used_idx);
		return -1;
	}
	*len = e.len;
	return 0;
}
