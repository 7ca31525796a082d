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
#include <limits.h>
#include <linux/input-event-codes.h>
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
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct wl_pointer *pointer;
	struct wl_keyboard *keyboard;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct inlay_grant_manager *grants;
	struct shm_buffer *buffers[2];
	struct tab tabs[TABS_MAX];
	int nr_tabs, active;
	const char *vmm, *guest, *cmdline;
	int32_t width, height;
	double pointer_x, pointer_y;
	bool ctrl_left, ctrl_right;
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

/* The rectangle every tab grants: the window below the tab bar, inside a margin. */
static void content_rect(const struct demo *demo, int32_t *x, int32_t *y, int32_t *w, int32_t *h)
{
	*x = MARGIN;
	*y = TAB_BAR + MARGIN;
	*w = demo->width - 2 * MARGIN > 1 ? demo->width - 2 * MARGIN : 1;
	*h = demo->height - TAB_BAR - 2 * MARGIN > 1 ? demo->height - TAB_BAR - 2 * MARGIN : 1;
}

static void header_rect(int i, int32_t *x, int32_t *y, int32_t *w, int32_t *h)
{
	*x = MARGIN + i * (TAB_WIDTH + TAB_GAP);
	*y = TAB_GAP;
	*w = TAB_WIDTH;
	*h = TAB_BAR - TAB_GAP;
}

