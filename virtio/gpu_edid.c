// SPDX-License-Identifier: MIT
/* EDID 1.4 base block (VESA E-EDID) describing the scanout's current size. */
#include "gpu.h"

#include <string.h>

/* Reduced-blanking style timings: small fixed blanking, fine for a virtual panel. */
#define EDID_HBLANK  160
#define EDID_HFRONT  48
#define EDID_HSYNC   32
#define EDID_VBLANK  30
#define EDID_VFRONT  3
#define EDID_VSYNC   5
#define EDID_REFRESH 60
/* Size in mm reported for the panel: 96 dots per inch. */
#define EDID_MM(px) ((px)*254 / 960)

static void edid_dtd(uint8_t *d, uint32_t w, uint32_t h)
{
	uint64_t total = (uint64_t)(w + EDID_HBLANK) * (h + EDID_VBLANK);
	uint64_t clock = total * EDID_REFRESH / 10000; /* 10 kHz units */
	uint32_t wmm = EDID_MM(w), hmm = EDID_MM(h);

	if (clock > 0xffff)
		clock = 0xffff; /* a lower refresh rate at the very largest sizes */
	d[0] = clock & 0xff;
	d[1] = clock >> 8;
	d[2] = w & 0xff;
	d[3] = EDID_HBLANK & 0xff;
	d[4] = ((w >> 8) & 0xf) << 4 | ((EDID_HBLANK >> 8) & 0xf);
	d[5] = h & 0xff;
	d[6] = EDID_VBLANK & 0xff;
	d[7] = ((h >> 8) & 0xf) << 4 | ((EDID_VBLANK >> 8) & 0xf);
	d[8] = EDID_HFRONT & 0xff;
	d[9] = EDID_HSYNC & 0xff;
	d[10] = (EDID_VFRONT & 0xf) << 4 | (EDID_VSYNC & 0xf);
	d[11] = ((EDID_HFRONT >> 8) & 3) << 6 | ((EDID_HSYNC >> 8) & 3) << 4 |
		((EDID_VFRONT >> 4) & 3) << 2 | ((EDID_VSYNC >> 4) & 3);
	d[12] = wmm & 0xff;
	d[13] = hmm & 0xff;
	d[14] = ((wmm >> 8) & 0xf) << 4 | ((hmm >> 8) & 0xf);
	d[17] = 0x1a; /* digital separate sync, hsync positive */
}

/* A display descriptor of @tag holding text (13 bytes, newline-terminated, space-padded). */
static void edid_text(uint8_t *d, uint8_t tag, const char *text)
{
	size_t n = strlen(text);

	d[3] = tag;
	memset(d + 5, ' ', 13);
	memcpy(d + 5, text, n);
	d[5 + n] = '\n';
}

void vgpu_edid_build(uint8_t edid[128], uint32_t width, uint32_t height)
{
	static const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
	/* sRGB primaries and white point. */
	static const uint8_t chroma[10] = {0xee, 0x91, 0xa3, 0x54, 0x4c,
					   0x99, 0x26, 0x0f, 0x50, 0x54};
	uint8_t sum = 0;

	memset(edid, 0, 128);
	memcpy(edid, header, sizeof(header));
	/* Manufacturer "INL", three 5-bit letters big-endian. */
	uint16_t mfg = ('I' - '@') << 10 | ('N' - '@') << 5 | ('L' - '@');
	edid[8] = mfg >> 8;
	edid[9] = mfg & 0xff;
	edid[10] = 1;  /* product code */
	edid[17] = 36; /* model year 2026 */
	edid[18] = 1;  /* EDID 1.4 */
	edid[19] = 4;
	edid[20] = 0xa0; /* digital input, 8 bits per colour */
	edid[21] = (uint8_t)(EDID_MM(width) / 10 ? EDID_MM(width) / 10 : 1);
	edid[22] = (uint8_t)(EDID_MM(height) / 10 ? EDID_MM(height) / 10 : 1);
	edid[23] = 120;	 /* gamma 2.2 */
	edid[24] = 0x06; /* sRGB, preferred timing is native */
	memcpy(edid + 25, chroma, sizeof(chroma));
	memset(edid + 38, 0x01, 16); /* no standard timings */
	edid_dtd(edid + 54, width, height);
	edid_text(edid + 72, 0xfc, "Inlay");
	/* Range limits: 50-75 Hz vertical, 1-255 kHz horizontal, 660 MHz. */
	uint8_t *r = edid + 90;
	r[3] = 0xfd;
	r[5] = 50;
	r[6] = 75;
	r[7] = 1;
	r[8] = 255;
	r[9] = 66;
	r[10] = 0x01; /* range limits only */
	r[11] = '\n';
	memset(r + 12, ' ', 6);
	edid[108 + 3] = 0x10; /* dummy descriptor */
	for (int i = 0; i < 127; i++)
		sum += edid[i];
	edid[127] = (uint8_t)(0x100 - sum);
}
