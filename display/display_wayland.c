// SPDX-License-Identifier: MIT
/*
 * inlay-vmm as a Wayland client: a surface showing the scanout (presenter.c
 * does the buffers) in one of two roles, an xdg_toplevel or a screen-grant
 * lease; the seat's pointer and keyboard turned into virtio-input events,
 * and either role's configured size turned into a display-change event.
 */
#include "display.h"
#include "presenter.h"
#include "virtio/input.h"
#include "xdg-shell-client-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <wayland-client.h>

/* Surface units one wheel click scrolls when the compositor sends no discrete steps. */
#define DISPLAY_AXIS_PER_CLICK 15

struct display {
	struct evloop *loop;
	struct wl_display *dpy;
	int fd;
	int out_fd; /* dup of fd, watched for EPOLLOUT while a flush is stuck */
	atomic_bool out_armed;
	atomic_bool lost;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	uint32_t seat_version;
	struct wl_pointer *pointer;
	struct wl_keyboard *keyboard;

	struct wl_surface *surface;
	struct xdg_surface *xdg_surface; /* the toplevel role */
	struct xdg_toplevel *toplevel;
	struct inlay_grant_manager *grants; /* the screen-grant role */
	struct inlay_lease *lease;
	bool configured;
	int32_t pending_width, pending_height; /* from the last toplevel configure */

	struct presenter *presenter;
	struct vgpu *gpu;
	struct virtio_dev *kbd, *tablet;
	display_close_fn on_close;
	void *close_opaque;

	bool pointer_in;
	bool pointer_dirty;	       /* events queued since the last pointer frame */
	uint32_t pointer_x, pointer_y; /* tablet units */
	int32_t wheel[2], axis_acc[2];
	bool wheel_discrete[2];
	uint8_t held[KEY_CNT / 8]; /* keys down in the guest */
};

/* ---- the connection ---- */

/* Stop using the connection. Returns false if it was already given up. */
static bool display_drop_connection(struct display *d, const char *why)
{
	bool expected = false;

	if (!atomic_compare_exchange_strong(&d->lost, &expected, true))
		return false;
	if (why)
		fprintf(stderr, "inlay-vmm: display lost (%s); the VM runs on without a window\n",
			why);
	evloop_del(d->loop, d->fd);
	if (atomic_exchange(&d->out_armed, false))
		evloop_del(d->loop, d->out_fd);
	return true;
}

static void handle_out(void *opaque, uint32_t events);

/*
 * Send queued requests; when the socket is full, finish once it drains. Any
 * thread, also with the presenter's lock held. False once the connection is gone.
 */
static bool display_flush(void *opaque)
{
	struct display *d = opaque;

	if (atomic_load(&d->lost))
		return false;
	if (wl_display_flush(d->dpy) >= 0)
		return true;
	if (errno != EAGAIN) {
		display_drop_connection(d, strerror(errno));
		return false;
	}
	if (!atomic_exchange(&d->out_armed, true))
		evloop_add(d->loop, d->out_fd, EPOLLOUT, handle_out, d);
	return true;
}

static void keys_release_all(struct display *d);

/* The compositor is gone (event-loop thread): run headless from now on. @why NULL: quietly. */
static void display_lose(struct display *d, const char *why)
{
	display_drop_connection(d, why);
	presenter_set_lost(d->presenter);
	keys_release_all(d);
}

static void handle_out(void *opaque, uint32_t events)
{
	struct display *d = opaque;

	if (wl_display_flush(d->dpy) < 0 && errno == EAGAIN)
		return;
	if (atomic_exchange(&d->out_armed, false))
		evloop_del(d->loop, d->out_fd);
	if (!display_flush(d))
		display_lose(d, "write failed");
}

static void handle_wayland(void *opaque, uint32_t events)
{
	struct display *d = opaque;

	if (wl_display_prepare_read(d->dpy) == 0 && wl_display_read_events(d->dpy) < 0) {
		display_lose(d, strerror(errno));
		return;
	}
	if (wl_display_dispatch_pending(d->dpy) < 0) {
		int err = wl_display_get_error(d->dpy);
		display_lose(d, strerror(err ? err : errno));
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		display_lose(d, "connection closed");
		return;
	}
	if (!display_flush(d))
		display_lose(d, "write failed");
}

/* ---- keyboard ---- */

static bool key_held(const struct display *d, uint32_t key)
{
	return key < KEY_CNT && (d->held[key / 8] >> (key % 8)) & 1;
}

