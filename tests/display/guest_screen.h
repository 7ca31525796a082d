/* SPDX-License-Identifier: MIT */
#ifndef INLAY_TEST_GUEST_SCREEN_H
#define INLAY_TEST_GUEST_SCREEN_H

/*
 * What the display tests share: the log the gpu test guest (tests/guest/
 * guest_gpu.c) writes through its serial console, and its tile pattern.
 */

#include "harness.h"

#include <stdbool.h>
#include <stdint.h>

#define GUEST_TILE	     64
#define GUEST_LOG_TIMEOUT_MS 60000

/** The colour of the guest's pattern at pixel (x, y) of its screen. */
uint32_t guest_tile_color(int32_t x, int32_t y);

/**
 * Find the pattern's top-left corner in @img: the first red tile (in raster
 * order) whose right and lower neighbours are green.
 */
bool guest_find_pattern(const struct image *img, int32_t *x, int32_t *y);

/** Pixels of the width x height pattern at (x, y) in @img that differ (the first few printed). */
unsigned guest_pattern_mismatches(const struct image *img, int32_t x, int32_t y, int32_t width,
				  int32_t height);

/** The children's log (guests' serial consoles and the VMMs' messages), NUL-terminated. */
const char *guest_log_read(struct harness *h);

/** Empty the log, so one from an earlier run cannot satisfy a wait. */
void guest_log_clear(struct harness *h);

/** How many times @needle is in the log. */
unsigned guest_log_count(struct harness *h, const char *needle);

/**
 * Wait until the log holds @needle @times times, dispatching the harness's
 * clients meanwhile when @dispatch; fails the test (showing the log) after
 * GUEST_LOG_TIMEOUT_MS.
 */
void guest_log_wait(struct harness *h, const char *needle, unsigned times, bool dispatch);

#endif
