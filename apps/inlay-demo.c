// SPDX-License-Identifier: MIT
/*
 * inlay-demo: a tiny tabbed shell whose tabs are virtual machines. An xdg
 * toplevel drawn with wl_shm: a tab bar, and below it one content rectangle
 * that every tab grants to its own inlay-vmm (started with
 * inlay_grant_spawn, so the token travels in INLAY_GRANT_TOKEN). Only the
 * active tab's grant is shown; the others are hidden and their VMs run on.
 * A tab's VM starts when the tab is first shown. A VM that dies turns its tab
 * red (and its content, while shown) and is started again after
 * RESTART_DELAY_MS with the fresh token. Ctrl+1..Ctrl+N or a click on a tab
 * header switches tabs, Ctrl+Tab goes to the next one.
 *
 *   inlay-demo [--vmm PATH] [--guest FILE] [--cmdline S] [--tabs N]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/input-event-codes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-client.h>

#include "granter-window.h"
#include "inlay-grant.h"
#include "shm-buffer.h"
#include "xdg-shell-client-protocol.h"

#define TABS_MAX	 3
#define TAB_BAR		 32
#define TAB_WIDTH	 120
#define TAB_GAP		 4
#define MARGIN		 8
#define PIP		 6 /* the tab number, drawn as that many squares */
#define RESTART_DELAY_MS 1000
#define STOP_TIMEOUT_MS	 3000
#define VM_MEM_MIB	 "64"
#define VM_DIM_MAX	 4095 /* the largest virtio-gpu display inlay-vmm takes */

#define COLOR_BACKGROUND 0xffd8d8d8
#define COLOR_BAR	 0xff203050
#define COLOR_TAB	 0xff506080
#define COLOR_TAB_ACTIVE COLOR_BACKGROUND
#define COLOR_PIP	 0xff101010
#define COLOR_WAITING	 0xff505050
#define COLOR_ERROR	 0xffc02020

struct tab {
	struct demo *demo;
	int index;
	struct inlay_grant *grant;
	pid_t child;	       /* 0 when none runs */
	bool started;	       /* shown once: its VM is wanted */
	bool accepted;	       /* the current token was taken */
	bool failed;	       /* the VM went away; drawn in COLOR_ERROR */
	int64_t restart_at_ms; /* 0 when no restart is due */
};

struct demo {
	struct granter_window win;
	struct wl_pointer *pointer;
	struct wl_keyboard *keyboard;
	struct tab tabs[TABS_MAX];
	int nr_tabs, active;
	const char *vmm, *guest, *cmdline;
	double pointer_x, pointer_y;
	bool ctrl_left, ctrl_right;
};

/* The rectangle every tab grants: the window below the tab bar, inside a margin. */
static void content_rect(const struct demo *demo, int32_t *x, int32_t *y, int32_t *w, int32_t *h)
{
	*x = MARGIN;
	*y = TAB_BAR + MARGIN;
	*w = demo->win.width - 2 * MARGIN > 1 ? demo->win.width - 2 * MARGIN : 1;
	*h = demo->win.height - TAB_BAR - 2 * MARGIN > 1 ? demo->win.height - TAB_BAR - 2 * MARGIN
							 : 1;
}

static void header_rect(int i, int32_t *x, int32_t *y, int32_t *w, int32_t *h)
{
	*x = MARGIN + i * (TAB_WIDTH + TAB_GAP);
	*y = TAB_GAP;
	*w = TAB_WIDTH;
	*h = TAB_BAR - TAB_GAP;
}

static void draw_header(struct shm_buffer *buf, const struct tab *tab, bool active)
{
	int32_t x, y, w, h;

	header_rect(tab->index, &x, &y, &w, &h);
	shm_buffer_fill(buf, x, y, w, h,
			tab->failed ? COLOR_ERROR
			: active    ? COLOR_TAB_ACTIVE
				    : COLOR_TAB);
	for (int n = 0; n <= tab->index; n++)
		shm_buffer_fill(buf, x + 2 * PIP + n * 2 * PIP, y + (h - PIP) / 2, PIP, PIP,
				COLOR_PIP);
}

