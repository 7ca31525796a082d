// SPDX-License-Identifier: MIT
/*
 * virtio-blk checks against an image the host prepared:
 *   - FNV-1a of sectors 0-15 (the host compares it with its own),
 *   - a read past the end must fail with IOERR,
 *   - GET_ID,
 *   - without "ro": write BLK_PATTERN to sector BLK_WRITE_SECTOR, read it
 *     back, flush (the host then finds it in the file);
 *   - with "ro": the device must offer VIRTIO_BLK_F_RO and fail the write.
 * "disk=N" picks the Nth virtio-blk function (default 0).
 */
#include "guest.h"
#include "lib.h"
#include "serial.h"
#include "virtio.h"

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#define SECTOR		 512
#define BLK_READ_SECTORS 16
#define BLK_WRITE_SECTOR 20
#define BLK_MIN_SECTORS	 32
#define BLK_PATTERN	 "INLAY-WRITE-TEST"
#define BLK_TIMEOUT_MS	 10000

static struct vio_dev dev;
static struct vio_queue q;
static struct virtio_blk_outhdr hdr;
static uint8_t data[BLK_READ_SECTORS * SECTOR];
static uint8_t status;

/* Runs one request; returns the device's status byte or -1 on a driver error. */
static int request(uint32_t type, uint32_t sector, void *buf, uint32_t len, bool device_writes)
{
	struct vio_buf bufs[3] = {{&hdr, sizeof(hdr), false}};
	unsigned n = 1;
	uint32_t written;

	hdr = (struct virtio_blk_outhdr){.type = type, .sector = sector};
	if (len)
		bufs[n++] = (struct vio_buf){buf, len, device_writes};
	bufs[n++] = (struct vio_buf){&status, 1, true};
	status = 0xff;
	if (vio_submit(&q, bufs, n) || vio_wait(&q, VIO_POLL, BLK_TIMEOUT_MS, &written))
		return -1;
	if (written < 1 || written > (device_writes ? len : 0) + 1) {
		serial_printf("blk: request type %u: used length %u out of range\n", type, written);
		return -1;
	}
	return status;
}

static bool expect(const char *what, int got, int want)
{
	serial_printf("blk: %s status %d\n", what, got);
	if (got != want)
		serial_printf("blk: %s: expected status %d\n", what, want);
	return got == want;
}

static void print_id(const uint8_t *id)
{
	char s[VIRTIO_BLK_ID_BYTES + 1];
	int i;

	for (i = 0; i < VIRTIO_BLK_ID_BYTES && id[i]; i++)
		s[i] = id[i] >= 0x20 && id[i] < 0x7f ? (char)id[i] : '?';
	s[i] = 0;
	serial_printf("blk: id '%s'\n", s);
}

static int write_checks(void)
{
	for (uint32_t i = 0; i < SECTOR; i += sizeof(BLK_PATTERN) - 1)
		memcpy(data + i, BLK_PATTERN, sizeof(BLK_PATTERN) - 1);
	if (!expect("write", request(VIRTIO_BLK_T_OUT, BLK_WRITE_SECTOR, data, SECTOR, false),
		    VIRTIO_BLK_S_OK))
		return GUEST_FAIL;
	memset(data, 0, SECTOR);
	if (!expect("read back", request(VIRTIO_BLK_T_IN, BLK_WRITE_SECTOR, data, SECTOR, true),
		    VIRTIO_BLK_S_OK))
		return GUEST_FAIL;
	if (memcmp(data, BLK_PATTERN, sizeof(BLK_PATTERN) - 1) ||
	    memcmp(data, data + sizeof(BLK_PATTERN) - 1, SECTOR - (sizeof(BLK_PATTERN) - 1))) {
		serial_printf("blk: sector %u reads back different data\n", BLK_WRITE_SECTOR);
		return GUEST_FAIL;
	}
	if (!(dev.features & (1ull << VIRTIO_BLK_F_FLUSH))) {
		serial_printf("blk: VIRTIO_BLK_F_FLUSH not offered\n");
		return GUEST_FAIL;
	}
	if (!expect("flush", request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false), VIRTIO_BLK_S_OK))
		return GUEST_FAIL;
	return GUEST_OK;
}

static int ro_checks(void)
{
	if (!(dev.features & (1ull << VIRTIO_BLK_F_RO))) {
		serial_printf("blk: read-only disk without VIRTIO_BLK_F_RO\n");
		return GUEST_FAIL;
	}
	memset(data, 0x5a, SECTOR);
	if (!expect("ro write", request(VIRTIO_BLK_T_OUT, BLK_WRITE_SECTOR, data, SECTOR, false),
		    VIRTIO_BLK_S_IOERR))
		return GUEST_FAIL;
	return GUEST_OK;
}

int guest_main(const char *cmdline)
{
	unsigned nth = cmdline_uint(cmdline, "disk", 0);
	uint64_t wanted = 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_FLUSH;
	uint32_t capacity;
	pci_devfn df;

	if (!pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_BLOCK, nth, &df)) {
		serial_printf("blk: no virtio-blk device #%u\n", nth);
		return GUEST_FAIL;
	}
	if (vio_init(&dev, df, wanted) || vio_queue_init(&dev, &q, 0, VIRTIO_MSI_NO_VECTOR) ||
	    vio_driver_ok(&dev))
		return GUEST_FAIL;
	if (vio_config_read(&dev, 4, 4) != 0) {
		serial_printf("blk: disk of 2 TiB or more is not expected here\n");
		return GUEST_FAIL;
	}
	capacity = vio_config_read(&dev, 0, 4);
	serial_printf("blk: capacity %u sectors, features %llx\n", capacity, dev.features);
	if (capacity < BLK_MIN_SECTORS) {
		serial_printf("blk: need at least %u sectors\n", BLK_MIN_SECTORS);
		return GUEST_FAIL;
	}

	if (!expect("read", request(VIRTIO_BLK_T_IN, 0, data, sizeof(data), true), VIRTIO_BLK_S_OK))
		return GUEST_FAIL;
	serial_printf("blk: sectors 0-%u fnv1a %08x\n", BLK_READ_SECTORS - 1,
		      fnv1a(FNV1A_INIT, data, sizeof(data)));
	if (!expect("read past end", request(VIRTIO_BLK_T_IN, capacity, data, SECTOR, true),
		    VIRTIO_BLK_S_IOERR))
		return GUEST_FAIL;
	memset(data, 0, VIRTIO_BLK_ID_BYTES);
	if (!expect("get id", request(VIRTIO_BLK_T_GET_ID, 0, data, VIRTIO_BLK_ID_BYTES, true),
		    VIRTIO_BLK_S_OK))
		return GUEST_FAIL;
	print_id(data);

	return cmdline_get(cmdline, "ro") ? ro_checks() : write_checks();
}
