/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_CURSOR_H
#define INLAY_COMPOSITOR_CURSOR_H

#include <wayland-server-core.h>

struct server;
struct view;

void handle_cursor_motion(struct wl_listener *listener, void *data);
void handle_cursor_motion_absolute(struct wl_listener *listener, void *data);
void handle_cursor_button(struct wl_listener *listener, void *data);
void handle_cursor_axis(struct wl_listener *listener, void *data);
void handle_cursor_frame(struct wl_listener *listener, void *data);

/** Recompute pointer focus at the cursor's position after the scene changed under it. */
void cursor_rebase(struct server *server);

/** Leave an interactive move or resize of @view. */
void cursor_forget_view(struct server *server, struct view *view);

#endif
