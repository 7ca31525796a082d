// SPDX-License-Identifier: MIT
/* vCPUs, the 8250, and every way a guest can end: exit port, reset, crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define STATUS_RESET	    3
#define STATUS_CRASH	    4
#define STATUS_GUEST_FAILED 5

static void boot_smp(struct harness_ctx *ctx, const char *cpus)
{
	char expect_arg[32], line[32];
	const char *argv[] = {"boot", "--kernel",  harness_guest("smp"), "--cpus",
			      cpus,   "--cmdline", expect_arg,		 NULL};

	harness_require_kvm();
	snprintf(expect_arg, sizeof(expect_arg), "cpus=%s", cpus);
	snprintf(line, sizeof(line), "cpus up: %s\n", cpus);
	assert_int_equal(harness_run(ctx, argv), 0);
	assert_non_null(strstr(harness_stdout(ctx->vm), line));
}

static void test_one_cpu(void **state)
{
	boot_smp(*state, "1");
}

static void test_two_cpus(void **state)
{
	boot_smp(*state, "2");
}

static void test_four_cpus(void **state)
{
	boot_smp(*state, "4");
}

static void test_serial_echo(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot", "--kernel", harness_guest("serial"), NULL};

	harness_require_kvm();
	ctx->vm = harness_start(argv);
	assert_non_null(ctx->vm);
	if (!harness_wait_stdout(ctx->vm, "serial: ready\n", HARNESS_TIMEOUT_MS)) {
		harness_dump(ctx->vm);
		fail_msg("the guest never got ready");
	}
	assert_int_equal(harness_send(ctx->vm, "ping pong\n", 10), 0);
	/* A second burst, once the first has been echoed, needs a second interrupt. */
	if (!harness_wait_stdout(ctx->vm, "ping pong\n", HARNESS_TIMEOUT_MS)) {
		harness_dump(ctx->vm);
		fail_msg("no echo of the first line");
	}
	assert_int_equal(harness_send(ctx->vm, "abc~", 4), 0);
	assert_int_equal(harness_wait(ctx->vm, HARNESS_TIMEOUT_MS), 0);
	harness_dump(ctx->vm);
	assert_non_null(strstr(harness_stdout(ctx->vm),
			       "serial: ready\nping pong\nabc\nserial: echoed 13 bytes"));
}

static void test_serial_none(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot", "--kernel", harness_guest("exit"), "--serial", "none", NULL};

	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), 0);
	assert_null(strstr(harness_stdout(ctx->vm), "guest:"));
}

static void test_exit_zero(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot", "--kernel", harness_guest("exit"), NULL};

	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), 0);
	assert_non_null(strstr(harness_stdout(ctx->vm), "exit: status 0\n"));
}

static void test_exit_failure(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot",	   "--kernel",	harness_guest("exit"),
			      "--cmdline", "status=42", NULL};

	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), STATUS_GUEST_FAILED);
	assert_non_null(strstr(harness_stderr(ctx->vm), "42"));
}

static void test_reset(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot", "--kernel", harness_guest("reset"), NULL};

	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), STATUS_RESET);
	assert_null(strstr(harness_stdout(ctx->vm), "reset: still running"));
}

static void test_triple_fault(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[] = {"boot",	   "--kernel", harness_guest("exit"),
			      "--cmdline", "triple",   NULL};

	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), STATUS_CRASH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_cpu, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_two_cpus, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_four_cpus, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_serial_echo, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_serial_none, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_exit_zero, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_exit_failure, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_reset, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_triple_fault, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