static struct shm_buffer *next_buffer(struct demo *demo)
{
	for (size_t i = 0; i < 2; i++) {
		struct shm_buffer **buf = &demo->buffers[i];

		if (*buf && (*buf)->busy)
			continue;
		if (*buf && ((*buf)->width != demo->width || (*buf)->height != demo->height)) {
			shm_buffer_destroy(*buf);
			*buf = NULL;
		}
		if (!*buf)
			*buf = shm_buffer_create(demo->shm, demo->width, demo->height);
		return *buf;
	}
	return NULL;
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
 * Draw the window and commit it: the grants' rectangles and visibility ride
 * on this commit, so the tab bar and the content switch in the same frame.
 */
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
	wl_surface_attach(demo->surface, buf->buffer, 0, 0);
	wl_surface_damage_buffer(demo->surface, 0, 0, buf->width, buf->height);
	buf->busy = true;
	wl_surface_commit(demo->surface);
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
		tab->restart_at_ms = now_ms() + RESTART_DELAY_MS;
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
	tab->restart_at_ms = now_ms() + RESTART_DELAY_MS;
	redraw(tab->demo);
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
	redraw(demo);
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
		redraw(tab->demo);
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
static void reap_children(struct demo *demo)
{
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

static int run_timers(struct demo *demo)
{
	int64_t now = now_ms(), next = -1;

	for (int i = 0; i < demo->nr_tabs; i++) {
		struct tab *tab = &demo->tabs[i];

		if (!tab->restart_at_ms)
			continue;
		if (tab->restart_at_ms <= now && inlay_grant_token(tab->grant))
			tab_start(tab);
		else if (next < 0 || tab->restart_at_ms - now < next)
			next = tab->restart_at_ms - now;
	}
	/* Wake at least every 200 ms to reap exited VMs. */
	return next < 0 || next > 200 ? 200 : (int)next;
}

/* SIGTERM every VM, then SIGKILL what is left after STOP_TIMEOUT_MS. */
static void stop_children(struct demo *demo)
{
	int64_t end = now_ms() + STOP_TIMEOUT_MS;
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
	} while (left && now_ms() < end);
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

static void handle_xdg_surface_configure(void *data, struct xdg_surface *xdg_surface,
					 uint32_t serial)
{
	struct demo *demo = data;
	bool first = !demo->configured;

	xdg_surface_ack_configure(xdg_surface, serial);
	demo->configured = true;
	if (first)
		set_active(demo, 0);
	else
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
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && !demo->seat) {
		demo->seat =
		    wl_registry_bind(registry, name, &wl_seat_interface, version < 5 ? version : 5);
		wl_seat_add_listener(demo->seat, &seat_listener, demo);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = handle_global,
    .global_remove = handle_global_remove,
};

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

/* @rel next to this program's directory, if it exists there; else NULL. */
static const char *beside_self(const char *rel)
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

static void demo_finish(struct demo *demo)
{
	for (int i = 0; i < demo->nr_tabs; i++)
		inlay_grant_destroy(demo->tabs[i].grant);
	if (demo->display)
		wl_display_flush(demo->display);
	stop_children(demo);
	inlay_grant_manager_destroy(demo->grants);
	for (size_t i = 0; i < 2; i++)
		shm_buffer_destroy(demo->buffers[i]);
	if (demo->toplevel)
		xdg_toplevel_destroy(demo->toplevel);
	if (demo->xdg_surface)
		xdg_surface_destroy(demo->xdg_surface);
	if (demo->surface)
		wl_surface_destroy(demo->surface);
	if (demo->pointer)
		wl_pointer_destroy(demo->pointer);
	if (demo->keyboard)
		wl_keyboard_destroy(demo->keyboard);
	if (demo->seat)
		wl_seat_destroy(demo->seat);
	if (demo->wm_base)
		xdg_wm_base_destroy(demo->wm_base);
	if (demo->shm)
		wl_shm_destroy(demo->shm);
	if (demo->compositor)
		wl_compositor_destroy(demo->compositor);
	if (demo->display)
		wl_display_disconnect(demo->display);
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

	demo->vmm = beside_self("../inlay-vmm");
	demo->guest = beside_self("../tests/guest/guest_gpu.elf");
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
	struct demo demo = {.width = 640, .height = 440, .running = true};
	struct sigaction sa = {.sa_handler = handle_quit};
	struct wl_registry *registry;
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
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	demo.display = wl_display_connect(NULL);
	if (!demo.display) {
		fprintf(stderr, "inlay-demo: cannot connect to a Wayland compositor: %s\n",
			strerror(errno));
		return 1;
	}
	registry = wl_display_get_registry(demo.display);
	wl_registry_add_listener(registry, &registry_listener, &demo);
	wl_display_roundtrip(demo.display);
	wl_registry_destroy(registry);
	demo.grants = inlay_grant_manager_create(demo.display);
	if (!demo.compositor || !demo.shm || !demo.wm_base || !demo.grants) {
		fprintf(stderr, "inlay-demo: the compositor lacks xdg-shell, wl_shm or "
				"screen-grant (run it in inlay-compositor)\n");
		goto out;
	}
	demo.surface = wl_compositor_create_surface(demo.compositor);
	demo.xdg_surface = xdg_wm_base_get_xdg_surface(demo.wm_base, demo.surface);
	xdg_surface_add_listener(demo.xdg_surface, &xdg_surface_listener, &demo);
	demo.toplevel = xdg_surface_get_toplevel(demo.xdg_surface);
	xdg_toplevel_add_listener(demo.toplevel, &toplevel_listener, &demo);
	xdg_toplevel_set_title(demo.toplevel, "Inlay demo");
	xdg_toplevel_set_app_id(demo.toplevel, "inlay-demo");
	for (int i = 0; i < demo.nr_tabs; i++) {
		struct tab *tab = &demo.tabs[i];
		int32_t x, y, w, h;

		tab->demo = &demo;
		tab->index = i;
		content_rect(&demo, &x, &y, &w, &h);
		tab->grant = inlay_grant_create(demo.grants, demo.surface, x, y, w, h,
						&granter_listener, tab);
		if (!tab->grant)
			goto out;
		inlay_grant_hide(tab->grant); /* until the first redraw shows the active one */
	}
	wl_surface_commit(demo.surface);
	ret = run(&demo) < 0 ? 1 : 0;
out:
	demo_finish(&demo);
	return ret;
}
