// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>

#include "cursor.h"
#include "decoration.h"
#include "server.h"
#include "view.h"
#include "xdg_shell.h"

static void handle_map(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, map);

	view_map(view);
}

static void handle_unmap(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, unmap);

	view_unmap(view);
}

static void handle_commit(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, commit);

	decoration_update(view);
}

/* Only while a button is held: a stale request must not start a grab nobody ends. */
static bool pointer_pressed(struct view *view)
{
	return view->mapped && view->server->seat->pointer_state.button_count > 0;
}

static void handle_request_move(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, request_move);

	if (pointer_pressed(view))
		view_begin_interactive(view, CURSOR_MOVE, 0);
}

static void handle_request_resize(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;

	if (pointer_pressed(view))
		view_begin_interactive(view, CURSOR_RESIZE, event->edges);
}

/* Maximize and fullscreen are not supported, but each request still needs a configure. */
static void refuse_request(struct view *view)
{
	if (view->xdg->added)
		wlr_xdg_surface_schedule_configure(view->xdg);
}

static void handle_request_maximize(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, request_maximize);

	refuse_request(view);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, request_fullscreen);

	refuse_request(view);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct view *view = wl_container_of(listener, view, destroy);

	wl_list_remove(&view->map.link);
	wl_list_remove(&view->unmap.link);
	wl_list_remove(&view->destroy.link);
	wl_list_remove(&view->commit.link);
	wl_list_remove(&view->request_move.link);
	wl_list_remove(&view->request_resize.link);
	wl_list_remove(&view->request_maximize.link);
	wl_list_remove(&view->request_fullscreen.link);
	wl_list_remove(&view->link);
	cursor_forget_view(view->server, view);
	if (view->server->focused_view == view)
		view->server->focused_view = NULL;
	view->xdg->data = NULL;
	/* Grants placed in this view see their trees go and detach. */
	wlr_scene_node_destroy(&view->tree->node);
	free(view);
}

static void create_view(struct server *server, struct wlr_xdg_surface *xdg)
{
	struct wlr_xdg_toplevel *toplevel = xdg->toplevel;
	struct view *view = calloc(1, sizeof(*view));

	if (!view)
		goto err_no_memory;
	view->server = server;
	view->xdg = xdg;
	view->tree = wlr_scene_tree_create(&server->scene->node);
	if (!view->tree)
		goto err_free;
	view->surfaces = wlr_scene_xdg_surface_create(&view->tree->node, xdg);
	view->grants = wlr_scene_tree_create(&view->tree->node);
	view->popups = wlr_scene_tree_create(&view->tree->node);
	if (!view->surfaces || !view->grants || !view->popups)
		goto err_tree;
	view->tree->node.data = view;
	wlr_scene_node_set_enabled(&view->tree->node, false);
	wl_list_init(&view->link);
	xdg->data = view;

	view->map.notify = handle_map;
	wl_signal_add(&xdg->events.map, &view->map);
	view->unmap.notify = handle_unmap;
	wl_signal_add(&xdg->events.unmap, &view->unmap);
	view->destroy.notify = handle_destroy;
	wl_signal_add(&xdg->events.destroy, &view->destroy);
	view->commit.notify = handle_commit;
	wl_signal_add(&xdg->surface->events.commit, &view->commit);
	view->request_move.notify = handle_request_move;
	wl_signal_add(&toplevel->events.request_move, &view->request_move);
	view->request_resize.notify = handle_request_resize;
	wl_signal_add(&toplevel->events.request_resize, &view->request_resize);
	view->request_maximize.notify = handle_request_maximize;
	wl_signal_add(&toplevel->events.request_maximize, &view->request_maximize);
	view->request_fullscreen.notify = handle_request_fullscreen;
	wl_signal_add(&toplevel->events.request_fullscreen, &view->request_fullscreen);
	return;

err_tree:
	wlr_scene_node_destroy(&view->tree->node);
err_free:
	free(view);
err_no_memory:
	wl_resource_post_no_memory(xdg->resource);
}

/* Keep the popup on the outputs: the box is in its toplevel's surface coordinates. */
static void unconstrain_popup(struct server *server, struct wlr_xdg_surface *popup)
{
	struct wlr_xdg_surface *toplevel = popup;
	struct wlr_box layout, geometry;
	struct view *view;

	while (toplevel->role == WLR_XDG_SURFACE_ROLE_POPUP) {
		if (!wlr_surface_is_xdg_surface(toplevel->popup->parent))
			return;
		toplevel = wlr_xdg_surface_from_wlr_surface(toplevel->popup->parent);
		if (!toplevel)
			return;
	}
	view = toplevel->data;
	if (toplevel->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL || !view)
		return;

	layout = *wlr_output_layout_get_box(server->output_layout, NULL);
	wlr_xdg_surface_get_geometry(toplevel, &geometry);
	layout.x += geometry.x - view->x;
	layout.y += geometry.y - view->y;
	wlr_xdg_popup_unconstrain_from_box(popup->popup, &layout);
}

/*
 * 0.15's scene draws no popups for an xdg surface: each popup gets its own node
 * under its parent's, toplevel popups in the view's popup tree above grants.
 */
static void create_popup(struct server *server, struct wlr_xdg_surface *xdg)
{
	struct wlr_xdg_surface *parent;
	struct wlr_scene_node *parent_node, *node;

	/* wlroots announces a parentless popup even after posting its protocol error. */
	if (!xdg->popup->parent || !wlr_surface_is_xdg_surface(xdg->popup->parent))
		return;
	parent = wlr_xdg_surface_from_wlr_surface(xdg->popup->parent);
	if (!parent || !parent->data)
		return;
	if (parent->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL)
		parent_node = &((struct view *)parent->data)->popups->node;
	else
		parent_node = parent->data;

	node = wlr_scene_xdg_surface_create(parent_node, xdg);
	if (!node) {
		wl_resource_post_no_memory(xdg->resource);
		return;
	}
	xdg->data = node;
	unconstrain_popup(server, xdg);
}

void handle_new_xdg_surface(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_xdg_surface);
	struct wlr_xdg_surface *xdg = data;

	if (xdg->role == WLR_XDG_SURFACE_ROLE_POPUP)
		create_popup(server, xdg);
	else if (xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL)
		create_view(server, xdg);
}
