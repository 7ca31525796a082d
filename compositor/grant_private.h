/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_GRANT_PRIVATE_H
#define INLAY_COMPOSITOR_GRANT_PRIVATE_H

#include <stdbool.h>
#include <wayland-server-core.h>
#include <wlr/util/box.h>

/* 128 random bits, sent as 32 hex digits. */
#define GRANT_TOKEN_BYTES 16

struct grant_manager {
	struct wl_global *global;
	struct server *server;
	struct wl_list grants; // grant::link
	struct wl_listener display_destroy;
};

/* Double-buffered on the granted surface's commit. */
struct grant_state {
	struct wlr_box rect; // granted-surface-local
	bool shown;
};

/* The granter's screen_grant_v1. */
struct grant {
	struct wl_resource *resource;
	struct grant_manager *manager;
	struct wl_list link;	     // grant_manager::grants
	struct wlr_surface *granter; // NULL once inert
	struct grant_state current, pending;
	char token[2 * GRANT_TOKEN_BYTES + 1]; // "" while leased or inert
	struct grant_lease *lease;	       // NULL when no grantee holds it

	/* Scene: tree at the granted surface's origin inside its view's grants tree. */
	struct wlr_scene_tree *tree;
	struct wlr_scene_buffer *buffer; // the grantee's visible part, or NULL
	struct wlr_box visible;		 // buffer's box, granted-surface-local
	struct wlr_fbox source;		 // buffer's source box

	struct wl_listener granter_commit;
	struct wl_listener granter_destroy;
	struct wl_listener tree_destroy;
};

/* Role data of a grantee surface; lives as long as the surface. */
struct grantee {
	struct wlr_surface *surface;
	struct grant_lease *lease; // NULL between leases
	struct wl_listener surface_destroy;
};

/* The grantee's screen_grant_lease_v1. grant and grantee are NULL once inert. */
struct grant_lease {
	struct wl_resource *resource;
	struct grant *grant;
	struct grantee *grantee;
	struct wl_listener client_destroy;
};

/* grant_scene.c: drawing and placement. */

/** Attach @grant to its window, or detach it, and redraw the grantee's part. */
void grant_scene_update(struct grant *grant);

/** Redraw only the grantee's visible part (after a grantee commit). */
void grant_scene_update_buffer(struct grant *grant);

/** Remove @grant from the scene. */
void grant_scene_detach(struct grant *grant);

/** The layout box of the granted rectangle if the grant is shown in a mapped window. */
bool grant_scene_shown_box(struct grant *grant, struct wlr_box *box);

#endif
