// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "shm-buffer.h"
#include "xdg-shell-client-protocol.h"

struct surface *surface_create(struct client *c)
{
	struct surface *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->client = c;
	s->wl_surface = wl_compositor_create_surface(c->compositor);
	wl_list_insert(&c->surfaces, &s->link);
	return s;
}

static void xdg_surface_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	struct surface *s = data;

	xdg_surface_ack_configure(xdg_surface, serial);
	s->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
    .configure = xdg_surface_configure,
};

struct surface *toplevel_create(struct client *c, int32_t width, int32_t height, uint32_t color)
{
	struct surface *s = surface_create(c);

	s->xdg_surface = xdg_wm_base_get_xdg_surface(c->wm_base, s->wl_surface);
	xdg_surface_add_listener(s->xdg_surface, &xdg_surface_listener, s);
	s->toplevel = xdg_surface_get_toplevel(s->xdg_surface);
	wl_surface_commit(s->wl_surface);
	assert_true(wait_until(c->harness, s->configured));
	surface_attach_color(s, width, height, color);
	surface_commit_wait(s);
	return s;
}

void surface_attach_color(struct surface *s, int32_t width, int32_t height, uint32_t color)
{
	/* One buffer per attach keeps the compositor's release out of the picture. */
	shm_buffer_destroy(s->buffer);
	s->buffer = shm_buffer_create(s->client->shm, width, height);
	assert_non_null(s->buffer);
	shm_buffer_fill(s->buffer, 0, 0, width, height, color);
	wl_surface_attach(s->wl_surface, s->buffer->buffer, 0, 0);
	wl_surface_damage_buffer(s->wl_surface, 0, 0, width, height);
}

static void frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct surface *s = data;

	s->frames_done++;
	wl_callback_destroy(callback);
}

static const struct wl_callback_listener frame_listener = {
    .done = frame_done,
};

void surface_commit_wait(struct surface *s)
{
	int before = s->frames_done;
	struct wl_callback *cb = wl_surface_frame(s->wl_surface);

	wl_callback_add_listener(cb, &frame_listener, s);
	wl_surface_commit(s->wl_surface);
	if (!wait_until(s->client->harness, s->frames_done > before))
		fail_msg("no frame callback for a committed surface");
}

void surface_commit(struct surface *s)
{
	wl_surface_commit(s->wl_surface);
	assert_true(client_roundtrip(s->client));
}

void surface_destroy(struct surface *s)
{
	if (!s)
		return;
	if (s->toplevel)
		xdg_toplevel_destroy(s->toplevel);
	if (s->xdg_surface)
		xdg_surface_destroy(s->xdg_surface);
	wl_surface_destroy(s->wl_surface);
	shm_buffer_destroy(s->buffer);
	wl_list_remove(&s->link);
	free(s);
}

void surface_locate(struct client *input, struct surface *s, int32_t *x, int32_t *y)
{
	struct harness *h = input->harness;
	struct pointer_state *p = &s->client->pointer_state;

	for (int32_t py = 8; py < h->output_height; py += 24) {
		for (int32_t px = 8; px < h->output_width; px += 24) {
			int before = p->enters + p->motions;

			input_move(input, px, py);
			assert_true(client_roundtrip(input));
			assert_true(client_roundtrip(s->client));
			if (p->focus == s->wl_surface && p->enters + p->motions > before) {
				*x = px - (int32_t)p->x;
				*y = py - (int32_t)p->y;
				return;
			}
		}
	}
	fail_msg("the surface is nowhere under the pointer");
}

static void grant_token(void *data, struct screen_grant_v1 *proxy, const char *token)
{
	struct grant *g = data;

	snprintf(g->token, sizeof(g->token), "%s", token);
	g->tokens++;
}

static void grant_accepted(void *data, struct screen_grant_v1 *proxy)
{
	struct grant *g = data;

	g->accepted++;
}

static void grant_gone(void *data, struct screen_grant_v1 *proxy, uint32_t reason)
{
	struct grant *g = data;

	g->gone++;
	g->gone_reason = reason;
}

static const struct screen_grant_v1_listener grant_listener = {
    .token = grant_token,
    .accepted = grant_accepted,
    .grantee_gone = grant_gone,
};

struct grant *grant_create(struct surface *s, int32_t x, int32_t y, int32_t width, int32_t height)
{
	struct grant *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->client = s->client;
	g->proxy = screen_grant_manager_v1_grant_surface(s->client->grants, s->wl_surface, x, y,
							 width, height);
	screen_grant_v1_add_listener(g->proxy, &grant_listener, g);
	wl_list_insert(&s->client->grants_list, &g->link);
	return g;
}

struct grant *grant_create_wait(struct surface *s, int32_t x, int32_t y, int32_t width,
				int32_t height)
{
	struct grant *g = grant_create(s, x, y, width, height);

	if (!wait_until(s->client->harness, g->tokens > 0))
		fail_msg("no token for a new grant");
	return g;
}

void grant_destroy(struct grant *g)
{
	if (!g)
		return;
	screen_grant_v1_destroy(g->proxy);
	wl_list_remove(&g->link);
	free(g);
}

static void lease_configure(void *data, struct screen_grant_lease_v1 *proxy, int32_t width,
			    int32_t height)
{
	struct lease *l = data;

	l->configures++;
	l->width = width;
	l->height = height;
}

static void lease_revoked(void *data, struct screen_grant_lease_v1 *proxy, uint32_t reason)
{
	struct lease *l = data;

	l->revoked = true;
	l->revoke_reason = reason;
}

static const struct screen_grant_lease_v1_listener lease_listener = {
    .configure = lease_configure,
    .revoked = lease_revoked,
};

struct lease *lease_accept(struct surface *s, const char *token)
{
	struct lease *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	l->client = s->client;
	l->proxy = screen_grant_manager_v1_accept(s->client->grants, token, s->wl_surface);
	screen_grant_lease_v1_add_listener(l->proxy, &lease_listener, l);
	wl_list_insert(&s->client->leases, &l->link);
	return l;
}

struct lease *lease_accept_wait(struct surface *s, const char *token)
{
	struct lease *l = lease_accept(s, token);

	if (!wait_until(s->client->harness, l->configures > 0))
		fail_msg("no configure for a new lease");
	return l;
}

void lease_destroy(struct lease *l)
{
	if (!l)
		return;
	screen_grant_lease_v1_destroy(l->proxy);
	wl_list_remove(&l->link);
	free(l);
}
