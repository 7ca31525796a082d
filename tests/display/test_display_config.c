// SPDX-License-Identifier: MIT
/* display/config.c: --display, --gpu, --no-input, --grant and INLAY_GRANT_TOKEN. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "display/display.h"

static int setup(void **state)
{
	unsetenv("WAYLAND_DISPLAY");
	unsetenv(INLAY_GRANT_TOKEN_ENV);
	return 0;
}

static int parse(struct display_config *c, const char *display, const char *gpu, const char *grant)
{
	char err[128] = "";
	int ret = display_config_parse(c, display, gpu, false, grant, err, sizeof(err));

	assert_true(ret == 0 || err[0]);
	return ret;
}

static void test_defaults(void **state)
{
	struct display_config c;

	assert_int_equal(parse(&c, NULL, NULL, NULL), 0);
	assert_int_equal(c.kind, DISPLAY_NONE);
	assert_false(display_config_has_gpu(&c));
	assert_string_equal(c.grant_token, "");
	setenv("WAYLAND_DISPLAY", "wayland-9", 1);
	assert_int_equal(parse(&c, NULL, "320x240", NULL), 0);
	assert_int_equal(c.kind, DISPLAY_WAYLAND);
	assert_int_equal(c.width, 320);
	assert_int_equal(c.height, 240);
	assert_string_equal(c.grant_token, "");
}

/* The inherited token means a grant, also without WAYLAND_DISPLAY, and leaves the environment. */
static void test_token_from_env(void **state)
{
	struct display_config c;

	setenv(INLAY_GRANT_TOKEN_ENV, "0123456789abcdef0123456789abcdef", 1);
	assert_int_equal(parse(&c, NULL, NULL, NULL), 0);
	assert_int_equal(c.kind, DISPLAY_WAYLAND);
	assert_string_equal(c.grant_token, "0123456789abcdef0123456789abcdef");
	assert_null(getenv(INLAY_GRANT_TOKEN_ENV));
}

static void test_grant_wins_over_env(void **state)
{
	struct display_config c;

	setenv(INLAY_GRANT_TOKEN_ENV, "from-env", 1);
	assert_int_equal(parse(&c, NULL, NULL, "from-cmdline"), 0);
	assert_int_equal(c.kind, DISPLAY_WAYLAND);
	assert_string_equal(c.grant_token, "from-cmdline");
	assert_null(getenv(INLAY_GRANT_TOKEN_ENV));
}

static void test_display_none(void **state)
{
	struct display_config c;

	assert_int_equal(parse(&c, "none", NULL, "tok"), -EINVAL);
	setenv(INLAY_GRANT_TOKEN_ENV, "tok", 1);
	assert_int_equal(parse(&c, "none", NULL, NULL), 0);
	assert_int_equal(c.kind, DISPLAY_NONE);
	assert_string_equal(c.grant_token, "");
	assert_null(getenv(INLAY_GRANT_TOKEN_ENV));
}

static void test_bad_tokens(void **state)
{
	char longest[INLAY_GRANT_TOKEN_MAX + 1], too_long[INLAY_GRANT_TOKEN_MAX + 2];
	struct display_config c;

	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(parse(&c, NULL, NULL, longest), 0);
	assert_string_equal(c.grant_token, longest);
	assert_int_equal(parse(&c, NULL, NULL, too_long), -EINVAL);
	assert_int_equal(parse(&c, NULL, NULL, ""), -EINVAL);
	assert_int_equal(parse(&c, NULL, NULL, "tab\there"), -EINVAL);
	setenv(INLAY_GRANT_TOKEN_ENV, "\x7f", 1);
	assert_int_equal(parse(&c, NULL, NULL, NULL), -EINVAL);
	assert_null(getenv(INLAY_GRANT_TOKEN_ENV));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, setup),
	    cmocka_unit_test_setup(test_token_from_env, setup),
	    cmocka_unit_test_setup(test_grant_wins_over_env, setup),
	    cmocka_unit_test_setup(test_display_none, setup),
	    cmocka_unit_test_setup(test_bad_tokens, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
