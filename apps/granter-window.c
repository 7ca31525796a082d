// SPDX-License-Identifier: MIT
#include "granter-window.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "inlay-grant.h"
#include "shm-buffer.h"
#include "xdg-shell-client-protocol.h"

static volatile sig_atomic_t quit_signal;

int64_t granter_window_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool granter_window_restart_due(int64_t at_ms, struct inlay_grant *grant, int64_t now,
				int64_t *next_ms)
{
	if (!at_ms)
		return false;
	if (at_ms <= now && inlay_grant_token(grant))
		return true;
	if (*next_ms < 0 || at_ms - now < *next_ms)
		*next_ms = at_ms - now;
	return false;
}

char *granter_window_beside_self(const char *rel)
{
	static char paths[2][PATH_MAX];
	static int next;
	char *path = paths[next++ % 2], *slash;
	ssize_t len = readlink("/proc/self/exe", path, PATH_MAX - 1);

	if (len < 0)
		return NULL;
	path[len] = '\0';
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) + 1 + strlen(rel) >= PATH_MAX)
		return NULL;
	strcpy(slash + 1, rel);
	return access(path, R_OK) == 0 ? path : NULL;
}

int granter_window_poll_ms(int64_t next_ms)
{
	/* At least every 200 ms, to reap exited children. */
	return next_ms < 0 || next_ms > 200 ? 200 : (int)next_ms;
}

void granter_window_redraw(struct granter_window *win)
{
	struct shm_buffer *buf;

	if (!win->configured)
		return;
	buf = shm_buffer_next(win->shm, win->buffers, win->width, win->height);
	if (!buf)
		return;
	win->listener->draw(win->data, buf);
	wl_surface_attach(win->surface, buf->buffer, 0, 0);
	wl_surface_damage_buffer(win->surface, 0, 0, buf->width, buf->height);
	buf->busy = true;
	wl_surface_commit(win->surface);
}

static void handle_xdg_surface_configure(void *data, struct xdg_surface *xdg_surface,
					 uint32_t serial)
{
	struct granter_window *win = data;
	bool first = !win->configured;

	xdg_surface_ack_configure(xdg_surface, serial);
	win->configured = true;
	win->listener->configured(win->data, first);
}

static const struct xdg_surface_listener xdg_surface_listener = {
    .configure = handle_xdg_surface_configure,
};

static void handle_toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t width,
				      int32_t height, struct wl_array *states)
{
	struct granter_window *win = data;

	if (width > 0 && height > 0) {
		win->width = width;
		win->height = height;
	}
}

static void handle_toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	struct granter_window *win = data;

	win->running = false;
}

static const struct xdg_toplevel_listener toplevel_listener = {
    .configure = handle_toplevel_configure,
    .close = handle_toplevel_close,
};

static void handle_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
    .ping = handle_ping,
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
			  const char *interface, uint32_t version)
{
	struct granter_window *win = data;

	if (strcmp(interface, wl_compositor_interface.name) == 0 && !win->compositor) {
		win->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0 && !win->shm) {
		win->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0 && !win->wm_base) {
		win->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(win->wm_base, &wm_base_listener, win);
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && !win->seat &&
		   win->listener->seat_listener) {
		win->seat =
		    wl_registry_bind(registry, name, &wl_seat_interface, version < 5 ? version : 5);
		wl_seat_add_listener(win->seat, win->listener->seat_listener, win->data);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = handle_global,
    .global_remove = handle_global_remove,
};

static void handle_quit(int sig)
{
	quit_signal = 1;
}

int granter_window_init(struct granter_window *win, const char *prog, const char *title,
			int32_t width, int32_t height,
			const struct granter_window_listener *listener, void *data)
{
	struct sigaction sa = {.sa_handler = handle_quit};
	struct wl_registry *registry;

	win->listener = listener;
	win->data = data;
	win->prog = prog;
	win->width = width;
	win->height = height;
	win->running = true;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	win->display = wl_display_connect(NULL);
	if (!win->display) {
		fprintf(stderr, "%s: cannot connect to a Wayland compositor: %s\n", prog,
			strerror(errno));
		return -1;
	}
	registry = wl_display_get_registry(win->display);
	wl_registry_add_listener(registry, &registry_listener, win);
	wl_display_roundtrip(win->display);
	wl_registry_destroy(registry);
	win->grants = inlay_grant_manager_create(win->display);
	if (!win->compositor || !win->shm || !win->wm_base || !win->grants) {
		fprintf(stderr,
			"%s: the compositor lacks xdg-shell, wl_shm or screen-grant (run it in "
			"inlay-compositor)\n",
			prog);
		return -1;
	}
	win->surface = wl_compositor_create_surface(win->compositor);
	win->xdg_surface = xdg_wm_base_get_xdg_surface(win->wm_base, win->surface);
	xdg_surface_add_listener(win->xdg_surface, &xdg_surface_listener, win);
	win->toplevel = xdg_surface_get_toplevel(win->xdg_surface);
	xdg_toplevel_add_listener(win->toplevel, &toplevel_listener, win);
	xdg_toplevel_set_title(win->toplevel, title);
	return 0;
}

int granter_window_run(struct granter_window *win)
{
	struct pollfd pfd = {.fd = wl_display_get_fd(win->display), .events = POLLIN};

	while (win->running && !quit_signal) {
		while (wl_display_prepare_read(win->display) != 0) {
			if (wl_display_dispatch_pending(win->display) < 0)
				return -1;
		}
		if (wl_display_flush(win->display) < 0 && errno != EAGAIN) {
			wl_display_cancel_read(win->display);
			return -1;
		}
		if (poll(&pfd, 1, win->listener->timeout(win->data)) > 0) {
			if (wl_display_read_events(win->display) < 0)
				return -1;
		} else {
			wl_display_cancel_read(win->display);
		}
		if (wl_display_dispatch_pending(win->display) < 0)
			return -1;
		win->listener->dispatched(win->data);
	}
	return 0;
}

void granter_window_finish(struct granter_window *win)
{
	inlay_grant_manager_destroy(win->grants);
	for (size_t i = 0; i < 2; i++)
		shm_buffer_destroy(win->buffers[i]);
	if (win->toplevel)
		xdg_toplevel_destroy(win->toplevel);
	if (win->xdg_surface)
		xdg_surface_destroy(win->xdg_surface);
	if (win->surface)
		wl_surface_destroy(win->surface);
	if (win->seat)
		wl_seat_destroy(win->seat);
	if (win->wm_base)
		xdg_wm_base_destroy(win->wm_base);
	if (win->shm)
		wl_shm_destroy(win->shm);
	if (win->compositor)
		wl_compositor_destroy(win->compositor);
	if (win->display)
		wl_display_disconnect(win->display);
}
