// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/cmdline.h"

#define ARGV(...) ((char *[]){"inlay-vmm", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"inlay-vmm", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cfg, err, ...)                                                                       \
	vmm_config_parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), err, sizeof(err))

static void test_defaults(void **state)
{
	struct vmm_config c;
	char err[256];
	assert_int_equal(PARSE(&c, err, "boot", "--kernel", "k"), VMM_PARSE_OK);
	assert_string_equal(c.kernel, "k");
	assert_null(c.initrd);
	assert_int_equal(c.mem_mib, VMM_DEFAULT_MEM_MIB);
	assert_int_equal(c.cpus, 1);
	assert_true(c.serial);
	assert_true(c.rng);
	assert_int_equal(c.console, VMM_CONSOLE_NONE);
	assert_false(c.template_set);
}

static void test_full(void **state)
{
	struct vmm_config c;
	char err[256];
	char d0[] = "a.img", d1[] = "b.img,ro";
	assert_int_equal(PARSE(&c, err, "boot", "--kernel", "k", "--initrd", "i", "--cmdline",
			       "console=ttyS0", "--mem", "128", "--cpus", "2", "--disk", d0,
			       "--disk", d1, "--cpu-template", "baseline", "--console",
			       "socket:/tmp/x", "--no-rng"),
			 VMM_PARSE_OK);
	assert_string_equal(c.initrd, "i");
	assert_string_equal(c.cmdline, "console=ttyS0");
	assert_int_equal(c.mem_mib, 128);
	assert_int_equal(c.cpus, 2);
	assert_int_equal(c.nr_disks, 2);
	assert_string_equal(c.disks[0].path, "a.img");
	assert_false(c.disks[0].read_only);
	assert_string_equal(c.disks[1].path, "b.img");
	assert_true(c.disks[1].read_only);
	assert_true(c.template_set);
	assert_int_equal(c.tmpl, CPU_TEMPLATE_BASELINE);
	assert_int_equal(c.console, VMM_CONSOLE_SOCKET);
	assert_string_equal(c.console_path, "/tmp/x");
	assert_false(c.rng);
}

static void expect_error(char **argv, int argc, const char *needle)
{
	struct vmm_config c;
	char err[256];
	assert_int_equal(vmm_config_parse(&c, argc, argv, err, sizeof(err)), VMM_PARSE_ERROR);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

#define EXPECT_ERROR(needle, ...) expect_error(ARGV(__VA_ARGS__), ARGC(__VA_ARGS__), needle)

static void test_errors(void **state)
{
	EXPECT_ERROR("unknown command", "run");
	EXPECT_ERROR("--kernel", "boot");
	EXPECT_ERROR("--mem", "boot", "--kernel", "k", "--mem", "3");
	EXPECT_ERROR("--mem", "boot", "--kernel", "k", "--mem", "12x");
	EXPECT_ERROR("--mem", "boot", "--kernel", "k", "--mem", "-2");
	EXPECT_ERROR("--mem", "boot", "--kernel", "k", "--mem", "99999999999999999999");
	EXPECT_ERROR("--cpus", "boot", "--kernel", "k", "--cpus", "0");
	EXPECT_ERROR("--cpus", "boot", "--kernel", "k", "--cpus", "65");
	EXPECT_ERROR("--cpu-template", "boot", "--kernel", "k", "--cpu-template", "fast");
	EXPECT_ERROR("--console", "boot", "--kernel", "k", "--console", "socket:");
	EXPECT_ERROR("--serial", "boot", "--kernel", "k", "--serial", "file");
	EXPECT_ERROR("needs a value", "boot", "--kernel");
	EXPECT_ERROR("unknown option", "boot", "--kernel", "k", "--frobnicate");
	EXPECT_ERROR("unexpected argument", "boot", "--kernel", "k", "extra");
	EXPECT_ERROR("--serial none", "boot", "--kernel", "k", "--console", "stdio");
	char bad_disk[] = "x.img,rw";
	EXPECT_ERROR("only 'ro'", "boot", "--kernel", "k", "--disk", bad_disk);
	char *many[32] = {"inlay-vmm", "boot", "--kernel", "k"};
	char names[9][8];
	int n = 4;
	for (int i = 0; i < 9; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d", i);
		many[n++] = "--disk";
		many[n++] = names[i];
	}
	expect_error(many, n, "at most 8 disks");
}

static void test_help(void **state)
{
	struct vmm_config c;
	char err[256];
	assert_int_equal(PARSE(&c, err, "--help"), VMM_PARSE_HELP);
	assert_int_equal(PARSE(&c, err, "boot", "-h"), VMM_PARSE_HELP);
	assert_int_equal(PARSE(&c, err, "--version"), VMM_PARSE_VERSION);
	assert_non_null(strstr(vmm_usage, "Exit status"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
