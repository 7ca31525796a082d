// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "shm-buffer.h"
#include "virtual-keyboard-unstable-v1-client-protocol.h"
#include "wlr-screencopy-unstable-v1-client-protocol.h"
#include "wlr-virtual-pointer-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pointer_enter(void *data, struct wl_pointer *p, uint32_t serial,
			  struct wl_surface *surface, wl_fixed_t x, wl_fixed_t y)
{
	struct pointer_state *s = data;

	s->focus = surface;
	s->x = wl_fixed_to_double(x);
	s->y = wl_fixed_to_double(y);
	s->enters++;
	s->last_event_ns = now_ns();
}

static void pointer_leave(void *data, struct wl_pointer *p, uint32_t serial,
			  struct wl_surface *surface)
{
	struct pointer_state *s = data;

	s->focus = NULL;
}

static void pointer_motion(void *data, struct wl_pointer *p, uint32_t time, wl_fixed_t x,
			   wl_fixed_t y)
{
	struct pointer_state *s = data;

	s->x = wl_fixed_to_double(x);
	s->y = wl_fixed_to_double(y);
	s->motions++;
	s->last_event_ns = now_ns();
}

static void pointer_button(void *data, struct wl_pointer *p, uint32_t serial, uint32_t time,
			   uint32_t button, uint32_t state)
{
	struct pointer_state *s = data;

	if (state == WL_POINTER_BUTTON_STATE_PRESSED) {
		s->presses++;
		s->button_serial = serial;
		s->last_button = button;
	}
}

static void pointer_axis(void *data, struct wl_pointer *p, uint32_t time, uint32_t axis,
			 wl_fixed_t value)
{
}

static const struct wl_pointer_listener pointer_listener = {
    .enter = pointer_enter,
    .leave = pointer_leave,
    .motion = pointer_motion,
    .button = pointer_button,
    .axis = pointer_axis,
};

static void keyboard_keymap(void *data, struct wl_keyboard *k, uint32_t format, int32_t fd,
			    uint32_t size)
{
	close(fd);
}

static void keyboard_enter(void *data, struct wl_keyboard *k, uint32_t serial,
			   struct wl_surface *surface, struct wl_array *keys)
{
	struct keyboard_state *s = data;

	s->focus = surface;
}

static void keyboard_leave(void *data, struct wl_keyboard *k, uint32_t serial,
			   struct wl_surface *surface)
{
	struct keyboard_state *s = data;

	s->focus = NULL;
}

static void keyboard_key(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t time,
			 uint32_t key, uint32_t state)
{
	struct keyboard_state *s = data;

	if (state == WL_KEYBOARD_KEY_STATE_PRESSED) {
		s->keys++;
		s->last_key = key;
	}
}

static void keyboard_modifiers(void *data, struct wl_keyboard *k, uint32_t serial,
			       uint32_t depressed, uint32_t latched, uint32_t locked,
			       uint32_t group)
{
}

static void keyboard_repeat_info(void *data, struct wl_keyboard *k, int32_t rate, int32_t delay)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
    .keymap = keyboard_keymap,
    .enter = keyboard_enter,
    .leave = keyboard_leave,
    .key = keyboard_key,
    .modifiers = keyboard_modifiers,
    .repeat_info = keyboard_repeat_info,
};

static void seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
	struct client *c = data;

	if ((caps & WL_SEAT_CAPABILITY_POINTER) && !c->pointer) {
		c->pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(c->pointer, &pointer_listener, &c->pointer_state);
	}
	if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !c->keyboard) {
		c->keyboard = wl_seat_get_keyboard(seat);
		wl_keyboard_add_listener(c->keyboard, &keyboard_listener, &c->keyboard_state);
	}
}

static void seat_name(void *data, struct wl_seat *seat, const char *name)
{
}

static const struct wl_seat_listener seat_listener = {
    .capabilities = seat_capabilities,
    .name = seat_name,
};

static void output_geometry(void *data, struct wl_output *o, int32_t x, int32_t y, int32_t pw,
			    int32_t ph, int32_t subpixel, const char *make, const char *model,
			    int32_t transform)
{
}

static void output_mode(void *data, struct wl_output *o, uint32_t flags, int32_t width,
			int32_t height, int32_t refresh)
{
	struct client *c = data;

	if (flags & WL_OUTPUT_MODE_CURRENT) {
		c->harness->output_width = width;
		c->harness->output_height = height;
	}
}

static void output_done(void *data, struct wl_output *o)
{
}

static void output_scale(void *data, struct wl_output *o, int32_t factor)
{
}

static const struct wl_output_listener output_listener = {
    .geometry = output_geometry,
    .mode = output_mode,
    .done = output_done,
    .scale = output_scale,
};

static void wm_base_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
    .ping = wm_base_ping,
};

