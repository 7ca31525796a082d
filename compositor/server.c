// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/render/allocator.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_primary_selection_v1.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>

#include "cursor.h"
#include "decoration.h"
#include "grant.h"
#include "output.h"
#include "seat.h"
#include "server.h"
#include "xdg_shell.h"

/* Every server-level listener, so that init and finish treat them alike. */
static void for_each_listener(struct server *s, void (*fn)(struct wl_list *link))
{
	struct wl_listener *all[] = {
	    &s->new_output,
	    &s->new_input,
	    &s->new_xdg_surface,
	    &s->new_toplevel_decoration,
	    &s->new_virtual_keyboard,
	    &s->new_virtual_pointer,
	    &s->cursor_motion,
	    &s->cursor_motion_absolute,
	    &s->cursor_button,
	    &s->cursor_axis,
	    &s->cursor_frame,
	    &s->request_set_cursor,
	    &s->request_set_selection,
	    &s->request_set_primary_selection,
	    &s->request_start_drag,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		fn(&all[i]->link);
}

static void listen(struct wl_signal *signal, struct wl_listener *listener, wl_notify_func_t notify)
{
	listener->notify = notify;
	wl_signal_add(signal, listener);
}

static int create_globals(struct server *server)
{
	struct wl_display *display = server->display;

	server->compositor = wlr_compositor_create(display, server->renderer);
	server->output_layout = wlr_output_layout_create();
	server->scene = wlr_scene_create();
	server->presentation = wlr_presentation_create(display, server->backend);
	server->xdg_shell = wlr_xdg_shell_create(display);
	server->decoration_manager = wlr_xdg_decoration_manager_v1_create(display);
	server->virtual_keyboard_manager = wlr_virtual_keyboard_manager_v1_create(display);
	server->virtual_pointer_manager = wlr_virtual_pointer_manager_v1_create(display);
	server->seat = wlr_seat_create(display, "seat0");
	server->cursor = wlr_cursor_create();
	server->xcursor_manager = wlr_xcursor_manager_create(NULL, 24);
	if (!server->compositor || !server->output_layout || !server->scene ||
	    !server->presentation || !server->xdg_shell || !server->decoration_manager ||
	    !server->virtual_keyboard_manager || !server->virtual_pointer_manager ||
	    !server->seat || !server->cursor || !server->xcursor_manager)
		return -1;

	if (!wlr_data_device_manager_create(display) ||
	    !wlr_primary_selection_v1_device_manager_create(display) ||
	    !wlr_viewporter_create(display) || !wlr_screencopy_manager_v1_create(display) ||
	    !wlr_xdg_output_manager_v1_create(display, server->output_layout) ||
	    !wlr_scene_attach_output_layout(server->scene, server->output_layout))
		return -1;

	/* Both from the start, also with no devices: tests add virtual ones later. */
	wlr_seat_set_capabilities(server->seat,
				  WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
	wlr_scene_set_presentation(server->scene, server->presentation);
	wlr_cursor_attach_output_layout(server->cursor, server->output_layout);
	wlr_xcursor_manager_load(server->xcursor_manager, 1);

	server->grant_manager = grant_manager_create(server);
	return server->grant_manager ? 0 : -1;
}

static void add_listeners(struct server *server)
{
	struct wlr_cursor *cursor = server->cursor;
	struct wlr_seat *seat = server->seat;

	listen(&server->backend->events.new_output, &server->new_output, handle_new_output);
	listen(&server->backend->events.new_input, &server->new_input, handle_new_input);
	listen(&server->xdg_shell->events.new_surface, &server->new_xdg_surface,
	       handle_new_xdg_surface);
	listen(&server->decoration_manager->events.new_toplevel_decoration,
	       &server->new_toplevel_decoration, handle_new_toplevel_decoration);
	listen(&server->virtual_keyboard_manager->events.new_virtual_keyboard,
	       &server->new_virtual_keyboard, handle_new_virtual_keyboard);
	listen(&server->virtual_pointer_manager->events.new_virtual_pointer,
	       &server->new_virtual_pointer, handle_new_virtual_pointer);
	listen(&cursor->events.motion, &server->cursor_motion, handle_cursor_motion);
	listen(&cursor->events.motion_absolute, &server->cursor_motion_absolute,
	       handle_cursor_motion_absolute);
	listen(&cursor->events.button, &server->cursor_button, handle_cursor_button);
	listen(&cursor->events.axis, &server->cursor_axis, handle_cursor_axis);
	listen(&cursor->events.frame, &server->cursor_frame, handle_cursor_frame);
	listen(&seat->events.request_set_cursor, &server->request_set_cursor,
	       handle_request_set_cursor);
	listen(&seat->events.request_set_selection, &server->request_set_selection,
	       handle_request_set_selection);
	listen(&seat->events.request_set_primary_selection, &server->request_set_primary_selection,
	       handle_request_set_primary_selection);
	listen(&seat->events.request_start_drag, &server->request_start_drag,
	       handle_request_start_drag);
}

int server_init(struct server *server, const char *socket)
{
	wl_list_init(&server->outputs);
	wl_list_init(&server->keyboards);
	wl_list_init(&server->views);
	for_each_listener(server, wl_list_init);

	server->display = wl_display_create();
	if (!server->display) {
		wlr_log(WLR_ERROR, "Cannot create the Wayland display");
		return -1;
	}
	server->backend = wlr_backend_autocreate(server->display);
	if (!server->backend) {
		wlr_log(WLR_ERROR, "No usable backend: on a VT this needs a seat (libseat: "
				   "seatd or logind); nested it needs WAYLAND_DISPLAY or DISPLAY; "
				   "tests use WLR_BACKENDS=headless");
		return -1;
	}
	server->renderer = wlr_renderer_autocreate(server->backend);
	if (!server->renderer || !wlr_renderer_init_wl_display(server->renderer, server->display)) {
		wlr_log(WLR_ERROR, "Cannot create a renderer (WLR_RENDERER=pixman avoids the GPU)");
		return -1;
	}
	server->allocator = wlr_allocator_autocreate(server->backend, server->renderer);
	if (!server->allocator) {
		wlr_log(WLR_ERROR, "Cannot create a buffer allocator");
		return -1;
	}
	if (create_globals(server) < 0) {
		wlr_log(WLR_ERROR, "Cannot create the Wayland globals");
		return -1;
	}
	add_listeners(server);

	if (socket) {
		if (wl_display_add_socket(server->display, socket) != 0) {
			wlr_log_errno(WLR_ERROR, "Cannot listen on socket %s (in use?)", socket);
			return -1;
		}
		server->socket = socket;
	} else {
		server->socket = wl_display_add_socket_auto(server->display);
		if (!server->socket) {
			wlr_log_errno(WLR_ERROR, "Cannot find a free wayland-N socket");
			return -1;
		}
	}
	return 0;
}

int server_start(struct server *server)
{
	if (!wlr_backend_start(server->backend)) {
		wlr_log(WLR_ERROR, "Cannot start the backend");
		return -1;
	}
	if (setenv("WAYLAND_DISPLAY", server->socket, true) < 0) {
		wlr_log_errno(WLR_ERROR, "Cannot set WAYLAND_DISPLAY");
		return -1;
	}
	return 0;
}

void server_finish(struct server *server)
{
	if (server->display)
		wl_display_destroy_clients(server->display);
	for_each_listener(server, wl_list_remove);

	/* Outputs and input devices go with the backend; their handlers free our state. */
	if (server->backend)
		wlr_backend_destroy(server->backend);
	/*
	 * The layout goes before the scene: wlroots 0.15's scene/layout glue
	 * walks the scene's outputs when the layout is destroyed (and never
	 * learns of the scene's own destruction), so the reverse order reads
	 * freed memory.
	 */
	if (server->output_layout)
		wlr_output_layout_destroy(server->output_layout);
	if (server->scene)
		wlr_scene_node_destroy(&server->scene->node);
	wlr_xcursor_manager_destroy(server->xcursor_manager);
	if (server->cursor)
		wlr_cursor_destroy(server->cursor);
	/* Globals (seat, shells, managers, the grant manager) go with the display. */
	if (server->display)
		wl_display_destroy(server->display);
	if (server->allocator)
		wlr_allocator_destroy(server->allocator);
	if (server->renderer)
		wlr_renderer_destroy(server->renderer);
	*server = (struct server){0};
}
