// SPDX-License-Identifier: MIT
/* screen-grant-v1 on the wire: tokens, configures, lifetimes and every error code. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "xdg-shell-client-protocol.h"

#define PARENT_COLOR 0xff304050

static struct surface *granter_window(struct client *c)
{
	return toplevel_create(c, 400, 300, PARENT_COLOR);
}

/* A granter's window with one grant, and a grantee client; leased_create() also accepts it. */
struct leased {
	struct client *granter, *grantee;
	struct surface *parent, *s;
	struct grant *g;
	struct lease *l;
};

static struct leased granted_create(struct harness *h, int32_t x, int32_t y, int32_t width,
				    int32_t height)
{
	struct leased p = {.granter = client_create(h), .grantee = client_create(h)};

	p.parent = granter_window(p.granter);
	p.g = grant_create_wait(p.parent, x, y, width, height);
	return p;
}

static struct leased leased_create(struct harness *h, int32_t x, int32_t y, int32_t width,
				   int32_t height)
{
	struct leased p = granted_create(h, x, y, width, height);

	p.s = surface_create(p.grantee);
	p.l = lease_accept_wait(p.s, p.g->token);
	assert_true(wait_until(h, p.g->accepted == 1));
	return p;
}

static void test_token_flow(void **state)
{
	struct harness *h = *state;
	struct client *granter = client_create(h), *grantee = client_create(h);
	struct surface *parent = granter_window(granter);
	struct grant *a = grant_create_wait(parent, 10, 20, 120, 80);
	struct grant *b = grant_create_wait(parent, 200, 20, 64, 48);
	struct surface *s = surface_create(grantee);
	struct lease *l;
	size_t len = strlen(a->token);

	/* At least 128 random bits need at least 22 printable characters. */
	assert_true(len >= 22 && len <= 64);
	for (size_t i = 0; i < len; i++)
		assert_true(a->token[i] >= 0x20 && a->token[i] <= 0x7e);
	assert_string_not_equal(a->token, b->token);
	assert_int_equal(a->tokens, 1);

	l = lease_accept(s, a->token);
	assert_true(wait_until(h, l->configures > 0 && a->accepted > 0));
	assert_int_equal(l->width, 120);
	assert_int_equal(l->height, 80);
	assert_false(l->revoked);
	assert_int_equal(b->accepted, 0);
	assert_int_equal(a->tokens, 1);
	expect_no_error(granter);
	expect_no_error(grantee);
}

static void test_configure_follows_rectangle(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 100, 50);

	assert_int_equal(p.l->width, 100);
	assert_int_equal(p.l->height, 50);

	/* Takes effect on the granted surface's next commit, not before. */
	screen_grant_v1_set_rectangle(p.g->proxy, 5, 5, 200, 80);
	assert_true(client_roundtrip(p.granter));
	assert_true(client_roundtrip(p.grantee));
	assert_int_equal(p.l->configures, 1);
	surface_commit_wait(p.parent);
	assert_true(wait_until(h, p.l->configures == 2));
	assert_int_equal(p.l->width, 200);
	assert_int_equal(p.l->height, 80);

	/* A move alone keeps the size: no configure. */
	screen_grant_v1_set_rectangle(p.g->proxy, 50, 60, 200, 80);
	surface_commit_wait(p.parent);
	assert_true(client_roundtrip(p.grantee));
	assert_int_equal(p.l->configures, 2);
	expect_no_error(p.granter);
}

static void test_show_hide_keep_lease(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	screen_grant_v1_hide(p.g->proxy);
	screen_grant_v1_hide(p.g->proxy);
	surface_commit_wait(p.parent);
	screen_grant_v1_show(p.g->proxy);
	surface_commit_wait(p.parent);
	assert_true(client_roundtrip(p.grantee));
	assert_false(p.l->revoked);
	assert_int_equal(p.g->gone, 0);
	expect_no_error(p.granter);
	expect_no_error(p.grantee);
}

