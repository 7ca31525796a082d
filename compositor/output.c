// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <time.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/util/log.h>

#include "grant.h"
#include "output.h"
#include "server.h"

static void handle_frame(struct wl_listener *listener, void *data)
{
	struct output *output = wl_container_of(listener, output, frame);
	struct server *server = output->server;
	struct wlr_scene_output *scene_output =
	    wlr_scene_get_scene_output(server->scene, output->wlr_output);
	struct timespec now;

	if (!scene_output)
		return;
	grant_manager_output_sample(server->grant_manager, output->wlr_output);
	wlr_scene_output_commit(scene_output);

	clock_gettime(CLOCK_MONOTONIC, &now);
	wlr_scene_output_send_frame_done(scene_output, &now);
	grant_manager_output_done(server->grant_manager, output->wlr_output, &now);
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct output *output = wl_container_of(listener, output, destroy);

	wl_list_remove(&output->frame.link);
	wl_list_remove(&output->destroy.link);
	wl_list_remove(&output->link);
	free(output);
}

void handle_new_output(struct wl_listener *listener, void *data)
{
	struct server *server = wl_container_of(listener, server, new_output);
	struct wlr_output *wlr_output = data;
	struct wlr_output_mode *mode;
	struct output *output;

	if (!wlr_output_init_render(wlr_output, server->allocator, server->renderer)) {
		wlr_log(WLR_ERROR, "Cannot render on output %s", wlr_output->name);
		return;
	}
	/* Headless outputs have no modes: enabling them is enough. */
	mode = wlr_output_preferred_mode(wlr_output);
	if (mode)
		wlr_output_set_mode(wlr_output, mode);
	wlr_output_enable(wlr_output, true);
	if (!wlr_output_commit(wlr_output)) {
		wlr_log(WLR_ERROR, "Cannot enable output %s", wlr_output->name);
		return;
	}

	output = calloc(1, sizeof(*output));
	if (!output) {
		wlr_log(WLR_ERROR, "Out of memory for output %s", wlr_output->name);
		return;
	}
	output->server = server;
	output->wlr_output = wlr_output;
	output->frame.notify = handle_frame;
	wl_signal_add(&wlr_output->events.frame, &output->frame);
	output->destroy.notify = handle_destroy;
	wl_signal_add(&wlr_output->events.destroy, &output->destroy);
	wl_list_insert(server->outputs.prev, &output->link);

	/* The scene follows the layout and adds a scene output for it. */
	wlr_output_layout_add_auto(server->output_layout, wlr_output);
}

void output_schedule_frames(struct server *server, const struct wlr_box *box)
{
	struct output *output;

	wl_list_for_each (output, &server->outputs, link) {
		struct wlr_box *obox =
		    wlr_output_layout_get_box(server->output_layout, output->wlr_output);
		struct wlr_box overlap;

		if (obox && wlr_box_intersection(&overlap, obox, box))
			wlr_output_schedule_frame(output->wlr_output);
	}
}
