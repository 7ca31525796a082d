// SPDX-License-Identifier: MIT
#include "snap_format.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Header: magic[8] major:16 minor:16 sections:32 total:64 flags:32 crc:32. */
#define HDR_MAJOR    8
#define HDR_MINOR    10
#define HDR_SECTIONS 12
#define HDR_TOTAL    16
#define HDR_FLAGS    24
#define HDR_CRC	     28
/* Section header: type:32 instance:32 length:64 crc:32 reserved:32. */
#define SEC_TYPE     0
#define SEC_INSTANCE 4
#define SEC_LENGTH   8
#define SEC_CRC	     16
#define SEC_RESERVED 20

static uint32_t crc32c_table[256];

static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc32c_table[i] = c;
	}
}

uint32_t snap_crc32c(uint32_t crc, const void *p, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const uint8_t *b = p;

	pthread_once(&once, crc32c_init);
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void le16_put(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void le32_put(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void le64_put(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint16_t le16_get(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return le16toh(v);
}

static uint32_t le32_get(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t le64_get(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

/* A section's CRC covers its type, instance and length as well as its bytes. */
static uint32_t snap_section_crc(const uint8_t *h, uint64_t len)
{
	return snap_crc32c(snap_crc32c(0, h, SEC_CRC), h + SNAP_SECTION_HDR, len);
}

/* ---- writer ---- */

void snap_writer_init(struct snap_writer *w)
{
	*w = (struct snap_writer){.section = SIZE_MAX};
	/* Room for the header, filled in by snap_writer_seal(). */
	snap_put_bytes(w, NULL, SNAP_HEADER_SIZE);
}

void snap_writer_finish(struct snap_writer *w)
{
	free(w->buf);
	*w = (struct snap_writer){.section = SIZE_MAX, .failed = true};
}

/* Reserve @len bytes at the end; NULL (and a sticky failure) when it cannot. */
static uint8_t *snap_grow(struct snap_writer *w, size_t len)
{
	if (w->failed)
		return NULL;
	if (len > SNAP_MAX_STATE - w->len) {
		w->failed = true;
		return NULL;
	}
	if (w->len + len > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->len + len)
			cap *= 2;
		uint8_t *buf = realloc(w->buf, cap);
		if (!buf) {
			w->failed = true;
			return NULL;
		}
		w->buf = buf;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;
	w->len += len;
	return p;
}

void snap_put_bytes(struct snap_writer *w, const void *p, size_t len)
{
	uint8_t *dst = snap_grow(w, len);
	if (!dst)
		return;
	if (p)
		memcpy(dst, p, len);
	else
		memset(dst, 0, len);
}

void snap_put_u8(struct snap_writer *w, uint8_t v)
{
	snap_put_bytes(w, &v, 1);
}

void snap_put_u16(struct snap_writer *w, uint16_t v)
{
	uint8_t *p = snap_grow(w, 2);
	if (p)
		le16_put(p, v);
}

void snap_put_u32(struct snap_writer *w, uint32_t v)
{
	uint8_t *p = snap_grow(w, 4);
	if (p)
		le32_put(p, v);
}

void snap_put_u64(struct snap_writer *w, uint64_t v)
{
	uint8_t *p = snap_grow(w, 8);
	if (p)
		le64_put(p, v);
}

void snap_put_str(struct snap_writer *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > SNAP_MAX_STRING - 1) {
		w->failed = true;
		return;
	}
	snap_put_u8(w, s != NULL);
	snap_put_u32(w, (uint32_t)n);
	snap_put_bytes(w, s, n);
}

void snap_writer_begin_section(struct snap_writer *w, uint32_t type, uint32_t instance)
{
	if (w->section != SIZE_MAX || w->nr_sections == SNAP_MAX_SECTIONS) {
		w->failed = true;
		return;
	}
	size_t at = w->len;
	uint8_t *h = snap_grow(w, SNAP_SECTION_HDR);
	if (!h)
		return;
	memset(h, 0, SNAP_SECTION_HDR);
	le32_put(h + SEC_TYPE, type);
	le32_put(h + SEC_INSTANCE, instance);
	w->section = at;
}

void snap_writer_end_section(struct snap_writer *w)
{
	if (w->section == SIZE_MAX) {
		w->failed = true;
		return;
	}
	size_t at = w->section;
	w->section = SIZE_MAX;
	if (w->failed)
		return;
	uint64_t len = w->len - at - SNAP_SECTION_HDR;
	if (len > SNAP_MAX_SECTION) {
		w->failed = true;
		return;
	}
	uint8_t *h = w->buf + at;
	le64_put(h + SEC_LENGTH, len);
	le32_put(h + SEC_CRC, snap_section_crc(h, len));
	w->nr_sections++;
}

bool snap_writer_ok(const struct snap_writer *w)
{
	return !w->failed;
}

int snap_writer_seal(struct snap_writer *w, const uint8_t **data, size_t *len)
{
	if (w->failed || w->section != SIZE_MAX || !w->buf)
		return w->failed && w->buf ? -ENOMEM : -EINVAL;
	uint8_t *h = w->buf;
	memcpy(h, SNAP_MAGIC, 8);
	le16_put(h + HDR_MAJOR, SNAP_MAJOR);
	le16_put(h + HDR_MINOR, SNAP_MINOR);
	le32_put(h + HDR_SECTIONS, w->nr_sections);
	le64_put(h + HDR_TOTAL, w->len);
	le32_put(h + HDR_FLAGS, 0);
	le32_put(h + HDR_CRC, snap_crc32c(0, h, HDR_CRC));
	*data = w->buf;
	*len = w->len;
	return 0;
}

/* ---- sections ---- */

const void *snap_get_ref(struct snap_section *s, size_t len)
{
	if (s->failed || len > s->len - s->pos) {
		s->failed = true;
		return NULL;
	}
	const uint8_t *p = s->data + s->pos;
	s->pos += len;
	return p;
}

bool snap_get_bytes(struct snap_section *s, void *p, size_t len)
{
	const void *src = snap_get_ref(s, len);
	if (!src)
		return false;
	memcpy(p, src, len);
	return true;
}

bool snap_get_u8(struct snap_section *s, uint8_t *v)
{
	return snap_get_bytes(s, v, 1);
}

bool snap_get_u16(struct snap_section *s, uint16_t *v)
{
	const uint8_t *p = snap_get_ref(s, 2);
	if (!p)
		return false;
	*v = le16_get(p);
	return true;
}

bool snap_get_u32(struct snap_section *s, uint32_t *v)
{
	const uint8_t *p = snap_get_ref(s, 4);
	if (!p)
		return false;
	*v = le32_get(p);
	return true;
}

bool snap_get_u64(struct snap_section *s, uint64_t *v)
{
	const uint8_t *p = snap_get_ref(s, 8);
	if (!p)
		return false;
	*v = le64_get(p);
	return true;
}

bool snap_get_str(struct snap_section *s, char *buf, size_t size, bool *present)
{
	uint8_t has = 0;
	uint32_t n = 0;
	if (!snap_get_u8(s, &has) || !snap_get_u32(s, &n))
		return false;
	if (has > 1 || (!has && n) || n >= size || n >= SNAP_MAX_STRING)
		return snap_fail(s);
	const char *p = snap_get_ref(s, n);
	if (!p || memchr(p, '\0', n))
		return snap_fail(s);
	memcpy(buf, p, n);
	buf[n] = '\0';
	*present = has;
	return true;
}

bool snap_fail(struct snap_section *s)
{
	s->failed = true;
	return false;
}

bool snap_section_done(const struct snap_section *s)
{
	return !s->failed && s->pos == s->len;
}

/* ---- reader ---- */

int snap_reader_parse(struct snap_reader *r, const uint8_t *data, size_t len, char *err,
		      size_t errlen)
{
	*r = (struct snap_reader){.data = data, .len = len};
	if (len < SNAP_HEADER_SIZE || memcmp(data, SNAP_MAGIC, 8)) {
		snprintf(err, errlen, "not an Inlay snapshot (bad magic)");
		return -EINVAL;
	}
	if (le32_get(data + HDR_CRC) != snap_crc32c(0, data, HDR_CRC)) {
		snprintf(err, errlen, "header checksum mismatch (corrupted)");
		return -EINVAL;
	}
	r->major = le16_get(data + HDR_MAJOR);
	r->minor = le16_get(data + HDR_MINOR);
	if (r->major != SNAP_MAJOR) {
		snprintf(err, errlen, "format version %u.%u; this inlay-vmm reads only %d.x",
			 r->major, r->minor, SNAP_MAJOR);
		return -EINVAL;
	}
	uint64_t total = le64_get(data + HDR_TOTAL);
	r->nr_sections = le32_get(data + HDR_SECTIONS);
	if (total != len) {
		snprintf(err, errlen, "%zu bytes long but the header says %llu (truncated?)", len,
			 (unsigned long long)total);
		return -EINVAL;
	}
	if (r->nr_sections > SNAP_MAX_SECTIONS || le32_get(data + HDR_FLAGS)) {
		snprintf(err, errlen, "header fields out of range");
		return -EINVAL;
	}
	r->sections = calloc(r->nr_sections ? r->nr_sections : 1, sizeof(*r->sections));
	if (!r->sections) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	size_t pos = SNAP_HEADER_SIZE;
	for (uint32_t i = 0; i < r->nr_sections; i++) {
		if (len - pos < SNAP_SECTION_HDR) {
			snprintf(err, errlen, "section %u: header past the end of the file", i);
			goto err;
		}
		const uint8_t *h = data + pos;
		uint64_t slen = le64_get(h + SEC_LENGTH);
		uint32_t type = le32_get(h + SEC_TYPE);
		pos += SNAP_SECTION_HDR;
		if (slen > SNAP_MAX_SECTION || slen > len - pos || le32_get(h + SEC_RESERVED)) {
			snprintf(err, errlen, "section %u (%s): length %llu does not fit", i,
				 snap_type_name(type), (unsigned long long)slen);
			goto err;
		}
		if (le32_get(h + SEC_CRC) != snap_section_crc(h, slen)) {
			snprintf(err, errlen, "section %u (%s): checksum mismatch (corrupted)", i,
				 snap_type_name(type));
			goto err;
		}
		r->sections[i] = (struct snap_section){
		    .type = type,
		    .instance = le32_get(h + SEC_INSTANCE),
		    .data = data + pos,
		    .len = slen,
		};
		pos += slen;
	}
	if (pos != len) {
		snprintf(err, errlen, "%zu stray bytes after the last section", len - pos);
		goto err;
	}
	return 0;
err:
	snap_reader_finish(r);
	return -EINVAL;
}

void snap_reader_finish(struct snap_reader *r)
{
	free(r->sections);
	r->sections = NULL;
	r->nr_sections = 0;
}

bool snap_reader_find(const struct snap_reader *r, uint32_t type, uint32_t instance,
		      struct snap_section *s)
{
	for (uint32_t i = 0; i < r->nr_sections; i++) {
		if (r->sections[i].type == type && r->sections[i].instance == instance) {
			*s = r->sections[i];
			s->pos = 0;
			s->failed = false;
			return true;
		}
	}
	return false;
}

unsigned snap_reader_count(const struct snap_reader *r, uint32_t type)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < r->nr_sections; i++)
		n += r->sections[i].type == type;
	return n;
}

const char *snap_type_name(uint32_t type)
{
	static const char *const names[] = {
	    [SNAP_SEC_META] = "meta",	      [SNAP_SEC_CONFIG] = "config",
	    [SNAP_SEC_VCPU] = "vcpu",	      [SNAP_SEC_IRQCHIP] = "irqchip",
	    [SNAP_SEC_PIT] = "pit",	      [SNAP_SEC_CLOCK] = "clock",
	    [SNAP_SEC_UART] = "uart",	      [SNAP_SEC_I8042] = "i8042",
	    [SNAP_SEC_PCI_BUS] = "pci-bus",   [SNAP_SEC_VIRTIO_PCI] = "virtio-pci",
	    [SNAP_SEC_VIRTIO_DEV] = "device", [SNAP_SEC_MEMORY] = "memory",
	};
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}
