// SPDX-License-Identifier: MIT
#include <wayland-server-core.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/log.h>

#include "grant.h"
#include "grant_private.h"
#include "server.h"
#include "view.h"

static void handle_tree_destroy(struct wl_listener *listener, void *data)
{
	struct grant *grant = wl_container_of(listener, grant, tree_destroy);

	/* The buffer node was a child: it is gone too. */
	wl_list_remove(&grant->tree_destroy.link);
	wl_list_init(&grant->tree_destroy.link);
	grant->tree = NULL;
	grant->buffer = NULL;
}

void grant_scene_detach(struct grant *grant)
{
	if (grant->tree)
		wlr_scene_node_destroy(&grant->tree->node);
}

static struct wlr_surface *grant_grantee_surface(struct grant *grant)
{
	return grant->lease ? grant->lease->grantee->surface : NULL;
}

static void clear_buffer(struct grant *grant)
{
	if (grant->buffer)
		wlr_scene_node_destroy(&grant->buffer->node);
	grant->buffer = NULL;
}

static bool same_geometry(struct grant *grant, const struct wlr_box *visible,
			  const struct wlr_fbox *source)
{
	const struct wlr_box *v = &grant->visible;
	const struct wlr_fbox *s = &grant->source;

	return v->x == visible->x && v->y == visible->y && v->width == visible->width &&
	       v->height == visible->height && s->x == source->x && s->y == source->y &&
	       s->width == source->width && s->height == source->height;
}

/*
 * 0.15's scene cannot clip, so the grantee is drawn as a buffer node cropped by
 * its source box to rectangle ∩ granted surface ∩ grantee surface; a new node
 * replaces the old one for each new buffer since 0.15 cannot swap buffers.
 */
void grant_scene_update_buffer(struct grant *grant)
{
	struct wlr_surface *surface = grant_grantee_surface(grant);
	struct wlr_box granted, grantee, clip, visible;
	struct wlr_fbox source;
	struct wlr_buffer *buffer;
	double fx, fy;

	if (!grant->tree || !surface || !surface->buffer || !grant->granter) {
		clear_buffer(grant);
		return;
	}

	granted =
	    (struct wlr_box){0, 0, grant->granter->current.width, grant->granter->current.height};
	grantee = (struct wlr_box){grant->current.rect.x, grant->current.rect.y,
				   surface->current.width, surface->current.height};
	if (!wlr_box_intersection(&clip, &grant->current.rect, &granted) ||
	    !wlr_box_intersection(&visible, &clip, &grantee)) {
		clear_buffer(grant);
		return;
	}

	wlr_surface_get_buffer_source_box(surface, &source);
	fx = source.width / surface->current.width;
	fy = source.height / surface->current.height;
	source.x += (visible.x - grantee.x) * fx;
	source.y += (visible.y - grantee.y) * fy;
	source.width = visible.width * fx;
	source.height = visible.height * fy;

	buffer = &surface->buffer->base;
	if (grant->buffer && grant->buffer->buffer == buffer &&
	    same_geometry(grant, &visible, &source))
		return;

	clear_buffer(grant);
	grant->buffer = wlr_scene_buffer_create(&grant->tree->node, buffer);
	if (!grant->buffer) {
		wlr_log(WLR_ERROR, "Out of memory for a grant's scene buffer");
		return;
	}
	/* The only buffer nodes in the scene are grants': see grant_node_is_grant(). */
	grant->buffer->node.data = grant;
	grant->visible = visible;
	grant->source = source;
	wlr_scene_buffer_set_source_box(grant->buffer, &source);
	wlr_scene_buffer_set_dest_size(grant->buffer, visible.width, visible.height);
	wlr_scene_buffer_set_transform(grant->buffer, surface->current.transform);
	wlr_scene_node_set_position(&grant->buffer->node, visible.x, visible.y);
}

void grant_scene_update(struct grant *grant)
{
	struct view *view = NULL;
	int x, y;

	if (grant->granter)
		view = view_from_surface(grant->manager->server, grant->granter, &x, &y);
	if (!view) {
		grant_scene_detach(grant);
		return;
	}

	if (!grant->tree) {
		grant->tree = wlr_scene_tree_create(&view->grants->node);
		if (!grant->tree) {
			wlr_log(WLR_ERROR, "Out of memory for a grant's scene tree");
			return;
		}
		grant->tree_destroy.notify = handle_tree_destroy;
		wl_signal_add(&grant->tree->node.events.destroy, &grant->tree_destroy);
	} else if (grant->tree->node.parent != &view->grants->node) {
		wlr_scene_node_reparent(&grant->tree->node, &view->grants->node);
	}
	wlr_scene_node_set_position(&grant->tree->node, x, y);
	wlr_scene_node_set_enabled(&grant->tree->node, grant->current.shown);
	grant_scene_update_buffer(grant);
}

bool grant_scene_shown_box(struct grant *grant, struct wlr_box *box)
{
	int lx, ly;

	if (!grant->lease || !grant->tree || !wlr_scene_node_coords(&grant->tree->node, &lx, &ly))
		return false;
	*box = grant->current.rect;
	box->x += lx;
	box->y += ly;
	return true;
}

static bool grant_on_output(struct grant *grant, struct wlr_output *output)
{
	struct wlr_output_layout *layout = grant->manager->server->output_layout;
	struct wlr_box box, overlap, *output_box;

	if (!grant_scene_shown_box(grant, &box))
		return false;
	output_box = wlr_output_layout_get_box(layout, output);
	return output_box && wlr_box_intersection(&overlap, output_box, &box);
}

void grant_manager_output_sample(struct grant_manager *manager, struct wlr_output *output)
{
	struct grant *grant;

	wl_list_for_each (grant, &manager->grants, link) {
		if (grant->buffer && grant_on_output(grant, output))
			wlr_presentation_surface_sampled_on_output(
			    manager->server->presentation, grant_grantee_surface(grant), output);
	}
}

void grant_manager_output_done(struct grant_manager *manager, struct wlr_output *output,
			       const struct timespec *now)
{
	struct grant *grant;

	wl_list_for_each (grant, &manager->grants, link) {
		if (grant_on_output(grant, output))
			wlr_surface_send_frame_done(grant_grantee_surface(grant), now);
	}
}

void grant_manager_refresh(struct grant_manager *manager)
{
	struct grant *grant;

	wl_list_for_each (grant, &manager->grants, link) {
		grant_scene_update(grant);
	}
}

bool grant_node_is_grant(struct wlr_scene_node *node)
{
	return node->type == WLR_SCENE_NODE_BUFFER && node->data;
}

struct wlr_surface *grant_surface_at(struct wlr_scene_node *node, double nx, double ny, double *sx,
				     double *sy)
{
	struct grant *grant = node->data;
	struct wlr_surface *surface;

	if (!grant_node_is_grant(node) || !(surface = grant_grantee_surface(grant)))
		return NULL;
	*sx = nx + grant->visible.x - grant->current.rect.x;
	*sy = ny + grant->visible.y - grant->current.rect.y;
	return wlr_surface_point_accepts_input(surface, *sx, *sy) ? surface : NULL;
}
