/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of a whole VM: a directory with a state file ("state") and the
 * guest's RAM ("memory"). docs/SNAPSHOTS.md describes the format and the
 * semantics of restoring (disks, clocks, entropy, the clone generation).
 */
#ifndef INLAY_SNAPSHOT_H
#define INLAY_SNAPSHOT_H

#include "vmm/cmdline.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SNAP_STATE_FILE	 "state"
#define SNAP_MEMORY_FILE "memory"

struct vm;
struct uart;
struct i8042;
struct pci_bus;
struct virtio_pci;
struct virtio_dev;

/** The parts of a running VM a snapshot covers. */
struct snap_machine {
	struct vm *vm;
	struct uart *uart; /* NULL without the serial port */
	struct i8042 *i8042;
	struct pci_bus *pci;
	unsigned nr_virtio;
	struct virtio_pci *const *vpci;
	struct virtio_dev *const *vdev;
	const struct vmm_config *cfg;	/* how the machine was built */
	uint32_t gpu_width, gpu_height; /* 0 x 0: no virtio-gpu */
	bool input;			/* keyboard and tablet with the gpu */
	uint64_t generation;		/* clone generation of this VM */
};

/**
 * Write a snapshot of @m, whose vCPUs are paused (vm_pause()), into @dir
 * (created if missing). The memory file is sparse: never-touched and
 * all-zero pages are holes. Files appear complete or not at all (each is
 * written under a temporary name and renamed). Returns 0 or -errno with
 * @err saying what failed.
 */
int snap_save(const struct snap_machine *m, const char *dir, char *err, size_t errlen);

/** An opened snapshot: state file parsed and CRC-checked, memory file open read-only. */
struct snap_image;

/**
 * Open the snapshot in @dir. Every section is checked (bounds, CRC,
 * version), the machine description is parsed and the memory file must be
 * as long as the state says. Returns 0 or -errno with @err naming the file
 * and the problem; nothing is written.
 */
int snap_open(const char *dir, struct snap_image **img, char *err, size_t errlen);
/** Safe on NULL. */
void snap_close(struct snap_image *img);
/** The machine to build before snap_restore(); strings belong to @img. */
const struct vmm_config *snap_image_config(const struct snap_image *img);
/** The gpu size (0 x 0 without one) and whether keyboard and tablet came with it. */
void snap_image_display(const struct snap_image *img, uint32_t *width, uint32_t *height,
			bool *input);
/** The memory file (read-only; owned by @img) and the guest RAM size it holds. */
int snap_image_memory_fd(const struct snap_image *img);
uint64_t snap_image_memory_size(const struct snap_image *img);
/** Clone generation recorded at save time. */
uint64_t snap_image_generation(const struct snap_image *img);

/**
 * Load every vCPU, the irqchip, PIT, clock (advanced by the wall time since
 * the save) and every device of @m (built from snap_image_config(), vCPUs
 * created but not started) from @img. Returns 0 or -errno with @err naming
 * the section and the problem.
 */
int snap_restore(const struct snap_image *img, const struct snap_machine *m, char *err,
		 size_t errlen);

/** Print what `inlay-vmm snapshot-info` shows. Returns 0 or -errno with @err. */
int snap_info(const char *dir, FILE *out, char *err, size_t errlen);

#endif
