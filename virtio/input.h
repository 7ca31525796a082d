/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VIRTIO_INPUT_H
#define INLAY_VIRTIO_INPUT_H

#include "virtio.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Events held while the guest has no buffers posted. Past this the oldest
 * are dropped (and counted).
 */
#define INPUT_QUEUE_MAX 256

struct input_stats {
	uint64_t delivered;
	uint64_t dropped;
	uint32_t leds; /* bit n: LED n as the guest last set it (keyboard) */
};

/**
 * virtio-input devices (virtio 1.2, section 5.8) that Linux sees as ordinary
 * evdev devices: a keyboard with every key code, autorepeat and LEDs, and an
 * absolute pointer whose axes run 0..@width-1 and 0..@height-1 (the scanout
 * at boot). NULL on failure, with a message.
 */
struct virtio_dev *virtio_input_create_keyboard(struct guest_mem *mem, struct evloop *loop);
struct virtio_dev *virtio_input_create_tablet(struct guest_mem *mem, struct evloop *loop,
					      uint32_t width, uint32_t height);

/*
 * Queue events; input_sync() ends a frame (SYN_REPORT) and hands what is
 * queued to the guest. Codes the device did not announce are ignored. Any
 * thread.
 */
/** EV_KEY @code (evdev, as Wayland's keycodes are) down or up (keyboard). */
void input_push_key(struct virtio_dev *d, uint16_t code, bool pressed);
/** Absolute position, clamped to the axis ranges (tablet). */
void input_push_abs(struct virtio_dev *d, uint32_t x, uint32_t y);
/** BTN_LEFT, BTN_RIGHT or BTN_MIDDLE (tablet). */
void input_push_button(struct virtio_dev *d, uint16_t button, bool pressed);
/** Wheel clicks, evdev sense: positive @vertical is away from the user (tablet). */
void input_push_wheel(struct virtio_dev *d, int32_t vertical, int32_t horizontal);
void input_sync(struct virtio_dev *d);

/** The axis ranges of a tablet (0 for a keyboard). */
void input_abs_range(struct virtio_dev *d, uint32_t *width, uint32_t *height);

void input_get_stats(struct virtio_dev *d, struct input_stats *s);

#endif
