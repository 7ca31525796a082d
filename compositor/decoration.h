/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_DECORATION_H
#define INLAY_COMPOSITOR_DECORATION_H

#include <wayland-server-core.h>

struct view;

/** Height of the server-side title bar above a decorated window's content. */
#define DECORATION_TITLE_HEIGHT 24

/** server::new_toplevel_decoration: always answer server-side. */
void handle_new_toplevel_decoration(struct wl_listener *listener, void *data);

/** Create, resize, recolour or remove @view's title bar to match its current state. */
void decoration_update(struct view *view);

/** Height the title bar takes above @view's content: 0 without one. */
int decoration_top(struct view *view);

#endif
