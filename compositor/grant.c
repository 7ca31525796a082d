// SPDX-License-Identifier: MIT
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_surface.h>

#include "cursor.h"
#include "grant.h"
#include "grant_private.h"
#include "output.h"
#include "screen-grant-v1-protocol.h"
#include "server.h"
#include "view.h"

#define GRANT_VERSION 1

static void grantee_handle_commit(struct wlr_surface *surface);

static const struct wlr_surface_role grantee_role = {
    .name = "screen_grant_lease_v1",
    .commit = grantee_handle_commit,
};

static const struct screen_grant_manager_v1_interface manager_impl;
static const struct screen_grant_v1_interface grant_impl;
static const struct screen_grant_lease_v1_interface lease_impl;

static struct grant_manager *manager_from_resource(struct wl_resource *resource)
{
	assert(
	    wl_resource_instance_of(resource, &screen_grant_manager_v1_interface, &manager_impl));
	return wl_resource_get_user_data(resource);
}

static struct grant *grant_from_resource(struct wl_resource *resource)
{
	assert(wl_resource_instance_of(resource, &screen_grant_v1_interface, &grant_impl));
	return wl_resource_get_user_data(resource);
}

static struct grant_lease *lease_from_resource(struct wl_resource *resource)
{
	assert(wl_resource_instance_of(resource, &screen_grant_lease_v1_interface, &lease_impl));
	return wl_resource_get_user_data(resource);
}

static bool rectangle_valid(int32_t x, int32_t y, int32_t width, int32_t height)
{
	return width > 0 && height > 0 && width <= INT16_MAX && height <= INT16_MAX &&
	       x >= INT16_MIN && x <= INT16_MAX && y >= INT16_MIN && y <= INT16_MAX;
}

/* Sends a fresh token: the previous one, if any, stops being valid. */
static void grant_send_new_token(struct grant *grant)
{
	uint8_t raw[GRANT_TOKEN_BYTES];
	size_t got = 0;

	grant->token[0] = '\0';
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno != EINTR) {
			wl_client_post_implementation_error(wl_resource_get_client(grant->resource),
							    "no random bytes for a grant token");
			return;
		}
		if (n > 0)
			got += n;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(&grant->token[2 * i], 3, "%02x", raw[i]);
	screen_grant_v1_send_token(grant->resource, grant->token);
}

