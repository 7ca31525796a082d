// SPDX-License-Identifier: MIT
/* PCI enumeration by guest_pci: devices, ids and order for each option set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define MAX_FNS		  32
#define HOST_BRIDGE_CLASS 0x060000
#define VIRTIO_VENDOR	  0x1af4
#define ID_CONSOLE	  0x1043
#define ID_BLK		  0x1042
#define ID_RNG		  0x1044

struct pci_fn {
	unsigned slot, fn, vendor, device, class;
};

/* Collect the guest's "pci 00:SS.F vvvv:dddd class cccccc" lines. */
static size_t parse(const char *out, struct pci_fn *fns)
{
	size_t n = 0;

	for (const char *p = strstr(out, "pci 00:"); p && n < MAX_FNS;
	     p = strstr(p + 1, "pci 00:")) {
		struct pci_fn f;

		if (sscanf(p, "pci 00:%x.%u %x:%x class %x", &f.slot, &f.fn, &f.vendor, &f.device,
			   &f.class) == 5)
			fns[n++] = f;
	}
	return n;
}

/* Boot guest_pci with @extra options; expect the host bridge then @ids. */
static void expect_devices(struct harness_ctx *ctx, const char *const *extra, const unsigned *ids,
			   size_t nr_ids)
{
	const char *argv[32] = {"boot", "--kernel", harness_guest("pci")};
	struct pci_fn fns[MAX_FNS];
	char summary[64];
	size_t n = 3, found;

	for (size_t i = 0; extra[i]; i++) {
		assert_true(n < 31);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	harness_require_kvm();
	assert_int_equal(harness_run(ctx, argv), 0);
	found = parse(harness_stdout(ctx->vm), fns);
	assert_int_equal(found, nr_ids + 1);
	snprintf(summary, sizeof(summary), "pci: %zu functions\n", found);
	assert_non_null(strstr(harness_stdout(ctx->vm), summary));

	assert_int_equal(fns[0].slot, 0);
	assert_int_equal(fns[0].fn, 0);
	assert_int_equal(fns[0].vendor, 0x8086);
	assert_int_equal(fns[0].class, HOST_BRIDGE_CLASS);
	for (size_t i = 0; i < nr_ids; i++) {
		assert_int_equal(fns[i + 1].vendor, VIRTIO_VENDOR);
		assert_int_equal(fns[i + 1].device, ids[i]);
		assert_true(fns[i + 1].slot > fns[i].slot);
	}
}

static void test_default(void **state)
{
	const char *extra[] = {NULL};
	const unsigned ids[] = {ID_RNG};

	expect_devices(*state, extra, ids, 1);
}

static void test_no_rng(void **state)
{
	const char *extra[] = {"--no-rng", NULL};

	expect_devices(*state, extra, NULL, 0);
}

static void test_all_devices(void **state)
{
	struct harness_ctx *ctx = *state;
	char sock[512], a[512], b[512], con[600], rob[600];
	static char zero[64 * 512];

	harness_path(ctx, "con.sock", sock, sizeof(sock));
	harness_path(ctx, "a.img", a, sizeof(a));
	harness_path(ctx, "b.img", b, sizeof(b));
	assert_int_equal(harness_write_file(a, zero, sizeof(zero)), 0);
	assert_int_equal(harness_write_file(b, zero, sizeof(zero)), 0);
	snprintf(con, sizeof(con), "socket:%s", sock);
	snprintf(rob, sizeof(rob), "%s,ro", b);

	const char *extra[] = {"--console", con, "--disk", a, "--disk", rob, NULL};
	const unsigned ids[] = {ID_CONSOLE, ID_BLK, ID_BLK, ID_RNG};

	expect_devices(ctx, extra, ids, 4);
}

static void test_eight_disks(void **state)
{
	struct harness_ctx *ctx = *state;
	static char zero[64 * 512];
	char img[8][512];
	const char *extra[20];
	unsigned ids[8];
	size_t n = 0;

	for (int i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "d%d.img", i);
		harness_path(ctx, name, img[i], sizeof(img[i]));
		assert_int_equal(harness_write_file(img[i], zero, sizeof(zero)), 0);
		extra[n++] = "--disk";
		extra[n++] = img[i];
		ids[i] = ID_BLK;
	}
	extra[n++] = "--no-rng";
	extra[n] = NULL;
	expect_devices(ctx, extra, ids, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_no_rng, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_all_devices, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_eight_disks, harness_setup, harness_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
