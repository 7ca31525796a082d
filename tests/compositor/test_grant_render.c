// SPDX-License-Identifier: MIT
/* What screen-grant puts on the screen, checked by pixel through wlr-screencopy. */
#include <linux/input-event-codes.h>

#include "harness.h"
#include "xdg-shell-client-protocol.h"

#define PARENT	 0xff804020
#define GRANTEE	 0xff20c040
#define GRANTEE2 0xff2040c0

static struct region at(struct grant_scene *sc, int32_t x, int32_t y, int32_t w, int32_t h,
			uint32_t color)
{
	return (struct region){sc->ox + x, sc->oy + y, w, h, color};
}

/* Check that the rectangle (40, 30, 120, 80) of the window shows @color. */
static void verify_rect(struct grant_scene *sc, const char *name, uint32_t color)
{
	const struct region r = at(sc, 40, 30, 120, 80, color);

	verify_screen(sc->input, name, &r, 1);
}

/* Grant (40, 30, 120, 80), fill it exactly and check it is on screen. */
static struct grant *shown_grant(struct grant_scene *sc, const char *name)
{
	struct grant *g = grant_create_wait(sc->parent, 40, 30, 120, 80);

	grant_scene_grantee(sc, g, 120, 80, GRANTEE);
	verify_rect(sc, name, GRANTEE);
	return g;
}

static void test_drawn_clipped_above_parent(void **state)
{
	struct grant_scene sc;

	grant_scene_init(&sc, *state, PARENT);
	grant_scene_grantee(&sc, grant_create_wait(sc.parent, 40, 30, 120, 80), 200, 150, GRANTEE);
	{
		const struct region expect[] = {
		    at(&sc, 40, 30, 120, 80, GRANTEE), /* the rectangle, above the parent */
		    at(&sc, 160, 30, 80, 120, PARENT), /* right of it: the buffer is cropped */
		    at(&sc, 40, 110, 120, 40, PARENT), /* below it: cropped too */
		    at(&sc, 0, 0, 400, 30, PARENT),    /* the rest of the window */
		};
		verify_screen(sc.input, "clipped", expect, 4);
	}
}

static void test_smaller_buffer_leaves_parent(void **state)
{
	struct grant_scene sc;

	grant_scene_init(&sc, *state, PARENT);
	grant_scene_grantee(&sc, grant_create_wait(sc.parent, 40, 30, 120, 80), 50, 40, GRANTEE);
	{
		const struct region expect[] = {
		    at(&sc, 40, 30, 50, 40, GRANTEE),
		    at(&sc, 90, 30, 70, 80, PARENT),
		    at(&sc, 40, 70, 50, 40, PARENT),
		};
		verify_screen(sc.input, "smaller", expect, 3);
	}
}

static void test_hidden_grant_not_drawn(void **state)
{
	struct grant_scene sc;
	struct grant *g;

	grant_scene_init(&sc, *state, PARENT);
	g = shown_grant(&sc, "before-hide");
	screen_grant_v1_hide(g->proxy);
	surface_commit_wait(sc.parent);
	verify_rect(&sc, "hidden", PARENT);
	screen_grant_v1_show(g->proxy);
	surface_commit_wait(sc.parent);
	verify_rect(&sc, "shown-again", GRANTEE);
}

static void test_hidden_from_the_start(void **state)
{
	struct grant_scene sc;
	struct grant *g;
	struct surface *s;

	grant_scene_init(&sc, *state, PARENT);
	g = grant_create_wait(sc.parent, 40, 30, 120, 80);
	screen_grant_v1_hide(g->proxy);
	surface_commit_wait(sc.parent);
	s = surface_create(sc.grantee);
	lease_accept_wait(s, g->token);
	surface_attach_color(s, 120, 80, GRANTEE);
	surface_commit(s);
	surface_commit_wait(sc.parent); /* a frame drawn after the grantee's commit */
	verify_rect(&sc, "hidden-start", PARENT);
}

