// SPDX-License-Identifier: MIT
/*
 * inlay-grant-demo: a granter. An xdg toplevel drawn with wl_shm that grants
 * two rectangles of itself and starts one grantee per rectangle:
 *
 *   inlay-grant-demo [-- GRANTEE-COMMAND...]
 *
 * The default grantee is inlay-grantee-pattern from the same directory. The
 * token reaches the child in the INLAY_GRANT_TOKEN environment variable
 * (inlay_grant_spawn): unlike a command-line argument it is not visible to
 * other users in /proc/PID/cmdline, and unlike an inherited descriptor any
 * program can read it without extra code. A rectangle whose grantee went away
 * turns red and its grantee is started again after RESTART_DELAY_MS.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "inlay-grant.h"
#include "shm-buffer.h"
#include "xdg-shell-client-protocol.h"

#define SLOTS		 2
#define MARGIN		 16
#define HEADER		 48
#define RESTART_DELAY_MS 1000

#define COLOR_BACKGROUND 0xffd8d8d8
#define COLOR_HEADER	 0xff203050
#define COLOR_WAITING	 0xff505050
#define COLOR_ERROR	 0xffc02020

struct slot {
	struct demo *demo;
	struct inlay_grant *grant;
	pid_t child;	       /* 0 when none runs */
	bool failed;	       /* the grantee went away; drawn in COLOR_ERROR */
	int64_t restart_at_ms; /* 0 when no restart is due */
};

struct demo {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct inlay_grant_manager *grants;
	struct shm_buffer *buffers[2];
	struct slot slots[SLOTS];
	char *const *grantee_argv;
	int32_t width, height;
	bool configured;
	bool running;
};

static volatile sig_atomic_t quit_signal;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Two side-by-side rectangles under a header band, following the window size. */
static void slot_rect(const struct demo *demo, int i, int32_t *x, int32_t *y, int32_t *w,
		      int32_t *h)
{
	int32_t cell = (demo->width - MARGIN) / SLOTS;

	*x = MARGIN + i * cell;
	*y = HEADER;
	*w = cell - MARGIN > 1 ? cell - MARGIN : 1;
	*h = demo->height - HEADER - MARGIN > 1 ? demo->height - HEADER - MARGIN : 1;
}

static struct shm_buffer *next_buffer(struct demo *demo)
{
	for (size_t i = 0; i < 2; i++) {
		struct shm_buffer **slot = &demo->buffers[i];

		if (*slot && (*slot)->busy)
			continue;
		if (*slot && ((*slot)->width != demo->width || (*slot)->height != demo->height)) {
			shm_buffer_destroy(*slot);
			*slot = NULL;
		}
		if (!*slot)
			*slot = shm_buffer_create(demo->shm, demo->width, demo->height);
		return *slot;
	}
	return NULL;
}

static void redraw(struct demo *demo)
{
	struct shm_buffer *buf;
	int32_t x, y, w, h;

	if (!demo->configured)
		return;
	buf = next_buffer(demo);
	if (!buf)
		return;
	shm_buffer_fill(buf, 0, 0, buf->width, buf->height, COLOR_BACKGROUND);
	shm_buffer_fill(buf, 0, 0, buf->width, HEADER - MARGIN / 2, COLOR_HEADER);
	for (int i = 0; i < SLOTS; i++) {
		slot_rect(demo, i, &x, &y, &w, &h);
		shm_buffer_fill(buf, x, y, w, h,
				demo->slots[i].failed ? COLOR_ERROR : COLOR_WAITING);
		if (demo->slots[i].grant)
			inlay_grant_set_rect(demo->slots[i].grant, x, y, w, h);
	}
	wl_surface_attach(demo->surface, buf->buffer, 0, 0);
	wl_surface_damage_buffer(demo->surface, 0, 0, buf->width, buf->height);
	buf->busy = true;
	wl_surface_commit(demo->surface);
}

