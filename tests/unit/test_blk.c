// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <endian.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include "vring_driver.h"

#define RAM_SIZE (4ULL << 20)
#define SECTORS	 64
#define RINGS	 0x1000ULL
#define HDR	 0x10000ULL
#define STATUS	 0x11000ULL
#define DATA	 0x20000ULL

struct fx {
	char dir[64];
	char path[128];
	struct guest_mem mem;
	struct evloop *loop;
	struct virtio_dev *d;
	struct vring_driver drv;
	struct vring_signals sig;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

static void write_file(const char *path, uint64_t size)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (uint64_t i = 0; i < size; i++)
		fputc(pattern(i), fp);
	fclose(fp);
}

static void read_file(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), len);
	close(fd);
}

static int fx_open(struct fx *f, bool ro)
{
	f->d = virtio_blk_create(&f->mem, f->loop, f->path, ro);
	if (!f->d)
		return -1;
	vring_signals_attach(&f->sig, f->d);
	vring_driver_init(&f->drv, &f->mem, &f->d->vq[0], 64, RINGS);
	return f->d->ops->activate(f->d) ? 0 : -1;
}

static int setup_common(void **state, bool ro)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/inlay-blk-XXXXXX");
	if (!mkdtemp(f->dir) || guest_mem_init(&f->mem, RAM_SIZE))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/disk.img", f->dir);
	write_file(f->path, SECTORS * 512);
	f->loop = evloop_create();
	*state = f;
	return f->loop ? fx_open(f, ro) : -1;
}

static int setup(void **state)
{
	return setup_common(state, false);
}

static int setup_ro(void **state)
{
	return setup_common(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->d)
		f->d->ops->destroy(f->d);
	evloop_destroy(f->loop);
	guest_mem_finish(&f->mem);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint8_t *host(struct fx *f, uint64_t gpa)
{
	return f->mem.host + gpa;
}

static void set_hdr(struct fx *f, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {.type = htole32(type), .sector = htole64(sector)};

	memcpy(host(f, HDR), &h, sizeof(h));
}

/* Submit the chain @bufs; returns the used length, or -1 when nothing was used. */
static int64_t submit(struct fx *f, const struct vring_buf *bufs, unsigned n)
{
	uint32_t id, len;

	*host(f, STATUS) = 0xee;
	uint16_t head = vring_driver_add(&f->drv, bufs, n);
	f->d->ops->queue_notify(f->d, 0);
	if (!vring_driver_get_used(&f->drv, &id, &len))
		return -1;
	assert_int_equal(id, head);
	return len;
}

/* header, one data buffer of @len at DATA, status. */
static uint8_t simple(struct fx *f, uint32_t type, uint64_t sector, uint32_t len, bool writable,
		      int64_t *used)
{
	const struct vring_buf bufs[] = {
	    {HDR, 16, false}, {DATA, len, writable}, {STATUS, 1, true}};

	set_hdr(f, type, sector);
	*used = submit(f, bufs, 3);
	return *host(f, STATUS);
}

static void test_read(void **state)
{
	struct fx *f = *state;
	uint8_t want[1024];
	const struct vring_buf bufs[] = {
	    {HDR, 16, false}, {DATA, 512, true}, {DATA + 0x1000, 512, true}, {STATUS, 1, true}};

	set_hdr(f, VIRTIO_BLK_T_IN, 2);
	assert_int_equal(submit(f, bufs, 4), 1025);
	assert_int_equal(*host(f, STATUS), VIRTIO_BLK_S_OK);
	read_file(f->path, 1024, want, sizeof(want));
	assert_memory_equal(host(f, DATA), want, 512);
	assert_memory_equal(host(f, DATA + 0x1000), want + 512, 512);
	assert_int_equal(f->sig.queue[0], 1);
}

/* Data and status in one segment: the status is its last byte. */
static void test_read_status_in_data_segment(void **state)
{
	struct fx *f = *state;
	uint8_t want[512];
	const struct vring_buf bufs[] = {{HDR, 16, false}, {DATA, 513, true}};

	set_hdr(f, VIRTIO_BLK_T_IN, SECTORS - 1);
	host(f, DATA)[512] = 0xee;
	assert_int_equal(submit(f, bufs, 2), 513);
	assert_int_equal(host(f, DATA)[512], VIRTIO_BLK_S_OK);
	read_file(f->path, (SECTORS - 1) * 512, want, sizeof(want));
	assert_memory_equal(host(f, DATA), want, 512);
}

static void test_write(void **state)
{
	struct fx *f = *state;
	uint8_t got[1024];
	int64_t used;

	for (int i = 0; i < 1024; i++)
		host(f, DATA)[i] = (uint8_t)(0xa5 ^ i);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, 5, 1024, false, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	read_file(f->path, 5 * 512, got, sizeof(got));
	assert_memory_equal(got, host(f, DATA), 1024);
	/* the neighbours are untouched */
	read_file(f->path, 4 * 512, got, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(got[i], pattern(4 * 512 + (uint64_t)i));
}

static void test_header_split(void **state)
{
	struct fx *f = *state;
	uint8_t got[512];
	const struct vring_buf bufs[] = {{HDR, 5, false},	   {HDR + 5, 7, false},
					 {HDR + 12, 4, false},	   {DATA, 256, false},
					 {DATA + 256, 256, false}, {STATUS, 1, true}};

	memset(host(f, DATA), 0x3c, 512);
	set_hdr(f, VIRTIO_BLK_T_OUT, 9);
	assert_int_equal(submit(f, bufs, 6), 1);
	assert_int_equal(*host(f, STATUS), VIRTIO_BLK_S_OK);
	read_file(f->path, 9 * 512, got, sizeof(got));
	assert_memory_equal(got, host(f, DATA), 512);
}

static void test_short_header(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {{HDR, 8, false}, {STATUS, 1, true}};

	set_hdr(f, VIRTIO_BLK_T_IN, 0);
	assert_int_equal(submit(f, bufs, 2), 1);
	assert_int_equal(*host(f, STATUS), VIRTIO_BLK_S_IOERR);
}

static void test_flush(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {{HDR, 16, false}, {STATUS, 1, true}};

	set_hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	assert_int_equal(submit(f, bufs, 2), 1);
	assert_int_equal(*host(f, STATUS), VIRTIO_BLK_S_OK);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;
	int64_t used;

	memset(host(f, DATA), 0xff, VIRTIO_BLK_ID_BYTES);
	assert_int_equal(simple(f, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(host(f, DATA), "disk.img\0\0\0\0\0\0\0\0\0\0\0\0", VIRTIO_BLK_ID_BYTES);
}

/* A basename of 20 bytes or more fills the id without a terminator. */
static void test_get_id_long(void **state)
{
	struct fx *f = *state;
	char path[192];
	int64_t used;

	f->d->ops->destroy(f->d);
	snprintf(path, sizeof(path), "%s/abcdefghijklmnopqrstuvwxyz.img", f->dir);
	assert_int_equal(rename(f->path, path), 0);
	strcpy(f->path, path);
	assert_int_equal(fx_open(f, false), 0);
	memset(host(f, DATA), 0xff, 32);
	assert_int_equal(simple(f, VIRTIO_BLK_T_GET_ID, 0, 32, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(host(f, DATA), "abcdefghijklmnopqrst", VIRTIO_BLK_ID_BYTES);
	assert_int_equal(host(f, DATA)[VIRTIO_BLK_ID_BYTES], 0xff);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	uint8_t got[512];
	int64_t used;

	assert_true(f->d->host_features & (1ULL << VIRTIO_BLK_F_RO));
	memset(host(f, DATA), 0, 512);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, 0, 512, false, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	read_file(f->path, 0, got, sizeof(got));
	for (int i = 0; i < 512; i++)
		assert_int_equal(got[i], pattern((uint64_t)i));
	/* reads still work */
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 0, 512, true, &used), VIRTIO_BLK_S_OK);
}

static void test_out_of_range(void **state)
{
	struct fx *f = *state;
	int64_t used;

	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, SECTORS, 512, true, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, SECTORS - 1, 1024, true, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, SECTORS - 1, 1024, false, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true, &used),
			 VIRTIO_BLK_S_IOERR);
	/* sector * 512 would wrap to a small offset */
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, 1ULL << 55, 512, false, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, SECTORS - 1, 512, true, &used),
			 VIRTIO_BLK_S_OK);
}

