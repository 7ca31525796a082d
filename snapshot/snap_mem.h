/* SPDX-License-Identifier: MIT */
#ifndef INLAY_SNAP_MEM_H
#define INLAY_SNAP_MEM_H

#include "vmm/guest_mem.h"

#include <stdint.h>

/**
 * Write guest RAM @m to @fd (empty, at offset 0) as a sparse file of
 * m->size bytes: ranges the memfd never allocated and pages that are all
 * zeroes stay holes. *@data gets the bytes actually written. Returns 0 or
 * -errno.
 */
int snap_mem_write(const struct guest_mem *m, int fd, uint64_t *data);

#endif