/*
 * The grants' rectangles and visibility ride on the commit that follows, so
 * the tab bar and the content switch in the same frame.
 */
static void draw(void *data, struct shm_buffer *buf)
{
	struct demo *demo = data;
	int32_t x, y, w, h;

	shm_buffer_fill(buf, 0, 0, buf->width, buf->height, COLOR_BACKGROUND);
	shm_buffer_fill(buf, 0, 0, buf->width, TAB_BAR, COLOR_BAR);
	content_rect(demo, &x, &y, &w, &h);
	shm_buffer_fill(buf, x, y, w, h,
			demo->tabs[demo->active].failed ? COLOR_ERROR : COLOR_WAITING);
	for (int i = 0; i < demo->nr_tabs; i++) {
		struct tab *tab = &demo->tabs[i];

		draw_header(buf, tab, i == demo->active);
		inlay_grant_set_rect(tab->grant, x, y, w, h);
		if (i == demo->active)
			inlay_grant_show(tab->grant);
		else
			inlay_grant_hide(tab->grant);
	}
}

/* ---- the VMs ---- */

static int32_t vm_dim(int32_t v)
{
	return v > VM_DIM_MAX ? VM_DIM_MAX : v;
}

/* Start the tab's VM with the current token, drawing at the content's size. */
static void tab_start(struct tab *tab)
{
	struct demo *demo = tab->demo;
	int32_t x, y, w, h;
	char gpu[32];

	if (tab->child > 0)
		kill(tab->child, SIGTERM); /* a VM that gave up its lease but lives on */
	content_rect(demo, &x, &y, &w, &h);
	snprintf(gpu, sizeof(gpu), "%dx%d", vm_dim(w), vm_dim(h));
	char *const argv[] = {
	    (char *)demo->vmm, "boot",	   "--kernel",	(char *)demo->guest,   "--gpu", gpu,
	    "--mem",	       VM_MEM_MIB, "--cmdline", (char *)demo->cmdline, NULL};
	pid_t pid = inlay_grant_spawn(tab->grant, argv);

	tab->restart_at_ms = 0;
	tab->accepted = false;
	if (pid < 0) {
		fprintf(stderr, "inlay-demo: tab %d: cannot start %s: %s\n", tab->index + 1,
			demo->vmm, strerror((int)-pid));
		tab->failed = true;
		tab->restart_at_ms = granter_window_now_ms() + RESTART_DELAY_MS;
		tab->child = 0;
		return;
	}
	tab->child = pid;
}

static void tab_failed(struct tab *tab, const char *why)
{
	fprintf(stderr, "inlay-demo: tab %d: %s; restarting it\n", tab->index + 1, why);
	tab->failed = true;
	tab->accepted = false;
	tab->restart_at_ms = granter_window_now_ms() + RESTART_DELAY_MS;
	granter_window_redraw(&tab->demo->win);
}

static void set_active(struct demo *demo, int i)
{
	if (i < 0 || i >= demo->nr_tabs)
		return;
	struct tab *tab = &demo->tabs[i];

	demo->active = i;
	if (!tab->started) {
		tab->started = true;
		if (inlay_grant_token(tab->grant))
			tab_start(tab);
	}
	granter_window_redraw(&demo->win);
}

static void handle_token(void *data, struct inlay_grant *grant, const char *token)
{
	struct tab *tab = data;

	/* After a failure the restart waits for its delay (run_timers). */
	if (tab->started && !tab->failed && tab->child <= 0)
		tab_start(tab);
}

static void handle_accepted(void *data, struct inlay_grant *grant)
{
	struct tab *tab = data;

	tab->accepted = true;
	if (tab->failed) {
		tab->failed = false;
		granter_window_redraw(&tab->demo->win);
	}
}