static void key_set(struct display *d, uint32_t key, bool down)
{
	if (key >= KEY_CNT)
		return;
	if (down)
		d->held[key / 8] |= 1u << (key % 8);
	else
		d->held[key / 8] &= ~(1u << (key % 8));
}

/* Focus went elsewhere: nothing may stay pressed in the guest. */
static void keys_release_all(struct display *d)
{
	bool any = false;

	for (uint32_t k = 0; k < KEY_CNT; k++)
		if (key_held(d, k)) {
			input_push_key(d->kbd, (uint16_t)k, false);
			key_set(d, k, false);
			any = true;
		}
	if (any)
		input_sync(d->kbd);
}

static void handle_keymap(void *data, struct wl_keyboard *kb, uint32_t format, int32_t fd,
			  uint32_t size)
{
	close(fd); /* Wayland's key codes are evdev codes: the guest maps them itself */
}

static void handle_key_enter(void *data, struct wl_keyboard *kb, uint32_t serial,
			     struct wl_surface *surface, struct wl_array *keys)
{
}

static void handle_key_leave(void *data, struct wl_keyboard *kb, uint32_t serial,
			     struct wl_surface *surface)
{
	keys_release_all(data);
}

static void handle_key(void *data, struct wl_keyboard *kb, uint32_t serial, uint32_t time,
		       uint32_t key, uint32_t state)
{
	struct display *d = data;
	bool down = state == WL_KEYBOARD_KEY_STATE_PRESSED;

	if (key >= KEY_CNT || key_held(d, key) == down)
		return;
	key_set(d, key, down);
	input_push_key(d->kbd, (uint16_t)key, down);
	input_sync(d->kbd);
}

static void handle_modifiers(void *data, struct wl_keyboard *kb, uint32_t serial, uint32_t dep,
			     uint32_t latched, uint32_t locked, uint32_t group)
{
}

static void handle_repeat_info(void *data, struct wl_keyboard *kb, int32_t rate, int32_t delay)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
    .keymap = handle_keymap,
    .enter = handle_key_enter,
    .leave = handle_key_leave,
    .key = handle_key,
    .modifiers = handle_modifiers,
    .repeat_info = handle_repeat_info,
};

/* ---- pointer ---- */

/* Surface coordinates (the scanout's pixels) to tablet units. */
static void pointer_update(struct display *d, wl_fixed_t sx, wl_fixed_t sy)
{
	uint32_t sw, sh, tw, th;
	double x = wl_fixed_to_double(sx), y = wl_fixed_to_double(sy);

	input_abs_range(d->tablet, &tw, &th);
	presenter_size(d->presenter, &sw, &sh);
	if (!sw || !sh) {
		sw = tw;
		sh = th;
	}
	x = x < 0 ? 0 : x * tw / sw;
	y = y < 0 ? 0 : y * th / sh;
	d->pointer_x = x >= tw ? tw - 1 : (uint32_t)x;
	d->pointer_y = y >= th ? th - 1 : (uint32_t)y;
	input_push_abs(d->tablet, d->pointer_x, d->pointer_y);
	d->pointer_dirty = true;
}

/* Before wl_pointer version 5 there is no frame event: every event is a frame. */
static void pointer_frame_if_old(struct display *d);

static void handle_pointer_enter(void *data, struct wl_pointer *ptr, uint32_t serial,
				 struct wl_surface *surface, wl_fixed_t sx, wl_fixed_t sy)
{
	struct display *d = data;

	d->pointer_in = surface == d->surface;
	presenter_set_cursor(d->presenter, ptr, serial);
	if (d->pointer_in) {
		pointer_update(d, sx, sy);
		pointer_frame_if_old(d);
	}
}

static void handle_pointer_leave(void *data, struct wl_pointer *ptr, uint32_t serial,
				 struct wl_surface *surface)
{
	struct display *d = data;

	d->pointer_in = false;
	presenter_set_cursor(d->presenter, NULL, 0);
}

static void handle_motion(void *data, struct wl_pointer *ptr, uint32_t time, wl_fixed_t sx,
			  wl_fixed_t sy)
{
	struct display *d = data;

	if (!d->pointer_in)
		return;
	pointer_update(d, sx, sy);
	pointer_frame_if_old(d);
}

static void handle_button(void *data, struct wl_pointer *ptr, uint32_t serial, uint32_t time,
			  uint32_t button, uint32_t state)
{
	struct display *d = data;

	if (!d->pointer_in || button > UINT16_MAX)
		return;
	input_push_button(d->tablet, (uint16_t)button, state == WL_POINTER_BUTTON_STATE_PRESSED);
	d->pointer_dirty = true;
	pointer_frame_if_old(d);
}

