/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_VIEW_H
#define INLAY_COMPOSITOR_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <wayland-server-core.h>

#include "server.h"

struct wlr_surface;

/** An xdg toplevel window. */
struct view {
	struct server *server;
	struct wl_list link; // server::views, topmost first
	struct wlr_xdg_surface *xdg;

	/*
	 * tree sits at the window geometry's top-left corner in layout coordinates.
	 * Children, bottom to top: the title bar, the surfaces, grants, popups.
	 */
	struct wlr_scene_tree *tree;
	struct wlr_scene_rect *title; // server-side title bar, or NULL
	struct wlr_scene_node *surfaces;
	struct wlr_scene_tree *grants;
	struct wlr_scene_tree *popups;
	int x, y;
	bool mapped;

	struct wl_listener map;
	struct wl_listener unmap;
	struct wl_listener destroy;
	struct wl_listener commit;
	struct wl_listener request_move;
	struct wl_listener request_resize;
	struct wl_listener request_maximize;
	struct wl_listener request_fullscreen;
};

/** What lies under a point of the layout. */
struct view_hit {
	struct view *view;	     // NULL over the background
	struct wlr_surface *surface; // NULL over a title bar
	double sx, sy;		     // surface-local
	bool grant;		     // surface is a grantee's, shown in view
	bool title;
};

/** Find what is under layout point (lx, ly). Returns hit->view != NULL. */
bool view_at(struct server *server, double lx, double ly, struct view_hit *hit);

/**
 * The mapped-or-not toplevel whose surface tree holds @surface (the toplevel's
 * own surface or one of its subsurfaces), with @surface's origin relative to
 * the window geometry's top-left corner. NULL if none.
 */
struct view *view_from_surface(struct server *server, struct wlr_surface *surface, int *x, int *y);

/** Place a newly mapped view by the cascade rule and show it. */
void view_map(struct view *view);
void view_unmap(struct view *view);
void view_set_position(struct view *view, int x, int y);

/**
 * Activate and raise @view and give keyboard focus to @surface (the view's
 * own surface or a grantee surface shown in it).
 */
void view_focus(struct view *view, struct wlr_surface *surface);

/** Focus the next mapped view below the focused one, cycling. */
void view_cycle(struct server *server);

/** Start an interactive move (edges 0) or resize from the cursor's position. */
void view_begin_interactive(struct view *view, enum cursor_mode mode, uint32_t edges);

/** Keyboard focus left @surface's grant (hidden, revoked): give it back to its window. */
void view_surface_hidden(struct server *server, struct wlr_surface *surface);

#endif
