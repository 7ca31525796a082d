// SPDX-License-Identifier: MIT
/* The state file format and snap_open(): round trips and every kind of damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snap_format.h"
#include "snapshot/snapshot.h"

static char err[512];

/* A writer holding two sections with one field of each kind. */
static void build(struct snap_writer *w)
{
	snap_writer_init(w);
	snap_writer_begin_section(w, SNAP_SEC_UART, 0);
	snap_put_u8(w, 0xab);
	snap_put_u16(w, 0x1234);
	snap_put_u32(w, 0xdeadbeef);
	snap_put_u64(w, 0x0123456789abcdefULL);
	snap_put_str(w, "hello");
	snap_put_str(w, NULL);
	snap_writer_end_section(w);
	snap_writer_begin_section(w, SNAP_SEC_VCPU, 7);
	snap_put_bytes(w, "xyz", 3);
	snap_writer_end_section(w);
}

static uint8_t *sealed_copy(size_t *len)
{
	struct snap_writer w;
	const uint8_t *data;
	build(&w);
	assert_int_equal(snap_writer_seal(&w, &data, len), 0);
	uint8_t *copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, data, *len);
	snap_writer_finish(&w);
	return copy;
}

static void test_round_trip(void **state)
{
	size_t len;
	uint8_t *data = sealed_copy(&len);
	struct snap_reader r;
	assert_int_equal(snap_reader_parse(&r, data, len, err, sizeof(err)), 0);
	assert_int_equal(r.major, SNAP_MAJOR);
	assert_int_equal(r.nr_sections, 2);
	assert_int_equal(snap_reader_count(&r, SNAP_SEC_VCPU), 1);

	struct snap_section s;
	assert_true(snap_reader_find(&r, SNAP_SEC_UART, 0, &s));
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	char str[16];
	bool present;
	assert_true(snap_get_u8(&s, &u8));
	assert_true(snap_get_u16(&s, &u16));
	assert_true(snap_get_u32(&s, &u32));
	assert_true(snap_get_u64(&s, &u64));
	assert_int_equal(u8, 0xab);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(u32, 0xdeadbeef);
	assert_true(u64 == 0x0123456789abcdefULL);
	assert_true(snap_get_str(&s, str, sizeof(str), &present));
	assert_true(present);
	assert_string_equal(str, "hello");
	assert_true(snap_get_str(&s, str, sizeof(str), &present));
	assert_false(present);
	assert_true(snap_section_done(&s));
	/* Past the end: fails, and stays failed. */
	assert_false(snap_get_u8(&s, &u8));
	assert_false(snap_section_done(&s));

	assert_true(snap_reader_find(&r, SNAP_SEC_VCPU, 7, &s));
	assert_false(snap_reader_find(&r, SNAP_SEC_VCPU, 8, &s));
	snap_reader_finish(&r);
	free(data);
}

/* Field values are little-endian at fixed places. */
static void test_layout(void **state)
{
	size_t len;
	uint8_t *data = sealed_copy(&len);
	assert_memory_equal(data, SNAP_MAGIC, 8);
	assert_int_equal(data[8], SNAP_MAJOR);
	/* first section: type 7 (uart), instance 0, then its first field 0xab, 0x34 0x12 */
	const uint8_t *sec = data + SNAP_HEADER_SIZE;
	assert_int_equal(sec[0], SNAP_SEC_UART);
	assert_int_equal(sec[SNAP_SECTION_HDR], 0xab);
	assert_int_equal(sec[SNAP_SECTION_HDR + 1], 0x34);
	assert_int_equal(sec[SNAP_SECTION_HDR + 2], 0x12);
	free(data);
}

static void expect_parse_error(const uint8_t *data, size_t len, const char *what)
{
	struct snap_reader r;
	err[0] = '\0';
	assert_int_not_equal(snap_reader_parse(&r, data, len, err, sizeof(err)), 0);
	if (!strstr(err, what))
		fail_msg("error '%s' does not mention '%s'", err, what);
}

