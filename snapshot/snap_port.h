/* SPDX-License-Identifier: MIT */
#ifndef INLAY_SNAP_PORT_H
#define INLAY_SNAP_PORT_H

#include <stdint.h>

struct vm;
struct snap_port;

/**
 * The snapshot port (LAYOUT_PORT_SNAPSHOT). A guest write of 1 calls @ready
 * (may be NULL) on the event-loop thread, after the vCPU has gone on; reads
 * of 1, 2 or 4 bytes return the low bytes of @generation. NULL on failure.
 */
struct snap_port *snap_port_create(struct vm *vm, uint32_t generation, void (*ready)(void *),
				   void *opaque);
/** Safe on NULL. */
void snap_port_destroy(struct snap_port *p);

#endif
