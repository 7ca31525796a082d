// SPDX-License-Identifier: MIT
/* Reads two 64-byte blocks from virtio-rng; they must be non-zero and differ. */
#include "guest.h"
#include "lib.h"
#include "serial.h"
#include "virtio.h"

#include <linux/virtio_ids.h>

#define RNG_BLOCK      64
#define RNG_TIMEOUT_MS 10000

static uint8_t block[2][RNG_BLOCK];

static bool all_zero(const uint8_t *p, uint32_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* A device may return fewer bytes than asked; keep asking until full. */
static int fill(struct vio_queue *q, uint8_t *buf)
{
	uint32_t have = 0, got;

	while (have < RNG_BLOCK) {
		struct vio_buf b = {buf + have, RNG_BLOCK - have, true};

		if (vio_submit(q, &b, 1) || vio_wait(q, VIO_POLL, RNG_TIMEOUT_MS, &got))
			return -1;
		if (got == 0 || got > RNG_BLOCK - have) {
			serial_printf("rng: device wrote %u bytes into a %u-byte buffer\n", got,
				      RNG_BLOCK - have);
			return -1;
		}
		have += got;
	}
	return 0;
}

int guest_main(const char *cmdline)
{
	struct vio_dev dev;
	struct vio_queue q;
	pci_devfn df;

	if (!pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_RNG, 0, &df)) {
		serial_printf("rng: no virtio-rng device\n");
		return GUEST_FAIL;
	}
	if (vio_init(&dev, df, 0) || vio_queue_init(&dev, &q, 0, VIRTIO_MSI_NO_VECTOR) ||
	    vio_driver_ok(&dev))
		return GUEST_FAIL;
	for (int i = 0; i < 2; i++) {
		if (fill(&q, block[i]))
			return GUEST_TIMEOUT;
		serial_hexdump(i ? "rng: b " : "rng: a ", block[i], RNG_BLOCK);
		if (all_zero(block[i], RNG_BLOCK)) {
			serial_printf("rng: block %d is all zero\n", i);
			return GUEST_FAIL;
		}
	}
	if (!memcmp(block[0], block[1], RNG_BLOCK)) {
		serial_printf("rng: both blocks are identical\n");
		return GUEST_FAIL;
	}
	serial_printf("rng: ok\n");
	return GUEST_OK;
}
