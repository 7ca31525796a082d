// SPDX-License-Identifier: MIT
/* virtio-rng through guest_rng, and its absence with --no-rng. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define STATUS_GUEST_FAILED 5

static void test_rng_reads(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot", "--kernel", harness_guest("rng"), NULL};

	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), 0);
	assert_non_null(strstr(harness_stdout(ctx->vm), "rng: ok\n"));
}

static void test_no_rng(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot", "--kernel", harness_guest("rng"), "--no-rng", NULL};

	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), STATUS_GUEST_FAILED);
	assert_non_null(strstr(harness_stdout(ctx->vm), "rng: no virtio-rng device\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rng_reads, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_no_rng, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
