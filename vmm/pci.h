/* SPDX-License-Identifier: MIT */
#ifndef INLAY_PCI_H
#define INLAY_PCI_H

#include "bus.h"

#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_SLOTS 32
#define PCI_NUM_BARS  6

struct pci_dev;
struct snap_writer;
struct snap_section;

/* What a BAR's MMIO range is registered with; private to pci.c. */
struct pci_bar_ref {
	struct pci_dev *dev;
	int index;
};

struct pci_dev_ops {
	/* Config space beyond what pci.c emulates (capabilities the device
	 * owns). Called after the generic write was applied. May be NULL. */
	void (*cfg_write)(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len);
	/* Intercept reads of device-owned config bytes; may be NULL. */
	void (*cfg_read)(struct pci_dev *dev, uint32_t off, uint32_t *val, uint32_t len);
	/* A memory BAR moved or was (un)mapped (decode toggled); @addr 0 means
	 * unmapped. The device re-registers ioeventfds etc. May be NULL. */
	void (*bar_mapped)(struct pci_dev *dev, int bar, uint64_t addr);
	/* MMIO access to a BAR, @off relative to the BAR. */
	void (*bar_access)(struct pci_dev *dev, int bar, uint64_t off, uint8_t *data, uint32_t len,
			   bool is_write);
};

/**
 * One PCI function. The owner fills cfg (ids, class, capabilities) and
 * bar_size[]; pci.c handles header writes, BAR sizing and placement.
 */
struct pci_dev {
	const struct pci_dev_ops *ops;
	uint8_t cfg[256];
	uint8_t wmask[256];		 /* which config bits the guest may change */
	uint32_t bar_size[PCI_NUM_BARS]; /* memory BARs only, power of two, 0 = none */
	uint64_t bar_addr[PCI_NUM_BARS]; /* where the BAR is currently mapped, 0 = not */
	uint8_t slot;
	struct pci_bus *bus;
	struct pci_bar_ref bar_ref[PCI_NUM_BARS]; /* private to pci.c */
	uint16_t cap_end; /* private to pci.c: next free capability offset, 0 = none yet */
};

struct pci_bus {
	struct bus *mmio;
	pthread_mutex_t lock;
	uint32_t config_address; /* the 0xcf8 register */
	struct pci_dev host_bridge;
	struct pci_dev *slots[PCI_MAX_SLOTS];
	uint64_t mmio_next; /* allocator for BAR addresses in the PCI window */
};

/** Register 0xcf8-0xcff on @pio and put a host bridge at 00:00.0. */
int pci_bus_init(struct pci_bus *pb, struct bus *pio, struct bus *mmio);
void pci_bus_finish(struct pci_bus *pb, struct bus *pio);
/**
 * Add @dev in the next free slot, place its BARs in the PCI MMIO window and
 * enable decoding the way firmware would. Returns the slot or -errno.
 */
int pci_bus_add(struct pci_bus *pb, struct pci_dev *dev);
/**
 * Take @dev off the bus: unmap its BARs (ops->bar_mapped sees address 0) and
 * free its slot. A no-op when @dev is not on @pb.
 */
void pci_bus_remove(struct pci_bus *pb, struct pci_dev *dev);
/**
 * Append a capability of @len bytes to @dev's list. @body (may be NULL for
 * all zeroes) is the whole capability: its first two bytes are replaced by
 * the id and next pointer, the rest is copied. Returns its offset, -EINVAL or
 * -ENOSPC.
 */
int pci_add_cap(struct pci_dev *dev, uint8_t cap_id, const void *body, uint8_t len);

/** Raw little-endian config field access for the owner (no wmask, no hooks). */
uint32_t pci_cfg_get(const struct pci_dev *dev, uint32_t off, uint32_t len);
void pci_cfg_set(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len);

/**
 * A guest config access of @len (1, 2 or 4) bytes at @off that does not
 * cross a dword: writes honour wmask and (re)map BARs, both call the device
 * hooks. Caller holds dev->bus->lock when the device is on a bus.
 */
uint32_t pci_config_read(struct pci_dev *dev, uint32_t off, uint32_t len);
void pci_config_write(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len);

/** Append @dev's config space to the open section of @w. */
void pci_dev_save(struct pci_dev *dev, struct snap_writer *w);
/**
 * Take back a saved config space. Only bits the guest may write (wmask)
 * can differ from @dev's own; anything else means another device and
 * fails. BARs are then mapped where the saved registers say, as a guest
 * write would map them. Returns false, changing nothing, on bad state.
 */
bool pci_dev_restore(struct pci_dev *dev, struct snap_section *s);
/** The 0xcf8 latch and the host bridge. */
void pci_bus_save(struct pci_bus *pb, struct snap_writer *w);
bool pci_bus_restore(struct pci_bus *pb, struct snap_section *s);

#endif
