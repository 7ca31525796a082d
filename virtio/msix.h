/* SPDX-License-Identifier: MIT */
#ifndef INLAY_MSIX_H
#define INLAY_MSIX_H

#include "../vmm/pci.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The table-size field of Message Control holds at most 2048 entries. */
#define MSIX_MAX_VECTORS (PCI_MSIX_FLAGS_QSIZE + 1)

struct snap_writer;
struct snap_section;

/** What the owner does with vectors; both run with the msix lock held. */
struct msix_ops {
	/* Raise vector @v: it fired (or was pending) while enabled and unmasked. */
	void (*deliver)(void *opaque, unsigned v);
	/* The guest changed entry @v's message address or data. */
	void (*route)(void *opaque, unsigned v, uint64_t addr, uint32_t data);
};

/* One table entry as dwords, indexed by PCI_MSIX_ENTRY_* / 4. */
struct msix_entry {
	uint32_t dw[PCI_MSIX_ENTRY_SIZE / 4];
};

/**
 * MSI-X capability, table and pending bit array of one PCI function. The
 * table and PBA live in a BAR the owner dispatches to msix_table_access()
 * and msix_pba_access(); Message Control lives in config space.
 */
struct msix {
	pthread_mutex_t lock;
	const struct msix_ops *ops;
	void *opaque;
	unsigned size;
	struct msix_entry *table;
	uint64_t *pba;
	bool enabled;
	bool masked; /* function mask */
	struct pci_dev *pci;
	uint8_t cap; /* config offset of the capability, 0 = not added */
};

/** Set up @size (1..MSIX_MAX_VECTORS) masked vectors. Returns 0 or -errno. */
int msix_init(struct msix *m, unsigned size, const struct msix_ops *ops, void *opaque);
/** Safe on a zeroed struct. */
void msix_finish(struct msix *m);

/** Bytes the table and the PBA occupy in their BAR. */
uint32_t msix_table_bytes(const struct msix *m);
uint32_t msix_pba_bytes(const struct msix *m);

/**
 * Add the capability to @dev: table at @table_off and PBA at @pba_off of BAR
 * @bar (offsets 8-byte aligned). Returns 0 or -errno.
 */
int msix_add_cap(struct msix *m, struct pci_dev *dev, uint8_t bar, uint32_t table_off,
		 uint32_t pba_off);
/** From the device's cfg_write hook: pick up Message Control changes. */
void msix_cfg_write(struct msix *m, uint32_t off, uint32_t len);

/**
 * Guest access at @off into the table or the PBA. Only aligned 4- and 8-byte
 * accesses take effect; the PBA is read-only.
 */
void msix_table_access(struct msix *m, uint64_t off, uint8_t *data, uint32_t len, bool is_write);
void msix_pba_access(struct msix *m, uint64_t off, uint8_t *data, uint32_t len, bool is_write);

/**
 * Fire vector @v: nothing while MSI-X is disabled or @v is out of range,
 * pending while the vector or the function is masked, else delivered.
 */
void msix_notify(struct msix *m, unsigned v);

/** Append the table and the PBA to the open section of @w. */
void msix_save(struct msix *m, struct snap_writer *w);
/**
 * Take back the table and PBA (same size, reserved bits clear), re-route
 * every programmed vector, then pick up enable/mask from config space the
 * way a Message Control write does. False, changing nothing, on bad state.
 */
bool msix_restore(struct msix *m, struct snap_section *s);

#endif