static void handle_axis(void *data, struct wl_pointer *ptr, uint32_t time, uint32_t axis,
			wl_fixed_t value)
{
	struct display *d = data;

	if (!d->pointer_in || axis > WL_POINTER_AXIS_HORIZONTAL_SCROLL)
		return;
	d->axis_acc[axis] += wl_fixed_to_int(value);
	pointer_frame_if_old(d);
}

static void handle_axis_discrete(void *data, struct wl_pointer *ptr, uint32_t axis, int32_t n)
{
	struct display *d = data;

	if (axis > WL_POINTER_AXIS_HORIZONTAL_SCROLL)
		return;
	d->wheel[axis] += n;
	d->wheel_discrete[axis] = true;
}

static void handle_axis_source(void *data, struct wl_pointer *ptr, uint32_t source)
{
}

static void handle_axis_stop(void *data, struct wl_pointer *ptr, uint32_t time, uint32_t axis)
{
}

/* One pointer frame: wheel clicks, then SYN_REPORT for everything queued. */
static void handle_pointer_frame(void *data, struct wl_pointer *ptr)
{
	struct display *d = data;

	for (int a = 0; a < 2; a++) {
		if (!d->wheel_discrete[a]) {
			d->wheel[a] = d->axis_acc[a] / DISPLAY_AXIS_PER_CLICK;
			d->axis_acc[a] %= DISPLAY_AXIS_PER_CLICK;
		} else {
			d->axis_acc[a] = 0;
		}
	}
	/* Wayland scrolls down for positive vertical values, evdev's wheel up. */
	if (d->wheel[0] || d->wheel[1]) {
		input_push_wheel(d->tablet, -d->wheel[0], d->wheel[1]);
		d->pointer_dirty = true;
	}
	d->wheel[0] = d->wheel[1] = 0;
	d->wheel_discrete[0] = d->wheel_discrete[1] = false;
	if (d->pointer_dirty)
		input_sync(d->tablet);
	d->pointer_dirty = false;
}

static void pointer_frame_if_old(struct display *d)
{
	if (d->seat_version < WL_POINTER_FRAME_SINCE_VERSION)
		handle_pointer_frame(d, d->pointer);
}

static const struct wl_pointer_listener pointer_listener = {
    .enter = handle_pointer_enter,
    .leave = handle_pointer_leave,
    .motion = handle_motion,
    .button = handle_button,
    .axis = handle_axis,
    .frame = handle_pointer_frame,
    .axis_source = handle_axis_source,
    .axis_stop = handle_axis_stop,
    .axis_discrete = handle_axis_discrete,
};

static void handle_seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
	struct display *d = data;
	bool want_ptr = (caps & WL_SEAT_CAPABILITY_POINTER) && d->tablet;
	bool want_kb = (caps & WL_SEAT_CAPABILITY_KEYBOARD) && d->kbd;

	if (want_ptr && !d->pointer) {
		d->pointer = wl_seat_get_pointer(seat);
		wl_pointer_add_listener(d->pointer, &pointer_listener, d);
	} else if (!want_ptr && d->pointer) {
		presenter_set_cursor(d->presenter, NULL, 0);
		wl_pointer_destroy(d->pointer);
		d->pointer = NULL;
		d->pointer_in = false;
	}
	if (want_kb && !d->keyboard) {
		d->keyboard = wl_seat_get_keyboard(seat);
		wl_keyboard_add_listener(d->keyboard, &keyboard_listener, d);
	} else if (!want_kb && d->keyboard) {
		keys_release_all(d);
		wl_keyboard_destroy(d->keyboard);
		d->keyboard = NULL;
	}
}

static void handle_seat_name(void *data, struct wl_seat *seat, const char *name)
{
}

static const struct wl_seat_listener seat_listener = {
    .capabilities = handle_seat_capabilities,
    .name = handle_seat_name,
};

/* ---- the toplevel ---- */

static void handle_ping(void *data, struct xdg_wm_base *wm, uint32_t serial)
{
	xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
    .ping = handle_ping,
};

static void handle_toplevel_configure(void *data, struct xdg_toplevel *tl, int32_t width,
				      int32_t height, struct wl_array *states)
{
	struct display *d = data;

	d->pending_width = width;
	d->pending_height = height;
}

static void handle_toplevel_close(void *data, struct xdg_toplevel *tl)
{
	struct display *d = data;

	if (d->on_close)
		d->on_close(d->close_opaque);
}

static const struct xdg_toplevel_listener toplevel_listener = {
    .configure = handle_toplevel_configure,
    .close = handle_toplevel_close,
};

