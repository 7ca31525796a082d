// SPDX-License-Identifier: MIT
/*
 * virtio-input (virtio 1.2, section 5.8): a keyboard and an absolute pointer.
 * The config space answers the select/subsel queries Linux's virtio_input
 * driver makes at probe; events wait in a bounded queue until the guest has
 * posted buffers for them.
 */
#include "input.h"
#include "snapshot/snap_format.h"

#include <endian.h>
#include <linux/input.h>
#include <linux/virtio_input.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_EVENTQ	   0
#define INPUT_STATUSQ	   1
#define INPUT_QUEUE_SIZE   64
#define INPUT_BUS_VIRTUAL  0x06 /* BUS_VIRTUAL from linux/input.h */
#define INPUT_BITMAP_BYTES sizeof(((struct virtio_input_config *)0)->u.bitmap)

struct input {
	struct virtio_dev dev; /* first: ops get &dev */
	struct virtio_input_config cfg;
	const char *name;
	uint16_t product;
	/* What the device announces, per event type; only these are queued. */
	uint8_t bits[EV_CNT][INPUT_BITMAP_BYTES];
	uint32_t abs_max[2]; /* ABS_X, ABS_Y */
	struct virtio_input_event queue[INPUT_QUEUE_MAX];
	unsigned head, count;
	struct input_stats stats;
};

static struct input *to_input(struct virtio_dev *d)
{
	return (struct input *)d;
}

static void bit_set(uint8_t *map, unsigned bit)
{
	map[bit / 8] |= 1u << (bit % 8);
}

static bool bit_test(const uint8_t *map, unsigned bit)
{
	return bit < INPUT_BITMAP_BYTES * 8 && (map[bit / 8] >> (bit % 8)) & 1;
}

/* Bytes of @map up to its last set bit: the size the config space reports. */
static uint8_t bitmap_size(const uint8_t *map)
{
	unsigned n = INPUT_BITMAP_BYTES;

	while (n && !map[n - 1])
		n--;
	return (uint8_t)n;
}

/* Recompute the config union for the driver's select/subsel. Caller holds the lock. */
static void config_update(struct input *in)
{
	struct virtio_input_config *c = &in->cfg;
	uint8_t sel = c->select, sub = c->subsel;

	memset(&c->u, 0, sizeof(c->u));
	c->size = 0;
	switch (sel) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		c->size = (uint8_t)strlen(in->name);
		memcpy(c->u.string, in->name, c->size);
		break;
	case VIRTIO_INPUT_CFG_ID_SERIAL:
		c->size = 1;
		c->u.string[0] = '0';
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		c->size = sizeof(c->u.ids);
		c->u.ids.bustype = htole16(INPUT_BUS_VIRTUAL);
		c->u.ids.vendor = htole16(0x1af4);
		c->u.ids.product = htole16(in->product);
		c->u.ids.version = htole16(1);
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		if (sub < EV_CNT && sub != EV_SYN) {
			c->size = bitmap_size(in->bits[sub]);
			memcpy(c->u.bitmap, in->bits[sub], c->size);
		}
		break;
	case VIRTIO_INPUT_CFG_ABS_INFO:
		if (sub <= ABS_Y && bit_test(in->bits[EV_ABS], sub)) {
			c->size = sizeof(c->u.abs);
			c->u.abs.max = htole32(in->abs_max[sub]);
		}
		break;
	default: /* PROP_BITS: none; unknown selects: size 0 */
		break;
	}
}

/* Hand queued events to the buffers the driver posted. Caller holds the lock. */
static void input_deliver(struct input *in)
{
	struct virtio_dev *d = &in->dev;
	struct virtq *vq = &d->vq[INPUT_EVENTQ];
	struct virtq_chain c;
	bool pushed = false;

	if (!(d->status & VIRTIO_CONFIG_S_DRIVER_OK) || (d->status & VIRTIO_CONFIG_S_NEEDS_RESET))
		return;
	/* Each pass consumes an event or a ring entry, so this ends. */
	while (in->count) {
		uint16_t before = vq->last_avail;
		int r = virtq_pop(vq, d->mem, &c);

		if (r == 0 || (r < 0 && c.head == VIRTQ_NO_HEAD && vq->last_avail == before))
			break;
		if (r < 0) {
			if (c.head != VIRTQ_NO_HEAD)
				virtq_push(vq, d->mem, c.head, 0);
			pushed = true;
			continue;
		}
		const struct virtio_input_event *ev = &in->queue[in->head];
		uint32_t len = (uint32_t)virtq_copy_to_in(&c, 0, ev, sizeof(*ev));
		virtq_push(vq, d->mem, c.head, len);
		pushed = true;
		if (len == sizeof(*ev)) {
			in->head = (in->head + 1) % INPUT_QUEUE_MAX;
			in->count--;
			in->stats.delivered++;
		}
	}
	if (pushed)
		virtio_queue_done(d, INPUT_EVENTQ);
}

