// SPDX-License-Identifier: MIT
/*
 * Snapshot test guest. Sets up virtio-rng (and virtio-blk with "blk"),
 * prints its clone generation and 16 bytes of entropy, then counts from 1
 * to "end" (default 40), one step every "step" ms (default 50). At count
 * "ready" (default 5) it writes 1 to the snapshot port: `inlay-vmm bake`
 * saves the VM there. Whenever the generation it reads back changes, the VM
 * was restored: it prints the new generation and fresh entropy and, with
 * "blk", writes "SNAP <generation> <count>" to sector SNAP_SECTOR.
 * With "idle" it stops counting at "ready" and waits for a restore, then
 * halts for good after reporting it (what the clone-density benchmark runs).
 * With "gpu" it shows a SNAP_W x SNAP_H screen: pixel (x, y) is
 * snap_pixel(x, y), and the count in binary as SNAP_BITS cells of SNAP_CELL
 * pixels at the top left (white: 1, black: 0), redrawn at every count. At
 * "ready" it then waits for a restore and draws nothing more for "hold" ms
 * (default 0), so the restored screen can be compared with the baked one.
 */
#include "guest.h"
#include "io.h"
#include "lib.h"
#include "serial.h"
#include "virtio.h"

#include <linux/virtio_blk.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>

#define SNAP_PORT	0x502
#define SNAP_SECTOR	8
#define SNAP_SECTOR_LEN 512
#define SNAP_ENTROPY	16
#define SNAP_TIMEOUT_MS 10000

static struct vio_dev rng_dev, blk_dev;
static struct vio_queue rng_q, blk_q;
static bool have_blk;
static uint8_t entropy[SNAP_ENTROPY];
static struct virtio_blk_outhdr hdr;
static uint8_t sector[SNAP_SECTOR_LEN];
static uint8_t status;

static int setup(pci_devfn df, struct vio_dev *d, struct vio_queue *q)
{
	if (vio_init(d, df, 0) || vio_queue_init(d, q, 0, VIRTIO_MSI_NO_VECTOR) || vio_driver_ok(d))
		return -1;
	return 0;
}

/* The screen the host-side tests expect (tests/snapshot/test_snapshot_screen.c). */
#define SNAP_W	  320
#define SNAP_H	  240
#define SNAP_BITS 16
#define SNAP_CELL 8
#define SNAP_FB	  0x400000u

static struct vio_dev gpu_dev;
static struct vio_queue gpu_q;
static bool have_gpu;
static uint8_t gpu_resp[sizeof(struct virtio_gpu_ctrl_hdr)];

static uint32_t snap_pixel(uint32_t x, uint32_t y)
{
	return (x & 0xff) << 16 | (y & 0xff) << 8 | 0x80;
}

static int gpu_cmd(void *req, uint32_t len)
{
	struct vio_buf bufs[2] = {{req, len, false}, {gpu_resp, sizeof(gpu_resp), true}};
	uint32_t written;

	if (vio_submit(&gpu_q, bufs, 2) || vio_wait(&gpu_q, VIO_POLL, SNAP_TIMEOUT_MS, &written) ||
	    ((struct virtio_gpu_ctrl_hdr *)gpu_resp)->type != VIRTIO_GPU_RESP_OK_NODATA)
		return -1;
	return 0;
}

static int gpu_show(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_rect r = {x, y, w, h};
	struct virtio_gpu_transfer_to_host_2d t = {.hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
						   .r = r,
						   .offset = (uint64_t)y * SNAP_W * 4 + x * 4,
						   .resource_id = 1};
	struct virtio_gpu_resource_flush f = {
	    .hdr.type = VIRTIO_GPU_CMD_RESOURCE_FLUSH, .r = r, .resource_id = 1};

	return gpu_cmd(&t, sizeof(t)) || gpu_cmd(&f, sizeof(f)) ? -1 : 0;
}

static int gpu_setup(pci_devfn df)
{
	struct virtio_gpu_resource_create_2d c = {.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
						  .resource_id = 1,
						  .format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
						  .width = SNAP_W,
						  .height = SNAP_H};
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} ab = {
	    {.hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, .resource_id = 1, .nr_entries = 1},
	    {.addr = SNAP_FB, .length = SNAP_W * SNAP_H * 4}};
	struct virtio_gpu_set_scanout sc = {
	    .hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT, .r = {0, 0, SNAP_W, SNAP_H}, .resource_id = 1};
	uint32_t *px = (uint32_t *)SNAP_FB;

	if (setup(df, &gpu_dev, &gpu_q) || gpu_cmd(&c, sizeof(c)) || gpu_cmd(&ab, sizeof(ab)))
		return -1;
	for (uint32_t y = 0; y < SNAP_H; y++)
		for (uint32_t x = 0; x < SNAP_W; x++)
			*px++ = snap_pixel(x, y);
	return gpu_cmd(&sc, sizeof(sc)) || gpu_show(0, 0, SNAP_W, SNAP_H) ? -1 : 0;
}

