// SPDX-License-Identifier: MIT
/* Bad command lines and bad kernel/disk files end with a clear message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define KERNEL_MAX	 (1u << 20)
#define STATUS_VMM_ERROR 1
#define STATUS_USAGE	 2

static void expect_usage(struct harness_ctx *ctx, const char *const *argv, const char *needle)
{
	assert_int_equal(harness_run(ctx, argv), STATUS_USAGE);
	assert_non_null(strstr(harness_stderr(ctx->vm), needle));
}

/* Statuses 1 and 2 both fit "the VMM refused"; the message must name @needle. */
static void expect_refused(struct harness_ctx *ctx, const char *const *argv, const char *needle)
{
	int status = harness_run(ctx, argv);

	assert_true(status == STATUS_VMM_ERROR || status == STATUS_USAGE);
	assert_non_null(strstr(harness_stderr(ctx->vm), needle));
}

static void test_no_command(void **state)
{
	const char *argv[] = {NULL};

	expect_usage(*state, argv, "inlay-vmm");
}

static void test_unknown_command(void **state)
{
	const char *argv[] = {"frobnicate", NULL};

	expect_usage(*state, argv, "frobnicate");
}

static void test_unknown_option(void **state)
{
	const char *argv[] = {"boot", "--kernel", harness_guest("exit"), "--bogus-opt", NULL};

	expect_usage(*state, argv, "--bogus-opt");
}

static void test_kernel_required(void **state)
{
	const char *argv[] = {"boot", "--mem", "64", NULL};

	expect_usage(*state, argv, "--kernel");
}

static void test_missing_value(void **state)
{
	const char *argv[] = {"boot", "--kernel", NULL};

	expect_usage(*state, argv, "--kernel");
}

static void test_bad_values(void **state)
{
	static const char *const bad[][2] = {
	    {"--mem", "lots"},	  {"--mem", "0"},	{"--mem", "3"},
	    {"--cpus", "0"},	  {"--cpus", "65"},	{"--cpus", "2x"},
	    {"--console", "tty"}, {"--serial", "file"}, {"--cpu-template", "fastest"},
	};
	const char *guest = harness_guest("exit");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = {"boot", "--kernel", guest, bad[i][0], bad[i][1], NULL};

		expect_usage(*state, argv, bad[i][1]);
	}
}

static void test_too_many_disks(void **state)
{
	struct harness_ctx *ctx = *state;
	const char *argv[32] = {"boot", "--kernel", harness_guest("exit")};
	char img[512];
	size_t n = 3;
	static char zero[64 * 512];

	harness_path(ctx, "d.img", img, sizeof(img));
	assert_int_equal(harness_write_file(img, zero, sizeof(zero)), 0);
	for (int i = 0; i < 9; i++) {
		argv[n++] = "--disk";
		argv[n++] = img;
	}
	argv[n] = NULL;
	expect_usage(ctx, argv, "disk");
}

static void test_missing_kernel_file(void **state)
{
	struct harness_ctx *ctx = *state;
	char path[512];

	harness_path(ctx, "no-such-kernel.elf", path, sizeof(path));
	const char *argv[] = {"boot", "--kernel", path, NULL};

	expect_refused(ctx, argv, path);
}

static void test_missing_disk_file(void **state)
{
	struct harness_ctx *ctx = *state;
	char path[512];

	harness_path(ctx, "no-such-disk.img", path, sizeof(path));
	const char *argv[] = {"boot", "--kernel", harness_guest("exit"), "--disk", path, NULL};

	expect_refused(ctx, argv, path);
}

/* End of the first PT_LOAD segment's file bytes in a 32-bit ELF. */
static size_t load_end(const uint8_t *elf, size_t len)
{
	const Elf32_Ehdr *eh = (const Elf32_Ehdr *)elf;

	assert_true(len >= sizeof(*eh));
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf32_Phdr *ph = (const Elf32_Phdr *)(elf + eh->e_phoff + i * sizeof(*ph));

		assert_true(eh->e_phoff + (i + 1) * sizeof(*ph) <= len);
		if (ph->p_type == PT_LOAD)
			return ph->p_offset + ph->p_filesz;
	}
	fail_msg("guest ELF without PT_LOAD");
	return 0;
}

static void test_bad_kernel_files(void **state)
{
	static uint8_t elf[KERNEL_MAX];
	struct harness_ctx *ctx = *state;
	ssize_t len;
	size_t end;
	char path[512];

	len = harness_read_file(harness_guest("exit"), elf, KERNEL_MAX);
	assert_true(len > 0 && len < (ssize_t)KERNEL_MAX);
	end = load_end(elf, (size_t)len);
	/* Empty, inside the ELF header, inside the program headers, and mid-segment. */
	size_t cuts[] = {0, 16, sizeof(Elf32_Ehdr) + 8, end / 2 + 1, end - 1};

	harness_path(ctx, "bad-kernel.elf", path, sizeof(path));
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		const char *argv[] = {"boot", "--kernel", path, NULL};

		fprintf(stderr, "# kernel truncated at %zu of %zd bytes\n", cuts[i], len);
		assert_int_equal(harness_write_file(path, elf, cuts[i]), 0);
		expect_refused(ctx, argv, path);
	}
	/* Not an image at all. */
	harness_fill(elf, 4096, 7);
	assert_int_equal(harness_write_file(path, elf, 4096), 0);
	{
		const char *argv[] = {"boot", "--kernel", path, NULL};

		expect_refused(ctx, argv, path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_no_command, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_command, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_option, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_kernel_required, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_missing_value, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_values, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_disks, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_missing_kernel_file, harness_setup,
					    harness_teardown),
	    cmocka_unit_test_setup_teardown(test_missing_disk_file, harness_setup,
					    harness_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_kernel_files, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
