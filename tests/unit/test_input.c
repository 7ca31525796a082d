// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtio/input.h"
#include "vring_driver.h"

#include <linux/input.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_input.h>

#define RAM_SIZE    (4ULL << 20)
#define EVENT_RING  0x1000ULL
#define STATUS_RING 0x4000ULL
#define BUFS	    0x10000ULL
#define TW	    640
#define TH	    480

struct fx {
	struct guest_mem mem;
	struct evloop *loop;
	struct virtio_dev *kbd, *tab;
	struct vring_driver kev, kst, tev;
	struct vring_signals ksig, tsig;
	unsigned next_buf;
};

static void go_live(struct virtio_dev *d)
{
	d->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || guest_mem_init(&f->mem, RAM_SIZE))
		return -1;
	*state = f;
	f->loop = evloop_create();
	f->kbd = virtio_input_create_keyboard(&f->mem, f->loop);
	f->tab = virtio_input_create_tablet(&f->mem, f->loop, TW, TH);
	if (!f->loop || !f->kbd || !f->tab)
		return -1;
	vring_signals_attach(&f->ksig, f->kbd);
	vring_signals_attach(&f->tsig, f->tab);
	vring_driver_init(&f->kev, &f->mem, &f->kbd->vq[0], 64, EVENT_RING);
	vring_driver_init(&f->kst, &f->mem, &f->kbd->vq[1], 16, STATUS_RING);
	vring_driver_init(&f->tev, &f->mem, &f->tab->vq[0], 64, EVENT_RING + 0x8000);
	go_live(f->kbd);
	go_live(f->tab);
	return f->kbd->ops->activate(f->kbd) && f->tab->ops->activate(f->tab) ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	f->kbd->ops->destroy(f->kbd);
	f->tab->ops->destroy(f->tab);
	evloop_destroy(f->loop);
	guest_mem_finish(&f->mem);
	free(f);
	return 0;
}

/* Select @sel/@sub and return the reported size; @out gets the union. */
static uint8_t cfg_query(struct virtio_dev *d, uint8_t sel, uint8_t sub, void *out)
{
	uint8_t size;

	d->ops->config_write(d, 0, &sel, 1);
	d->ops->config_write(d, 1, &sub, 1);
	d->ops->config_read(d, offsetof(struct virtio_input_config, size), &size, 1);
	if (out)
		d->ops->config_read(d, offsetof(struct virtio_input_config, u), out, 128);
	return size;
}

static bool bit(const uint8_t *map, unsigned b)
{
	return (map[b / 8] >> (b % 8)) & 1;
}

/* Post @n 8-byte event buffers on @drv and kick @d. */
static void post(struct fx *f, struct virtio_dev *d, struct vring_driver *drv, unsigned n,
		 uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		const struct vring_buf b = {BUFS + 16ULL * (f->next_buf++ % 1024), len, true};
		vring_driver_add(drv, &b, 1);
	}
	d->ops->queue_notify(d, 0);
}

/* The next used event buffer; false when none. */
static bool next_event(struct fx *f, struct vring_driver *drv, struct virtio_input_event *ev)
{
	uint32_t id, len;
	struct vring_desc desc;

	if (!vring_driver_get_used(drv, &id, &len))
		return false;
	memcpy(&desc, vring_driver_ptr(drv, drv->desc_gpa + 16ULL * id, sizeof(desc)),
	       sizeof(desc));
	assert_int_equal(len, sizeof(*ev));
	memcpy(ev, vring_driver_ptr(drv, le64toh(desc.addr), sizeof(*ev)), sizeof(*ev));
	return true;
}

static void expect_event(struct fx *f, struct vring_driver *drv, uint16_t type, uint16_t code,
			 int32_t value)
{
	struct virtio_input_event ev;

	assert_true(next_event(f, drv, &ev));
	assert_int_equal(le16toh(ev.type), type);
	assert_int_equal(le16toh(ev.code), code);
	assert_int_equal((int32_t)le32toh(ev.value), value);
}

