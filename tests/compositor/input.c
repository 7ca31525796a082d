// SPDX-License-Identifier: MIT
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xkbcommon/xkbcommon.h>

#include "harness.h"
#include "virtual-keyboard-unstable-v1-client-protocol.h"
#include "wlr-virtual-pointer-unstable-v1-client-protocol.h"

static uint32_t time_ms(void)
{
	return (uint32_t)harness_now_ms();
}

static struct zwlr_virtual_pointer_v1 *vpointer(struct client *c)
{
	if (!c->vpointer) {
		if (!c->vpointer_manager)
			fail_msg("the compositor offers no zwlr_virtual_pointer_manager_v1");
		c->vpointer = zwlr_virtual_pointer_manager_v1_create_virtual_pointer(
		    c->vpointer_manager, c->seat);
	}
	return c->vpointer;
}

void input_move(struct client *c, int32_t x, int32_t y)
{
	struct zwlr_virtual_pointer_v1 *p = vpointer(c);

	zwlr_virtual_pointer_v1_motion_absolute(p, time_ms(), x, y, c->harness->output_width,
						c->harness->output_height);
	zwlr_virtual_pointer_v1_frame(p);
	wl_display_flush(c->display);
}

void input_button(struct client *c, uint32_t button, bool pressed)
{
	struct zwlr_virtual_pointer_v1 *p = vpointer(c);

	zwlr_virtual_pointer_v1_button(p, time_ms(), button,
				       pressed ? WL_POINTER_BUTTON_STATE_PRESSED
					       : WL_POINTER_BUTTON_STATE_RELEASED);
	zwlr_virtual_pointer_v1_frame(p);
	wl_display_flush(c->display);
}

void input_click(struct client *c, int32_t x, int32_t y)
{
	input_move(c, x, y);
	input_button(c, BTN_LEFT, true);
	input_button(c, BTN_LEFT, false);
}

/* The virtual keyboard needs a keymap before its first key. */
static struct zwp_virtual_keyboard_v1 *vkeyboard(struct client *c)
{
	struct xkb_context *ctx;
	struct xkb_keymap *keymap;
	char *text;
	size_t size;
	void *map;
	int fd;

	if (c->vkeyboard)
		return c->vkeyboard;
	if (!c->vkeyboard_manager)
		fail_msg("the compositor offers no zwp_virtual_keyboard_manager_v1");
	ctx = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	assert_non_null(ctx);
	keymap = xkb_keymap_new_from_names(ctx, NULL, XKB_KEYMAP_COMPILE_NO_FLAGS);
	assert_non_null(keymap);
	text = xkb_keymap_get_as_string(keymap, XKB_KEYMAP_FORMAT_TEXT_V1);
	assert_non_null(text);
	size = strlen(text) + 1;
	fd = memfd_create("keymap", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	memcpy(map, text, size);
	munmap(map, size);
	free(text);
	xkb_keymap_unref(keymap);
	xkb_context_unref(ctx);
	c->vkeyboard =
	    zwp_virtual_keyboard_manager_v1_create_virtual_keyboard(c->vkeyboard_manager, c->seat);
	zwp_virtual_keyboard_v1_keymap(c->vkeyboard, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, fd, size);
	close(fd);
	assert_true(client_roundtrip(c));
	return c->vkeyboard;
}

void input_key(struct client *c, uint32_t key)
{
	struct zwp_virtual_keyboard_v1 *k = vkeyboard(c);

	zwp_virtual_keyboard_v1_key(k, time_ms(), key, WL_KEYBOARD_KEY_STATE_PRESSED);
	zwp_virtual_keyboard_v1_key(k, time_ms(), key, WL_KEYBOARD_KEY_STATE_RELEASED);
	wl_display_flush(c->display);
}
