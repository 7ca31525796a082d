// SPDX-License-Identifier: MIT
/* Pointer and keyboard routing between a granter and its grantee. */
#include <linux/input-event-codes.h>

#include "harness.h"

#define PARENT	0xff804020
#define GRANTEE 0xff20c040

#define RX 40
#define RY 30
#define RW 120
#define RH 80

/* A scene whose grant (RX, RY, RW, RH) shows a 200x150 buffer. */
struct input_scene {
	struct grant_scene sc;
	struct surface *child;
	struct grant *grant;
	struct pointer_state *gp, *cp; /* the granter's and the grantee's pointers */
};

static void input_scene_init(struct input_scene *is, struct harness *h)
{
	grant_scene_init(&is->sc, h, PARENT);
	is->grant = grant_create_wait(is->sc.parent, RX, RY, RW, RH);
	is->child = grant_scene_grantee(&is->sc, is->grant, 200, 150, GRANTEE);
	is->gp = &is->sc.granter->pointer_state;
	is->cp = &is->sc.grantee->pointer_state;
}

static void move_to(struct grant_scene *sc, int32_t x, int32_t y)
{
	input_move(sc->input, sc->ox + x, sc->oy + y);
	assert_true(client_roundtrip(sc->input));
	assert_true(client_roundtrip(sc->granter));
	assert_true(client_roundtrip(sc->grantee));
}

static void test_pointer_routing(void **state)
{
	struct input_scene is;
	struct grant_scene *sc = &is.sc;

	input_scene_init(&is, *state);
	move_to(sc, RX + 10, RY + 20);
	assert_true(wait_until(sc->h, is.cp->focus == is.child->wl_surface));
	assert_int_equal((int)is.cp->x, 10);
	assert_int_equal((int)is.cp->y, 20);
	assert_null(is.gp->focus);

	move_to(sc, RX + RW - 1, RY + RH - 1);
	assert_true(wait_until(sc->h, (int)is.cp->x == RW - 1 && (int)is.cp->y == RH - 1));

	/* Beyond the rectangle, where the larger buffer is cropped: the parent. */
	move_to(sc, RX + RW + 20, RY + 10);
	assert_true(wait_until(sc->h, is.gp->focus == sc->parent->wl_surface));
	assert_null(is.cp->focus);
	assert_int_equal((int)is.gp->x, RX + RW + 20);
	assert_int_equal((int)is.gp->y, RY + 10);
}

static void test_clicks_and_keys(void **state)
{
	struct input_scene is;
	struct grant_scene *sc = &is.sc;
	struct keyboard_state *gk, *ck;

	input_scene_init(&is, *state);
	gk = &sc->granter->keyboard_state;
	ck = &sc->grantee->keyboard_state;

	move_to(sc, RX + 5, RY + 5);
	input_button(sc->input, BTN_LEFT, true);
	input_button(sc->input, BTN_LEFT, false);
	assert_true(wait_until(sc->h, is.cp->presses == 1));
	assert_int_equal(is.cp->last_button, BTN_LEFT);
	assert_int_equal(is.gp->presses, 0);
	assert_true(wait_until(sc->h, ck->focus == is.child->wl_surface));
	input_key(sc->input, KEY_A);
	assert_true(wait_until(sc->h, ck->keys == 1));
	assert_int_equal(ck->last_key, KEY_A);
	assert_int_equal(gk->keys, 0);

	/* A click elsewhere in the window gives the keyboard back to the granter. */
	move_to(sc, 300, 250);
	input_button(sc->input, BTN_LEFT, true);
	input_button(sc->input, BTN_LEFT, false);
	assert_true(wait_until(sc->h, is.gp->presses == 1));
	assert_int_equal(is.cp->presses, 1);
	assert_true(wait_until(sc->h, gk->focus == sc->parent->wl_surface));
	input_key(sc->input, KEY_B);
	assert_true(wait_until(sc->h, gk->keys == 1));
	assert_int_equal(gk->last_key, KEY_B);
	assert_int_equal(ck->keys, 1);
}

static void test_hidden_grant_takes_no_input(void **state)
{
	struct input_scene is;
	struct grant_scene *sc = &is.sc;

	input_scene_init(&is, *state);
	screen_grant_v1_hide(is.grant->proxy);
	surface_commit_wait(sc->parent);
	move_to(sc, RX + 10, RY + 10);
	assert_true(wait_until(sc->h, is.gp->focus == sc->parent->wl_surface));
	input_button(sc->input, BTN_LEFT, true);
	input_button(sc->input, BTN_LEFT, false);
	assert_true(wait_until(sc->h, is.gp->presses == 1));
	assert_int_equal(is.cp->enters, 0);
	assert_int_equal(is.cp->presses, 0);

	screen_grant_v1_show(is.grant->proxy);
	surface_commit_wait(sc->parent);
	move_to(sc, RX + 11, RY + 11);
	assert_true(wait_until(sc->h, is.cp->focus == is.child->wl_surface));
}

static void test_moved_rectangle_routes_input(void **state)
{
	struct input_scene is;
	struct grant_scene *sc = &is.sc;

	input_scene_init(&is, *state);
	screen_grant_v1_set_rectangle(is.grant->proxy, 200, 150, 100, 100);
	surface_commit_wait(sc->parent);
	move_to(sc, 250, 170);
	assert_true(wait_until(sc->h, is.cp->focus == is.child->wl_surface));
	assert_int_equal((int)is.cp->x, 50);
	assert_int_equal((int)is.cp->y, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_pointer_routing),
	    HARNESS_TEST(test_clicks_and_keys),
	    HARNESS_TEST(test_hidden_grant_takes_no_input),
	    HARNESS_TEST(test_moved_rectangle_routes_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