static void test_destroy_grant_first(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	grant_destroy(p.g);
	assert_true(wait_until(h, p.l->revoked));
	assert_int_equal(p.l->revoke_reason, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANT_DESTROYED);
	/* Destroying the inert lease afterwards is fine. */
	lease_destroy(p.l);
	expect_no_error(p.grantee);
	expect_no_error(p.granter);
}

static void test_destroy_lease_first(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);
	char old[sizeof(p.g->token)];

	memcpy(old, p.g->token, sizeof(old));
	lease_destroy(p.l);
	assert_true(wait_until(h, p.g->gone == 1 && p.g->tokens == 2));
	assert_int_equal(p.g->gone_reason, SCREEN_GRANT_V1_GONE_REASON_DESTROYED);
	assert_string_not_equal(old, p.g->token);

	/* The surface keeps its role and accepts the fresh token. */
	p.l = lease_accept(p.s, p.g->token);
	assert_true(wait_until(h, p.g->accepted == 2 && p.l->configures == 1));
	assert_false(p.l->revoked);
	expect_no_error(p.grantee);
}

static void test_destroy_grantee_surface_first(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	surface_destroy(p.s);
	assert_true(wait_until(h, p.g->gone == 1 && p.g->tokens == 2));
	assert_int_equal(p.g->gone_reason, SCREEN_GRANT_V1_GONE_REASON_DESTROYED);
	lease_destroy(p.l);
	expect_no_error(p.grantee);
	expect_no_error(p.granter);
}

static void test_destroy_granted_surface_first(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	surface_destroy(p.parent);
	assert_true(wait_until(h, p.l->revoked));
	assert_int_equal(p.l->revoke_reason, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANTER_GONE);
	/* The grant is inert: requests are ignored, destroy works. */
	screen_grant_v1_set_rectangle(p.g->proxy, 1, 1, 10, 10);
	screen_grant_v1_hide(p.g->proxy);
	screen_grant_v1_show(p.g->proxy);
	expect_no_error(p.granter);
	grant_destroy(p.g);
	expect_no_error(p.granter);
	expect_no_error(p.grantee);
}

static void test_granter_disconnects(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	client_destroy(p.granter);
	assert_true(wait_until(h, p.l->revoked));
	assert_int_equal(p.l->revoke_reason, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANTER_GONE);
	expect_no_error(p.grantee);
	assert_true(harness_compositor_alive(h));
}

static void test_grantee_disconnects(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	client_destroy(p.grantee);
	assert_true(wait_until(h, p.g->gone == 1 && p.g->tokens == 2));
	assert_int_equal(p.g->gone_reason, SCREEN_GRANT_V1_GONE_REASON_DISCONNECTED);
	expect_no_error(p.granter);
}

static void expect_invalid_token(struct harness *h, struct client *c, const char *token)
{
	struct surface *s = surface_create(c);
	struct lease *l = lease_accept(s, token);

	assert_true(wait_until(h, l->revoked));
	assert_int_equal(l->revoke_reason, SCREEN_GRANT_LEASE_V1_REVOKE_REASON_INVALID_TOKEN);
	assert_int_equal(l->configures, 0);
	expect_no_error(c);
}

static void test_token_single_use(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	expect_invalid_token(h, client_create(h), p.g->token);
	expect_invalid_token(h, p.grantee, p.g->token);
	/* The first lease is untouched. */
	assert_true(client_roundtrip(p.grantee));
	assert_false(p.l->revoked);
	assert_int_equal(p.g->accepted, 1);
	assert_int_equal(p.g->gone, 0);
}