static void test_truncated(void **state)
{
	size_t len;
	uint8_t *data = sealed_copy(&len);
	for (size_t cut = 0; cut < len; cut++) {
		struct snap_reader r;
		assert_int_not_equal(snap_reader_parse(&r, data, cut, err, sizeof(err)), 0);
	}
	expect_parse_error(data, len - 1, "truncated");
	free(data);
}

static void test_bit_flips(void **state)
{
	size_t len;
	uint8_t *data = sealed_copy(&len);
	/* Every single-bit flip anywhere is caught. */
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			struct snap_reader r;
			data[i] ^= (uint8_t)(1u << b);
			int ret = snap_reader_parse(&r, data, len, err, sizeof(err));
			data[i] ^= (uint8_t)(1u << b);
			if (ret == 0)
				fail_msg("flip of bit %d in byte %zu not detected", b, i);
		}
	}
	data[len - 1] ^= 1;
	expect_parse_error(data, len, "checksum");
	free(data);
}

static void test_magic(void **state)
{
	size_t len;
	uint8_t *data = sealed_copy(&len);
	data[0] = 'X';
	expect_parse_error(data, len, "magic");
	free(data);
}

/* Rewrite the header's version and its CRC, as a newer writer would produce. */
static void test_newer_major(void **state)
{
	size_t len;
	uint8_t *data = sealed_copy(&len);
	data[8] = SNAP_MAJOR + 1;
	uint32_t crc = snap_crc32c(0, data, 28);
	memcpy(data + 28, &crc, 4);
	expect_parse_error(data, len, "version 2.0");
	/* A newer minor is fine. */
	data[8] = SNAP_MAJOR;
	data[10] = 9;
	crc = snap_crc32c(0, data, 28);
	memcpy(data + 28, &crc, 4);
	struct snap_reader r;
	assert_int_equal(snap_reader_parse(&r, data, len, err, sizeof(err)), 0);
	snap_reader_finish(&r);
	free(data);
}

/* A section claiming more bytes than the file has, with a valid header CRC. */
static void test_section_too_long(void **state)
{
	size_t len;
	uint8_t *data = sealed_copy(&len);
	uint64_t huge = 1ULL << 40;
	memcpy(data + SNAP_HEADER_SIZE + 8, &huge, 8);
	expect_parse_error(data, len, "does not fit");
	free(data);
}

static void test_writer_caps(void **state)
{
	struct snap_writer w;
	const uint8_t *data;
	size_t len;
	char big[SNAP_MAX_STRING + 1];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snap_writer_init(&w);
	snap_writer_begin_section(&w, SNAP_SEC_META, 0);
	snap_put_str(&w, big);
	snap_writer_end_section(&w);
	assert_false(snap_writer_ok(&w));
	assert_int_not_equal(snap_writer_seal(&w, &data, &len), 0);
	snap_writer_finish(&w);
	/* An unbalanced section is refused too. */
	snap_writer_init(&w);
	snap_writer_begin_section(&w, SNAP_SEC_META, 0);
	assert_int_not_equal(snap_writer_seal(&w, &data, &len), 0);
	snap_writer_finish(&w);
}

static void test_crc32c(void **state)
{
	/* The CRC32C check value of "123456789". */
	assert_int_equal(snap_crc32c(0, "123456789", 9), 0xe3069283);
}

/* ---- snap_open() on whole snapshot directories ---- */

static char dir[64];

static int dir_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/inlay-snaptest-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory", dir);
	unlink(path);
	return rmdir(dir);
}

#define MEM_SIZE (2ULL << 20)