static void test_keyboard_config(void **state)
{
	struct fx *f = *state;
	uint8_t u[128];

	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_ID_NAME, 0, u), 14);
	assert_memory_equal(u, "Inlay Keyboard", 14);
	assert_true(cfg_query(f->kbd, VIRTIO_INPUT_CFG_ID_SERIAL, 0, u) > 0);
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_ID_DEVIDS, 0, u),
			 sizeof(struct virtio_input_devids));
	struct virtio_input_devids ids;
	memcpy(&ids, u, sizeof(ids));
	assert_int_equal(le16toh(ids.bustype), 0x06);
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_PROP_BITS, 0, NULL), 0);

	uint8_t size = cfg_query(f->kbd, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, u);
	assert_int_equal(size, BTN_TRIGGER_HAPPY / 8);
	assert_true(bit(u, KEY_ESC));
	assert_true(bit(u, KEY_A));
	assert_true(bit(u, KEY_MICMUTE));
	assert_true(bit(u, KEY_OK));
	assert_false(bit(u, KEY_RESERVED));
	assert_false(bit(u, BTN_LEFT));
	assert_false(bit(u, BTN_JOYSTICK));
	assert_true(cfg_query(f->kbd, VIRTIO_INPUT_CFG_EV_BITS, EV_REP, NULL) > 0);
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_EV_BITS, EV_LED, u), 1);
	assert_true(bit(u, LED_CAPSL));
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, NULL), 0);
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_EV_BITS, EV_REL, NULL), 0);
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_EV_BITS, 0xff, NULL), 0);
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, NULL), 0);
	assert_int_equal(cfg_query(f->kbd, 0x42, 0, NULL), 0);
	assert_int_equal(cfg_query(f->kbd, VIRTIO_INPUT_CFG_UNSET, 0, NULL), 0);

	/* a two-byte write sets select and subsel; reads past the end are zero */
	uint16_t both = VIRTIO_INPUT_CFG_EV_BITS | EV_LED << 8;
	f->kbd->ops->config_write(f->kbd, 0, &both, 2);
	f->kbd->ops->config_read(f->kbd, offsetof(struct virtio_input_config, size), &size, 1);
	assert_int_equal(size, 1);
	uint32_t past = 0xffffffff;
	f->kbd->ops->config_read(f->kbd, sizeof(struct virtio_input_config) - 2, &past, 4);
	assert_int_equal(past, 0);
}

static void test_tablet_config(void **state)
{
	struct fx *f = *state;
	uint8_t u[128];
	struct virtio_input_absinfo abs;

	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_ID_NAME, 0, u), 12);
	assert_memory_equal(u, "Inlay Tablet", 12);
	assert_true(cfg_query(f->tab, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, u) > 0);
	assert_true(bit(u, BTN_LEFT) && bit(u, BTN_RIGHT) && bit(u, BTN_MIDDLE));
	assert_false(bit(u, KEY_A));
	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_EV_BITS, EV_REL, u), 2);
	assert_true(bit(u, REL_WHEEL) && bit(u, REL_HWHEEL));
	assert_false(bit(u, REL_X));
	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, u), 1);
	assert_true(bit(u, ABS_X) && bit(u, ABS_Y));
	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_EV_BITS, EV_REP, NULL), 0);
	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, u), sizeof(abs));
	memcpy(&abs, u, sizeof(abs));
	assert_int_equal(le32toh(abs.min), 0);
	assert_int_equal(le32toh(abs.max), TW - 1);
	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Y, u), sizeof(abs));
	memcpy(&abs, u, sizeof(abs));
	assert_int_equal(le32toh(abs.max), TH - 1);
	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Z, NULL), 0);
	assert_int_equal(cfg_query(f->tab, VIRTIO_INPUT_CFG_ABS_INFO, 0xff, NULL), 0);
	uint32_t w, h;
	input_abs_range(f->tab, &w, &h);
	assert_int_equal(w, TW);
	assert_int_equal(h, TH);
}

static void test_key_events(void **state)
{
	struct fx *f = *state;
	struct virtio_input_event ev;

	post(f, f->kbd, &f->kev, 8, 8);
	input_push_key(f->kbd, KEY_A, true);
	input_sync(f->kbd);
	expect_event(f, &f->kev, EV_KEY, KEY_A, 1);
	expect_event(f, &f->kev, EV_SYN, SYN_REPORT, 0);
	assert_false(next_event(f, &f->kev, &ev));
	assert_int_equal(f->ksig.queue[0], 1);
	input_push_key(f->kbd, KEY_A, false);
	input_push_key(f->kbd, BTN_LEFT, true); /* not a keyboard code: ignored */
	input_push_key(f->kbd, KEY_MAX + 1, true);
	input_push_key(f->kbd, 0xffff, true);
	input_sync(f->kbd);
	expect_event(f, &f->kev, EV_KEY, KEY_A, 0);
	expect_event(f, &f->kev, EV_SYN, SYN_REPORT, 0);
	assert_false(next_event(f, &f->kev, &ev));
}

static void test_pointer_events(void **state)
{
	struct fx *f = *state;

	post(f, f->tab, &f->tev, 16, 8);
	input_push_abs(f->tab, 100, 200);
	input_push_button(f->tab, BTN_LEFT, true);
	input_push_button(f->tab, KEY_A, true); /* ignored */
	input_sync(f->tab);
	expect_event(f, &f->tev, EV_ABS, ABS_X, 100);
	expect_event(f, &f->tev, EV_ABS, ABS_Y, 200);
	expect_event(f, &f->tev, EV_KEY, BTN_LEFT, 1);
	expect_event(f, &f->tev, EV_SYN, SYN_REPORT, 0);
	input_push_abs(f->tab, 100000, 0xffffffff);
	input_push_wheel(f->tab, -1, 2);
	input_sync(f->tab);
	expect_event(f, &f->tev, EV_ABS, ABS_X, TW - 1);
	expect_event(f, &f->tev, EV_ABS, ABS_Y, TH - 1);
	expect_event(f, &f->tev, EV_REL, REL_WHEEL, -1);
	expect_event(f, &f->tev, EV_REL, REL_HWHEEL, 2);
	expect_event(f, &f->tev, EV_SYN, SYN_REPORT, 0);
}

