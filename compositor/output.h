/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_OUTPUT_H
#define INLAY_COMPOSITOR_OUTPUT_H

#include <wayland-server-core.h>

struct server;
struct wlr_box;

struct output {
	struct server *server;
	struct wlr_output *wlr_output;
	struct wl_list link; // server::outputs

	struct wl_listener frame;
	struct wl_listener destroy;
};

/** server::new_output: enable the output and add it to the layout. */
void handle_new_output(struct wl_listener *listener, void *data);

/** Ask every output that shows part of @box (layout coordinates) for a frame. */
void output_schedule_frames(struct server *server, const struct wlr_box *box);

#endif
