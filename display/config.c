// SPDX-License-Identifier: MIT
#include "display.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Wayland when WAYLAND_DISPLAY is set, else no display and no gpu. */
static void display_config_init(struct display_config *c)
{
	const char *wl = getenv("WAYLAND_DISPLAY");
	bool wayland = wl && *wl;

	*c = (struct display_config){
	    .kind = wayland ? DISPLAY_WAYLAND : DISPLAY_NONE,
	    .width = DISPLAY_DEFAULT_WIDTH,
	    .height = DISPLAY_DEFAULT_HEIGHT,
	    .input = true,
	};
}

/* WIDTHxHEIGHT in decimal, each within the device's limits. */
static int parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	char *end;
	unsigned long a, b;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (end == s || *end != 'x' || errno)
		return -EINVAL;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	b = strtoul(s, &end, 10);
	if (end == s || *end || errno)
		return -EINVAL;
	if (a < VGPU_MIN_DIM || a > VGPU_MAX_DIM || b < VGPU_MIN_DIM || b > VGPU_MAX_DIM)
		return -EINVAL;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

/*
 * The token from --grant or else the environment, checked by the library's
 * own rules: --grant goes through the environment too, so there is one check.
 * The variable is removed either way: nothing the VMM starts may inherit it.
 */
static int take_grant_token(struct display_config *c, const char *grant, char *err, size_t errlen)
{
	if (grant && setenv(INLAY_GRANT_TOKEN_ENV, grant, 1) < 0) {
		snprintf(err, errlen, "--grant: %s", strerror(errno));
		return -EINVAL;
	}
	char *token = inlay_grant_token_from_env();
	if (!token && errno != ENOENT) {
		snprintf(err, errlen, "%s: not a screen-grant token (1 to %d printable bytes)",
			 grant ? "--grant" : INLAY_GRANT_TOKEN_ENV, INLAY_GRANT_TOKEN_MAX);
		return -EINVAL;
	}
	if (token)
		snprintf(c->grant_token, sizeof(c->grant_token), "%s", token);
	free(token);
	return 0;
}

int display_config_parse(struct display_config *c, const char *display, const char *gpu,
			 bool no_input, const char *grant, char *err, size_t errlen)
{
	display_config_init(c);
	if (take_grant_token(c, grant, err, errlen) < 0)
		return -EINVAL;
	if (c->grant_token[0])
		c->kind = DISPLAY_WAYLAND;
	if (display && !strcmp(display, "wayland")) {
		c->kind = DISPLAY_WAYLAND;
	} else if (display && !strcmp(display, "none")) {
		if (grant) {
			snprintf(err, errlen, "--grant needs --display wayland");
			return -EINVAL;
		}
		c->kind = DISPLAY_NONE;
		c->grant_token[0] = '\0';
	} else if (display) {
		snprintf(err, errlen, "--display %s: expected wayland or none", display);
		return -EINVAL;
	}
	if (gpu) {
		if (parse_size(gpu, &c->width, &c->height) < 0) {
			snprintf(err, errlen, "--gpu %s: expected WIDTHxHEIGHT, each %d to %d", gpu,
				 VGPU_MIN_DIM, VGPU_MAX_DIM);
			return -EINVAL;
		}
		c->gpu = true;
	}
	c->input = !no_input;
	return 0;
}
