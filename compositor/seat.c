// SPDX-License-Identifier: MIT
#include <stdlib.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/backend/session.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/util/log.h>
#include <xkbcommon/xkbcommon.h>

#include "seat.h"
#include "server.h"
#include "view.h"

static bool handle_keybinding(struct server *server, xkb_keysym_t sym, uint32_t modifiers)
{
	const uint32_t ctrl_alt = WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT;

	if (sym >= XKB_KEY_XF86Switch_VT_1 && sym <= XKB_KEY_XF86Switch_VT_12) {
		struct wlr_session *session = wlr_backend_get_session(server->backend);

		if (!session)
			return false;
		wlr_session_change_vt(session, sym - XKB_KEY_XF86Switch_VT_1 + 1);
		return true;
	}
	if ((modifiers & ctrl_alt) == ctrl_alt &&
	    (sym == XKB_KEY_BackSpace || sym == XKB_KEY_Terminate_Server)) {
		wl_display_terminate(server->display);
		return true;
	}
	if ((modifiers & ctrl_alt) == WLR_MODIFIER_ALT && sym == XKB_KEY_Tab) {
		view_cycle(server);
		return true;
	}
	return false;
}

static void handle_key(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, key);
	struct server *server = keyboard->server;
	struct wlr_keyboard *wlr_keyboard = keyboard->device->keyboard;
	struct wlr_event_keyboard_key *event = data;

	if (event->state == WL_KEYBOARD_KEY_STATE_PRESSED && wlr_keyboard->xkb_state) {
		uint32_t modifiers = wlr_keyboard_get_modifiers(wlr_keyboard);
		const xkb_keysym_t *syms;
		int n = xkb_state_key_get_syms(wlr_keyboard->xkb_state, event->keycode + 8, &syms);

		for (int i = 0; i < n; i++)
			if (handle_keybinding(server, syms[i], modifiers))
				return;
	}
	wlr_seat_set_keyboard(server->seat, keyboard->device);
	wlr_seat_keyboard_notify_key(server->seat, event->time_msec, event->keycode, event->state);
}

static void handle_modifiers(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, modifiers);

	wlr_seat_set_keyboard(keyboard->server->seat, keyboard->device);
	wlr_seat_keyboard_notify_modifiers(keyboard->server->seat,
					   &keyboard->device->keyboard->modifiers);
}

static void handle_keyboard_destroy(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, destroy);

	wl_list_remove(&keyboard->key.link);
	wl_list_remove(&keyboard->modifiers.link);
	wl_list_remove(&keyboard->destroy.link);
	wl_list_remove(&keyboard->link);
	free(keyboard);
}

/* The layout comes from XKB_DEFAULT_RULES, _MODEL, _LAYOUT, _VARIANT and _OPTIONS. */
static bool set_default_keymap(struct wlr_keyboard *wlr_keyboard)
{
	struct xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	struct xkb_keymap *keymap = NULL;
	bool ok;

	if (context)
		keymap = xkb_keymap_new_from_names(context, NULL, XKB_KEYMAP_COMPILE_NO_FLAGS);
	ok = keymap && wlr_keyboard_set_keymap(wlr_keyboard, keymap);
	xkb_keymap_unref(keymap);
	xkb_context_unref(context);
	return ok;
}

static void add_keyboard(struct server *server, struct wlr_input_device *device, bool keymap)
{
	struct keyboard *keyboard;

	if (keymap && !set_default_keymap(device->keyboard)) {
		wlr_log(WLR_ERROR, "Cannot compile the keymap for %s (check XKB_DEFAULT_*)",
			device->name);
		return;
	}
	keyboard = calloc(1, sizeof(*keyboard));
	if (!keyboard) {
		wlr_log(WLR_ERROR, "Out of memory for keyboard %s", device->name);
		return;
	}
	keyboard->server = server;
	keyboard->device = device;
	wlr_keyboard_set_repeat_info(device->keyboard, 25, 600);

	keyboard->key.notify = handle_key;
	wl_signal_add(&device->keyboard->events.key, &keyboard->key);
	keyboard->modifiers.notify = handle_modifiers;
	wl_signal_add(&device->keyboard->events.modifiers, &keyboard->modifiers);
	keyboard->destroy.notify = handle_keyboard_destroy;
	wl_signal_add(&device->events.destroy, &keyboard->destroy);
	wl_list_insert(&server->keyboards, &keyboard->link);
	/* A virtual keyboard has no keymap yet: it becomes the seat's on its first key. */
	if (keymap)
		wlr_seat_set_keyboard(server->seat, device);
}

void handle_new_input(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_input);
	struct wlr_input_device *device = data;

	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		add_keyboard(server, device, true);
		break;
	case WLR_INPUT_DEVICE_POINTER:
		wlr_cursor_attach_input_device(server->cursor, device);
		break;
	default:
		break;
	}
}

void handle_new_virtual_keyboard(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_virtual_keyboard);
	struct wlr_virtual_keyboard_v1 *keyboard = data;

#ifdef __SANITIZE_ADDRESS__
	/*
	 * wlroots 0.15 never frees a virtual keyboard's wlr_keyboard. Its library
	 * has no symbols for lsan.supp to match, so the object is excused here.
	 */
	__lsan_ignore_object(keyboard->input_device.keyboard);
#endif
	/* The client supplies its own keymap. */
	add_keyboard(server, &keyboard->input_device, false);
}

void handle_new_virtual_pointer(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_virtual_pointer);
	struct wlr_virtual_pointer_v1_new_pointer_event *event = data;
	struct wlr_input_device *device = &event->new_pointer->input_device;

	wlr_cursor_attach_input_device(server->cursor, device);
	if (event->suggested_output)
		wlr_cursor_map_input_to_output(server->cursor, device, event->suggested_output);
}

void seat_focus_keyboard(struct server *server, struct wlr_surface *surface)
{
	struct wlr_keyboard *keyboard = wlr_seat_get_keyboard(server->seat);

	if (!surface)
		wlr_seat_keyboard_notify_clear_focus(server->seat);
	else if (keyboard)
		wlr_seat_keyboard_notify_enter(server->seat, surface, keyboard->keycodes,
					       keyboard->num_keycodes, &keyboard->modifiers);
	else
		wlr_seat_keyboard_notify_enter(server->seat, surface, NULL, 0, NULL);
}

void handle_request_set_cursor(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, request_set_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;

	if (!server->hide_cursor &&
	    event->seat_client == server->seat->pointer_state.focused_client)
		wlr_cursor_set_surface(server->cursor, event->surface, event->hotspot_x,
				       event->hotspot_y);
}

void handle_request_set_selection(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;

	wlr_seat_set_selection(server->seat, event->source, event->serial);
}

void handle_request_set_primary_selection(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;

	wlr_seat_set_primary_selection(server->seat, event->source, event->serial);
}

void handle_request_start_drag(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, request_start_drag);
	struct wlr_seat_request_start_drag_event *event = data;

	if (wlr_seat_validate_pointer_grab_serial(server->seat, event->origin, event->serial))
		wlr_seat_start_pointer_drag(server->seat, event->drag, event->serial);
	else
		wlr_data_source_destroy(event->drag->source);
}
