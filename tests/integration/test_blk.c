// SPDX-License-Identifier: MIT
/* virtio-blk through guest_blk: checksums, writes, flush, GET_ID, read-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

/* Must match guest_blk.c. */
#define SECTOR	     512
#define DISK_SECTORS 64
#define READ_SECTORS 16
#define WRITE_SECTOR 20
#define PATTERN	     "INLAY-WRITE-TEST"

#define DISK_BYTES (DISK_SECTORS * SECTOR)

struct disk {
	char path[512];
	uint8_t data[DISK_BYTES];
};

static void make_disk(struct harness_ctx *ctx, struct disk *d, const char *name, uint32_t seed)
{
	harness_path(ctx, name, d->path, sizeof(d->path));
	harness_fill(d->data, sizeof(d->data), seed);
	assert_int_equal(harness_write_file(d->path, d->data, sizeof(d->data)), 0);
}

static void expect_line(struct harness_ctx *ctx, const char *line)
{
	if (!strstr(harness_stdout(ctx->vm), line))
		fail_msg("guest output lacks \"%s\"", line);
}

static void expect_checksum(struct harness_ctx *ctx, const struct disk *d)
{
	char line[64];

	snprintf(line, sizeof(line), "blk: sectors 0-%d fnv1a %08x\n", READ_SECTORS - 1,
		 harness_fnv1a(d->data, READ_SECTORS * SECTOR));
	expect_line(ctx, line);
}

/* The file holds @d's original bytes, except the pattern sector when @written. */
static void expect_file(const struct disk *d, bool written)
{
	static uint8_t now[DISK_BYTES + 1];
	uint8_t want[DISK_BYTES];

	memcpy(want, d->data, sizeof(want));
	if (written)
		for (size_t i = 0; i < SECTOR; i += strlen(PATTERN))
			memcpy(want + WRITE_SECTOR * SECTOR + i, PATTERN, strlen(PATTERN));
	assert_int_equal(harness_read_file(d->path, now, sizeof(now)), DISK_BYTES);
	assert_memory_equal(now, want, DISK_BYTES);
}

static void test_read_write_flush_id(void **state)
{
	struct harness_ctx *ctx = *state;
	static struct disk d;

	harness_require_kvm();
	make_disk(ctx, &d, "a.img", 1);
	const char *argv[] = {"boot", "--kernel", harness_guest("blk"), "--disk", d.path, NULL};

	assert_int_equal(harness_run(ctx, argv), 0);
	expect_line(ctx, "blk: capacity 64 sectors");
	expect_checksum(ctx, &d);
	expect_line(ctx, "blk: read past end status 1\n");
	expect_line(ctx, "blk: get id status 0\n");
	expect_line(ctx, "blk: id '");
	expect_line(ctx, "blk: write status 0\n");
	expect_line(ctx, "blk: flush status 0\n");
	expect_file(&d, true);
}

static void test_read_only(void **state)
{
	struct harness_ctx *ctx = *state;
	static struct disk d;
	char ro[600];

	harness_require_kvm();
	make_disk(ctx, &d, "ro.img", 2);
	snprintf(ro, sizeof(ro), "%s,ro", d.path);
	const char *argv[] = {"boot", "--kernel", harness_guest("blk"), "--disk", ro, "--cmdline",
			      "ro",   NULL};

	assert_int_equal(harness_run(ctx, argv), 0);
	expect_checksum(ctx, &d);
	expect_line(ctx, "blk: ro write status 1\n");
	expect_file(&d, false);
}

static void test_second_disk(void **state)
{
	struct harness_ctx *ctx = *state;
	static struct disk a, b;

	harness_require_kvm();
	make_disk(ctx, &a, "a.img", 3);
	make_disk(ctx, &b, "b.img", 4);
	const char *argv[] = {"boot",	"--kernel", harness_guest("blk"), "--disk", a.path,
			      "--disk", b.path,	    "--cmdline",	  "disk=1", NULL};

	assert_int_equal(harness_run(ctx, argv), 0);
	expect_checksum(ctx, &b);
	expect_file(&a, false);
	expect_file(&b, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_write_flush_id, harness_setup,
					    harness_teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_second_disk, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
