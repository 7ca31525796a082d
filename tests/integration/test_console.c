// SPDX-License-Identifier: MIT
/* virtio-console over a Unix socket: a line in, the upper-cased line back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static void test_socket_round_trip(void **state)
{
	struct harness_ctx *ctx = *state;
	static const char msg[] = "hello inlay 42\n";
	char sock[512], con[600], reply[64];
	ssize_t n;

	harness_require_kvm();
	harness_path(ctx, "con.sock", sock, sizeof(sock));
	snprintf(con, sizeof(con), "socket:%s", sock);
	const char *argv[] = {"boot", "--kernel", harness_guest("console"), "--console", con, NULL};

	ctx->vm = harness_start(argv);
	assert_non_null(ctx->vm);
	if (!harness_wait_stdout(ctx->vm, "console: waiting for a line\n", HARNESS_TIMEOUT_MS)) {
		harness_dump(ctx->vm);
		fail_msg("the guest never got its console ready");
	}
	ctx->fd = harness_connect(sock, HARNESS_TIMEOUT_MS);
	if (ctx->fd < 0)
		fail_msg("cannot connect to %s: %s", sock, strerror(-ctx->fd));
	assert_int_equal(write(ctx->fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	n = harness_read_until(ctx->fd, reply, sizeof(reply), '\n', HARNESS_TIMEOUT_MS);
	if (n < 0) {
		harness_dump(ctx->vm);
		fail_msg("no reply on the console socket: %s", strerror((int)-n));
	}
	assert_string_equal(reply, "HELLO INLAY 42\n");
	assert_int_equal(harness_wait(ctx->vm, HARNESS_TIMEOUT_MS), 0);
	harness_dump(ctx->vm);
	assert_non_null(strstr(harness_stdout(ctx->vm), "console: echoed 15 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_socket_round_trip, harness_setup,
					    harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