static void slot_start(struct slot *slot)
{
	pid_t pid = inlay_grant_spawn(slot->grant, slot->demo->grantee_argv);

	if (pid < 0) {
		fprintf(stderr, "inlay-grant-demo: cannot start %s: %s\n",
			slot->demo->grantee_argv[0], strerror((int)-pid));
		return;
	}
	slot->child = pid;
	slot->restart_at_ms = 0;
}

static void handle_token(void *data, struct inlay_grant *grant, const char *token)
{
	struct slot *slot = data;

	if (!slot->failed)
		slot_start(slot);
}

static void handle_accepted(void *data, struct inlay_grant *grant)
{
	struct slot *slot = data;

	if (slot->failed) {
		slot->failed = false;
		redraw(slot->demo);
	}
}

static void handle_gone(void *data, struct inlay_grant *grant, enum inlay_grant_gone_reason reason)
{
	struct slot *slot = data;

	slot->failed = true;
	slot->restart_at_ms = now_ms() + RESTART_DELAY_MS;
	redraw(slot->demo);
}

static const struct inlay_granter_listener granter_listener = {
    .token = handle_token,
    .accepted = handle_accepted,
    .gone = handle_gone,
};

static void handle_xdg_surface_configure(void *data, struct xdg_surface *xdg_surface,
					 uint32_t serial)
{
	struct demo *demo = data;

	xdg_surface_ack_configure(xdg_surface, serial);
	demo->configured = true;
	redraw(demo);
}

static const struct xdg_surface_listener xdg_surface_listener = {
    .configure = handle_xdg_surface_configure,
};

static void handle_toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t width,
				      int32_t height, struct wl_array *states)
{
	struct demo *demo = data;

	if (width > 0 && height > 0) {
		demo->width = width;
		demo->height = height;
	}
}

static void handle_toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	struct demo *demo = data;

	demo->running = false;
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
	struct demo *demo = data;

	if (strcmp(interface, wl_compositor_interface.name) == 0 && !demo->compositor) {
		demo->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0 && !demo->shm) {
		demo->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0 && !demo->wm_base) {
		demo->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(demo->wm_base, &wm_base_listener, demo);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = handle_global,
    .global_remove = handle_global_remove,
};

static void reap_children(struct demo *demo)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		for (int i = 0; i < SLOTS; i++) {
			if (demo->slots[i].child == pid)
				demo->slots[i].child = 0;
		}
	}
}

static int run_timers(struct demo *demo)
{
	int64_t now = now_ms(), next = -1;

	for (int i = 0; i < SLOTS; i++) {
		struct slot *slot = &demo->slots[i];

		if (!slot->restart_at_ms)
			continue;
		if (slot->restart_at_ms <= now && inlay_grant_token(slot->grant))
			slot_start(slot);
		else if (next < 0 || slot->restart_at_ms - now < next)
			next = slot->restart_at_ms - now;
	}
	/* Poll at least every 200 ms to reap exited grantees. */
	return next < 0 || next > 200 ? 200 : (int)next;
}

static int run(struct demo *demo)
{
	struct pollfd pfd = {.fd = wl_display_get_fd(demo->display), .events = POLLIN};

	while (demo->running && !quit_signal) {
		while (wl_display_prepare_read(demo->display) != 0) {
			if (wl_display_dispatch_pending(demo->display) < 0)
				return -1;
		}
		if (wl_display_flush(demo->display) < 0 && errno != EAGAIN) {
			wl_display_cancel_read(demo->display);
			return -1;
		}
		if (poll(&pfd, 1, run_timers(demo)) > 0) {
			if (wl_display_read_events(demo->display) < 0)
				return -1;
		} else {
			wl_display_cancel_read(demo->display);
		}
		if (wl_display_dispatch_pending(demo->display) < 0)
			return -1;
		reap_children(demo);
	}
	return 0;
}

static void handle_quit(int sig)
{
	quit_signal = 1;
}

