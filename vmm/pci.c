// SPDX-License-Identifier: MIT
/*
 * PCI bus 0 behind configuration mechanism 1 (ports 0xcf8/0xcfc), with a host
 * bridge at 00:00.0 and type 0 functions that have 32-bit memory BARs only.
 */
#include "pci.h"
#include "layout.h"
#include "snapshot/snap_format.h"

#include <errno.h>
#include <string.h>

#define PCI_CFG_ENABLE 0x80000000u
/* Bits of 0xcf8 that exist: enable, bus, device, function, dword register. */
#define PCI_CFG_ADDR_MASK 0x80fffffcu
#define PCI_CAP_START	  0x40
#define PCI_BAR_MIN_SIZE  16
/* 82441FX (i440FX) host bridge: a device Linux and firmware know. */
#define PCI_HOST_BRIDGE_VENDOR 0x8086
#define PCI_HOST_BRIDGE_DEVICE 0x1237
#define PCI_CLASS_HOST_BRIDGE  0x060000

static bool ranges_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

/* At most a dword, inside configuration space. */
static bool pci_cfg_in_range(const struct pci_dev *dev, uint32_t off, uint32_t len)
{
	return len <= 4 && off <= sizeof(dev->cfg) && len <= sizeof(dev->cfg) - off;
}

uint32_t pci_cfg_get(const struct pci_dev *dev, uint32_t off, uint32_t len)
{
	uint32_t val = 0;
	if (!pci_cfg_in_range(dev, off, len))
		return 0;
	for (uint32_t i = 0; i < len; i++)
		val |= (uint32_t)dev->cfg[off + i] << (8 * i);
	return val;
}

void pci_cfg_set(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len)
{
	if (!pci_cfg_in_range(dev, off, len))
		return;
	for (uint32_t i = 0; i < len; i++)
		dev->cfg[off + i] = (uint8_t)(val >> (8 * i));
}

static void pci_bar_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bar_ref *ref = opaque;
	struct pci_dev *dev = ref->dev;
	if (dev->ops && dev->ops->bar_access)
		dev->ops->bar_access(dev, ref->index, off, data, len, is_write);
}

static void pci_bar_unmap(struct pci_dev *dev, int i)
{
	if (!dev->bar_addr[i])
		return;
	bus_unregister(dev->bus->mmio, dev->bar_addr[i], &dev->bar_ref[i]);
	dev->bar_addr[i] = 0;
}

/*
 * Make the MMIO bus match what BAR @i and the memory decode bit say. A BAR
 * the guest placed over another range stays unmapped until it moves again.
 */
static void pci_bar_update(struct pci_dev *dev, int i)
{
	bool decode = pci_cfg_get(dev, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
	uint32_t reg = pci_cfg_get(dev, PCI_BASE_ADDRESS_0 + 4 * (uint32_t)i, 4);
	uint64_t want = decode ? (reg & (uint32_t)PCI_BASE_ADDRESS_MEM_MASK) : 0;
	if (want == dev->bar_addr[i])
		return;
	pci_bar_unmap(dev, i);
	if (want && bus_register(dev->bus->mmio, want, dev->bar_size[i], pci_bar_access,
				 &dev->bar_ref[i]) == 0)
		dev->bar_addr[i] = want;
	if (dev->ops && dev->ops->bar_mapped)
		dev->ops->bar_mapped(dev, i, dev->bar_addr[i]);
}

static void pci_bars_update(struct pci_dev *dev)
{
	if (!dev->bus)
		return;
	for (int i = 0; i < PCI_NUM_BARS; i++)
		if (dev->bar_size[i])
			pci_bar_update(dev, i);
}

uint32_t pci_config_read(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	uint32_t val = pci_cfg_get(dev, off, len);
	if (dev->ops && dev->ops->cfg_read)
		dev->ops->cfg_read(dev, off, &val, len);
	return val;
}

void pci_config_write(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len)
{
	if (!pci_cfg_in_range(dev, off, len))
		return;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t m = dev->wmask[off + i];
		dev->cfg[off + i] = (uint8_t)((dev->cfg[off + i] & ~m) | ((val >> (8 * i)) & m));
	}
	if (ranges_overlap(off, len, PCI_COMMAND, 2) ||
	    ranges_overlap(off, len, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS))
		pci_bars_update(dev);
	if (dev->ops && dev->ops->cfg_write)
		dev->ops->cfg_write(dev, off, val, len);
}

