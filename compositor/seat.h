/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_SEAT_H
#define INLAY_COMPOSITOR_SEAT_H

#include <wayland-server-core.h>

struct server;

struct keyboard {
	struct server *server;
	struct wlr_input_device *device;
	struct wl_list link; // server::keyboards

	struct wl_listener key;
	struct wl_listener modifiers;
	struct wl_listener destroy;
};

void handle_new_input(struct wl_listener *listener, void *data);
void handle_new_virtual_keyboard(struct wl_listener *listener, void *data);
void handle_new_virtual_pointer(struct wl_listener *listener, void *data);
void handle_request_set_cursor(struct wl_listener *listener, void *data);
void handle_request_set_selection(struct wl_listener *listener, void *data);
void handle_request_set_primary_selection(struct wl_listener *listener, void *data);
void handle_request_start_drag(struct wl_listener *listener, void *data);

/** Give keyboard focus to @surface (NULL clears it) with the current keyboard's state. */
void seat_focus_keyboard(struct server *server, struct wlr_surface *surface);

#endif