/*
 * Either role: the compositor chose a size (0 = ours to choose). The guest
 * hears of it as a display change and re-modesets when it likes; until then
 * the old frame stays as it is.
 */
static void display_configure(struct display *d, int32_t width, int32_t height)
{
	if (width > 0 && height > 0)
		vgpu_set_display_size(d->gpu, (uint32_t)width, (uint32_t)height);
	if (!d->configured) {
		d->configured = true;
		presenter_set_ready(d->presenter);
	}
}

static void handle_surface_configure(void *data, struct xdg_surface *xs, uint32_t serial)
{
	struct display *d = data;

	xdg_surface_ack_configure(xs, serial);
	display_configure(d, d->pending_width, d->pending_height);
}

static const struct xdg_surface_listener xdg_surface_listener = {
    .configure = handle_surface_configure,
};

/* ---- the screen-grant lease ---- */

static void handle_lease_configure(void *data, struct inlay_lease *lease, int32_t width,
				   int32_t height)
{
	display_configure(data, width, height);
}

/*
 * The granter destroying its grant is the granted counterpart of closing the
 * window; a granter that went away, or a refused token, leaves nothing to
 * show in, and the VM runs on headless as when the compositor goes away.
 */
static void handle_lease_revoked(void *data, struct inlay_lease *lease,
				 enum inlay_lease_revoke_reason reason)
{
	struct display *d = data;

	inlay_lease_destroy(d->lease);
	d->lease = NULL;
	if (reason == INLAY_LEASE_GRANT_DESTROYED) {
		fprintf(stderr, "inlay-vmm: the screen grant was ended by its owner; stopping\n");
		display_lose(d, NULL);
		if (d->on_close)
			d->on_close(d->close_opaque);
		return;
	}
	display_lose(d, reason == INLAY_LEASE_INVALID_TOKEN ? "screen-grant token refused"
							    : "the granter went away");
}

static const struct inlay_lease_listener lease_listener = {
    .configure = handle_lease_configure,
    .revoked = handle_lease_revoked,
};

/* Give the surface its role: a lease on @token, or a toplevel titled @title. */
static int display_set_role(struct display *d, const char *title, const char *token)
{
	if (token) {
		d->grants = inlay_grant_manager_create(d->dpy);
		if (!d->grants) {
			fprintf(stderr, "inlay-vmm: display: the compositor offers no screen "
					"grants\n");
			return -ENOTSUP;
		}
		d->lease = inlay_lease_accept(d->grants, token, d->surface, &lease_listener, d);
		if (!d->lease) {
			fprintf(stderr, "inlay-vmm: display: cannot accept the grant: %s\n",
				strerror(errno));
			return -EINVAL;
		}
		return 0;
	}
	if (!d->wm_base) {
		fprintf(stderr, "inlay-vmm: display: the compositor lacks xdg_wm_base\n");
		return -ENOTSUP;
	}
	d->xdg_surface = xdg_wm_base_get_xdg_surface(d->wm_base, d->surface);
	xdg_surface_add_listener(d->xdg_surface, &xdg_surface_listener, d);
	d->toplevel = xdg_surface_get_toplevel(d->xdg_surface);
	xdg_toplevel_add_listener(d->toplevel, &toplevel_listener, d);
	xdg_toplevel_set_title(d->toplevel, title);
	xdg_toplevel_set_app_id(d->toplevel, "inlay-vmm");
	wl_surface_commit(d->surface);
	return 0;
}

/* ---- globals ---- */

static void handle_global(void *data, struct wl_registry *reg, uint32_t name, const char *iface,
			  uint32_t version)
{
	struct display *d = data;

	if (!strcmp(iface, wl_compositor_interface.name) && version >= 4) {
		d->compositor = wl_registry_bind(reg, name, &wl_compositor_interface, 4);
	} else if (!strcmp(iface, wl_shm_interface.name)) {
		d->shm = wl_registry_bind(reg, name, &wl_shm_interface, 1);
	} else if (!strcmp(iface, xdg_wm_base_interface.name)) {
		d->wm_base = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(d->wm_base, &wm_base_listener, d);
	} else if (!strcmp(iface, wl_seat_interface.name) && !d->seat) {
		d->seat_version = version < 5 ? version : 5;
		d->seat = wl_registry_bind(reg, name, &wl_seat_interface, d->seat_version);
		wl_seat_add_listener(d->seat, &seat_listener, d);
	}
}

static void handle_global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = handle_global,
    .global_remove = handle_global_remove,
};