static void handle_gone(void *data, struct inlay_grant *grant, enum inlay_grant_gone_reason reason)
{
	tab_failed(data, reason == INLAY_GRANT_GONE_DISCONNECTED ? "the VM disconnected"
								 : "the VM gave up its grant");
}

static const struct inlay_granter_listener granter_listener = {
    .token = handle_token,
    .accepted = handle_accepted,
    .gone = handle_gone,
};

/* A VM that exits before it took its token never causes gone(): notice it here. */
static void reap_children(void *data)
{
	struct demo *demo = data;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < demo->nr_tabs; i++) {
			struct tab *tab = &demo->tabs[i];

			if (tab->child != pid)
				continue;
			tab->child = 0;
			if (!tab->accepted && !tab->restart_at_ms)
				tab_failed(tab, "the VM exited before it showed anything");
		}
	}
}

static int run_timers(void *data)
{
	struct demo *demo = data;
	int64_t now = granter_window_now_ms(), next = -1;

	for (int i = 0; i < demo->nr_tabs; i++) {
		struct tab *tab = &demo->tabs[i];

		if (granter_window_restart_due(tab->restart_at_ms, tab->grant, now, &next))
			tab_start(tab);
	}
	return granter_window_poll_ms(next);
}

/* SIGTERM every VM, then SIGKILL what is left after STOP_TIMEOUT_MS. */
static void stop_children(struct demo *demo)
{
	int64_t end = granter_window_now_ms() + STOP_TIMEOUT_MS;
	int left;

	for (int i = 0; i < demo->nr_tabs; i++)
		if (demo->tabs[i].child > 0)
			kill(demo->tabs[i].child, SIGTERM);
	do {
		left = 0;
		for (int i = 0; i < demo->nr_tabs; i++) {
			struct tab *tab = &demo->tabs[i];

			if (tab->child > 0 && waitpid(tab->child, NULL, WNOHANG) == 0)
				left++;
			else
				tab->child = 0;
		}
		if (left)
			usleep(20 * 1000);
	} while (left && granter_window_now_ms() < end);
	for (int i = 0; i < demo->nr_tabs; i++) {
		if (demo->tabs[i].child > 0) {
			kill(demo->tabs[i].child, SIGKILL);
			waitpid(demo->tabs[i].child, NULL, 0);
		}
	}
}

/* ---- input: tab headers and shortcuts ---- */

static void handle_pointer_enter(void *data, struct wl_pointer *pointer, uint32_t serial,
				 struct wl_surface *surface, wl_fixed_t x, wl_fixed_t y)
{
	struct demo *demo = data;

	demo->pointer_x = wl_fixed_to_double(x);
	demo->pointer_y = wl_fixed_to_double(y);
}

static void handle_pointer_leave(void *data, struct wl_pointer *pointer, uint32_t serial,
				 struct wl_surface *surface)
{
}

static void handle_pointer_motion(void *data, struct wl_pointer *pointer, uint32_t time,
				  wl_fixed_t x, wl_fixed_t y)
{
	handle_pointer_enter(data, pointer, 0, NULL, x, y);
}

static void handle_pointer_button(void *data, struct wl_pointer *pointer, uint32_t serial,
				  uint32_t time, uint32_t button, uint32_t state)
{
	struct demo *demo = data;
	int32_t x, y, w, h;

	if (button != BTN_LEFT || state != WL_POINTER_BUTTON_STATE_PRESSED)
		return;
	for (int i = 0; i < demo->nr_tabs; i++) {
		header_rect(i, &x, &y, &w, &h);
		if (demo->pointer_x >= x && demo->pointer_x < x + w && demo->pointer_y >= y &&
		    demo->pointer_y < y + h) {
			set_active(demo, i);
			return;
		}
	}
}

static void handle_pointer_axis(void *data, struct wl_pointer *pointer, uint32_t time,
				uint32_t axis, wl_fixed_t value)
{
}

static void handle_pointer_frame(void *data, struct wl_pointer *pointer)
{
}

