// SPDX-License-Identifier: MIT
/*
 * virtio-gpu and virtio-input from a minimal driver:
 *   - reads the display info and the EDID, creates a resource as large as
 *     the display (at most GPU_MAX_W x GPU_MAX_H) backed by guest RAM at
 *     FB_BASE, draws 64x64 tiles of palette[((x >> 6) + (y >> 6)) & 3],
 *     sets the scanout, transfers and flushes;
 *   - reports every input event on the serial port ("key 30 1", "abs 100
 *     200", "btn 272 1", "wheel -1") and at each SYN_REPORT recolours the
 *     top-left tile with palette[frame & 3], sending only that tile;
 *   - on a display-change event prints the new size and, with "remodeset",
 *     switches to a new resource of that size.
 * "frames=N" exits 0 after N input frames; "timeout=MS" (default 120000)
 * bounds the wait.
 *
 * "bench=full|small" (with "hz=N", default 60, and "secs=N", default 5)
 * measures a VMM instead: no input devices, no drawing (CPL0 code is slow
 * under software virtualization, so the frame stays as RAM holds it), and
 * after the modeset a TRANSFER_TO_HOST_2D + RESOURCE_FLUSH of the whole frame
 * or of a 64x64 tile on every APIC tick (every 1000/N ms), sleeping in HLT
 * between ticks and while the device works. It prints "flushes N", idles
 * 0.3 s (so the host can read the VMM's CPU time while it runs) and exits.
 */
#include "apic.h"
#include "guest.h"
#include "io.h"
#include "irq.h"
#include "lib.h"
#include "serial.h"
#include "virtio.h"

#include <linux/input-event-codes.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>
#include <stddef.h>

#define FB_BASE		0x400000u
#define GPU_MAX_W	1920 /* 8 MB from FB_BASE: fits a 64 MiB guest */
#define GPU_MAX_H	1080
#define TILE		64
#define CMD_TIMEOUT_MS	10000
#define CONFIG_POLL_MS	20
#define EDID_BLOCK	128
#define BENCH_VEC_CTRL	0x30
#define BENCH_LINGER_MS 300

static const uint32_t palette[4] = {0x00ff0000, 0x0000ff00, 0x000000ff, 0x00ffffff};

static struct vio_dev gpu, inputs[2];
static struct vio_queue ctrlq, eventq[2];
static bool is_tablet[2];
static unsigned nr_inputs;
static struct virtio_input_event events[2];
static uint8_t resp[sizeof(struct virtio_gpu_resp_edid)];
static uint32_t res_id, fb_w, fb_h;
static bool bench; /* bench=: no drawing, control queue completions by MSI-X */

/* Runs one control command; returns the response type, 0 on a transport failure. */
static uint32_t gpu_cmd(void *req, uint32_t len, uint32_t resp_len)
{
	struct vio_buf bufs[2] = {{req, len, false}, {resp, resp_len, true}};
	uint32_t written;

	if (vio_submit(&ctrlq, bufs, 2) ||
	    vio_wait(&ctrlq, bench ? VIO_HALT : VIO_POLL, CMD_TIMEOUT_MS, &written) ||
	    written < sizeof(struct virtio_gpu_ctrl_hdr))
		return 0;
	return ((struct virtio_gpu_ctrl_hdr *)resp)->type;
}

static bool gpu_ok(const char *what, uint32_t type, uint32_t want)
{
	if (type != want)
		serial_printf("gpu: %s: response %x, expected %x\n", what, type, want);
	return type == want;
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){.type = type};
}

static bool display_info(uint32_t *w, uint32_t *h)
{
	struct virtio_gpu_ctrl_hdr req = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	struct virtio_gpu_resp_display_info *r = (void *)resp;

	if (!gpu_ok("display info", gpu_cmd(&req, sizeof(req), sizeof(*r)),
		    VIRTIO_GPU_RESP_OK_DISPLAY_INFO))
		return false;
	*w = r->pmodes[0].r.width;
	*h = r->pmodes[0].r.height;
	return r->pmodes[0].enabled;
}