static void test_stale_and_foreign_tokens(void **state)
{
	struct harness *h = *state;
	struct client *granter = client_create(h), *grantee = client_create(h);
	struct surface *parent = granter_window(granter);
	struct grant *a = grant_create_wait(parent, 0, 0, 64, 64);
	struct grant *b = grant_create_wait(parent, 100, 0, 64, 64);
	char stale[sizeof(a->token)], dead[sizeof(b->token)];
	struct lease *l;

	/* A token replaced after grantee_gone. */
	memcpy(stale, a->token, sizeof(stale));
	l = lease_accept(surface_create(grantee), a->token);
	assert_true(wait_until(h, a->accepted == 1));
	lease_destroy(l);
	assert_true(wait_until(h, a->tokens == 2));
	expect_invalid_token(h, grantee, stale);

	/* The token of a destroyed grant, and one no grant ever had. */
	memcpy(dead, b->token, sizeof(dead));
	grant_destroy(b);
	assert_true(client_roundtrip(granter));
	expect_invalid_token(h, grantee, dead);
	expect_invalid_token(h, grantee, "0123456789abcdef0123456789abcdef");
	expect_invalid_token(h, grantee, "");

	/* A failed accept leaves the surface usable for a good token. */
	{
		struct surface *s = surface_create(grantee);
		struct lease *bad = lease_accept(s, stale);

		assert_true(wait_until(h, bad->revoked));
		lease_destroy(bad);
		l = lease_accept(s, a->token);
		assert_true(wait_until(h, l->configures == 1 && a->accepted == 2));
	}
	expect_no_error(grantee);
}

static void test_manager_destroy_keeps_grants(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, 0, 0, 64, 64);

	screen_grant_manager_v1_destroy(p.granter->grants);
	p.granter->grants = NULL;
	screen_grant_manager_v1_destroy(p.grantee->grants);
	p.grantee->grants = NULL;
	screen_grant_v1_set_rectangle(p.g->proxy, 0, 0, 32, 32);
	surface_commit_wait(p.parent);
	assert_true(wait_until(h, p.l->configures == 2));
	assert_false(p.l->revoked);
	expect_no_error(p.granter);
	expect_no_error(p.grantee);
}

static void test_accept_surface_with_role(void **state)
{
	struct leased p = granted_create(*state, 0, 0, 64, 64);
	struct surface *own = toplevel_create(p.grantee, 50, 50, 0xff00ff00);

	lease_accept(own, p.g->token);
	expect_protocol_error(p.grantee, &screen_grant_manager_v1_interface,
			      SCREEN_GRANT_MANAGER_V1_ERROR_ROLE);
	assert_int_equal(p.g->accepted, 0);
}

static void test_accept_subsurface(void **state)
{
	struct leased p = granted_create(*state, 0, 0, 64, 64);
	struct surface *top = toplevel_create(p.grantee, 50, 50, 0xff00ff00);
	struct surface *child = surface_create(p.grantee);
	struct wl_subsurface *sub = wl_subcompositor_get_subsurface(
	    p.grantee->subcompositor, child->wl_surface, top->wl_surface);

	lease_accept(child, p.g->token);
	wl_subsurface_destroy(sub);
	expect_protocol_error(p.grantee, &screen_grant_manager_v1_interface,
			      SCREEN_GRANT_MANAGER_V1_ERROR_ROLE);
}

static void test_accept_twice_same_surface(void **state)
{
	struct harness *h = *state;
	struct client *granter = client_create(h), *grantee = client_create(h);
	struct surface *parent = granter_window(granter);
	struct grant *a = grant_create_wait(parent, 0, 0, 64, 64);
	struct grant *b = grant_create_wait(parent, 100, 0, 64, 64);
	struct surface *s = surface_create(grantee);

	lease_accept(s, a->token);
	assert_true(wait_until(h, a->accepted == 1));
	lease_accept(s, b->token);
	expect_protocol_error(grantee, &screen_grant_manager_v1_interface,
			      SCREEN_GRANT_MANAGER_V1_ERROR_ALREADY_LEASED);
}

static void test_self_grant(void **state)
{
	struct harness *h = *state;
	struct client *c = client_create(h);
	struct surface *s = surface_create(c);
	struct grant *g = grant_create_wait(s, 0, 0, 64, 64);

	lease_accept(s, g->token);
	expect_protocol_error(c, &screen_grant_manager_v1_interface,
			      SCREEN_GRANT_MANAGER_V1_ERROR_SELF_GRANT);
}