#define BIND(ptr, iface, ver)                                                                      \
	do {                                                                                       \
		if (strcmp(interface, (iface).name) == 0 && !(ptr)) {                              \
			(ptr) = wl_registry_bind(registry, name, &(iface),                         \
						 version < (ver) ? version : (ver));               \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
			    const char *interface, uint32_t version)
{
	struct client *c = data;

	BIND(c->compositor, wl_compositor_interface, 4);
	BIND(c->subcompositor, wl_subcompositor_interface, 1);
	BIND(c->shm, wl_shm_interface, 1);
	BIND(c->grants, screen_grant_manager_v1_interface, 1);
	BIND(c->screencopy, zwlr_screencopy_manager_v1_interface, 1);
	BIND(c->vpointer_manager, zwlr_virtual_pointer_manager_v1_interface, 1);
	BIND(c->vkeyboard_manager, zwp_virtual_keyboard_manager_v1_interface, 1);
	if (strcmp(interface, xdg_wm_base_interface.name) == 0 && !c->wm_base) {
		c->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(c->wm_base, &wm_base_listener, c);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && !c->seat) {
		c->seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
		wl_seat_add_listener(c->seat, &seat_listener, c);
	} else if (strcmp(interface, wl_output_interface.name) == 0 && !c->output) {
		c->output = wl_registry_bind(registry, name, &wl_output_interface, 1);
		wl_output_add_listener(c->output, &output_listener, c);
	}
}

static void registry_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = registry_global,
    .global_remove = registry_global_remove,
};

struct client *client_create(struct harness *h)
{
	char path[160];
	struct client *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	snprintf(path, sizeof(path), "%s/%s", h->runtime_dir, h->socket_name);
	c->display = wl_display_connect(path);
	if (!c->display) {
		free(c);
		fail_msg("cannot connect to %s", path);
	}
	c->harness = h;
	wl_list_init(&c->surfaces);
	wl_list_init(&c->grants_list);
	wl_list_init(&c->leases);
	wl_list_insert(h->clients.prev, &c->link);
	c->registry = wl_display_get_registry(c->display);
	wl_registry_add_listener(c->registry, &registry_listener, c);
	assert_true(client_roundtrip(c));
	assert_true(client_roundtrip(c)); /* seat capabilities, output modes */
	assert_non_null(c->compositor);
	assert_non_null(c->shm);
	assert_non_null(c->wm_base);
	if (!c->grants)
		fail_msg("the compositor offers no screen_grant_manager_v1");
	return c;
}

#define DESTROY(ptr, fn)                                                                           \
	do {                                                                                       \
		if (ptr)                                                                           \
			fn(ptr);                                                                   \
	} while (0)

void client_destroy(struct client *c)
{
	struct surface *s, *stmp;
	struct grant *g, *gtmp;
	struct lease *l, *ltmp;

	if (!c)
		return;
	wl_list_for_each_safe (l, ltmp, &c->leases, link)
		lease_destroy(l);
	wl_list_for_each_safe (g, gtmp, &c->grants_list, link)
		grant_destroy(g);
	wl_list_for_each_safe (s, stmp, &c->surfaces, link)
		surface_destroy(s);
	DESTROY(c->vpointer, zwlr_virtual_pointer_v1_destroy);
	DESTROY(c->vkeyboard, zwp_virtual_keyboard_v1_destroy);
	DESTROY(c->vpointer_manager, zwlr_virtual_pointer_manager_v1_destroy);
	DESTROY(c->vkeyboard_manager, zwp_virtual_keyboard_manager_v1_destroy);
	DESTROY(c->screencopy, zwlr_screencopy_manager_v1_destroy);
	DESTROY(c->grants, screen_grant_manager_v1_destroy);
	DESTROY(c->pointer, wl_pointer_destroy);
	DESTROY(c->keyboard, wl_keyboard_destroy);
	DESTROY(c->seat, wl_seat_destroy);
	DESTROY(c->output, wl_output_destroy);
	DESTROY(c->wm_base, xdg_wm_base_destroy);
	DESTROY(c->shm, wl_shm_destroy);
	DESTROY(c->subcompositor, wl_subcompositor_destroy);
	DESTROY(c->compositor, wl_compositor_destroy);
	DESTROY(c->registry, wl_registry_destroy);
	wl_display_disconnect(c->display);
	wl_list_remove(&c->link);
	free(c);
}

bool client_roundtrip(struct client *c)
{
	return wl_display_roundtrip(c->display) >= 0;
}

void expect_protocol_error(struct client *c, const struct wl_interface *interface, uint32_t code)
{
	const struct wl_interface *got_interface = NULL;
	uint32_t got_code, id;

	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;

	/* The error ends the connection; a failed roundtrip is how it shows. */
	while (client_roundtrip(c) && harness_now_ms() < end)
		harness_dispatch(c->harness, 10);
	if (wl_display_get_error(c->display) != EPROTO)
		fail_msg("expected a protocol error, the connection ended with errno %d",
			 wl_display_get_error(c->display));
	got_code = wl_display_get_protocol_error(c->display, &got_interface, &id);
	if (!got_interface || strcmp(got_interface->name, interface->name) != 0 || got_code != code)
		fail_msg("expected error %u on %s, got %u on %s", code, interface->name, got_code,
			 got_interface ? got_interface->name : "(none)");
}

void expect_no_error(struct client *c)
{
	if (!client_roundtrip(c)) {
		const struct wl_interface *iface = NULL;
		uint32_t id, code = wl_display_get_protocol_error(c->display, &iface, &id);

		fail_msg("unexpected error %u on %s", code, iface ? iface->name : "(connection)");
	}
}
