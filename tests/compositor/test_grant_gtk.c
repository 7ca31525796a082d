// SPDX-License-Identifier: MIT
/* A third-party toolkit as granter: a GTK4 window embeds inlay-grantee-pattern. */
#include <stdlib.h>

#include "harness.h"

#define PATTERN_RIM 0xffd000

static size_t rim_pixels(struct client *c)
{
	struct image *img = screenshot(c);
	size_t n = 0;

	for (size_t i = 0; i < (size_t)img->width * img->height; i++)
		n += img->pixels[i] == PATTERN_RIM;
	image_destroy(img);
	return n;
}

static void test_gtk_window_grants(void **state)
{
	struct harness *h = *state;
	struct client *viewer = client_create(h);
	char *argv[] = {(char *)harness_program("INLAY_GTK_GRANTER"),
			(char *)harness_program("INLAY_GRANTEE_PATTERN"), NULL};
	size_t rim = 0;

	setenv("GDK_BACKEND", "wayland", 1);
	setenv("GSK_RENDERER", "cairo", 1);
	harness_spawn(h, argv, NULL);
	/* The 200x150 grant's 4-pixel rim: 2 * 4 * (200 + 150 - 8) = 2736 pixels. */
	assert_true(wait_until(h, (rim = rim_pixels(viewer)) == 2736));
	assert_true(harness_compositor_alive(h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_gtk_window_grants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