static void handle_pointer_axis_source(void *data, struct wl_pointer *pointer, uint32_t source)
{
}

static void handle_pointer_axis_stop(void *data, struct wl_pointer *pointer, uint32_t time,
				     uint32_t axis)
{
}

static void handle_pointer_axis_discrete(void *data, struct wl_pointer *pointer, uint32_t axis,
					 int32_t discrete)
{
}

static const struct wl_pointer_listener pointer_listener = {
    .enter = handle_pointer_enter,
    .leave = handle_pointer_leave,
    .motion = handle_pointer_motion,
    .button = handle_pointer_button,
    .axis = handle_pointer_axis,
    .frame = handle_pointer_frame,
    .axis_source = handle_pointer_axis_source,
    .axis_stop = handle_pointer_axis_stop,
    .axis_discrete = handle_pointer_axis_discrete,
};

static void handle_keymap(void *data, struct wl_keyboard *keyboard, uint32_t format, int32_t fd,
			  uint32_t size)
{
	close(fd); /* key codes are evdev codes; only Ctrl and digits matter here */
}

/* Ctrl is tracked from its own keys, so no keymap needs to be understood. */
static void ctrl_update(struct demo *demo, uint32_t key, bool down)
{
	if (key == KEY_LEFTCTRL)
		demo->ctrl_left = down;
	else if (key == KEY_RIGHTCTRL)
		demo->ctrl_right = down;
}

static void handle_keyboard_enter(void *data, struct wl_keyboard *keyboard, uint32_t serial,
				  struct wl_surface *surface, struct wl_array *keys)
{
	struct demo *demo = data;
	uint32_t *key;

	demo->ctrl_left = demo->ctrl_right = false;
	wl_array_for_each (key, keys)
		ctrl_update(demo, *key, true);
}

static void handle_keyboard_leave(void *data, struct wl_keyboard *keyboard, uint32_t serial,
				  struct wl_surface *surface)
{
	struct demo *demo = data;

	demo->ctrl_left = demo->ctrl_right = false;
}

static void handle_key(void *data, struct wl_keyboard *keyboard, uint32_t serial, uint32_t time,
		       uint32_t key, uint32_t state)
{
	struct demo *demo = data;
	bool down = state == WL_KEYBOARD_KEY_STATE_PRESSED;

	ctrl_update(demo, key, down);
	if (!down || !(demo->ctrl_left || demo->ctrl_right))
		return;
	if (key >= KEY_1 && key < KEY_1 + (uint32_t)demo->nr_tabs)
		set_active(demo, (int)(key - KEY_1));
	else if (key == KEY_TAB)
		set_active(demo, (demo->active + 1) % demo->nr_tabs);
}

static void handle_modifiers(void *data, struct wl_keyboard *keyboard, uint32_t serial,
			     uint32_t depressed, uint32_t latched, uint32_t locked, uint32_t group)
{
}

static void handle_repeat_info(void *data, struct wl_keyboard *keyboard, int32_t rate,
			       int32_t delay)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
    .keymap = handle_keymap,
    .enter = handle_keyboard_enter,
    .leave = handle_keyboard_leave,
    .key = handle_key,
    .modifiers = handle_modifiers,
    .repeat_info = handle_repeat_info,
};

static void handle_seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
	struct demo *demo = data;

	if ((caps & WL_SEAT_CAPABILITY_POINTER) && !demo->pointer) {
		demo->pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(demo->pointer, &pointer_listener, demo);
	}
	if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !demo->keyboard) {
		demo->keyboard = wl_seat_get_keyboard(seat);
		wl_keyboard_add_listener(demo->keyboard, &keyboard_listener, demo);
	}
}

static void handle_seat_name(void *data, struct wl_seat *seat, const char *name)
{
}

static const struct wl_seat_listener seat_listener = {
    .capabilities = handle_seat_capabilities,
    .name = handle_seat_name,
};

/* ---- the window ---- */