/* Only the base block is checked: devices may report a larger buffer (QEMU: 1024). */
static bool check_edid(void)
{
	struct virtio_gpu_cmd_get_edid req = {.hdr = hdr(VIRTIO_GPU_CMD_GET_EDID)};
	struct virtio_gpu_resp_edid *r = (void *)resp;
	static const uint8_t header[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
	uint8_t sum = 0;

	if (!gpu_ok("edid", gpu_cmd(&req, sizeof(req), sizeof(*r)), VIRTIO_GPU_RESP_OK_EDID))
		return false;
	for (int i = 0; i < EDID_BLOCK; i++)
		sum += r->edid[i];
	serial_printf("gpu: edid %u bytes, checksum %s\n", r->size, sum ? "bad" : "ok");
	return r->size >= EDID_BLOCK && r->size <= sizeof(r->edid) &&
	       !memcmp(r->edid, header, sizeof(header)) && !sum;
}

static void draw_tiles(uint32_t w, uint32_t h)
{
	uint32_t *px = (uint32_t *)FB_BASE;

	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			*px++ = palette[((x >> 6) + (y >> 6)) & 3];
}

static bool transfer_flush(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_rect r = {x, y, w, h};
	struct virtio_gpu_transfer_to_host_2d t = {
	    .hdr = hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D),
	    .r = r,
	    .offset = (uint64_t)y * fb_w * 4 + x * 4,
	    .resource_id = res_id,
	};
	struct virtio_gpu_resource_flush f = {
	    .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH), .r = r, .resource_id = res_id};

	return gpu_ok("transfer", gpu_cmd(&t, sizeof(t), sizeof(struct virtio_gpu_ctrl_hdr)),
		      VIRTIO_GPU_RESP_OK_NODATA) &&
	       gpu_ok("flush", gpu_cmd(&f, sizeof(f), sizeof(struct virtio_gpu_ctrl_hdr)),
		      VIRTIO_GPU_RESP_OK_NODATA);
}

/* A new resource of @w x @h on the scanout, drawn; the old one is freed. */
static bool modeset(uint32_t w, uint32_t h)
{
	uint32_t id = res_id + 1, old = res_id;
	struct virtio_gpu_resource_create_2d c = {hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), id,
						  VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h};
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} ab = {{hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), id, 1}, {FB_BASE, w * h * 4, 0}};
	struct virtio_gpu_set_scanout s = {hdr(VIRTIO_GPU_CMD_SET_SCANOUT), {0, 0, w, h}, 0, id};
	struct virtio_gpu_resource_unref u = {hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF), old, 0};
	const uint32_t hl = sizeof(struct virtio_gpu_ctrl_hdr);

	if (w > GPU_MAX_W)
		w = s.r.width = c.width = GPU_MAX_W;
	if (h > GPU_MAX_H)
		h = s.r.height = c.height = GPU_MAX_H;
	ab.e.length = w * h * 4;
	if (!bench)
		draw_tiles(w, h);
	if (!gpu_ok("create", gpu_cmd(&c, sizeof(c), hl), VIRTIO_GPU_RESP_OK_NODATA) ||
	    !gpu_ok("attach", gpu_cmd(&ab, sizeof(ab), hl), VIRTIO_GPU_RESP_OK_NODATA) ||
	    !gpu_ok("scanout", gpu_cmd(&s, sizeof(s), hl), VIRTIO_GPU_RESP_OK_NODATA))
		return false;
	res_id = id;
	fb_w = w;
	fb_h = h;
	if (!transfer_flush(0, 0, w, h))
		return false;
	if (old && !gpu_ok("unref", gpu_cmd(&u, sizeof(u), hl), VIRTIO_GPU_RESP_OK_NODATA))
		return false;
	serial_printf("gpu: modeset %ux%u\n", w, h);
	return true;
}

