/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_GRANT_H
#define INLAY_COMPOSITOR_GRANT_H

#include <stdbool.h>
#include <time.h>

struct server;
struct grant_manager;
struct wlr_output;
struct wlr_scene_node;
struct wlr_surface;

/**
 * Create the screen_grant_manager_v1 global. It is destroyed with the display.
 * Returns NULL on allocation failure.
 */
struct grant_manager *grant_manager_create(struct server *server);

/** Re-attach every grant to its window after views were created, mapped or destroyed. */
void grant_manager_refresh(struct grant_manager *manager);

/** Before @output renders: mark the grantee buffers it will show for presentation feedback. */
void grant_manager_output_sample(struct grant_manager *manager, struct wlr_output *output);

/** After @output rendered: frame done to every shown grantee on it. */
void grant_manager_output_done(struct grant_manager *manager, struct wlr_output *output,
			       const struct timespec *now);

/**
 * If @node draws a grantee surface, return that surface and convert (nx, ny),
 * node-local, to surface-local (sx, sy); NULL otherwise or where the grantee
 * takes no input.
 */
struct wlr_surface *grant_surface_at(struct wlr_scene_node *node, double nx, double ny, double *sx,
				     double *sy);

/** Whether @node draws a grantee surface. */
bool grant_node_is_grant(struct wlr_scene_node *node);

#endif