/* A minimal snapshot: what snap_open() needs, optionally without one section. */
static void write_snapshot(uint32_t skip, uint64_t mem_file_len)
{
	struct snap_writer w;
	const uint8_t *data;
	size_t len;
	snap_writer_init(&w);
	if (skip != SNAP_SEC_META) {
		snap_writer_begin_section(&w, SNAP_SEC_META, 0);
		snap_put_u64(&w, 1);
		snap_put_u64(&w, 3);
		snap_put_str(&w, "host");
		snap_put_str(&w, "0.1.0");
		snap_writer_end_section(&w);
	}
	if (skip != SNAP_SEC_CONFIG) {
		snap_writer_begin_section(&w, SNAP_SEC_CONFIG, 0);
		snap_put_u64(&w, MEM_SIZE >> 20);
		snap_put_u32(&w, 1);
		snap_put_u8(&w, 1);
		snap_put_str(&w, "/kernel");
		snap_put_str(&w, NULL);
		snap_put_str(&w, "ready=3");
		snap_put_u32(&w, 0);
		snap_put_u8(&w, 0);
		snap_put_str(&w, NULL);
		snap_put_u8(&w, 1);
		snap_put_u8(&w, 1);
		snap_put_u32(&w, 0);
		snap_put_u32(&w, 0);
		snap_put_u8(&w, 0);
		snap_put_u32(&w, 1);
		snap_put_u16(&w, 4);
		snap_writer_end_section(&w);
	}
	if (skip != SNAP_SEC_MEMORY) {
		snap_writer_begin_section(&w, SNAP_SEC_MEMORY, 0);
		snap_put_u64(&w, MEM_SIZE);
		snap_put_u64(&w, 0);
		snap_writer_end_section(&w);
	}
	assert_int_equal(snap_writer_seal(&w, &data, &len), 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/state", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	snap_writer_finish(&w);
	snprintf(path, sizeof(path), "%s/memory", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)mem_file_len), 0);
	close(fd);
}

static void expect_open_error(const char *what)
{
	struct snap_image *img = NULL;
	err[0] = '\0';
	assert_int_not_equal(snap_open(dir, &img, err, sizeof(err)), 0);
	assert_null(img);
	if (!strstr(err, what) || !strstr(err, dir))
		fail_msg("error '%s' does not name the snapshot and '%s'", err, what);
}

static void test_open_ok(void **state)
{
	struct snap_image *img;
	write_snapshot(0, MEM_SIZE);
	assert_int_equal(snap_open(dir, &img, err, sizeof(err)), 0);
	const struct vmm_config *c = snap_image_config(img);
	assert_string_equal(c->kernel, "/kernel");
	assert_string_equal(c->cmdline, "ready=3");
	assert_null(c->initrd);
	assert_int_equal(c->mem_mib, 2);
	assert_int_equal(snap_image_generation(img), 3);
	assert_true(snap_image_memory_size(img) == MEM_SIZE);
	snap_close(img);
}

static void test_open_short_memory(void **state)
{
	write_snapshot(0, MEM_SIZE - 4096);
	expect_open_error("memory: 2093056 bytes, the state file says 2097152");
}

static void test_open_missing_sections(void **state)
{
	write_snapshot(SNAP_SEC_CONFIG, MEM_SIZE);
	expect_open_error("machine description missing");
	write_snapshot(SNAP_SEC_META, MEM_SIZE);
	expect_open_error("meta section missing");
	write_snapshot(SNAP_SEC_MEMORY, MEM_SIZE);
	expect_open_error("memory section missing");
}

static void test_open_truncated_state(void **state)
{
	char path[128];
	write_snapshot(0, MEM_SIZE);
	snprintf(path, sizeof(path), "%s/state", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 10), 0);
	expect_open_error("state: ");
	expect_open_error("truncated");
	assert_int_equal(unlink(path), 0);
	expect_open_error("state: No such file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bit_flips),
	    cmocka_unit_test(test_magic),
	    cmocka_unit_test(test_newer_major),
	    cmocka_unit_test(test_section_too_long),
	    cmocka_unit_test(test_writer_caps),
	    cmocka_unit_test(test_crc32c),
	    cmocka_unit_test_setup_teardown(test_open_ok, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_open_short_memory, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_open_missing_sections, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_open_truncated_state, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
