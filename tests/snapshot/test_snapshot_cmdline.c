// SPDX-License-Identifier: MIT
/* The snapshot commands on the command line: bake, restore, snapshot-info. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vmm/cmdline.h"

static char err[256];

static enum vmm_parse_result parse(struct vmm_config *c, const char *const *args)
{
	char *argv[32] = {"inlay-vmm"};
	int argc = 1;
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return vmm_config_parse(c, argc, argv, err, sizeof(err));
}

static void expect_error(const char *const *args, const char *what)
{
	struct vmm_config c;
	assert_int_equal(parse(&c, args), VMM_PARSE_ERROR);
	if (!strstr(err, what))
		fail_msg("error '%s' does not mention '%s'", err, what);
}

static void test_bake(void **state)
{
	struct vmm_config c;
	const char *ok[] = {"bake", "--kernel", "k", "--mem", "64", "--out", "d", NULL};
	assert_int_equal(parse(&c, ok), VMM_PARSE_OK);
	assert_int_equal(c.command, VMM_CMD_BAKE);
	assert_string_equal(c.snap_dir, "d");
	assert_int_equal(c.mem_mib, 64);
	const char *no_out[] = {"bake", "--kernel", "k", NULL};
	expect_error(no_out, "--out");
	const char *no_kernel[] = {"bake", "--out", "d", NULL};
	expect_error(no_kernel, "--kernel");
	const char *boot_out[] = {"boot", "--kernel", "k", "--out", "d", NULL};
	expect_error(boot_out, "not valid");
}

static void test_restore(void **state)
{
	struct vmm_config c;
	const char *ok[] = {"restore", "snap", "--display", "none", "--snapshot-dir", "s2", NULL};
	assert_int_equal(parse(&c, ok), VMM_PARSE_OK);
	assert_int_equal(c.command, VMM_CMD_RESTORE);
	assert_string_equal(c.snap_dir, "snap");
	assert_string_equal(c.display, "none");
	assert_string_equal(c.snapshot_dir, "s2");
	const char *machine[] = {"restore", "snap", "--mem", "64", NULL};
	expect_error(machine, "machine from the snapshot");
	const char *no_dir[] = {"restore", "--display", "none", NULL};
	expect_error(no_dir, "snapshot directory");
	const char *extra[] = {"restore", "snap", "other", NULL};
	expect_error(extra, "unexpected argument");
}

static void test_info(void **state)
{
	struct vmm_config c;
	const char *ok[] = {"snapshot-info", "snap", NULL};
	assert_int_equal(parse(&c, ok), VMM_PARSE_OK);
	assert_int_equal(c.command, VMM_CMD_SNAPSHOT_INFO);
	const char *opt[] = {"snapshot-info", "snap", "--cpus", "2", NULL};
	expect_error(opt, "not valid");
	const char *none[] = {"snapshot-info", NULL};
	expect_error(none, "snapshot directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bake),
	    cmocka_unit_test(test_restore),
	    cmocka_unit_test(test_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
