/* SPDX-License-Identifier: MIT */
#ifndef INLAY_DISPLAY_PRESENTER_H
#define INLAY_DISPLAY_PRESENTER_H

/*
 * Shows the virtio-gpu scanout on a wl_surface, whatever role the surface
 * has (an xdg_toplevel now, a screen-grant lease later): the device's host
 * images are memfds that become wl_shm buffers as they are, flushed
 * rectangles become buffer damage, and frame callbacks pace the commits.
 */

#include "virtio/gpu.h"

#include <stdbool.h>
#include <stdint.h>
#include <wayland-client.h>

struct presenter;

struct presenter_stats {
	uint64_t commits;
	uint64_t flushes;	   /* flush calls from the device */
	uint64_t latency_ns_total; /* first flush of a frame -> its commit, summed */
	uint64_t latency_ns_max;
};

/**
 * Sends what the presenter queued on the connection (any thread, called with
 * the presenter's lock held). False when the connection is gone.
 */
typedef bool (*presenter_flush_fn)(void *opaque);

/**
 * Present on @surface (owned by the caller, who gives it a role). Nothing is
 * committed until presenter_set_ready(). Attach it to @gpu with
 * presenter_attach(). The presenter listens to @shm's format events, so
 * the caller does a roundtrip after this. NULL on failure.
 */
struct presenter *presenter_create(struct wl_compositor *compositor, struct wl_shm *shm,
				   struct wl_surface *surface, presenter_flush_fn flush,
				   void *opaque);
/** Detaches from the device first. Safe on NULL. */
void presenter_destroy(struct presenter *p);

/** Start presenting on @gpu (and stop on NULL). */
void presenter_attach(struct presenter *p, struct vgpu *gpu);

/** The surface's role is set up (first configure acked): commits may start. */
void presenter_set_ready(struct presenter *p);

/** The connection is gone: no further requests; the device keeps running. */
void presenter_set_lost(struct presenter *p);

/** The shown scanout size (0x0 when disabled). */
void presenter_size(struct presenter *p, uint32_t *width, uint32_t *height);

/**
 * Make the guest's cursor the pointer's cursor on this surface for the
 * pointer's enter @serial (no-op while the guest set no cursor).
 */
void presenter_set_cursor(struct presenter *p, struct wl_pointer *pointer, uint32_t serial);

void presenter_get_stats(struct presenter *p, struct presenter_stats *s);

#endif
