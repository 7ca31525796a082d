// SPDX-License-Identifier: MIT
/*
 * inlay-grantee-pattern: the plain grantee. Takes the token from
 * INLAY_GRANT_TOKEN, accepts it with a fresh surface and draws a checker
 * pattern inside a yellow border at the configured size. A click shifts the
 * pattern; --animate redraws it shifted on every frame callback.
 *
 * Exit status: 0 when the grant ends, 1 on a failure here, 2 for a missing
 * or rejected token.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>

#include "inlay-grant.h"
#include "shm-buffer.h"

#define BORDER	4
#define CHECKER 16

struct grantee {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct wl_seat *seat;
	struct wl_pointer *pointer;
	struct wl_surface *surface;
	struct wl_callback *frame;
	struct inlay_grant_manager *grants;
	struct inlay_lease *lease;
	struct shm_buffer *buffers[2];
	int32_t width, height;
	uint32_t phase;
	bool animate;
	bool running;
	int exit_status;
};

static uint32_t pattern_pixel(int32_t x, int32_t y, int32_t width, int32_t height, uint32_t phase)
{
	if (x < BORDER || y < BORDER || x >= width - BORDER || y >= height - BORDER)
		return 0xffffd000;
	return (((x + phase) / CHECKER + y / CHECKER) & 1) ? 0xff2060c0 : 0xfff0f0f0;
}

static void draw(struct grantee *g);

static void handle_frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct grantee *g = data;

	wl_callback_destroy(callback);
	g->frame = NULL;
	g->phase++;
	draw(g);
}

static const struct wl_callback_listener frame_listener = {
    .done = handle_frame_done,
};

static void draw(struct grantee *g)
{
	struct shm_buffer *buf;

	if (g->width <= 0 || g->height <= 0 || g->frame)
		return;
	buf = shm_buffer_next(g->shm, g->buffers, g->width, g->height);
	if (!buf)
		return;
	for (int32_t y = 0; y < buf->height; y++) {
		for (int32_t x = 0; x < buf->width; x++)
			buf->pixels[(size_t)y * buf->width + x] =
			    pattern_pixel(x, y, buf->width, buf->height, g->phase);
	}
	wl_surface_attach(g->surface, buf->buffer, 0, 0);
	wl_surface_damage_buffer(g->surface, 0, 0, buf->width, buf->height);
	if (g->animate) {
		g->frame = wl_surface_frame(g->surface);
		wl_callback_add_listener(g->frame, &frame_listener, g);
	}
	buf->busy = true;
	wl_surface_commit(g->surface);
}

static void handle_configure(void *data, struct inlay_lease *lease, int32_t width, int32_t height)
{
	struct grantee *g = data;

	g->width = width;
	g->height = height;
	draw(g);
}

static void handle_revoked(void *data, struct inlay_lease *lease,
			   enum inlay_lease_revoke_reason reason)
{
	struct grantee *g = data;

	g->exit_status = reason == INLAY_LEASE_INVALID_TOKEN ? 2 : 0;
	if (reason == INLAY_LEASE_INVALID_TOKEN)
		fprintf(stderr, "inlay-grantee-pattern: the token was not accepted\n");
	g->running = false;
}

static const struct inlay_lease_listener lease_listener = {
    .configure = handle_configure,
    .revoked = handle_revoked,
};

static void handle_button(void *data, struct wl_pointer *pointer, uint32_t serial, uint32_t time,
			  uint32_t button, uint32_t state)
{
	struct grantee *g = data;

	if (state != WL_POINTER_BUTTON_STATE_PRESSED)
		return;
	g->phase += CHECKER / 2;
	draw(g);
}

static void handle_enter(void *data, struct wl_pointer *pointer, uint32_t serial,
			 struct wl_surface *surface, wl_fixed_t x, wl_fixed_t y)
{
}

static void handle_leave(void *data, struct wl_pointer *pointer, uint32_t serial,
			 struct wl_surface *surface)
{
}

static void handle_motion(void *data, struct wl_pointer *pointer, uint32_t time, wl_fixed_t x,
			  wl_fixed_t y)
{
}

static void handle_axis(void *data, struct wl_pointer *pointer, uint32_t time, uint32_t axis,
			wl_fixed_t value)
{
}

static const struct wl_pointer_listener pointer_listener = {
    .enter = handle_enter,
    .leave = handle_leave,
    .motion = handle_motion,
    .button = handle_button,
    .axis = handle_axis,
};

static void handle_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
	struct grantee *g = data;

	if ((caps & WL_SEAT_CAPABILITY_POINTER) && !g->pointer) {
		g->pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(g->pointer, &pointer_listener, g);
	}
}

static void handle_seat_name(void *data, struct wl_seat *seat, const char *name)
{
}

static const struct wl_seat_listener seat_listener = {
    .capabilities = handle_capabilities,
    .name = handle_seat_name,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
			  const char *interface, uint32_t version)
{
	struct grantee *g = data;

	if (strcmp(interface, wl_compositor_interface.name) == 0 && !g->compositor) {
		g->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0 && !g->shm) {
		g->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && !g->seat) {
		g->seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
		wl_seat_add_listener(g->seat, &seat_listener, g);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = handle_global,
    .global_remove = handle_global_remove,
};

static void grantee_finish(struct grantee *g)
{
	inlay_lease_destroy(g->lease);
	inlay_grant_manager_destroy(g->grants);
	if (g->frame)
		wl_callback_destroy(g->frame);
	for (size_t i = 0; i < 2; i++)
		shm_buffer_destroy(g->buffers[i]);
	if (g->surface)
		wl_surface_destroy(g->surface);
	if (g->pointer)
		wl_pointer_destroy(g->pointer);
	if (g->seat)
		wl_seat_destroy(g->seat);
	if (g->shm)
		wl_shm_destroy(g->shm);
	if (g->compositor)
		wl_compositor_destroy(g->compositor);
	wl_display_disconnect(g->display);
}

int main(int argc, char *argv[])
{
	struct grantee g = {.running = true, .exit_status = 1};
	struct wl_registry *registry;
	char *token;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--animate") == 0) {
			g.animate = true;
		} else {
			fprintf(stderr, "usage: %s [--animate]  (token in %s)\n", argv[0],
				INLAY_GRANT_TOKEN_ENV);
			return 1;
		}
	}
	token = inlay_grant_token_from_env();
	if (!token) {
		fprintf(stderr, "inlay-grantee-pattern: %s: %s\n", INLAY_GRANT_TOKEN_ENV,
			errno == ENOENT ? "not set" : "not a token");
		return 2;
	}
	g.display = wl_display_connect(NULL);
	if (!g.display) {
		fprintf(stderr, "inlay-grantee-pattern: cannot connect: %s\n", strerror(errno));
		free(token);
		return 1;
	}
	registry = wl_display_get_registry(g.display);
	wl_registry_add_listener(registry, &registry_listener, &g);
	wl_display_roundtrip(g.display);
	wl_registry_destroy(registry);
	g.grants = inlay_grant_manager_create(g.display);
	if (!g.compositor || !g.shm || !g.grants) {
		fprintf(stderr, "inlay-grantee-pattern: compositor lacks wl_shm or screen-grant\n");
		goto out;
	}
	g.surface = wl_compositor_create_surface(g.compositor);
	g.lease = inlay_lease_accept(g.grants, token, g.surface, &lease_listener, &g);
	if (!g.lease)
		goto out;
	while (g.running && wl_display_dispatch(g.display) >= 0)
		;
	if (g.running)
		fprintf(stderr, "inlay-grantee-pattern: connection lost\n");
out:
	free(token);
	grantee_finish(&g);
	return g.exit_status;
}