static char **default_grantee(void)
{
	static char path[PATH_MAX];
	static char *argv[2];
	ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (len < 0)
		return NULL;
	path[len] = '\0';
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) + sizeof("/inlay-grantee-pattern") > sizeof(path))
		return NULL;
	strcpy(slash, "/inlay-grantee-pattern");
	argv[0] = path;
	return argv;
}

static void demo_finish(struct demo *demo)
{
	for (int i = 0; i < SLOTS; i++) {
		inlay_grant_destroy(demo->slots[i].grant);
		if (demo->slots[i].child > 0) {
			kill(demo->slots[i].child, SIGTERM);
			waitpid(demo->slots[i].child, NULL, 0);
		}
	}
	inlay_grant_manager_destroy(demo->grants);
	for (size_t i = 0; i < 2; i++)
		shm_buffer_destroy(demo->buffers[i]);
	if (demo->toplevel)
		xdg_toplevel_destroy(demo->toplevel);
	if (demo->xdg_surface)
		xdg_surface_destroy(demo->xdg_surface);
	if (demo->surface)
		wl_surface_destroy(demo->surface);
	if (demo->wm_base)
		xdg_wm_base_destroy(demo->wm_base);
	if (demo->shm)
		wl_shm_destroy(demo->shm);
	if (demo->compositor)
		wl_compositor_destroy(demo->compositor);
	wl_display_disconnect(demo->display);
}

int main(int argc, char *argv[])
{
	struct demo demo = {.width = 640, .height = 400, .running = true};
	struct sigaction sa = {.sa_handler = handle_quit};
	struct wl_registry *registry;
	int ret = 1;

	if (argc > 2 && strcmp(argv[1], "--") == 0) {
		demo.grantee_argv = argv + 2;
	} else if (argc == 1) {
		demo.grantee_argv = default_grantee();
	} else {
		fprintf(stderr, "usage: %s [-- GRANTEE-COMMAND...]\n", argv[0]);
		return 1;
	}
	if (!demo.grantee_argv) {
		fprintf(stderr, "inlay-grant-demo: cannot locate inlay-grantee-pattern\n");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	demo.display = wl_display_connect(NULL);
	if (!demo.display) {
		fprintf(stderr, "inlay-grant-demo: cannot connect: %s\n", strerror(errno));
		return 1;
	}
	registry = wl_display_get_registry(demo.display);
	wl_registry_add_listener(registry, &registry_listener, &demo);
	wl_display_roundtrip(demo.display);
	wl_registry_destroy(registry);
	demo.grants = inlay_grant_manager_create(demo.display);
	if (!demo.compositor || !demo.shm || !demo.wm_base || !demo.grants) {
		fprintf(stderr,
			"inlay-grant-demo: compositor lacks xdg-shell, wl_shm or screen-grant\n");
		goto out;
	}
	demo.surface = wl_compositor_create_surface(demo.compositor);
	demo.xdg_surface = xdg_wm_base_get_xdg_surface(demo.wm_base, demo.surface);
	xdg_surface_add_listener(demo.xdg_surface, &xdg_surface_listener, &demo);
	demo.toplevel = xdg_surface_get_toplevel(demo.xdg_surface);
	xdg_toplevel_add_listener(demo.toplevel, &toplevel_listener, &demo);
	xdg_toplevel_set_title(demo.toplevel, "Inlay grant demo");
	wl_surface_commit(demo.surface);
	for (int i = 0; i < SLOTS; i++) {
		struct slot *slot = &demo.slots[i];
		int32_t x, y, w, h;

		slot->demo = &demo;
		slot_rect(&demo, i, &x, &y, &w, &h);
		slot->grant = inlay_grant_create(demo.grants, demo.surface, x, y, w, h,
						 &granter_listener, slot);
		if (!slot->grant)
			goto out;
	}
	ret = run(&demo) < 0 ? 1 : 0;
out:
	demo_finish(&demo);
	return ret;
}