/* The connection, the surface and its presenter, and the role (@token NULL: a toplevel). */
static struct display *display_open(struct evloop *loop, const char *title, const char *token,
				    struct vgpu *gpu, struct virtio_dev *keyboard,
				    struct virtio_dev *tablet, display_close_fn on_close,
				    void *opaque)
{
	struct display *d = calloc(1, sizeof(*d));

	if (!d) {
		fprintf(stderr, "inlay-vmm: display: out of memory\n");
		return NULL;
	}
	*d = (struct display){.loop = loop,
			      .fd = -1,
			      .out_fd = -1,
			      .gpu = gpu,
			      .kbd = keyboard,
			      .tablet = tablet,
			      .on_close = on_close,
			      .close_opaque = opaque};
	d->dpy = wl_display_connect(NULL);
	if (!d->dpy) {
		fprintf(stderr,
			"inlay-vmm: display: cannot connect to the Wayland compositor: %s\n",
			strerror(errno));
		goto err;
	}
	d->registry = wl_display_get_registry(d->dpy);
	wl_registry_add_listener(d->registry, &registry_listener, d);
	if (wl_display_roundtrip(d->dpy) < 0)
		goto err_io;
	if (!d->compositor || !d->shm) {
		fprintf(stderr, "inlay-vmm: display: the compositor lacks wl_compositor 4 or "
				"wl_shm\n");
		goto err;
	}
	d->surface = wl_compositor_create_surface(d->compositor);
	d->presenter = presenter_create(d->compositor, d->shm, d->surface, display_flush, d);
	if (!d->presenter) {
		fprintf(stderr, "inlay-vmm: display: out of memory\n");
		goto err;
	}
	if (display_set_role(d, title, token) < 0)
		goto err;
	/* Formats, seat capabilities and a lease's first configure arrive in this roundtrip. */
	if (wl_display_roundtrip(d->dpy) < 0)
		goto err_io;
	/* A token refused in that roundtrip leaves nothing to show in: headless from the start. */
	if (atomic_load(&d->lost))
		return d;
	d->fd = wl_display_get_fd(d->dpy);
	d->out_fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
	if (d->out_fd < 0 || evloop_add(loop, d->fd, EPOLLIN, handle_wayland, d) < 0) {
		fprintf(stderr, "inlay-vmm: display: cannot watch the connection\n");
		goto err;
	}
	presenter_attach(d->presenter, gpu);
	display_flush(d);
	return d;
err_io:
	fprintf(stderr, "inlay-vmm: display: %s\n", strerror(wl_display_get_error(d->dpy)));
err:
	d->fd = -1;
	display_destroy(d);
	return NULL;
}

struct display *display_create(struct evloop *loop, const char *title, struct vgpu *gpu,
			       struct virtio_dev *keyboard, struct virtio_dev *tablet,
			       display_close_fn on_close, void *opaque)
{
	return display_open(loop, title, NULL, gpu, keyboard, tablet, on_close, opaque);
}

struct display *display_create_granted(struct evloop *loop, const char *token, struct vgpu *gpu,
				       struct virtio_dev *keyboard, struct virtio_dev *tablet,
				       display_close_fn on_close, void *opaque)
{
	return display_open(loop, NULL, token, gpu, keyboard, tablet, on_close, opaque);
}

void display_destroy(struct display *d)
{
	if (!d)
		return;
	if (d->fd >= 0 && !atomic_load(&d->lost))
		evloop_del(d->loop, d->fd);
	if (atomic_load(&d->out_armed))
		evloop_del(d->loop, d->out_fd);
	if (d->out_fd >= 0)
		close(d->out_fd);
	presenter_destroy(d->presenter);
	if (d->pointer)
		wl_pointer_destroy(d->pointer);
	if (d->keyboard)
		wl_keyboard_destroy(d->keyboard);
	inlay_lease_destroy(d->lease);
	inlay_grant_manager_destroy(d->grants);
	if (d->toplevel)
		xdg_toplevel_destroy(d->toplevel);
	if (d->xdg_surface)
		xdg_surface_destroy(d->xdg_surface);
	if (d->surface)
		wl_surface_destroy(d->surface);
	if (d->seat)
		wl_seat_destroy(d->seat);
	if (d->wm_base)
		xdg_wm_base_destroy(d->wm_base);
	if (d->shm)
		wl_shm_destroy(d->shm);
	if (d->compositor)
		wl_compositor_destroy(d->compositor);
	if (d->registry)
		wl_registry_destroy(d->registry);
	if (d->dpy)
		wl_display_disconnect(d->dpy);
	free(d);
}

void display_get_stats(struct display *d, struct presenter_stats *s)
{
	presenter_get_stats(d->presenter, s);
}