static int gpu_setup(void)
{
	pci_devfn df;
	uint32_t w, h;

	if (!pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_GPU, 0, &df)) {
		serial_printf("gpu: no virtio-gpu device\n");
		return -1;
	}
	if (vio_init(&gpu, df, 1ull << VIRTIO_GPU_F_EDID) ||
	    (bench && vio_msix_route(&gpu, 0, lapic_id(), BENCH_VEC_CTRL)) ||
	    vio_queue_init(&gpu, &ctrlq, 0, bench ? 0 : VIRTIO_MSI_NO_VECTOR) ||
	    vio_driver_ok(&gpu))
		return -1;
	if (!display_info(&w, &h))
		return -1;
	serial_printf("gpu: display %ux%u, %u scanout(s)\n", w, h,
		      vio_config_read(&gpu, offsetof(struct virtio_gpu_config, num_scanouts), 4));
	if (!(gpu.features & (1ull << VIRTIO_GPU_F_EDID)) || !check_edid())
		return -1;
	return modeset(w, h) ? 0 : -1;
}

static void input_select(struct vio_dev *d, uint8_t select, uint8_t subsel)
{
	mmio_write8(d->device + offsetof(struct virtio_input_config, select), select);
	mmio_write8(d->device + offsetof(struct virtio_input_config, subsel), subsel);
}

static int input_setup(void)
{
	pci_devfn df;

	for (unsigned n = 0; n < 2 && pci_find(PCI_VENDOR_VIRTIO, 0x1040 + VIRTIO_ID_INPUT, n, &df);
	     n++) {
		struct vio_dev *d = &inputs[n];
		char name[32];

		if (vio_init(d, df, 0) || vio_queue_init(d, &eventq[n], 0, VIRTIO_MSI_NO_VECTOR))
			return -1;
		input_select(d, VIRTIO_INPUT_CFG_ID_NAME, 0);
		uint32_t len = vio_config_read(d, offsetof(struct virtio_input_config, size), 1);
		len = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
		for (uint32_t i = 0; i < len; i++)
			name[i] = (char)vio_config_read(
			    d, offsetof(struct virtio_input_config, u) + i, 1);
		name[len] = 0;
		input_select(d, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X);
		is_tablet[n] =
		    vio_config_read(d, offsetof(struct virtio_input_config, size), 1) != 0;
		uint32_t max =
		    vio_config_read(d, offsetof(struct virtio_input_config, u.abs.max), 4);
		serial_printf("input: %s%s", name, is_tablet[n] ? ", abs x 0.." : "\n");
		if (is_tablet[n])
			serial_printf("%u\n", max);
		struct vio_buf b = {&events[n], sizeof(events[n]), true};
		if (vio_driver_ok(d) || vio_submit(&eventq[n], &b, 1))
			return -1;
		nr_inputs++;
	}
	return 0;
}

static uint32_t frame, abs_x, abs_y;
static bool abs_moved;

/* Report one event; a SYN_REPORT recolours the indicator tile. */
static bool input_event(unsigned n, const struct virtio_input_event *ev)
{
	switch (ev->type) {
	case EV_KEY:
		serial_printf("%s %u %u\n", is_tablet[n] ? "btn" : "key", ev->code, ev->value);
		return true;
	case EV_ABS:
		if (ev->code == ABS_X)
			abs_x = ev->value;
		else if (ev->code == ABS_Y)
			abs_y = ev->value;
		abs_moved = true;
		return true;
	case EV_REL:
		serial_printf("%s %d\n", ev->code == REL_WHEEL ? "wheel" : "hwheel",
			      (int)ev->value);
		return true;
	case EV_SYN:
		if (abs_moved)
			serial_printf("abs %u %u\n", abs_x, abs_y);
		abs_moved = false;
		frame++;
		uint32_t *px = (uint32_t *)FB_BASE;
		for (uint32_t y = 0; y < TILE && y < fb_h; y++)
			for (uint32_t x = 0; x < TILE && x < fb_w; x++)
				px[y * fb_w + x] = palette[frame & 3];
		serial_printf("frame %u\n", frame);
		return transfer_flush(0, 0, fb_w < TILE ? fb_w : TILE, fb_h < TILE ? fb_h : TILE);
	default:
		serial_printf("input: event type %u code %u\n", ev->type, ev->code);
		return true;
	}
}

