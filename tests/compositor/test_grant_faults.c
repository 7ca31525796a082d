// SPDX-License-Identifier: MIT
/*
 * Fault containment: grantees and granters that die, the two example apps, and a
 * client that sends a popup without a parent.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "xdg-shell-client-protocol.h"

#define PARENT 0xff804020

#define DEMO_ERROR  0xc02020 /* inlay-grant-demo's colour for a gone grantee */
#define PATTERN_RIM 0xffd000 /* inlay-grantee-pattern's border */

static void test_grantee_killed_mid_frame(void **state)
{
	struct harness *h = *state;
	struct client *granter = client_create(h);
	struct surface *parent = toplevel_create(granter, 400, 300, PARENT);
	struct grant *g = grant_create_wait(parent, 20, 20, 200, 150);
	char *argv[] = {(char *)harness_program("INLAY_GRANTEE_PATTERN"), "--animate", NULL};
	pid_t pid = harness_spawn(h, argv, g->token);

	assert_true(wait_until(h, g->accepted == 1));
	/* Let it draw a few frames, then kill it while it is drawing. */
	for (int i = 0; i < 5; i++)
		surface_commit_wait(parent);
	kill(pid, SIGKILL);
	assert_true(wait_until(h, g->gone == 1 && g->tokens == 2));
	assert_int_equal(g->gone_reason, SCREEN_GRANT_V1_GONE_REASON_DISCONNECTED);
	assert_true(harness_compositor_alive(h));

	/* The fresh token restarts it. */
	harness_spawn(h, argv, g->token);
	assert_true(wait_until(h, g->accepted == 2));
	expect_no_error(granter);
}

/* A grantee shell that hands its token back through a file and waits. */
static pid_t spawn_demo_with_token_sink(struct harness *h, char *path, size_t size)
{
	static char script[1400];
	char *argv[] = {
	    (char *)harness_program("INLAY_GRANT_DEMO"), "--", "/bin/sh", "-c", script, NULL};

	snprintf(path, size, "%s/token", h->log_dir);
	unlink(path);
	snprintf(script, sizeof(script),
		 "[ -e '%s' ] || printf %%s \"$INLAY_GRANT_TOKEN\" > '%s'; exec sleep 60", path,
		 path);
	return harness_spawn(h, argv, NULL);
}

static bool read_token(const char *path, char *token, size_t size)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(token, size, f) && *token;
	fclose(f);
	return ok;
}

static void test_granter_killed(void **state)
{
	struct harness *h = *state;
	struct client *grantee = client_create(h);
	char path[600], token[128] = "";
	pid_t demo = spawn_demo_with_token_sink(h, path, sizeof(path));
	struct lease *l;

	assert_true(wait_until(h, read_token(path, token, sizeof(token))));
	l = lease_accept(surface_create(grantee), token);
	assert_true(wait_until(h, l->configures >= 1));
	assert_true(l->width > 0 && l->height > 0);
	kill(-demo, SIGKILL);
	assert_true(wait_until(h, l->revoked));
	assert_int_equal(l->revoke_reason, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANTER_GONE);
	assert_true(harness_compositor_alive(h));
	expect_no_error(grantee);
}

static size_t count_color(const struct image *img, uint32_t color)
{
	size_t n = 0;

	for (size_t i = 0; i < (size_t)img->width * img->height; i++)
		n += img->pixels[i] == color;
	return n;
}

/* Screenshots until @color covers more (or, if !more, no) pixels than @threshold. */
static bool screen_shows(struct client *c, uint32_t color, size_t threshold)
{
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;

	while (harness_now_ms() < end) {
		struct image *img = screenshot(c);
		size_t n = count_color(img, color);

		image_destroy(img);
		if (n > threshold)
			return true;
		harness_dispatch(c->harness, 50);
	}
	return false;
}

static pid_t first_child_of(pid_t parent)
{
	char path[64];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", parent, parent);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid;
}

/* The two examples together: a killed grantee shows the error colour and comes back. */
static void test_demo_restarts_killed_grantee(void **state)
{
	struct harness *h = *state;
	struct client *viewer = client_create(h);
	char *argv[] = {(char *)harness_program("INLAY_GRANT_DEMO"), "--",
			(char *)harness_program("INLAY_GRANTEE_PATTERN"), "--animate", NULL};
	pid_t demo = harness_spawn(h, argv, NULL), child;

	/* Both grantees draw their yellow rims (4 px around ~300x330 each). */
	assert_true(screen_shows(viewer, PATTERN_RIM, 2 * 4000));
	assert_true(wait_until(h, (child = first_child_of(demo)) > 0));
	kill(child, SIGKILL);
	assert_true(screen_shows(viewer, DEMO_ERROR, 10000));
	assert_true(harness_compositor_alive(h));
	/* Restarted after a second: the rims are back and the error colour is gone. */
	assert_true(screen_shows(viewer, PATTERN_RIM, 2 * 4000));
	{
		struct image *img = screenshot(viewer);

		assert_int_equal(count_color(img, DEMO_ERROR), 0);
		image_destroy(img);
	}
	assert_int_equal(kill(demo, 0), 0);
}

/* A popup without a parent may cost its client the connection, never the compositor. */
static void test_parentless_popup(void **state)
{
	struct harness *h = *state;
	struct client *c = client_create(h);
	struct surface *s = surface_create(c);
	struct xdg_positioner *positioner = xdg_wm_base_create_positioner(c->wm_base);
	struct xdg_popup *popup;

	s->xdg_surface = xdg_wm_base_get_xdg_surface(c->wm_base, s->wl_surface);
	xdg_positioner_set_size(positioner, 100, 50);
	xdg_positioner_set_anchor_rect(positioner, 0, 0, 10, 10);
	popup = xdg_surface_get_popup(s->xdg_surface, NULL, positioner);
	xdg_positioner_destroy(positioner);
	wl_surface_commit(s->wl_surface);
	client_roundtrip(c);
	xdg_popup_destroy(popup);

	assert_true(client_roundtrip(client_create(h)));
	assert_true(harness_compositor_alive(h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_grantee_killed_mid_frame),
	    HARNESS_TEST(test_granter_killed),
	    HARNESS_TEST(test_demo_restarts_killed_grantee),
	    HARNESS_TEST(test_parentless_popup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
