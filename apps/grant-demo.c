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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <wayland-client.h>

#include "granter-window.h"
#include "inlay-grant.h"
#include "shm-buffer.h"

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
	struct granter_window win;
	struct slot slots[SLOTS];
	char *const *grantee_argv;
};

/* Two side-by-side rectangles under a header band, following the window size. */
static void slot_rect(const struct demo *demo, int i, int32_t *x, int32_t *y, int32_t *w,
		      int32_t *h)
{
	int32_t cell = (demo->win.width - MARGIN) / SLOTS;

	*x = MARGIN + i * cell;
	*y = HEADER;
	*w = cell - MARGIN > 1 ? cell - MARGIN : 1;
	*h = demo->win.height - HEADER - MARGIN > 1 ? demo->win.height - HEADER - MARGIN : 1;
}

static void draw(void *data, struct shm_buffer *buf)
{
	struct demo *demo = data;
	int32_t x, y, w, h;

	shm_buffer_fill(buf, 0, 0, buf->width, buf->height, COLOR_BACKGROUND);
	shm_buffer_fill(buf, 0, 0, buf->width, HEADER - MARGIN / 2, COLOR_HEADER);
	for (int i = 0; i < SLOTS; i++) {
		slot_rect(demo, i, &x, &y, &w, &h);
		shm_buffer_fill(buf, x, y, w, h,
				demo->slots[i].failed ? COLOR_ERROR : COLOR_WAITING);
		if (demo->slots[i].grant)
			inlay_grant_set_rect(demo->slots[i].grant, x, y, w, h);
	}
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
		granter_window_redraw(&slot->demo->win);
	}
}

static void handle_gone(void *data, struct inlay_grant *grant, enum inlay_grant_gone_reason reason)
{
	struct slot *slot = data;

	slot->failed = true;
	slot->restart_at_ms = granter_window_now_ms() + RESTART_DELAY_MS;
	granter_window_redraw(&slot->demo->win);
}

static const struct inlay_granter_listener granter_listener = {
    .token = handle_token,
    .accepted = handle_accepted,
    .gone = handle_gone,
};

static void configured(void *data, bool first)
{
	struct demo *demo = data;

	granter_window_redraw(&demo->win);
}

static void reap_children(void *data)
{
	struct demo *demo = data;
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		for (int i = 0; i < SLOTS; i++) {
			if (demo->slots[i].child == pid)
				demo->slots[i].child = 0;
		}
	}
}

static int run_timers(void *data)
{
	struct demo *demo = data;
	int64_t now = granter_window_now_ms(), next = -1;

	for (int i = 0; i < SLOTS; i++) {
		struct slot *slot = &demo->slots[i];

		if (granter_window_restart_due(slot->restart_at_ms, slot->grant, now, &next))
			slot_start(slot);
	}
	return granter_window_poll_ms(next);
}

static const struct granter_window_listener window_listener = {
    .draw = draw,
    .configured = configured,
    .timeout = run_timers,
    .dispatched = reap_children,
};

static char **default_grantee(void)
{
	static char *argv[2];

	argv[0] = granter_window_beside_self("inlay-grantee-pattern");
	return argv[0] ? argv : NULL;
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
	granter_window_finish(&demo->win);
}

int main(int argc, char *argv[])
{
	struct demo demo = {0};
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
	if (granter_window_init(&demo.win, "inlay-grant-demo", "Inlay grant demo", 640, 400,
				&window_listener, &demo) < 0)
		goto out;
	wl_surface_commit(demo.win.surface);
	for (int i = 0; i < SLOTS; i++) {
		struct slot *slot = &demo.slots[i];
		int32_t x, y, w, h;

		slot->demo = &demo;
		slot_rect(&demo, i, &x, &y, &w, &h);
		slot->grant = inlay_grant_create(demo.win.grants, demo.win.surface, x, y, w, h,
						 &granter_listener, slot);
		if (!slot->grant)
			goto out;
	}
	ret = granter_window_run(&demo.win) < 0 ? 1 : 0;
out:
	demo_finish(&demo);
	return ret;
}
