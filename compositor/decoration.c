// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <wayland-server-core.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/log.h>

#include "decoration.h"
#include "server.h"
#include "view.h"

static const float title_active[4] = {0.20f, 0.36f, 0.60f, 1.0f};
static const float title_inactive[4] = {0.30f, 0.30f, 0.30f, 1.0f};

struct decoration {
	struct wlr_xdg_toplevel_decoration_v1 *wlr_decoration;
	struct wl_listener request_mode;
	struct wl_listener destroy;
};

static void handle_request_mode(struct wl_listener *listener, void *data)
{
	struct decoration *decoration = wl_container_of(listener, decoration, request_mode);

	/* Whatever the client asks for: title bars are drawn here. */
	wlr_xdg_toplevel_decoration_v1_set_mode(decoration->wlr_decoration,
						WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct decoration *decoration = wl_container_of(listener, decoration, destroy);

	wl_list_remove(&decoration->request_mode.link);
	wl_list_remove(&decoration->destroy.link);
	free(decoration);
}

void handle_new_toplevel_decoration(struct wl_listener *listener, void *data)
{
	struct wlr_xdg_toplevel_decoration_v1 *wlr_decoration = data;
	struct decoration *decoration = calloc(1, sizeof(*decoration));

	if (!decoration) {
		wl_resource_post_no_memory(wlr_decoration->resource);
		return;
	}
	decoration->wlr_decoration = wlr_decoration;
	decoration->request_mode.notify = handle_request_mode;
	wl_signal_add(&wlr_decoration->events.request_mode, &decoration->request_mode);
	decoration->destroy.notify = handle_destroy;
	wl_signal_add(&wlr_decoration->events.destroy, &decoration->destroy);
	handle_request_mode(&decoration->request_mode, NULL);
}

/* Every toplevel that speaks xdg-decoration is told to use server-side decorations. */
int decoration_top(struct view *view)
{
	struct wlr_xdg_toplevel_decoration_v1 *decoration;

	wl_list_for_each (decoration, &view->server->decoration_manager->decorations, link) {
		if (decoration->surface == view->xdg)
			return DECORATION_TITLE_HEIGHT;
	}
	return 0;
}

void decoration_update(struct view *view)
{
	const float *color = view == view->server->focused_view ? title_active : title_inactive;
	struct wlr_box geometry;

	if (!decoration_top(view)) {
		if (view->title)
			wlr_scene_node_destroy(&view->title->node);
		view->title = NULL;
		return;
	}

	wlr_xdg_surface_get_geometry(view->xdg, &geometry);
	if (view->title) {
		wlr_scene_rect_set_size(view->title, geometry.width, DECORATION_TITLE_HEIGHT);
		wlr_scene_rect_set_color(view->title, color);
		return;
	}
	view->title = wlr_scene_rect_create(&view->tree->node, geometry.width,
					    DECORATION_TITLE_HEIGHT, color);
	if (!view->title) {
		wlr_log(WLR_ERROR, "Out of memory for a title bar");
		return;
	}
	wlr_scene_node_lower_to_bottom(&view->title->node);
	wlr_scene_node_set_position(&view->title->node, 0, -DECORATION_TITLE_HEIGHT);
}