/* Compares without an early exit, so timing does not reveal a token's prefix. */
static bool token_matches(const char *token, const char *candidate)
{
	size_t len = strlen(token);
	unsigned char diff = 0;

	if (len == 0 || strlen(candidate) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		diff |= token[i] ^ candidate[i];
	return diff == 0;
}

static struct grant *manager_find_grant(struct grant_manager *manager, const char *token)
{
	struct grant *grant;

	wl_list_for_each (grant, &manager->grants, link) {
		if (token_matches(grant->token, token))
			return grant;
	}
	return NULL;
}

/*
 * Ends a lease. The grantee is sent revoked(revoke) unless revoke < 0, the
 * granter grantee_gone(gone) and a fresh token unless gone < 0.
 */
static void lease_end(struct grant_lease *lease, int revoke, int gone)
{
	struct grant *grant = lease->grant;
	struct grantee *grantee = lease->grantee;

	if (!grant)
		return;
	lease->grant = NULL;
	lease->grantee = NULL;
	grant->lease = NULL;
	grantee->lease = NULL;
	wl_list_remove(&lease->client_destroy.link);
	wl_list_init(&lease->client_destroy.link);

	grant_scene_update_buffer(grant);
	if (revoke >= 0)
		screen_grant_lease_v1_send_revoked(lease->resource, revoke);
	if (gone >= 0 && grant->granter) {
		screen_grant_v1_send_grantee_gone(grant->resource, gone);
		grant_send_new_token(grant);
	}
	view_surface_hidden(grant->manager->server, grantee->surface);
}

static void lease_handle_destroy(struct wl_client *client, struct wl_resource *resource)
{
	wl_resource_destroy(resource);
}

static const struct screen_grant_lease_v1_interface lease_impl = {
    .destroy = lease_handle_destroy,
};

static void lease_handle_resource_destroy(struct wl_resource *resource)
{
	struct grant_lease *lease = lease_from_resource(resource);

	lease_end(lease, -1, SCREEN_GRANT_V1_GONE_REASON_DESTROYED);
	wl_list_remove(&lease->client_destroy.link);
	free(lease);
}

/* Runs before the client's objects are destroyed, so the granter learns why. */
static void lease_handle_client_destroy(struct wl_listener *listener, void *data)
{
	struct grant_lease *lease = wl_container_of(listener, lease, client_destroy);

	lease_end(lease, -1, SCREEN_GRANT_V1_GONE_REASON_DISCONNECTED);
}

static void grantee_handle_commit(struct wlr_surface *surface)
{
	struct grantee *grantee = surface->role_data;
	struct grant *grant;
	struct wlr_box box;

	if (!grantee || !grantee->lease)
		return;
	grant = grantee->lease->grant;
	grant_scene_update_buffer(grant);
	/* A commit with only a frame callback damages nothing: ask for a frame anyway. */
	if (!wl_list_empty(&surface->current.frame_callback_list) &&
	    grant_scene_shown_box(grant, &box))
		output_schedule_frames(grant->manager->server, &box);
}

static void grantee_handle_surface_destroy(struct wl_listener *listener, void *data)
{
	struct grantee *grantee = wl_container_of(listener, grantee, surface_destroy);

	if (grantee->lease)
		lease_end(grantee->lease, -1, SCREEN_GRANT_V1_GONE_REASON_DESTROYED);
	wl_list_remove(&grantee->surface_destroy.link);
	grantee->surface->role_data = NULL;
	free(grantee);
}

static struct grantee *grantee_create(struct wlr_surface *surface, struct wl_resource *manager)
{
	struct grantee *grantee = calloc(1, sizeof(*grantee));

	if (!grantee)
		return NULL;
	if (!wlr_surface_set_role(surface, &grantee_role, grantee, manager,
				  SCREEN_GRANT_MANAGER_V1_ERROR_ROLE)) {
		free(grantee);
		return NULL;
	}
	grantee->surface = surface;
	grantee->surface_destroy.notify = grantee_handle_surface_destroy;
	wl_signal_add(&surface->events.destroy, &grantee->surface_destroy);
	return grantee;
}

/* The granted surface is gone: the grant becomes inert. */
static void grant_make_inert(struct grant *grant)
{
	if (grant->lease)
		lease_end(grant->lease, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANTER_GONE, -1);
	if (!grant->granter)
		return;
	wl_list_remove(&grant->granter_commit.link);
	wl_list_remove(&grant->granter_destroy.link);
	grant->granter = NULL;
	grant->token[0] = '\0';
	grant_scene_detach(grant);
}

static void grant_handle_granter_destroy(struct wl_listener *listener, void *data)
{
	struct grant *grant = wl_container_of(listener, grant, granter_destroy);

	grant_make_inert(grant);
}

static void grant_handle_granter_commit(struct wl_listener *listener, void *data)
{
	struct grant *grant = wl_container_of(listener, grant, granter_commit);
	struct grant_state old = grant->current;
	struct wlr_surface *grantee = grant->lease ? grant->lease->grantee->surface : NULL;

	grant->current = grant->pending;
	if (grant->lease && (old.rect.width != grant->current.rect.width ||
			     old.rect.height != grant->current.rect.height))
		screen_grant_lease_v1_send_configure(
		    grant->lease->resource, grant->current.rect.width, grant->current.rect.height);
	grant_scene_update(grant);

	if (!grantee)
		return;
	if (old.shown && !grant->current.shown)
		view_surface_hidden(grant->manager->server, grantee);
	else if (old.shown != grant->current.shown || old.rect.x != grant->current.rect.x ||
		 old.rect.y != grant->current.rect.y)
		cursor_rebase(grant->manager->server);
}

static void grant_handle_destroy(struct wl_client *client, struct wl_resource *resource)
{
	struct grant *grant = grant_from_resource(resource);

	if (grant->lease)
		lease_end(grant->lease, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANT_DESTROYED, -1);
	wl_resource_destroy(resource);
}

static void grant_handle_set_rectangle(struct wl_client *client, struct wl_resource *resource,
				       int32_t x, int32_t y, int32_t width, int32_t height)
{
	struct grant *grant = grant_from_resource(resource);

	if (!grant->granter)
		return;
	if (!rectangle_valid(x, y, width, height)) {
		wl_resource_post_error(resource, SCREEN_GRANT_V1_ERROR_INVALID_RECTANGLE,
				       "invalid rectangle %" PRId32 ",%" PRId32 " %" PRId32
				       "x%" PRId32,
				       x, y, width, height);
		return;
	}
	grant->pending.rect = (struct wlr_box){x, y, width, height};
}

static void grant_set_shown(struct wl_resource *resource, bool shown)
{
	struct grant *grant = grant_from_resource(resource);

	if (grant->granter)
		grant->pending.shown = shown;
}

static void grant_handle_show(struct wl_client *client, struct wl_resource *resource)
{
	grant_set_shown(resource, true);
}

static void grant_handle_hide(struct wl_client *client, struct wl_resource *resource)
{
	grant_set_shown(resource, false);
}

static const struct screen_grant_v1_interface grant_impl = {
    .destroy = grant_handle_destroy,
    .set_rectangle = grant_handle_set_rectangle,
    .show = grant_handle_show,
    .hide = grant_handle_hide,
};

/* Client requests and disconnection both end here; a request already revoked the lease. */
static void grant_handle_resource_destroy(struct wl_resource *resource)
{
	struct grant *grant = grant_from_resource(resource);

	grant_make_inert(grant);
	wl_list_remove(&grant->tree_destroy.link);
	wl_list_remove(&grant->link);
	free(grant);
}

static void manager_handle_grant_surface(struct wl_client *client, struct wl_resource *resource,
					 uint32_t id, struct wl_resource *surface_resource,
					 int32_t x, int32_t y, int32_t width, int32_t height)
{
	struct grant_manager *manager = manager_from_resource(resource);
	struct wlr_surface *surface = wlr_surface_from_resource(surface_resource);
	struct grant *grant;

	if (!rectangle_valid(x, y, width, height)) {
		wl_resource_post_error(resource, SCREEN_GRANT_MANAGER_V1_ERROR_INVALID_RECTANGLE,
				       "invalid rectangle %" PRId32 ",%" PRId32 " %" PRId32
				       "x%" PRId32,
				       x, y, width, height);
		return;
	}
	grant = calloc(1, sizeof(*grant));
	if (!grant) {
		wl_client_post_no_memory(client);
		return;
	}
	grant->resource = wl_resource_create(client, &screen_grant_v1_interface,
					     wl_resource_get_version(resource), id);
	if (!grant->resource) {
		free(grant);
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(grant->resource, &grant_impl, grant,
				       grant_handle_resource_destroy);

	grant->manager = manager;
	grant->granter = surface;
	grant->current = grant->pending = (struct grant_state){
	    .rect = {x, y, width, height},
	    .shown = true,
	};
	grant->granter_commit.notify = grant_handle_granter_commit;
	wl_signal_add(&surface->events.commit, &grant->granter_commit);
	grant->granter_destroy.notify = grant_handle_granter_destroy;
	wl_signal_add(&surface->events.destroy, &grant->granter_destroy);
	wl_list_init(&grant->tree_destroy.link);
	wl_list_insert(&manager->grants, &grant->link);

	grant_send_new_token(grant);
	grant_scene_update(grant);
}

static void manager_handle_accept(struct wl_client *client, struct wl_resource *resource,
				  uint32_t id, const char *token,
				  struct wl_resource *surface_resource)
{
	struct grant_manager *manager = manager_from_resource(resource);
	struct wlr_surface *surface = wlr_surface_from_resource(surface_resource);
	struct grantee *grantee = surface->role == &grantee_role ? surface->role_data : NULL;
	struct grant_lease *lease;
	struct grant *grant;

	if (surface->role && surface->role != &grantee_role) {
		wl_resource_post_error(resource, SCREEN_GRANT_MANAGER_V1_ERROR_ROLE,
				       "wl_surface@%" PRIu32 " already has the role %s",
				       wl_resource_get_id(surface_resource), surface->role->name);
		return;
	}
	if (grantee && grantee->lease) {
		wl_resource_post_error(resource, SCREEN_GRANT_MANAGER_V1_ERROR_ALREADY_LEASED,
				       "wl_surface@%" PRIu32 " already has a live lease",
				       wl_resource_get_id(surface_resource));
		return;
	}
	grant = manager_find_grant(manager, token);
	if (grant && grant->granter == surface) {
		wl_resource_post_error(resource, SCREEN_GRANT_MANAGER_V1_ERROR_SELF_GRANT,
				       "wl_surface@%" PRIu32 " cannot be granted into itself",
				       wl_resource_get_id(surface_resource));
		return;
	}

	lease = calloc(1, sizeof(*lease));
	if (!lease || (!grantee && !(grantee = grantee_create(surface, resource)))) {
		free(lease);
		wl_client_post_no_memory(client);
		return;
	}
	lease->resource = wl_resource_create(client, &screen_grant_lease_v1_interface,
					     wl_resource_get_version(resource), id);
	if (!lease->resource) {
		free(lease);
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(lease->resource, &lease_impl, lease,
				       lease_handle_resource_destroy);
	wl_list_init(&lease->client_destroy.link);

	if (!grant) {
		screen_grant_lease_v1_send_revoked(
		    lease->resource, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_INVALID_TOKEN);
		return;
	}
	lease->grant = grant;
	lease->grantee = grantee;
	grant->lease = lease;
	grantee->lease = lease;
	grant->token[0] = '\0';
	lease->client_destroy.notify = lease_handle_client_destroy;
	wl_client_add_destroy_listener(client, &lease->client_destroy);

	screen_grant_lease_v1_send_configure(lease->resource, grant->current.rect.width,
					     grant->current.rect.height);
	screen_grant_v1_send_accepted(grant->resource);
	grant_scene_update_buffer(grant);
}

static void manager_handle_destroy(struct wl_client *client, struct wl_resource *resource)
{
	wl_resource_destroy(resource);
}

static const struct screen_grant_manager_v1_interface manager_impl = {
    .destroy = manager_handle_destroy,
    .grant_surface = manager_handle_grant_surface,
    .accept = manager_handle_accept,
};

static void manager_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *resource =
	    wl_resource_create(client, &screen_grant_manager_v1_interface, version, id);

	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &manager_impl, data, NULL);
}

static void manager_handle_display_destroy(struct wl_listener *listener, void *data)
{
	struct grant_manager *manager = wl_container_of(listener, manager, display_destroy);

	wl_list_remove(&manager->display_destroy.link);
	wl_global_destroy(manager->global);
	free(manager);
}

struct grant_manager *grant_manager_create(struct server *server)
{
	struct grant_manager *manager = calloc(1, sizeof(*manager));

	if (!manager)
		return NULL;
	manager->global = wl_global_create(server->display, &screen_grant_manager_v1_interface,
					   GRANT_VERSION, manager, manager_bind);
	if (!manager->global) {
		free(manager);
		return NULL;
	}
	manager->server = server;
	wl_list_init(&manager->grants);
	manager->display_destroy.notify = manager_handle_display_destroy;
	wl_display_add_destroy_listener(server->display, &manager->display_destroy);
	return manager;
}
