/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_SERVER_H
#define INLAY_COMPOSITOR_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

struct view;

enum cursor_mode {
	CURSOR_PASSTHROUGH,
	CURSOR_MOVE,
	CURSOR_RESIZE,
};

/** The compositor: owns every wlroots object, global and server-level listener. */
struct server {
	struct wl_display *display;
	const char *socket;
	bool hide_cursor; // draw no pointer image, for pixel-exact screenshots

	struct wlr_backend *backend;
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	struct wlr_compositor *compositor;
	struct wlr_scene *scene;
	struct wlr_output_layout *output_layout;
	struct wlr_presentation *presentation;
	struct wlr_xdg_shell *xdg_shell;
	struct wlr_xdg_decoration_manager_v1 *decoration_manager;
	struct wlr_virtual_keyboard_manager_v1 *virtual_keyboard_manager;
	struct wlr_virtual_pointer_manager_v1 *virtual_pointer_manager;
	struct wlr_seat *seat;
	struct wlr_cursor *cursor;
	struct wlr_xcursor_manager *xcursor_manager;
	struct grant_manager *grant_manager;

	struct wl_list outputs;	  // output::link
	struct wl_list keyboards; // keyboard::link
	struct wl_list views;	  // view::link, topmost first
	struct view *focused_view;

	/* Interactive move/resize and the implicit pointer grab. */
	enum cursor_mode cursor_mode;
	struct view *grab_view;
	double grab_x, grab_y;
	struct wlr_box grab_box;
	uint32_t resize_edges;
	bool pointer_grabbed; // a button went down over a surface, which keeps the pointer
	double pointer_grab_x, pointer_grab_y; // layout position of that surface

	struct wl_listener new_output;
	struct wl_listener new_input;
	struct wl_listener new_xdg_surface;
	struct wl_listener new_toplevel_decoration;
	struct wl_listener new_virtual_keyboard;
	struct wl_listener new_virtual_pointer;
	struct wl_listener cursor_motion;
	struct wl_listener cursor_motion_absolute;
	struct wl_listener cursor_button;
	struct wl_listener cursor_axis;
	struct wl_listener cursor_frame;
	struct wl_listener request_set_cursor;
	struct wl_listener request_set_selection;
	struct wl_listener request_set_primary_selection;
	struct wl_listener request_start_drag;
};

/**
 * Create the display, backend, renderer, scene and every global, and listen on
 * @socket (NULL: the first free wayland-N). Returns 0, or -1 after logging why.
 */
int server_init(struct server *server, const char *socket);

/** Start the backend (outputs and input devices appear). Returns 0 or -1. */
int server_start(struct server *server);

/** Disconnect every client, then destroy everything server_init() made. */
void server_finish(struct server *server);

#endif