/* A display-change event: report the new size and re-modeset when asked. */
static bool display_change(bool remodeset)
{
	uint32_t w, h;

	mmio_write32(gpu.device + offsetof(struct virtio_gpu_config, events_clear),
		     VIRTIO_GPU_EVENT_DISPLAY);
	if (!display_info(&w, &h))
		return false;
	serial_printf("gpu: display-change %ux%u\n", w, h);
	return !remodeset || modeset(w, h);
}

/* The MSI only has to end the HLT in vio_wait(), which then reads the used ring. */
static void ctrl_irq(struct irq_frame *f)
{
}

/* True when the option value @v (ending at a space or NUL) is @word. */
static bool value_is(const char *v, const char *word)
{
	size_t n = strlen(word);

	return !memcmp(v, word, n) && (v[n] == '\0' || v[n] == ' ');
}

/* The bench= loop: one transfer + flush per tick for secs=N seconds. */
static int bench_main(const char *cmdline, const char *mode)
{
	uint32_t hz = cmdline_uint(cmdline, "hz", 60), secs = cmdline_uint(cmdline, "secs", 5);
	bool small = value_is(mode, "small");
	uint32_t tick_ms, ticks, t0, last, flushes = 0;

	if ((!small && !value_is(mode, "full")) || hz < 1 || hz > 1000 || secs < 1 || secs > 3600) {
		serial_printf("gpu: bench=full|small, hz=1..1000, secs=1..3600\n");
		return GUEST_FAIL;
	}
	tick_ms = 1000 / hz;
	ticks = secs * 1000 / tick_ms;
	bench = true;
	irq_init(tick_ms);
	irq_set_handler(BENCH_VEC_CTRL, ctrl_irq);
	if (gpu_setup())
		return GUEST_FAIL;
	uint32_t w = small && fb_w > TILE ? TILE : fb_w, h = small && fb_h > TILE ? TILE : fb_h;

	serial_printf("gpu: bench %ux%u of %ux%u every %u ms for %u ticks\n", w, h, fb_w, fb_h,
		      tick_ms, ticks);
	t0 = last = irq_ticks();
	while (last - t0 < ticks) {
		if (irq_ticks() == last) {
			irq_wait();
			continue;
		}
		last = irq_ticks();
		if (!transfer_flush((fb_w - w) / 2, (fb_h - h) / 2, w, h))
			return GUEST_FAIL;
		flushes++;
	}
	serial_printf("flushes %u\n", flushes);
	for (t0 = irq_ticks(); irq_ticks() - t0 < BENCH_LINGER_MS / tick_ms;)
		irq_wait();
	return GUEST_OK;
}

int guest_main(const char *cmdline)
{
	uint32_t frames = cmdline_uint(cmdline, "frames", 0);
	uint64_t deadline = deadline_in_ms(cmdline_uint(cmdline, "timeout", 120000));
	bool remodeset = cmdline_get(cmdline, "remodeset") != NULL;
	const char *bench_mode = cmdline_get(cmdline, "bench");
	uint64_t next_poll = 0;

	if (bench_mode)
		return bench_main(cmdline, bench_mode);
	if (gpu_setup() || input_setup())
		return GUEST_FAIL;
	serial_printf("gpu: ready\n");
	while (!frames || frame < frames) {
		if (deadline_passed(deadline))
			return GUEST_TIMEOUT;
		for (unsigned n = 0; n < nr_inputs; n++) {
			uint32_t len;

			if (*(volatile uint16_t *)&eventq[n].used->idx == eventq[n].used_idx)
				continue;
			struct vio_buf b = {&events[n], sizeof(events[n]), true};
			if (vio_wait(&eventq[n], VIO_POLL, 0, &len) || len != sizeof(events[n]) ||
			    !input_event(n, &events[n]) || vio_submit(&eventq[n], &b, 1))
				return GUEST_FAIL;
		}
		if (deadline_passed(next_poll)) {
			if (vio_config_read(&gpu, offsetof(struct virtio_gpu_config, events_read),
					    4) &
				VIRTIO_GPU_EVENT_DISPLAY &&
			    !display_change(remodeset))
				return GUEST_FAIL;
			next_poll = deadline_in_ms(CONFIG_POLL_MS);
		}
		cpu_relax();
	}
	serial_printf("gpu: ok\n");
	return GUEST_OK;
}