static void test_same_client_both_sides(void **state)
{
	struct harness *h = *state;
	struct client *c = client_create(h);
	struct surface *parent = granter_window(c);
	struct grant *g = grant_create_wait(parent, 8, 8, 64, 64);
	struct lease *l = lease_accept(surface_create(c), g->token);

	assert_true(wait_until(h, l->configures == 1 && g->accepted == 1));
	expect_no_error(c);
}

static const int32_t bad_rects[][4] = {
    {0, 0, 0, 10},	  {0, 0, 10, 0},	{0, 0, -1, 10},	     {0, 0, 10, -5},
    {0, 0, 32768, 10},	  {0, 0, 10, 32768},	{-32769, 0, 10, 10}, {0, 32768, 10, 10},
    {INT32_MIN, 0, 1, 1}, {0, 0, INT32_MAX, 1},
};

static void test_invalid_rectangles(void **state)
{
	struct harness *h = *state;

	for (size_t i = 0; i < sizeof(bad_rects) / sizeof(bad_rects[0]); i++) {
		const int32_t *r = bad_rects[i];
		struct client *c = client_create(h);
		struct surface *s = surface_create(c);

		print_message("# grant_surface %d,%d %dx%d\n", r[0], r[1], r[2], r[3]);
		grant_create(s, r[0], r[1], r[2], r[3]);
		expect_protocol_error(c, &screen_grant_manager_v1_interface,
				      SCREEN_GRANT_MANAGER_V1_ERROR_INVALID_RECTANGLE);
		client_destroy(c);

		c = client_create(h);
		s = surface_create(c);
		print_message("# set_rectangle %d,%d %dx%d\n", r[0], r[1], r[2], r[3]);
		screen_grant_v1_set_rectangle(grant_create_wait(s, 0, 0, 8, 8)->proxy, r[0], r[1],
					      r[2], r[3]);
		expect_protocol_error(c, &screen_grant_v1_interface,
				      SCREEN_GRANT_V1_ERROR_INVALID_RECTANGLE);
		client_destroy(c);
	}
	assert_true(harness_compositor_alive(h));
}

static void test_extreme_valid_rectangles(void **state)
{
	struct harness *h = *state;
	struct leased p = leased_create(h, -32768, 32767, 32767, 32767);

	assert_int_equal(p.l->width, 32767);
	assert_int_equal(p.l->height, 32767);
	screen_grant_v1_set_rectangle(p.g->proxy, 32767, -32768, 1, 1);
	surface_commit_wait(p.parent);
	assert_true(wait_until(h, p.l->configures == 2));
	assert_int_equal(p.l->width, 1);
	expect_no_error(p.granter);
	expect_no_error(p.grantee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_token_flow),
	    HARNESS_TEST(test_configure_follows_rectangle),
	    HARNESS_TEST(test_show_hide_keep_lease),
	    HARNESS_TEST(test_destroy_grant_first),
	    HARNESS_TEST(test_destroy_lease_first),
	    HARNESS_TEST(test_destroy_grantee_surface_first),
	    HARNESS_TEST(test_destroy_granted_surface_first),
	    HARNESS_TEST(test_granter_disconnects),
	    HARNESS_TEST(test_grantee_disconnects),
	    HARNESS_TEST(test_token_single_use),
	    HARNESS_TEST(test_stale_and_foreign_tokens),
	    HARNESS_TEST(test_manager_destroy_keeps_grants),
	    HARNESS_TEST(test_accept_surface_with_role),
	    HARNESS_TEST(test_accept_subsurface),
	    HARNESS_TEST(test_accept_twice_same_surface),
	    HARNESS_TEST(test_self_grant),
	    HARNESS_TEST(test_same_client_both_sides),
	    HARNESS_TEST(test_invalid_rectangles),
	    HARNESS_TEST(test_extreme_valid_rectangles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