/* Queue one event, dropping the oldest when full. Caller holds the lock. */
static void input_queue(struct input *in, uint16_t type, uint16_t code, int32_t value)
{
	if (in->count == INPUT_QUEUE_MAX) {
		in->head = (in->head + 1) % INPUT_QUEUE_MAX;
		in->count--;
		in->stats.dropped++;
	}
	in->queue[(in->head + in->count) % INPUT_QUEUE_MAX] = (struct virtio_input_event){
	    .type = htole16(type), .code = htole16(code), .value = htole32((uint32_t)value)};
	in->count++;
}

static void input_event(struct virtio_dev *d, uint16_t type, uint16_t code, int32_t value)
{
	struct input *in = to_input(d);

	if (!bit_test(in->bits[type], code))
		return;
	pthread_mutex_lock(&d->lock);
	input_queue(in, type, code, value);
	pthread_mutex_unlock(&d->lock);
}

void input_push_key(struct virtio_dev *d, uint16_t code, bool pressed)
{
	input_event(d, EV_KEY, code, pressed);
}

void input_push_button(struct virtio_dev *d, uint16_t button, bool pressed)
{
	input_event(d, EV_KEY, button, pressed);
}

void input_push_abs(struct virtio_dev *d, uint32_t x, uint32_t y)
{
	struct input *in = to_input(d);

	input_event(d, EV_ABS, ABS_X, (int32_t)(x < in->abs_max[0] ? x : in->abs_max[0]));
	input_event(d, EV_ABS, ABS_Y, (int32_t)(y < in->abs_max[1] ? y : in->abs_max[1]));
}

void input_push_wheel(struct virtio_dev *d, int32_t vertical, int32_t horizontal)
{
	if (vertical)
		input_event(d, EV_REL, REL_WHEEL, vertical);
	if (horizontal)
		input_event(d, EV_REL, REL_HWHEEL, horizontal);
}

void input_sync(struct virtio_dev *d)
{
	struct input *in = to_input(d);

	pthread_mutex_lock(&d->lock);
	input_queue(in, EV_SYN, SYN_REPORT, 0);
	input_deliver(in);
	pthread_mutex_unlock(&d->lock);
}

/* LED state the guest reports on the status queue. */
static uint32_t input_status(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct input *in = to_input(d);
	struct virtio_input_event ev;

	if (virtq_copy_from_out(c, 0, &ev, sizeof(ev)) == sizeof(ev) &&
	    le16toh(ev.type) == EV_LED && le16toh(ev.code) < 32) {
		uint32_t bit = 1u << le16toh(ev.code);
		in->stats.leds = ev.value ? in->stats.leds | bit : in->stats.leds & ~bit;
	}
	return 0;
}

static void input_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q == INPUT_STATUSQ) {
		virtio_queue_drain(d, q, input_status);
		return;
	}
	pthread_mutex_lock(&d->lock);
	input_deliver(to_input(d));
	pthread_mutex_unlock(&d->lock);
}

static void input_config_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct input *in = to_input(d);

	virtio_config_copy(&in->cfg, sizeof(in->cfg), off, data, len);
}

static void input_config_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	struct input *in = to_input(d);
	const uint8_t *p = data;

	/* Only select (byte 0) and subsel (byte 1) are writable. */
	for (uint32_t i = 0; i < len && off + i < 2; i++) {
		if (off + i == 0)
			in->cfg.select = p[i];
		else
			in->cfg.subsel = p[i];
	}
	if (off < 2)
		config_update(in);
}

static void input_reset(struct virtio_dev *d)
{
	struct input *in = to_input(d);

	in->head = in->count = 0;
	in->stats.leds = 0;
	in->cfg.select = in->cfg.subsel = 0;
	config_update(in);
	virtio_dev_reset(d);
}

static void input_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	virtio_dev_finish(d);
	free(to_input(d));
}

static void input_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct input *in = to_input(d);

	snap_put_u8(w, in->cfg.select);
	snap_put_u8(w, in->cfg.subsel);
	snap_put_u32(w, in->stats.leds);
	snap_put_u32(w, in->count);
	for (unsigned i = 0; i < in->count; i++)
		snap_put_bytes(w, &in->queue[(in->head + i) % INPUT_QUEUE_MAX],
			       sizeof(in->queue[0]));
}