/* Events wait for buffers, in order; the guest's kick delivers them. */
static void test_queue_until_buffers(void **state)
{
	struct fx *f = *state;
	struct virtio_input_event ev;
	struct input_stats s;

	input_push_key(f->kbd, KEY_B, true);
	input_sync(f->kbd);
	input_push_key(f->kbd, KEY_B, false);
	input_sync(f->kbd);
	assert_false(next_event(f, &f->kev, &ev));
	post(f, f->kbd, &f->kev, 3, 8);
	expect_event(f, &f->kev, EV_KEY, KEY_B, 1);
	expect_event(f, &f->kev, EV_SYN, SYN_REPORT, 0);
	expect_event(f, &f->kev, EV_KEY, KEY_B, 0);
	assert_false(next_event(f, &f->kev, &ev));
	post(f, f->kbd, &f->kev, 1, 8);
	expect_event(f, &f->kev, EV_SYN, SYN_REPORT, 0);
	input_get_stats(f->kbd, &s);
	assert_int_equal(s.delivered, 4);
	assert_int_equal(s.dropped, 0);
}

/* Past INPUT_QUEUE_MAX the oldest go first, counted. */
static void test_queue_bound(void **state)
{
	struct fx *f = *state;
	struct input_stats s;
	const unsigned pushed = INPUT_QUEUE_MAX + 45;

	for (unsigned i = 0; i < pushed; i++)
		input_push_key(f->kbd, KEY_1 + i % 10, i & 1);
	input_get_stats(f->kbd, &s);
	assert_int_equal(s.dropped, pushed - INPUT_QUEUE_MAX);
	post(f, f->kbd, &f->kev, 4, 8);
	for (unsigned i = pushed - INPUT_QUEUE_MAX; i < pushed - INPUT_QUEUE_MAX + 4; i++)
		expect_event(f, &f->kev, EV_KEY, KEY_1 + i % 10, i & 1);
	input_get_stats(f->kbd, &s);
	assert_int_equal(s.delivered, 4);
}

/* Nothing reaches a driver that is not live; short buffers keep the event. */
static void test_not_live_and_short(void **state)
{
	struct fx *f = *state;
	struct virtio_input_event ev;
	uint32_t id, len;

	f->kbd->status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	post(f, f->kbd, &f->kev, 2, 8);
	input_push_key(f->kbd, KEY_C, true);
	input_sync(f->kbd);
	assert_false(next_event(f, &f->kev, &ev));
	go_live(f->kbd);
	f->kbd->ops->queue_notify(f->kbd, 0);
	expect_event(f, &f->kev, EV_KEY, KEY_C, 1);
	expect_event(f, &f->kev, EV_SYN, SYN_REPORT, 0);

	input_push_key(f->kbd, KEY_D, true);
	input_sync(f->kbd);
	post(f, f->kbd, &f->kev, 1, 4);
	assert_true(vring_driver_get_used(&f->kev, &id, &len));
	assert_int_equal(len, 4);
	post(f, f->kbd, &f->kev, 2, 8);
	expect_event(f, &f->kev, EV_KEY, KEY_D, 1);
	expect_event(f, &f->kev, EV_SYN, SYN_REPORT, 0);
}

static void send_status(struct fx *f, uint16_t type, uint16_t code, int32_t value)
{
	struct virtio_input_event ev = {htole16(type), htole16(code), htole32((uint32_t)value)};
	const struct vring_buf b = {BUFS + 0x8000, sizeof(ev), false};
	uint32_t id, len;

	memcpy(vring_driver_ptr(&f->kst, b.gpa, sizeof(ev)), &ev, sizeof(ev));
	vring_driver_add(&f->kst, &b, 1);
	f->kbd->ops->queue_notify(f->kbd, 1);
	assert_true(vring_driver_get_used(&f->kst, &id, &len));
}

static void test_leds(void **state)
{
	struct fx *f = *state;
	struct input_stats s;

	send_status(f, EV_LED, LED_CAPSL, 1);
	send_status(f, EV_LED, LED_NUML, 1);
	send_status(f, EV_LED, LED_NUML, 0);
	send_status(f, EV_LED, 0xffff, 1); /* out of range: ignored */
	send_status(f, EV_KEY, KEY_A, 1);
	input_get_stats(f->kbd, &s);
	assert_int_equal(s.leds, 1u << LED_CAPSL);
	f->kbd->ops->reset(f->kbd);
	input_get_stats(f->kbd, &s);
	assert_int_equal(s.leds, 0);
}

static void test_reset_drops_queue(void **state)
{
	struct fx *f = *state;
	struct virtio_input_event ev;

	input_push_key(f->kbd, KEY_E, true);
	input_sync(f->kbd);
	f->kbd->ops->reset(f->kbd);
	vring_driver_init(&f->kev, &f->mem, &f->kbd->vq[0], 64, EVENT_RING);
	post(f, f->kbd, &f->kev, 2, 8);
	assert_false(next_event(f, &f->kev, &ev));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keyboard_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tablet_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pointer_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_until_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_live_and_short, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_drops_queue, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
