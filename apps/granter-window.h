/* SPDX-License-Identifier: MIT */
#ifndef INLAY_APP_GRANTER_WINDOW_H
#define INLAY_APP_GRANTER_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

struct inlay_grant;
struct shm_buffer;
struct wl_seat_listener;

/** What a granter window asks of the program around it; @data is its own. */
struct granter_window_listener {
	/** Paint the whole window into @buf; the window then commits it. */
	void (*draw)(void *data, struct shm_buffer *buf);
	/** The surface was configured (@first: the first time); redraw here. */
	void (*configured)(void *data, bool first);
	/** How many milliseconds the event loop may sleep before a timer is due. */
	int (*timeout)(void *data);
	/** Called after every round of event dispatch. */
	void (*dispatched)(void *data);
	/** If set, a wl_seat is bound and given this listener. */
	const struct wl_seat_listener *seat_listener;
};

/**
 * An xdg toplevel drawn with two wl_shm buffers, with the screen-grant
 * manager, the event loop and SIGINT/SIGTERM handling a granter needs.
 */
struct granter_window {
	const struct granter_window_listener *listener;
	void *data;
	const char *prog; /* prefix of error messages */
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct inlay_grant_manager *grants;
	struct shm_buffer *buffers[2];
	int32_t width, height;
	bool configured;
	bool running;
};

/**
 * Connect to the compositor, bind its globals and create the toplevel (not yet
 * committed). @win must be zeroed. Returns 0, or -1 after printing why; either
 * way granter_window_finish() cleans up.
 */
int granter_window_init(struct granter_window *win, const char *prog, const char *title,
			int32_t width, int32_t height,
			const struct granter_window_listener *listener, void *data);
/** Draw and commit a frame through listener->draw, once the surface is configured. */
void granter_window_redraw(struct granter_window *win);
/** Dispatch events until the window is closed or a signal asks to quit; 0 or -1. */
int granter_window_run(struct granter_window *win);
/** Destroy everything granter_window_init() made; grants must be gone already. */
void granter_window_finish(struct granter_window *win);

/** CLOCK_MONOTONIC in milliseconds. */
int64_t granter_window_now_ms(void);

/**
 * For a grantee restart due at @at_ms (0: none): true when it is due at @now
 * and @grant holds a token to start with. Otherwise lowers *@next_ms (-1 for
 * none yet) to the time left.
 */
bool granter_window_restart_due(int64_t at_ms, struct inlay_grant *grant, int64_t now,
				int64_t *next_ms);

/**
 * @rel resolved against this program's directory, if it exists there; else
 * NULL. The result lives in one of two static buffers, reused in turn.
 */
char *granter_window_beside_self(const char *rel);

/** The poll timeout for a timer due in @next_ms (-1: none): at most 200 ms. */
int granter_window_poll_ms(int64_t next_ms);

#endif