static void test_unaligned_length(void **state)
{
	struct fx *f = *state;
	int64_t used;

	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 0, 100, true, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, 0, 513, false, &used), VIRTIO_BLK_S_IOERR);
}

static void test_unknown_type(void **state)
{
	struct fx *f = *state;
	int64_t used;

	assert_int_equal(simple(f, 99, 0, 512, true, &used), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(used, 1);
	assert_int_equal(simple(f, VIRTIO_BLK_T_DISCARD, 0, 16, false, &used), VIRTIO_BLK_S_UNSUPP);
}

static void test_missing_status(void **state)
{
	struct fx *f = *state;
	const struct vring_buf only_hdr = {HDR, 16, false};
	int64_t used;

	set_hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	assert_int_equal(submit(f, &only_hdr, 1), 0);
	assert_int_equal(*host(f, STATUS), 0xee);
	/* the queue keeps working */
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 0, 512, true, &used), VIRTIO_BLK_S_OK);
}

static void test_malformed_chain(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {
	    {HDR, 16, false}, {RAM_SIZE, 512, true}, {STATUS, 1, true}};

	set_hdr(f, VIRTIO_BLK_T_IN, 0);
	assert_int_equal(submit(f, bufs, 3), 0);
	assert_int_equal(*host(f, STATUS), 0xee);
	assert_int_equal(f->sig.queue[0], 1);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_config cfg;
	uint8_t tail[4];

	f->d->ops->config_read(f->d, 0, &cfg, sizeof(cfg));
	assert_int_equal(le64toh(cfg.capacity), SECTORS);
	assert_int_equal(le32toh(cfg.seg_max), VIRTQ_MAX_SEGS - 2);
	assert_int_equal(le32toh(cfg.blk_size), 512);
	/* reads past the end are zeros */
	f->d->ops->config_read(f->d, sizeof(cfg) - 2, tail, sizeof(tail));
	assert_int_equal(tail[2], 0);
	assert_int_equal(tail[3], 0);
	uint64_t want = (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
			(1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
			(1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	assert_int_equal(f->d->host_features, want);
	assert_int_equal(f->d->ops->device_id, VIRTIO_ID_BLOCK);
}

static void test_bad_files(void **state)
{
	struct fx *f = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/empty", f->dir);
	write_file(path, 0);
	assert_null(virtio_blk_create(&f->mem, f->loop, path, false));
	write_file(path, 1000);
	assert_null(virtio_blk_create(&f->mem, f->loop, path, true));
	unlink(path);
	assert_null(virtio_blk_create(&f->mem, f->loop, path, true));
	assert_null(virtio_blk_create(&f->mem, f->loop, f->dir, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_status_in_data_segment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_id_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup_ro, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unaligned_length, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