static void configured(void *data, bool first)
{
	struct demo *demo = data;

	if (first)
		set_active(demo, 0);
	else
		granter_window_redraw(&demo->win);
}

static const struct granter_window_listener window_listener = {
    .draw = draw,
    .configured = configured,
    .timeout = run_timers,
    .dispatched = reap_children,
    .seat_listener = &seat_listener,
};

static void demo_finish(struct demo *demo)
{
	for (int i = 0; i < demo->nr_tabs; i++)
		inlay_grant_destroy(demo->tabs[i].grant);
	if (demo->win.display)
		wl_display_flush(demo->win.display);
	stop_children(demo);
	if (demo->pointer)
		wl_pointer_destroy(demo->pointer);
	if (demo->keyboard)
		wl_keyboard_destroy(demo->keyboard);
	granter_window_finish(&demo->win);
}

static const char usage[] =
    "usage: inlay-demo [--vmm PATH] [--guest FILE] [--cmdline S] [--tabs N]\n"
    "  --vmm PATH     inlay-vmm to run (default: the one in the build tree, else PATH)\n"
    "  --guest FILE   kernel for every tab (default: the gpu test guest of the build tree)\n"
    "  --cmdline S    its command line (default: \"remodeset timeout=86400000\")\n"
    "  --tabs N       1 to 3 tabs (default 3)\n";

static int parse_args(struct demo *demo, int argc, char *argv[])
{
	static const struct option options[] = {
	    {"vmm", required_argument, NULL, 'v'},     {"guest", required_argument, NULL, 'g'},
	    {"cmdline", required_argument, NULL, 'c'}, {"tabs", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	int opt;

	demo->vmm = granter_window_beside_self("../inlay-vmm");
	demo->guest = granter_window_beside_self("../tests/guest/guest_gpu.elf");
	demo->cmdline = "remodeset timeout=86400000";
	demo->nr_tabs = TABS_MAX;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'v':
			demo->vmm = optarg;
			break;
		case 'g':
			demo->guest = optarg;
			break;
		case 'c':
			demo->cmdline = optarg;
			break;
		case 't':
			if (optarg[0] < '1' || optarg[0] > '0' + TABS_MAX || optarg[1]) {
				fprintf(stderr, "inlay-demo: --tabs takes 1 to %d\n", TABS_MAX);
				return 2;
			}
			demo->nr_tabs = optarg[0] - '0';
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!demo->vmm)
		demo->vmm = "inlay-vmm";
	if (!demo->guest) {
		fprintf(stderr, "inlay-demo: no guest kernel found beside the program; pass "
				"--guest FILE\n");
		return 2;
	}
	return -1;
}

int main(int argc, char *argv[])
{
	struct demo demo = {0};
	int ret = parse_args(&demo, argc, argv);

	if (ret >= 0)
		return ret;
	ret = 1;
	/* The VMs inherit stdin: keep them off the terminal (a serial console would make it raw).
	 */
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0) {
		fprintf(stderr, "inlay-demo: /dev/null: %s\n", strerror(errno));
		return 1;
	}
	close(null);
	if (granter_window_init(&demo.win, "inlay-demo", "Inlay demo", 640, 440, &window_listener,
				&demo) < 0)
		goto out;
	xdg_toplevel_set_app_id(demo.win.toplevel, "inlay-demo");
	for (int i = 0; i < demo.nr_tabs; i++) {
		struct tab *tab = &demo.tabs[i];
		int32_t x, y, w, h;

		tab->demo = &demo;
		tab->index = i;
		content_rect(&demo, &x, &y, &w, &h);
		tab->grant = inlay_grant_create(demo.win.grants, demo.win.surface, x, y, w, h,
						&granter_listener, tab);
		if (!tab->grant)
			goto out;
		inlay_grant_hide(tab->grant); /* until the first redraw shows the active one */
	}
	wl_surface_commit(demo.win.surface);
	ret = granter_window_run(&demo.win) < 0 ? 1 : 0;
out:
	demo_finish(&demo);
	return ret;
}
