// SPDX-License-Identifier: MIT
#include "harness.h"

void grant_scene_init(struct grant_scene *sc, struct harness *h, uint32_t color)
{
	sc->h = h;
	sc->granter = client_create(h);
	sc->grantee = client_create(h);
	sc->input = client_create(h);
	sc->parent = toplevel_create(sc->granter, 400, 300, color);
	surface_locate(sc->input, sc->parent, &sc->ox, &sc->oy);
}

struct surface *grant_scene_grantee(struct grant_scene *sc, struct grant *g, int32_t bw, int32_t bh,
				    uint32_t color)
{
	struct surface *s = surface_create(sc->grantee);

	lease_accept_wait(s, g->token);
	surface_attach_color(s, bw, bh, color);
	surface_commit_wait(s);
	return s;
}