/* The function 0xcf8 selects, or NULL: only bus 0, function 0 exist. */
static struct pci_dev *pci_bus_selected(struct pci_bus *pb)
{
	uint32_t addr = pb->config_address;
	if (!(addr & PCI_CFG_ENABLE) || ((addr >> 16) & 0xff) || ((addr >> 8) & 0x7))
		return NULL;
	return pb->slots[(addr >> 11) & 0x1f];
}

static void pci_port_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_bus *pb = opaque;
	uint32_t val = 0;
	if (len > 4)
		return;
	memcpy(&val, data, len);
	pthread_mutex_lock(&pb->lock);
	if (off < 4) {
		/* 0xcf8 is a dword register; narrower accesses are not ours. */
		if (off == 0 && len == 4) {
			if (is_write)
				pb->config_address = val & PCI_CFG_ADDR_MASK;
			else
				memcpy(data, &pb->config_address, 4);
		}
	} else if (off - 4 + len <= 4) {
		struct pci_dev *dev = pci_bus_selected(pb);
		uint32_t reg = (pb->config_address & 0xfc) + (uint32_t)(off - 4);
		if (dev && is_write) {
			pci_config_write(dev, reg, val, len);
		} else if (dev) {
			val = pci_config_read(dev, reg, len);
			memcpy(data, &val, len);
		}
	}
	pthread_mutex_unlock(&pb->lock);
}

/* Header fields every function lets the guest change. */
static void pci_dev_init_wmask(struct pci_dev *dev)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
		       PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;
	memcpy(&dev->wmask[PCI_COMMAND], &cmd, sizeof(cmd));
	dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	dev->wmask[PCI_LATENCY_TIMER] = 0xff;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

int pci_bus_init(struct pci_bus *pb, struct bus *pio, struct bus *mmio)
{
	memset(pb, 0, sizeof(*pb));
	pb->mmio = mmio;
	pb->mmio_next = LAYOUT_PCI_MMIO;
	pthread_mutex_init(&pb->lock, NULL);

	/* Linux's pci_sanity_check() looks for a host bridge or an Intel device. */
	struct pci_dev *hb = &pb->host_bridge;
	pci_cfg_set(hb, PCI_VENDOR_ID, PCI_HOST_BRIDGE_VENDOR, 2);
	pci_cfg_set(hb, PCI_DEVICE_ID, PCI_HOST_BRIDGE_DEVICE, 2);
	pci_cfg_set(hb, PCI_CLASS_REVISION, PCI_CLASS_HOST_BRIDGE << 8, 4);
	pci_cfg_set(hb, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL, 1);
	pci_dev_init_wmask(hb);
	hb->bus = pb;
	pb->slots[0] = hb;

	int ret = bus_register(pio, LAYOUT_PORT_PCI_ADDR, 8, pci_port_access, pb);
	if (ret < 0)
		pthread_mutex_destroy(&pb->lock);
	return ret;
}

void pci_bus_finish(struct pci_bus *pb, struct bus *pio)
{
	bus_unregister(pio, LAYOUT_PORT_PCI_ADDR, pb);
	for (int s = 1; s < PCI_MAX_SLOTS; s++)
		if (pb->slots[s])
			pci_bus_remove(pb, pb->slots[s]);
	pthread_mutex_destroy(&pb->lock);
}

static bool pci_bar_size_ok(uint32_t size)
{
	return size == 0 || (size >= PCI_BAR_MIN_SIZE && !(size & (size - 1)));
}

int pci_bus_add(struct pci_bus *pb, struct pci_dev *dev)
{
	uint32_t addr[PCI_NUM_BARS] = {0};
	int ret = -ENOSPC;
	pthread_mutex_lock(&pb->lock);
	int slot = 1;
	while (slot < PCI_MAX_SLOTS && pb->slots[slot])
		slot++;
	if (slot == PCI_MAX_SLOTS)
		goto out;

	/* Place every BAR first so that a device that does not fit changes nothing. */
	uint64_t next = pb->mmio_next;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t size = dev->bar_size[i];
		if (!pci_bar_size_ok(dev->bar_size[i])) {
			ret = -EINVAL;
			goto out;
		}
		if (!size)
			continue;
		uint64_t base = (next + size - 1) & ~(size - 1);
		if (base + size > LAYOUT_PCI_MMIO + LAYOUT_PCI_MMIO_SIZE)
			goto out;
		addr[i] = (uint32_t)base;
		next = base + size;
	}

	pci_dev_init_wmask(dev);
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		uint32_t off = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)i;
		/* 32-bit non-prefetchable memory: the type bits are all zero. */
		pci_cfg_set(dev, off, addr[i], 4);
		uint32_t wmask = dev->bar_size[i] ? ~(dev->bar_size[i] - 1) : 0;
		memcpy(&dev->wmask[off], &wmask, 4);
		dev->bar_addr[i] = 0;
		dev->bar_ref[i] = (struct pci_bar_ref){.dev = dev, .index = i};
	}
	pci_cfg_set(dev, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	dev->slot = (uint8_t)slot;
	dev->bus = pb;
	pci_bars_update(dev);
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		if (dev->bar_addr[i] != addr[i]) {
			pci_cfg_set(dev, PCI_COMMAND, 0, 2);
			pci_bars_update(dev);
			dev->bus = NULL;
			ret = -EEXIST;
			goto out;
		}
	}
	pb->slots[slot] = dev;
	pb->mmio_next = next;
	ret = slot;
