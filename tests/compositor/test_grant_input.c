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

struct scene {
	struct harness *h;
	struct client *granter, *grantee, *input;
	struct surface *parent, *child;
	struct grant *grant;
	int32_t ox, oy;
};

/* A 400x300 window with the grant (RX, RY, RW, RH) filled by a 200x150 buffer. */
static void scene_init(struct scene *sc, struct harness *h)
{
	struct lease *l;

	sc->h = h;
	sc->granter = client_create(h);
	sc->grantee = client_create(h);
	sc->input = client_create(h);
	sc->parent = toplevel_create(sc->granter, 400, 300, PARENT);
	surface_locate(sc->input, sc->parent, &sc->ox, &sc->oy);
	sc->grant = grant_create_wait(sc->parent, RX, RY, RW, RH);
	sc->child = surface_create(sc->grantee);
	l = lease_accept(sc->child, sc->grant->token);
	assert_true(wait_until(h, l->configures == 1));
	surface_attach_color(sc->child, 200, 150, GRANTEE);
	surface_commit_wait(sc->child);
}

static void move_to(struct scene *sc, int32_t x, int32_t y)
{
	input_move(sc->input, sc->ox + x, sc->oy + y);
	assert_true(client_roundtrip(sc->input));
	assert_true(client_roundtrip(sc->granter));
	assert_true(client_roundtrip(sc->grantee));
}

static void test_pointer_routing(void **state)
{
	struct scene sc;
	struct pointer_state *gp, *cp;

	scene_init(&sc, *state);
	gp = &sc.granter->pointer_state;
	cp = &sc.grantee->pointer_state;

	move_to(&sc, RX + 10, RY + 20);
	assert_true(wait_until(sc.h, cp->focus == sc.child->wl_surface));
	assert_int_equal((int)cp->x, 10);
	assert_int_equal((int)cp->y, 20);
	assert_null(gp->focus);

	move_to(&sc, RX + RW - 1, RY + RH - 1);
	assert_true(wait_until(sc.h, (int)cp->x == RW - 1 && (int)cp->y == RH - 1));

	/* Beyond the rectangle, where the larger buffer is cropped: the parent. */
	move_to(&sc, RX + RW + 20, RY + 10);
	assert_true(wait_until(sc.h, gp->focus == sc.parent->wl_surface));
	assert_null(cp->focus);
	assert_int_equal((int)gp->x, RX + RW + 20);
	assert_int_equal((int)gp->y, RY + 10);
}

static void test_clicks_and_keys(void **state)
{
	struct scene sc;
	struct pointer_state *gp, *cp;
	struct keyboard_state *gk, *ck;

	scene_init(&sc, *state);
	gp = &sc.granter->pointer_state;
	cp = &sc.grantee->pointer_state;
	gk = &sc.granter->keyboard_state;
	ck = &sc.grantee->keyboard_state;

	move_to(&sc, RX + 5, RY + 5);
	input_button(sc.input, BTN_LEFT, true);
	input_button(sc.input, BTN_LEFT, false);
	assert_true(wait_until(sc.h, cp->presses == 1));
	assert_int_equal(cp->last_button, BTN_LEFT);
	assert_int_equal(gp->presses, 0);
	assert_true(wait_until(sc.h, ck->focus == sc.child->wl_surface));
	input_key(sc.input, KEY_A);
	assert_true(wait_until(sc.h, ck->keys == 1));
	assert_int_equal(ck->last_key, KEY_A);
	assert_int_equal(gk->keys, 0);

	/* A click elsewhere in the window gives the keyboard back to the granter. */
	move_to(&sc, 300, 250);
	input_button(sc.input, BTN_LEFT, true);
	input_button(sc.input, BTN_LEFT, false);
	assert_true(wait_until(sc.h, gp->presses == 1));
	assert_int_equal(cp->presses, 1);
	assert_true(wait_until(sc.h, gk->focus == sc.parent->wl_surface));
	input_key(sc.input, KEY_B);
	assert_true(wait_until(sc.h, gk->keys == 1));
	assert_int_equal(gk->last_key, KEY_B);
	assert_int_equal(ck->keys, 1);
}

static void test_hidden_grant_takes_no_input(void **state)
{
	struct scene sc;
	struct pointer_state *gp, *cp;

	scene_init(&sc, *state);
	gp = &sc.granter->pointer_state;
	cp = &sc.grantee->pointer_state;
	screen_grant_v1_hide(sc.grant->proxy);
	surface_commit_wait(sc.parent);
	move_to(&sc, RX + 10, RY + 10);
	assert_true(wait_until(sc.h, gp->focus == sc.parent->wl_surface));
	input_button(sc.input, BTN_LEFT, true);
	input_button(sc.input, BTN_LEFT, false);
	assert_true(wait_until(sc.h, gp->presses == 1));
	assert_int_equal(cp->enters, 0);
	assert_int_equal(cp->presses, 0);

	screen_grant_v1_show(sc.grant->proxy);
	surface_commit_wait(sc.parent);
	move_to(&sc, RX + 11, RY + 11);
	assert_true(wait_until(sc.h, cp->focus == sc.child->wl_surface));
}

static void test_moved_rectangle_routes_input(void **state)
{
	struct scene sc;
	struct pointer_state *cp;

	scene_init(&sc, *state);
	cp = &sc.grantee->pointer_state;
	screen_grant_v1_set_rectangle(sc.grant->proxy, 200, 150, 100, 100);
	surface_commit_wait(sc.parent);
	move_to(&sc, 250, 170);
	assert_true(wait_until(sc.h, cp->focus == sc.child->wl_surface));
	assert_int_equal((int)cp->x, 50);
	assert_int_equal((int)cp->y, 20);
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
