/* SPDX-License-Identifier: MIT */
#ifndef INLAY_TEST_HARNESS_H
#define INLAY_TEST_HARNESS_H

/*
 * The compositor test harness: every test gets its own inlay-compositor,
 * headless with the pixman renderer, on a unique socket in a private
 * XDG_RUNTIME_DIR, so test programs run in parallel. Tests are registered
 * with HARNESS_TEST(fn); fn receives the harness as its state. Clients,
 * surfaces, grants, leases and child processes made through the harness are
 * torn down with it, even after a failed assertion.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>
#include <wayland-client.h>
#include <cmocka.h>

#include "screen-grant-v1-client-protocol.h"

/** How long any wait may take before the test fails. */
#define HARNESS_TIMEOUT_MS 10000

struct harness {
	const char *test_name;
	pid_t compositor_pid;
	char runtime_dir[64];
	char socket_name[64];
	char log_dir[512]; /* screenshots and the compositor's log */
	int output_width, output_height;
	struct wl_list clients; /* client::link */
	pid_t children[16];	/* processes to kill at teardown, 0 = free */
};

int harness_setup(void **state);
int harness_teardown(void **state);

/** A cmocka test whose state is a fresh struct harness. */
#define HARNESS_TEST(fn)                                                                           \
	cmocka_unit_test_prestate_setup_teardown(fn, harness_setup, harness_teardown, (void *)#fn)

/** Whether the compositor process still runs and answers a new client. */
bool harness_compositor_alive(struct harness *h);

/** Remember @pid so teardown kills its process group and reaps it. */
void harness_track_child(struct harness *h, pid_t pid);

/**
 * Start argv in a process group of its own, with INLAY_GRANT_TOKEN set to
 * @token (unless NULL) and stdout/stderr in the test's log directory.
 * Teardown kills the whole group.
 */
pid_t harness_spawn(struct harness *h, char *const argv[], const char *token);

/** Wait up to timeout_ms for @pid to exit; returns its wait status or -1. */
int harness_wait_child(struct harness *h, pid_t pid, int timeout_ms);

/** Path of a helper program given to the test through environment variable @env. */
const char *harness_program(const char *env);

int64_t harness_now_ms(void);

/** Flush every client, wait up to timeout_ms for events, dispatch them. */
void harness_dispatch(struct harness *h, int timeout_ms);

/** Dispatch all clients until @cond holds or HARNESS_TIMEOUT_MS passes; yields @cond. */
#define wait_until(h, cond)                                                                        \
	({                                                                                         \
		int64_t wait_end_ = harness_now_ms() + HARNESS_TIMEOUT_MS;                         \
		while (!(cond) && harness_now_ms() < wait_end_)                                    \
			harness_dispatch((h), 20);                                                 \
		(bool)(cond);                                                                      \
	})

/* ---- clients ---- */

struct pointer_state {
	struct wl_surface *focus; /* surface with pointer focus, or NULL */
	double x, y;		  /* last surface-local position */
	int enters, motions, presses;
	uint32_t last_button;
	uint32_t button_serial; /* of the last press, for xdg_toplevel.move */
	int64_t last_event_ns;	/* CLOCK_MONOTONIC of the last enter/motion */
};

struct keyboard_state {
	struct wl_surface *focus;
	int keys; /* key presses received */
	uint32_t last_key;
};

struct client {
	struct harness *harness;
	struct wl_list link; /* harness::clients */
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_subcompositor *subcompositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_seat *seat;
	struct wl_pointer *pointer;
	struct wl_keyboard *keyboard;
	struct wl_output *output;
	struct screen_grant_manager_v1 *grants;
	struct zwlr_screencopy_manager_v1 *screencopy;
	struct zwlr_virtual_pointer_manager_v1 *vpointer_manager;
	struct zwp_virtual_keyboard_manager_v1 *vkeyboard_manager;
	struct zwlr_virtual_pointer_v1 *vpointer;
	struct zwp_virtual_keyboard_v1 *vkeyboard;
	struct pointer_state pointer_state;
	struct keyboard_state keyboard_state;
	struct wl_list surfaces;    /* surface::link */
	struct wl_list grants_list; /* grant::link */
	struct wl_list leases;	    /* lease::link */
};

/** Connect a client and bind every global the tests use; fails the test on error. */
struct client *client_create(struct harness *h);
void client_destroy(struct client *c);

/** Roundtrip @c, dispatching nothing else. Returns false once the connection failed. */
bool client_roundtrip(struct client *c);

/**
 * Assert that @c was sent a protocol error @code on an object of @interface
 * (waiting for it if needed). Afterwards @c is unusable except for destroy.
 */
void expect_protocol_error(struct client *c, const struct wl_interface *interface, uint32_t code);

/** Assert that @c has no error after a roundtrip. */
void expect_no_error(struct client *c);

/* ---- surfaces ---- */

struct shm_buffer;

struct surface {
	struct client *client;
	struct wl_list link; /* client::surfaces */
	struct wl_surface *wl_surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct shm_buffer *buffer;
	bool configured;
	int frames_done;
};

/** A surface without a role. */
struct surface *surface_create(struct client *c);

/** A mapped toplevel of width x height filled with @color (waits for the first frame). */
struct surface *toplevel_create(struct client *c, int32_t width, int32_t height, uint32_t color);

/** Attach a new buffer of width x height filled with @color (not committed). */
void surface_attach_color(struct surface *s, int32_t width, int32_t height, uint32_t color);

/** Commit with a frame callback and wait until the compositor drew it. */
void surface_commit_wait(struct surface *s);

/** Commit without waiting (a hidden grantee gets no frame callbacks). */
void surface_commit(struct surface *s);

void surface_destroy(struct surface *s);

/** Find where @s is on the output by moving the pointer over it. Fails the test if unseen. */
void surface_locate(struct client *input, struct surface *s, int32_t *x, int32_t *y);

/* ---- grants (the raw protocol, recorded) ---- */

struct grant {
	struct client *client;
	struct wl_list link; /* client::grants_list */
	struct screen_grant_v1 *proxy;
	char token[128];
	int tokens, accepted, gone;
	uint32_t gone_reason;
};

struct lease {
	struct client *client;
	struct wl_list link; /* client::leases */
	struct screen_grant_lease_v1 *proxy;
	int configures;
	int32_t width, height;
	bool revoked;
	uint32_t revoke_reason;
};

/** Send grant_surface; does not wait for the token. */
struct grant *grant_create(struct surface *s, int32_t x, int32_t y, int32_t width, int32_t height);

/** grant_create and wait for the token; fails the test if none comes. */
struct grant *grant_create_wait(struct surface *s, int32_t x, int32_t y, int32_t width,
				int32_t height);
void grant_destroy(struct grant *g);

/** Send accept with @token for @s; does not wait. */
struct lease *lease_accept(struct surface *s, const char *token);

/** lease_accept and wait for the first configure; fails the test if none comes. */
struct lease *lease_accept_wait(struct surface *s, const char *token);
void lease_destroy(struct lease *l);

/* ---- scenes: a granter's window, a grantee and an input client ---- */

struct grant_scene {
	struct harness *h;
	struct client *granter, *grantee, *input;
	struct surface *parent; /* the granter's 400x300 toplevel */
	int32_t ox, oy;		/* where the parent is on the output */
};

/** Make the three clients and the parent, filled with @color, and locate it. */
void grant_scene_init(struct grant_scene *sc, struct harness *h, uint32_t color);

/**
 * Accept @g with a new grantee surface, wait for its configure, then fill it
 * with a bw x bh buffer of @color and wait until it is drawn.
 */
struct surface *grant_scene_grantee(struct grant_scene *sc, struct grant *g, int32_t bw, int32_t bh,
				    uint32_t color);

/* ---- input through virtual devices ---- */

void input_move(struct client *c, int32_t x, int32_t y);
void input_button(struct client *c, uint32_t button, bool pressed);
void input_click(struct client *c, int32_t x, int32_t y);
/** Press and release an evdev key code. */
void input_key(struct client *c, uint32_t key);

/* ---- screenshots ---- */

struct image {
	int32_t width, height;
	uint32_t *pixels; /* 0x00RRGGBB, top row first */
};

/** Capture the output; fails the test on error. */
struct image *screenshot(struct client *c);
void image_destroy(struct image *img);
uint32_t image_pixel(const struct image *img, int32_t x, int32_t y);

/** An expected colour for a rectangle of the screen. */
struct region {
	int32_t x, y, width, height;
	uint32_t color;
};

/**
 * Take screenshots until every region shows its colour (rgb, alpha ignored)
 * or the timeout passes. If @c drives the virtual pointer, the cursor is first
 * moved to the output's bottom-right corner, out of the way. On failure writes NAME.ppm and
 * NAME-diff.ppm to the test's log directory and fails the test.
 */
void verify_screen(struct client *c, const char *name, const struct region *regions, size_t n);

#endif