static bool input_restore(struct virtio_dev *d, struct snap_section *s)
{
	struct input *in = to_input(d);
	uint8_t select, subsel;
	uint32_t leds, count;

	if (!snap_get_u8(s, &select) || !snap_get_u8(s, &subsel) || !snap_get_u32(s, &leds) ||
	    !snap_get_u32(s, &count))
		return false;
	if (count > INPUT_QUEUE_MAX)
		return snap_fail(s);
	const void *events = snap_get_ref(s, count * sizeof(in->queue[0]));
	if (!events)
		return false;
	memcpy(in->queue, events, count * sizeof(in->queue[0]));
	in->head = 0;
	in->count = count;
	in->stats.leds = leds;
	/* config_update() answers only selectors it knows, like a guest write. */
	in->cfg.select = select;
	in->cfg.subsel = subsel;
	config_update(in);
	return true;
}

static const struct virtio_dev_ops input_ops = {
    .name = "virtio-input",
    .device_id = VIRTIO_ID_INPUT,
    .num_queues = 2,
    .queue_max_size = INPUT_QUEUE_SIZE,
    .config_size = sizeof(struct virtio_input_config),
    .config_read = input_config_read,
    .config_write = input_config_write,
    .activate = virtio_dev_activate,
    .queue_notify = input_queue_notify,
    .reset = input_reset,
    .destroy = input_destroy,
    .save = input_save,
    .restore = input_restore,
};

static struct input *input_new(struct guest_mem *mem, struct evloop *loop, const char *name,
			       uint16_t product)
{
	struct input *in = calloc(1, sizeof(*in));

	if (!in) {
		fprintf(stderr, "virtio-input: out of memory\n");
		return NULL;
	}
	virtio_dev_init(&in->dev, &input_ops, mem, loop);
	in->name = name;
	in->product = product;
	bit_set(in->bits[EV_SYN], SYN_REPORT);
	return in;
}

struct virtio_dev *virtio_input_create_keyboard(struct guest_mem *mem, struct evloop *loop)
{
	struct input *in = input_new(mem, loop, "Inlay Keyboard", 1);

	if (!in)
		return NULL;
	/* Every keyboard key; the button ranges would make it look like a mouse or joystick. */
	for (unsigned k = KEY_ESC; k < BTN_MISC; k++)
		bit_set(in->bits[EV_KEY], k);
	for (unsigned k = KEY_OK; k < BTN_TRIGGER_HAPPY; k++)
		bit_set(in->bits[EV_KEY], k);
	bit_set(in->bits[EV_REP], REP_DELAY);
	bit_set(in->bits[EV_REP], REP_PERIOD);
	bit_set(in->bits[EV_LED], LED_NUML);
	bit_set(in->bits[EV_LED], LED_CAPSL);
	bit_set(in->bits[EV_LED], LED_SCROLLL);
	return &in->dev;
}

struct virtio_dev *virtio_input_create_tablet(struct guest_mem *mem, struct evloop *loop,
					      uint32_t width, uint32_t height)
{
	struct input *in = input_new(mem, loop, "Inlay Tablet", 2);

	if (!in)
		return NULL;
	bit_set(in->bits[EV_KEY], BTN_LEFT);
	bit_set(in->bits[EV_KEY], BTN_RIGHT);
	bit_set(in->bits[EV_KEY], BTN_MIDDLE);
	bit_set(in->bits[EV_REL], REL_WHEEL);
	bit_set(in->bits[EV_REL], REL_HWHEEL);
	bit_set(in->bits[EV_ABS], ABS_X);
	bit_set(in->bits[EV_ABS], ABS_Y);
	in->abs_max[0] = width ? width - 1 : 0;
	in->abs_max[1] = height ? height - 1 : 0;
	return &in->dev;
}

void input_abs_range(struct virtio_dev *d, uint32_t *width, uint32_t *height)
{
	struct input *in = to_input(d);
	bool abs = bit_test(in->bits[EV_ABS], ABS_X);

	*width = abs ? in->abs_max[0] + 1 : 0;
	*height = abs ? in->abs_max[1] + 1 : 0;
}

void input_get_stats(struct virtio_dev *d, struct input_stats *s)
{
	pthread_mutex_lock(&d->lock);
	*s = to_input(d)->stats;
	pthread_mutex_unlock(&d->lock);
}
