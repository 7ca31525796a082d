// SPDX-License-Identifier: MIT
#include <wayland-server-core.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/edges.h>

#include "cursor.h"
#include "decoration.h"
#include "grant.h"
#include "seat.h"
#include "server.h"
#include "view.h"

/* A window mapped while n others are shown goes CASCADE_STEP * (n % CASCADE_SLOTS) down-right. */
#define CASCADE_STEP  32
#define CASCADE_SLOTS 8

bool view_at(struct server *server, double lx, double ly, struct view_hit *hit)
{
	struct wlr_scene_node *node;
	double nx, ny;

	*hit = (struct view_hit){0};
	node = wlr_scene_node_at(&server->scene->node, lx, ly, &nx, &ny);
	if (!node)
		return false;

	if (node->type == WLR_SCENE_NODE_SURFACE) {
		hit->surface = wlr_scene_surface_from_node(node)->surface;
		hit->sx = nx;
		hit->sy = ny;
	} else if (grant_node_is_grant(node)) {
		/* The grant takes all input in its visible part, even where its surface does not.
		 */
		hit->surface = grant_surface_at(node, nx, ny, &hit->sx, &hit->sy);
		hit->grant = true;
	} else if (node->type == WLR_SCENE_NODE_RECT) {
		hit->title = true;
	}
	/* Only a view's own tree carries data among tree nodes. */
	for (; node && !hit->view; node = node->parent)
		if (node->type == WLR_SCENE_NODE_TREE)
			hit->view = node->data;
	return hit->view;
}

struct view *view_from_surface(struct server *server, struct wlr_surface *surface, int *x, int *y)
{
	struct wlr_xdg_surface *xdg;
	struct wlr_box geometry;
	int sx = 0, sy = 0;

	while (wlr_surface_is_subsurface(surface)) {
		struct wlr_subsurface *subsurface = wlr_subsurface_from_wlr_surface(surface);

		if (!subsurface || !subsurface->parent)
			return NULL;
		sx += subsurface->current.x;
		sy += subsurface->current.y;
		surface = subsurface->parent;
	}
	if (!wlr_surface_is_xdg_surface(surface))
		return NULL;
	xdg = wlr_xdg_surface_from_wlr_surface(surface);
	if (!xdg || xdg->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL || !xdg->data)
		return NULL;

	wlr_xdg_surface_get_geometry(xdg, &geometry);
	*x = sx - geometry.x;
	*y = sy - geometry.y;
	return xdg->data;
}

void view_set_position(struct view *view, int x, int y)
{
	view->x = x;
	view->y = y;
	wlr_scene_node_set_position(&view->tree->node, x, y);
}

void view_map(struct view *view)
{
	struct server *server = view->server;
	int slot = wl_list_length(&server->views) % CASCADE_SLOTS;

	view_set_position(view, CASCADE_STEP * slot, CASCADE_STEP * slot + decoration_top(view));
	view->mapped = true;
	wl_list_insert(&server->views, &view->link);
	wlr_scene_node_set_enabled(&view->tree->node, true);
	decoration_update(view);
	view_focus(view, view->xdg->surface);
	grant_manager_refresh(server->grant_manager);
	cursor_rebase(server);
}

void view_unmap(struct view *view)
{
	struct server *server = view->server;

	view->mapped = false;
	wlr_scene_node_set_enabled(&view->tree->node, false);
	wl_list_remove(&view->link);
	wl_list_init(&view->link);
	cursor_forget_view(server, view);
	if (server->focused_view == view) {
		server->focused_view = NULL;
		if (!wl_list_empty(&server->views)) {
			struct view *next = wl_container_of(server->views.next, next, link);

			view_focus(next, next->xdg->surface);
		} else {
			seat_focus_keyboard(server, NULL);
		}
	}
	cursor_rebase(server);
}

void view_focus(struct view *view, struct wlr_surface *surface)
{
	struct server *server = view->server;
	struct view *previous = server->focused_view;

	if (previous != view) {
		server->focused_view = view;
		if (previous) {
			wlr_xdg_toplevel_set_activated(previous->xdg, false);
			decoration_update(previous);
		}
		wlr_xdg_toplevel_set_activated(view->xdg, true);
		decoration_update(view);
	}
	wlr_scene_node_raise_to_top(&view->tree->node);
	wl_list_remove(&view->link);
	wl_list_insert(&server->views, &view->link);
	if (server->seat->keyboard_state.focused_surface != surface)
		seat_focus_keyboard(server, surface);
}

void view_cycle(struct server *server)
{
	struct view *bottom;

	if (wl_list_length(&server->views) < 2)
		return;
	bottom = wl_container_of(server->views.prev, bottom, link);
	view_focus(bottom, bottom->xdg->surface);
}

void view_begin_interactive(struct view *view, enum cursor_mode mode, uint32_t edges)
{
	struct server *server = view->server;
	struct wlr_cursor *cursor = server->cursor;
	struct wlr_box geometry;

	wlr_xdg_surface_get_geometry(view->xdg, &geometry);
	server->grab_view = view;
	server->cursor_mode = mode;
	server->pointer_grabbed = false;
	if (mode == CURSOR_MOVE) {
		server->grab_x = cursor->x - view->x;
		server->grab_y = cursor->y - view->y;
		return;
	}
	server->grab_x = cursor->x - (view->x + (edges & WLR_EDGE_RIGHT ? geometry.width : 0));
	server->grab_y = cursor->y - (view->y + (edges & WLR_EDGE_BOTTOM ? geometry.height : 0));
	server->grab_box = (struct wlr_box){view->x, view->y, geometry.width, geometry.height};
	server->resize_edges = edges;
	wlr_xdg_toplevel_set_resizing(view->xdg, true);
}

void view_surface_hidden(struct server *server, struct wlr_surface *surface)
{
	struct view *focused = server->focused_view;

	if (server->seat->keyboard_state.focused_surface == surface)
		seat_focus_keyboard(server, focused ? focused->xdg->surface : NULL);
	cursor_rebase(server);
}
