/* SPDX-License-Identifier: MIT */
#ifndef INLAY_DISPLAY_H
#define INLAY_DISPLAY_H

#include "inlay-grant.h"
#include "presenter.h"
#include "vmm/evloop.h"
#include "virtio/gpu.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISPLAY_DEFAULT_WIDTH  1024
#define DISPLAY_DEFAULT_HEIGHT 768

enum display_kind {
	DISPLAY_NONE,
	DISPLAY_WAYLAND,
};

/** What the command line asked for the screen and input. */
struct display_config {
	enum display_kind kind;
	bool gpu;		/* --gpu given: a virtio-gpu even without a display */
	uint32_t width, height; /* its display size at boot */
	bool input;		/* virtio keyboard and tablet along with the gpu */
	/* --grant or INLAY_GRANT_TOKEN: show the scanout in that grant; "" for a window */
	char grant_token[INLAY_GRANT_TOKEN_MAX + 1];
};

/** Whether the VM gets a virtio-gpu (and, with c->input, keyboard and tablet). */
static inline bool display_config_has_gpu(const struct display_config *c)
{
	return c->kind == DISPLAY_WAYLAND || c->gpu;
}

/**
 * Fill @c from the --display (wayland|none), --gpu (WIDTHxHEIGHT), --no-input
 * and --grant TOKEN options (NULL/false when not given) on top of the
 * defaults: Wayland when WAYLAND_DISPLAY is set, else no display and no gpu.
 * Without --grant the token comes from INLAY_GRANT_TOKEN, which is removed
 * from the environment either way (call this before starting threads). A
 * token means Wayland unless --display none says otherwise (then --grant is
 * an error and an inherited token is ignored).
 * Returns 0, or -EINVAL with @err saying why.
 */
int display_config_parse(struct display_config *c, const char *display, const char *gpu,
			 bool no_input, const char *grant, char *err, size_t errlen);

struct display;

/** Called when the user closes the window, or the granter destroys the grant. */
typedef void (*display_close_fn)(void *opaque);

/**
 * Show @gpu's scanout in an xdg_toplevel titled @title on the compositor
 * WAYLAND_DISPLAY names, sending its pointer and keyboard to @tablet and
 * @keyboard (either may be NULL). The connection is watched on @loop. If
 * the compositor goes away later the VM runs on headless. NULL (with a
 * message) when there is no compositor to talk to.
 */
struct display *display_create(struct evloop *loop, const char *title, struct vgpu *gpu,
			       struct virtio_dev *keyboard, struct virtio_dev *tablet,
			       display_close_fn on_close, void *opaque);
/**
 * Like display_create(), but instead of a window, accept the screen grant
 * @token (docs/SCREEN-GRANT.md) with a surface of its own: the scanout is
 * shown in the granter's rectangle and its configured size is the display
 * size. If the grant is revoked because its granter went away, or the token
 * is refused, the VM runs on headless; if the granter destroys the grant,
 * @on_close is called.
 */
struct display *display_create_granted(struct evloop *loop, const char *token, struct vgpu *gpu,
				       struct virtio_dev *keyboard, struct virtio_dev *tablet,
				       display_close_fn on_close, void *opaque);
/** Safe on NULL. Call once the event loop no longer runs. */
void display_destroy(struct display *d);

/** Commits and flush-to-commit latency so far. */
void display_get_stats(struct display *d, struct presenter_stats *s);

#endif