out:
	pthread_mutex_unlock(&pb->lock);
	return ret;
}

void pci_bus_remove(struct pci_bus *pb, struct pci_dev *dev)
{
	pthread_mutex_lock(&pb->lock);
	if (dev->bus == pb && pb->slots[dev->slot] == dev) {
		for (int i = 0; i < PCI_NUM_BARS; i++) {
			if (!dev->bar_addr[i])
				continue;
			pci_bar_unmap(dev, i);
			if (dev->ops && dev->ops->bar_mapped)
				dev->ops->bar_mapped(dev, i, 0);
		}
		pb->slots[dev->slot] = NULL;
		dev->bus = NULL;
	}
	pthread_mutex_unlock(&pb->lock);
}

int pci_add_cap(struct pci_dev *dev, uint8_t cap_id, const void *body, uint8_t len)
{
	if (len < 2)
		return -EINVAL;
	uint32_t off = dev->cap_end ? dev->cap_end : PCI_CAP_START;
	if (off + len > sizeof(dev->cfg))
		return -ENOSPC;
	if (body)
		memcpy(&dev->cfg[off + 2], (const uint8_t *)body + 2, len - 2u);
	else
		memset(&dev->cfg[off + 2], 0, len - 2u);
	dev->cfg[off] = cap_id;
	dev->cfg[off + 1] = 0;
	if (!dev->cap_end) {
		dev->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
		pci_cfg_set(dev, PCI_STATUS, pci_cfg_get(dev, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST,
			    2);
	} else {
		/* Our own list, built only here: it ends within 256 bytes. */
		uint8_t last = dev->cfg[PCI_CAPABILITY_LIST];
		while (dev->cfg[last + 1])
			last = dev->cfg[last + 1];
		dev->cfg[last + 1] = (uint8_t)off;
	}
	/* Capability pointers are dword aligned. */
	dev->cap_end = (uint16_t)((off + len + 3) & ~3u);
	return (int)off;
}

void pci_dev_save(struct pci_dev *dev, struct snap_writer *w)
{
	snap_put_bytes(w, dev->cfg, sizeof(dev->cfg));
}

bool pci_dev_restore(struct pci_dev *dev, struct snap_section *s)
{
	const uint8_t *cfg = snap_get_ref(s, sizeof(dev->cfg));
	if (!cfg)
		return false;
	for (size_t i = 0; i < sizeof(dev->cfg); i++)
		if ((cfg[i] ^ dev->cfg[i]) & ~dev->wmask[i])
			return snap_fail(s);
	if (dev->bus)
		pthread_mutex_lock(&dev->bus->lock);
	memcpy(dev->cfg, cfg, sizeof(dev->cfg));
	pci_bars_update(dev);
	if (dev->bus)
		pthread_mutex_unlock(&dev->bus->lock);
	return true;
}

void pci_bus_save(struct pci_bus *pb, struct snap_writer *w)
{
	pthread_mutex_lock(&pb->lock);
	snap_put_u32(w, pb->config_address);
	pci_dev_save(&pb->host_bridge, w);
	pthread_mutex_unlock(&pb->lock);
}

bool pci_bus_restore(struct pci_bus *pb, struct snap_section *s)
{
	uint32_t addr;
	if (!snap_get_u32(s, &addr))
		return false;
	if (addr & ~PCI_CFG_ADDR_MASK)
		return snap_fail(s);
	/* The host bridge has no BARs: pci_dev_restore() only checks and copies. */
	if (!pci_dev_restore(&pb->host_bridge, s))
		return false;
	pthread_mutex_lock(&pb->lock);
	pb->config_address = addr;
	pthread_mutex_unlock(&pb->lock);
	return true;
}
