// SPDX-License-Identifier: MIT
#include <linux/input-event-codes.h>
#include <time.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/edges.h>

#include "cursor.h"
#include "server.h"
#include "view.h"

static void process_resize(struct server *server)
{
	struct view *view = server->grab_view;
	struct wlr_box *box = &server->grab_box;
	double border_x = server->cursor->x - server->grab_x;
	double border_y = server->cursor->y - server->grab_y;
	int left = box->x, right = box->x + box->width;
	int top = box->y, bottom = box->y + box->height;

	if (server->resize_edges & WLR_EDGE_TOP)
		top = border_y < bottom ? border_y : bottom - 1;
	else if (server->resize_edges & WLR_EDGE_BOTTOM)
		bottom = border_y > top ? border_y : top + 1;
	if (server->resize_edges & WLR_EDGE_LEFT)
		left = border_x < right ? border_x : right - 1;
	else if (server->resize_edges & WLR_EDGE_RIGHT)
		right = border_x > left ? border_x : left + 1;

	view_set_position(view, left, top);
	wlr_xdg_toplevel_set_size(view->xdg, right - left, bottom - top);
}

static void process_motion(struct server *server, uint32_t time)
{
	struct wlr_seat *seat = server->seat;
	struct wlr_cursor *cursor = server->cursor;
	struct view_hit hit;

	switch (server->cursor_mode) {
	case CURSOR_MOVE:
		view_set_position(server->grab_view, cursor->x - server->grab_x,
				  cursor->y - server->grab_y);
		return;
	case CURSOR_RESIZE:
		process_resize(server);
		return;
	case CURSOR_PASSTHROUGH:
		break;
	}

	/* While a button is held the surface that got the press keeps the pointer. */
	if (server->pointer_grabbed && seat->pointer_state.focused_surface) {
		wlr_seat_pointer_notify_motion(seat, time, cursor->x - server->pointer_grab_x,
					       cursor->y - server->pointer_grab_y);
		return;
	}

	view_at(server, cursor->x, cursor->y, &hit);
	if (!hit.surface) {
		if (!server->hide_cursor)
			wlr_xcursor_manager_set_cursor_image(server->xcursor_manager, "left_ptr",
							     cursor);
		wlr_seat_pointer_notify_clear_focus(seat);
		return;
	}
	wlr_seat_pointer_notify_enter(seat, hit.surface, hit.sx, hit.sy);
	wlr_seat_pointer_notify_motion(seat, time, hit.sx, hit.sy);
}

static uint32_t now_msec(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void cursor_rebase(struct server *server)
{
	if (server->cursor_mode != CURSOR_PASSTHROUGH)
		return;
	server->pointer_grabbed = false;
	process_motion(server, now_msec());
}

void cursor_forget_view(struct server *server, struct view *view)
{
	if (server->grab_view != view)
		return;
	server->grab_view = NULL;
	server->cursor_mode = CURSOR_PASSTHROUGH;
}

void handle_cursor_motion(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, cursor_motion);
	struct wlr_event_pointer_motion *event = data;

	wlr_cursor_move(server->cursor, event->device, event->delta_x, event->delta_y);
	process_motion(server, event->time_msec);
}

void handle_cursor_motion_absolute(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, cursor_motion_absolute);
	struct wlr_event_pointer_motion_absolute *event = data;

	wlr_cursor_warp_absolute(server->cursor, event->device, event->x, event->y);
	process_motion(server, event->time_msec);
}

static bool alt_held(struct server *server)
{
	struct wlr_keyboard *keyboard = wlr_seat_get_keyboard(server->seat);

	return keyboard && (wlr_keyboard_get_modifiers(keyboard) & WLR_MODIFIER_ALT);
}

/* Returns true if the press started a move or resize and must not reach the client. */
static bool press(struct server *server, uint32_t button)
{
	struct view_hit hit;

	if (!view_at(server, server->cursor->x, server->cursor->y, &hit))
		return false;
	view_focus(hit.view, hit.grant && hit.surface ? hit.surface : hit.view->xdg->surface);

	if (alt_held(server) && button == BTN_LEFT) {
		view_begin_interactive(hit.view, CURSOR_MOVE, 0);
		return true;
	}
	if (alt_held(server) && button == BTN_RIGHT) {
		view_begin_interactive(hit.view, CURSOR_RESIZE, WLR_EDGE_BOTTOM | WLR_EDGE_RIGHT);
		return true;
	}
	if (hit.title && button == BTN_LEFT) {
		view_begin_interactive(hit.view, CURSOR_MOVE, 0);
		return true;
	}
	return false;
}

static void release(struct server *server)
{
	struct view *view = server->grab_view;

	if (server->cursor_mode == CURSOR_RESIZE && view)
		wlr_xdg_toplevel_set_resizing(view->xdg, false);
	server->cursor_mode = CURSOR_PASSTHROUGH;
	server->grab_view = NULL;
}

void handle_cursor_button(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, cursor_button);
	struct wlr_event_pointer_button *event = data;
	struct wlr_seat *seat = server->seat;
	struct wlr_seat_pointer_state *pointer = &seat->pointer_state;

	if (event->state == WLR_BUTTON_PRESSED && !server->pointer_grabbed &&
	    server->cursor_mode == CURSOR_PASSTHROUGH && press(server, event->button))
		return;
	if (event->state == WLR_BUTTON_RELEASED && server->cursor_mode != CURSOR_PASSTHROUGH) {
		release(server);
		cursor_rebase(server);
		if (pointer->button_count == 0)
			return;
	}

	wlr_seat_pointer_notify_button(seat, event->time_msec, event->button, event->state);
	if (event->state == WLR_BUTTON_PRESSED && pointer->focused_surface) {
		server->pointer_grabbed = true;
		server->pointer_grab_x = server->cursor->x - pointer->sx;
		server->pointer_grab_y = server->cursor->y - pointer->sy;
	} else if (pointer->button_count == 0 && server->pointer_grabbed) {
		cursor_rebase(server);
	}
}

void handle_cursor_axis(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, cursor_axis);
	struct wlr_event_pointer_axis *event = data;

	wlr_seat_pointer_notify_axis(server->seat, event->time_msec, event->orientation,
				     event->delta, event->delta_discrete, event->source);
}

void handle_cursor_frame(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, cursor_frame);

	wlr_seat_pointer_notify_frame(server->seat);
}