static void test_rectangle_move_and_resize(void **state)
{
	struct grant_scene sc;
	struct grant *g;

	grant_scene_init(&sc, *state, PARENT);
	g = grant_create_wait(sc.parent, 40, 30, 120, 80);
	grant_scene_grantee(&sc, g, 200, 150, GRANTEE);
	screen_grant_v1_set_rectangle(g->proxy, 200, 150, 100, 60);
	surface_commit_wait(sc.parent);
	{
		const struct region expect[] = {
		    at(&sc, 200, 150, 100, 60, GRANTEE),
		    at(&sc, 40, 30, 120, 80, PARENT),
		    at(&sc, 300, 150, 100, 100, PARENT),
		    at(&sc, 200, 210, 100, 60, PARENT),
		};
		verify_screen(sc.input, "moved", expect, 4);
	}
}

static void test_two_grants(void **state)
{
	struct grant_scene sc;

	grant_scene_init(&sc, *state, PARENT);
	grant_scene_grantee(&sc, grant_create_wait(sc.parent, 10, 10, 100, 100), 100, 100, GRANTEE);
	grant_scene_grantee(&sc, grant_create_wait(sc.parent, 200, 10, 100, 100), 100, 100,
			    GRANTEE2);
	{
		const struct region expect[] = {
		    at(&sc, 10, 10, 100, 100, GRANTEE),
		    at(&sc, 200, 10, 100, 100, GRANTEE2),
		    at(&sc, 110, 10, 90, 100, PARENT),
		};
		verify_screen(sc.input, "two", expect, 3);
	}
}

static void test_destroyed_grant_not_drawn(void **state)
{
	struct grant_scene sc;
	struct grant *g;

	grant_scene_init(&sc, *state, PARENT);
	g = shown_grant(&sc, "before-destroy");
	grant_destroy(g);
	verify_rect(&sc, "destroyed", PARENT);
}

/* An interactive move started from a click in the parent carries the grant along. */
static void test_parent_move_moves_grant(void **state)
{
	struct grant_scene sc;
	struct pointer_state *p;
	int32_t nx, ny;

	grant_scene_init(&sc, *state, PARENT);
	grant_scene_grantee(&sc, grant_create_wait(sc.parent, 40, 30, 120, 80), 120, 80, GRANTEE);
	p = &sc.granter->pointer_state;
	input_move(sc.input, sc.ox + 300, sc.oy + 250);
	input_button(sc.input, BTN_LEFT, true);
	assert_true(wait_until(sc.h, p->presses == 1));
	xdg_toplevel_move(sc.parent->toplevel, sc.granter->seat, p->button_serial);
	assert_true(client_roundtrip(sc.granter));
	for (int i = 1; i <= 10; i++) {
		input_move(sc.input, sc.ox + 300 + 10 * i, sc.oy + 250 + 8 * i);
		assert_true(client_roundtrip(sc.input));
	}
	input_button(sc.input, BTN_LEFT, false);
	assert_true(client_roundtrip(sc.input));
	surface_locate(sc.input, sc.parent, &nx, &ny);
	assert_int_equal(nx, sc.ox + 100);
	assert_int_equal(ny, sc.oy + 80);
	sc.ox = nx;
	sc.oy = ny;
	{
		const struct region expect[] = {
		    at(&sc, 40, 30, 120, 80, GRANTEE),
		    at(&sc, 0, 0, 400, 30, PARENT),
		};
		verify_screen(sc.input, "parent-moved", expect, 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_drawn_clipped_above_parent),
	    HARNESS_TEST(test_smaller_buffer_leaves_parent),
	    HARNESS_TEST(test_hidden_grant_not_drawn),
	    HARNESS_TEST(test_hidden_from_the_start),
	    HARNESS_TEST(test_rectangle_move_and_resize),
	    HARNESS_TEST(test_two_grants),
	    HARNESS_TEST(test_destroyed_grant_not_drawn),
	    HARNESS_TEST(test_parent_move_moves_grant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
