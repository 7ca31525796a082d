// SPDX-License-Identifier: MIT
/*
 * Bake the snapshot test guest, restore it, and check that it carries on:
 * the count continues, a restored clone gets a new generation and fresh
 * entropy, disk writes after the restore land, two clones run at once
 * without seeing each other, and damaged snapshots are refused cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define STATUS_VMM_ERROR 1
#define GUEST_ARGS	 "ready=5 step=20 end=30"

static void snap_path(const struct harness_ctx *ctx, const char *file, char *out, size_t len)
{
	char name[64];
	snprintf(name, sizeof(name), "snap%s%s", file ? "/" : "", file ? file : "");
	harness_path(ctx, name, out, len);
}

static int snap_teardown(void **state)
{
	struct harness_ctx *ctx = *state;
	char path[512];
	if (ctx) {
		snap_path(ctx, "state", path, sizeof(path));
		unlink(path);
		snap_path(ctx, "memory", path, sizeof(path));
		unlink(path);
		snap_path(ctx, NULL, path, sizeof(path));
		rmdir(path);
	}
	return harness_teardown(state);
}

/* Bake the guest with @extra arguments (NULL-terminated, up to 4). */
static void bake(struct harness_ctx *ctx, const char *cmdline, const char *const *extra)
{
	char out[512];
	snap_path(ctx, NULL, out, sizeof(out));
	const char *argv[16] = {"bake",	     "--kernel", harness_guest("snap"),
				"--display", "none",	 "--cmdline",
				cmdline,     "--out",	 out,
				"--mem",     "32"};
	unsigned n = 11;
	for (; extra && *extra && n < 14; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	assert_int_equal(harness_run(ctx, argv), 0);
	assert_non_null(strstr(harness_stdout(ctx->vm), "snap: ready\n"));
	assert_non_null(strstr(harness_stderr(ctx->vm), "snapshot saved to"));
}

static unsigned first_count(const char *out)
{
	const char *p = strstr(out, "snap: count ");
	return p ? (unsigned)strtoul(p + 12, NULL, 10) : 0;
}

/* The hex digits after the last "snap: entropy " in @out. */
static void last_entropy(const char *out, char *hex, size_t len)
{
	const char *p = out, *q;
	while ((q = strstr(p, "snap: entropy ")))
		p = q + 14;
	assert_true(p != out);
	snprintf(hex, len, "%.32s", p);
}

static void test_bake_restore(void **state)
{
	struct harness_ctx *ctx = *state;
	char dir[512];
	harness_require_kvm();
	bake(ctx, GUEST_ARGS, NULL);
	char baked[64];
	last_entropy(harness_stdout(ctx->vm), baked, sizeof(baked));

	snap_path(ctx, NULL, dir, sizeof(dir));
	const char *restore[] = {"restore", dir, "--display", "none", NULL};
	assert_int_equal(harness_run(ctx, restore), 0);
	const char *out = harness_stdout(ctx->vm);
	/* It carries on where it stopped: no boot, no count below the ready point. */
	assert_null(strstr(out, "guest: start"));
	assert_true(first_count(out) >= 6);
	assert_non_null(strstr(out, "snap: restored, generation 1 at count"));
	assert_non_null(strstr(out, "snap: count 30\nsnap: done\n"));
	char fresh[64];
	last_entropy(out, fresh, sizeof(fresh));
	assert_string_not_equal(baked, fresh);

	const char *info[] = {"snapshot-info", dir, NULL};
	assert_int_equal(harness_run(ctx, info), 0);
	out = harness_stdout(ctx->vm);
	assert_non_null(strstr(out, "format:       1.0"));
	assert_non_null(strstr(out, "vcpus:        1"));
	assert_non_null(strstr(out, "cmdline:      " GUEST_ARGS));
	assert_non_null(strstr(out, "virtio-rng"));
}

static void test_disk_after_restore(void **state)
{
	struct harness_ctx *ctx = *state;
	char disk[512], dir[512];
	static uint8_t image[64 * 512];
	harness_require_kvm();
	harness_path(ctx, "disk.img", disk, sizeof(disk));
	assert_int_equal(harness_write_file(disk, image, sizeof(image)), 0);
	const char *extra[] = {"--disk", disk, NULL};
	bake(ctx, GUEST_ARGS " blk", extra);
	assert_int_equal(harness_read_file(disk, image, sizeof(image)), (ssize_t)sizeof(image));
	assert_int_equal(image[8 * 512], 0);

	snap_path(ctx, NULL, dir, sizeof(dir));
	const char *restore[] = {"restore", dir, "--display", "none", NULL};
	assert_int_equal(harness_run(ctx, restore), 0);
	assert_non_null(strstr(harness_stdout(ctx->vm), "snap: disk written\n"));
	assert_int_equal(harness_read_file(disk, image, sizeof(image)), (ssize_t)sizeof(image));
	assert_memory_equal(image + 8 * 512, "SNAP 1 ", 7);
}

/* A checksum of the whole memory file: clones must never write it. */
static uint32_t memory_hash(const struct harness_ctx *ctx)
{
	char path[512];
	snap_path(ctx, "memory", path, sizeof(path));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(harness_read_file(path, buf, (size_t)st.st_size), st.st_size);
	uint32_t h = harness_fnv1a(buf, (size_t)st.st_size);
	free(buf);
	return h;
}

static void test_two_clones(void **state)
{
	struct harness_ctx *ctx = *state;
	char dir[512];
	harness_require_kvm();
	bake(ctx, GUEST_ARGS, NULL);
	uint32_t before = memory_hash(ctx);
	snap_path(ctx, NULL, dir, sizeof(dir));
	const char *restore[] = {"restore", dir, "--display", "none", NULL};
	struct harness_vm *a = harness_start(restore);
	struct harness_vm *b = harness_start(restore);
	assert_non_null(a);
	assert_non_null(b);
	int sa = harness_wait(a, HARNESS_TIMEOUT_MS), sb = harness_wait(b, HARNESS_TIMEOUT_MS);
	if (sa || sb) {
		harness_dump(a);
		harness_dump(b);
	}
	assert_int_equal(sa, 0);
	assert_int_equal(sb, 0);
	char ea[64], eb[64];
	last_entropy(harness_stdout(a), ea, sizeof(ea));
	last_entropy(harness_stdout(b), eb, sizeof(eb));
	assert_string_not_equal(ea, eb);
	/* Each counted on from the same point in its own copy of RAM. */
	assert_int_equal(first_count(harness_stdout(a)), first_count(harness_stdout(b)));
	assert_non_null(strstr(harness_stdout(a), "snap: done\n"));
	assert_non_null(strstr(harness_stdout(b), "snap: done\n"));
	assert_int_equal(memory_hash(ctx), before);
	harness_destroy(a);
	harness_destroy(b);
}

/* Restore must fail with status 1 and a message naming @what; files unchanged. */
static void expect_refused(struct harness_ctx *ctx, const char *what)
{
	char dir[512];
	snap_path(ctx, NULL, dir, sizeof(dir));
	const char *restore[] = {"restore", dir, "--display", "none", NULL};
	assert_int_equal(harness_run(ctx, restore), STATUS_VMM_ERROR);
	const char *err = harness_stderr(ctx->vm);
	if (!strstr(err, what) || !strstr(err, dir))
		fail_msg("stderr '%s' does not name the snapshot and '%s'", err, what);
	assert_null(strstr(harness_stdout(ctx->vm), "snap: count"));
}

static void test_damaged(void **state)
{
	struct harness_ctx *ctx = *state;
	char path[512];
	static uint8_t buf[1 << 20];
	harness_require_kvm();
	bake(ctx, GUEST_ARGS, NULL);
	snap_path(ctx, "state", path, sizeof(path));
	ssize_t len = harness_read_file(path, buf, sizeof(buf));
	assert_true(len > 64);

	buf[len / 2] ^= 0x10; /* a flipped bit */
	assert_int_equal(harness_write_file(path, buf, (size_t)len), 0);
	expect_refused(ctx, "checksum mismatch");
	buf[len / 2] ^= 0x10;

	assert_int_equal(harness_write_file(path, buf, (size_t)len - 100), 0);
	expect_refused(ctx, "truncated");

	buf[0] = 'X';
	assert_int_equal(harness_write_file(path, buf, (size_t)len), 0);
	expect_refused(ctx, "bad magic");
	buf[0] = 'I';

	/* Intact state, memory file cut short. */
	assert_int_equal(harness_write_file(path, buf, (size_t)len), 0);
	snap_path(ctx, "memory", path, sizeof(path));
	assert_int_equal(truncate(path, 1 << 20), 0);
	expect_refused(ctx, "memory: 1048576 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bake_restore, harness_setup, snap_teardown),
	    cmocka_unit_test_setup_teardown(test_disk_after_restore, harness_setup, snap_teardown),
	    cmocka_unit_test_setup_teardown(test_two_clones, harness_setup, snap_teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, harness_setup, snap_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