static int gpu_draw_count(uint32_t count)
{
	uint32_t *px = (uint32_t *)SNAP_FB;

	for (uint32_t y = 0; y < SNAP_CELL; y++)
		for (uint32_t x = 0; x < SNAP_BITS * SNAP_CELL; x++)
			px[y * SNAP_W + x] =
			    count >> (SNAP_BITS - 1 - x / SNAP_CELL) & 1 ? 0xffffff : 0;
	return gpu_show(0, 0, SNAP_BITS * SNAP_CELL, SNAP_CELL);
}

static int print_entropy(void)
{
	struct vio_buf b = {entropy, SNAP_ENTROPY, true};
	uint32_t got = 0;

	memset(entropy, 0, sizeof(entropy));
	if (vio_submit(&rng_q, &b, 1) || vio_wait(&rng_q, VIO_POLL, SNAP_TIMEOUT_MS, &got) ||
	    got == 0)
		return -1;
	serial_hexdump("snap: entropy ", entropy, SNAP_ENTROPY);
	return 0;
}

static void put_uint(char **p, uint32_t v)
{
	char tmp[12];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*(*p)++ = tmp[--n];
}

static int write_disk(uint32_t gen, uint32_t count)
{
	char *p = (char *)sector;
	uint32_t written;

	memset(sector, 0, sizeof(sector));
	memcpy(p, "SNAP ", 5);
	p += 5;
	put_uint(&p, gen);
	*p++ = ' ';
	put_uint(&p, count);
	hdr = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_OUT, .sector = SNAP_SECTOR};
	struct vio_buf bufs[3] = {
	    {&hdr, sizeof(hdr), false}, {sector, SNAP_SECTOR_LEN, false}, {&status, 1, true}};
	status = 0xff;
	if (vio_submit(&blk_q, bufs, 3) || vio_wait(&blk_q, VIO_POLL, SNAP_TIMEOUT_MS, &written) ||
	    status != VIRTIO_BLK_S_OK)
		return -1;
	hdr = (struct virtio_blk_outhdr){.type = VIRTIO_BLK_T_FLUSH};
	status = 0xff;
	bufs[1] = bufs[2];
	if (vio_submit(&blk_q, bufs, 2) || vio_wait(&blk_q, VIO_POLL, SNAP_TIMEOUT_MS, &written) ||
	    status != VIRTIO_BLK_S_OK)
		return -1;
	serial_printf("snap: disk written\n");
	return 0;
}

/* Wait for a restore, say so, then sleep with interrupts off: nothing wakes it. */
__attribute__((noreturn)) static void idle(uint32_t gen, uint32_t count)
{
	while (inl(SNAP_PORT) == gen)
		;
	serial_printf("snap: restored, generation %u at count %u\n", inl(SNAP_PORT), count);
	print_entropy();
	for (;;)
		__asm__ volatile("cli; hlt");
}

int guest_main(const char *cmdline)
{
	uint32_t ready = cmdline_uint(cmdline, "ready", 5);
	uint32_t end = cmdline_uint(cmdline, "end", 40);
	uint32_t step = cmdline_uint(cmdline, "step", 50);
	pci_devfn df;

	if (!pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_RNG, 0, &df) ||
	    setup(df, &rng_dev, &rng_q)) {
		serial_printf("snap: no virtio-rng\n");
		return GUEST_FAIL;
	}
	if (cmdline_get(cmdline, "blk")) {
		if (!pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_BLOCK, 0, &df) ||
		    setup(df, &blk_dev, &blk_q)) {
			serial_printf("snap: no virtio-blk\n");
			return GUEST_FAIL;
		}
		have_blk = true;
	}
	if (cmdline_get(cmdline, "gpu")) {
		if (!pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_GPU, 0, &df) || gpu_setup(df)) {
			serial_printf("snap: no virtio-gpu\n");
			return GUEST_FAIL;
		}
		have_gpu = true;
	}
	uint32_t gen = inl(SNAP_PORT);
	serial_printf("snap: generation %u\n", gen);
	if (print_entropy())
		return GUEST_FAIL;
	for (uint32_t count = 1; count <= end; count++) {
		serial_printf("snap: count %u\n", count);
		if (have_gpu && gpu_draw_count(count))
			return GUEST_FAIL;
		if (count == ready) {
			serial_printf("snap: ready\n");
			outb(SNAP_PORT, 1);
			if (cmdline_get(cmdline, "idle"))
				idle(gen, count);
			/* Keep the baked frame on screen until the restored one was looked at. */
			while (have_gpu && inl(SNAP_PORT) == gen)
				;
			if (have_gpu) {
				serial_printf("snap: holding the screen\n");
				delay_us(cmdline_uint(cmdline, "hold", 0) * 1000);
			}
		}
		uint32_t now = inl(SNAP_PORT);
		if (now != gen) {
			gen = now;
			serial_printf("snap: restored, generation %u at count %u\n", gen, count);
			if (print_entropy() || (have_blk && write_disk(gen, count)))
				return GUEST_FAIL;
		}
		delay_us(step * 1000);
	}
	serial_printf("snap: done\n");
	return GUEST_OK;
}
