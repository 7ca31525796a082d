/* SPDX-License-Identifier: MIT */
/*
 * The snapshot state file: a header, then one section per component, each
 * with its own type, instance, length and CRC32C. Every field is
 * little-endian and fixed-width (docs/SNAPSHOTS.md has the layout).
 */
#ifndef INLAY_SNAP_FORMAT_H
#define INLAY_SNAP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC	  "INLAYSNP"
#define SNAP_MAJOR	  1
#define SNAP_MINOR	  0
#define SNAP_HEADER_SIZE  32
#define SNAP_SECTION_HDR  24
#define SNAP_MAX_SECTIONS 4096
#define SNAP_MAX_SECTION  (80ULL << 20) /* a 64 MiB gpu resource image plus its metadata */
#define SNAP_MAX_STATE	  (512ULL << 20)
#define SNAP_MAX_STRING	  4096

/** Section types. Values are part of the format: never renumber. */
enum snap_type {
	SNAP_SEC_META = 1,    /* when, from what, the clone generation */
	SNAP_SEC_CONFIG = 2,  /* the machine: memory, vCPUs, devices, files */
	SNAP_SEC_VCPU = 3,    /* instance: vCPU index */
	SNAP_SEC_IRQCHIP = 4, /* instance: KVM_IRQCHIP_PIC_MASTER/SLAVE/IOAPIC */
	SNAP_SEC_PIT = 5,
	SNAP_SEC_CLOCK = 6,
	SNAP_SEC_UART = 7,
	SNAP_SEC_I8042 = 8,
	SNAP_SEC_PCI_BUS = 9,
	SNAP_SEC_VIRTIO_PCI = 10, /* instance: virtio device index; PCI, MSI-X, queues */
	SNAP_SEC_VIRTIO_DEV = 11, /* instance: virtio device index; the device model */
	SNAP_SEC_MEMORY = 12,	  /* the memory file's size and how it was written */
};

/** Builds a state file in memory. Errors are sticky: check snap_writer_ok(). */
struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	size_t section; /* offset of the open section's header, or SIZE_MAX */
	uint32_t nr_sections;
	bool failed;
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_finish(struct snap_writer *w);
void snap_writer_begin_section(struct snap_writer *w, uint32_t type, uint32_t instance);
void snap_writer_end_section(struct snap_writer *w);
void snap_put_u8(struct snap_writer *w, uint8_t v);
void snap_put_u16(struct snap_writer *w, uint16_t v);
void snap_put_u32(struct snap_writer *w, uint32_t v);
void snap_put_u64(struct snap_writer *w, uint64_t v);
void snap_put_bytes(struct snap_writer *w, const void *p, size_t len);
/** A length-prefixed string (NULL is written as absent). */
void snap_put_str(struct snap_writer *w, const char *s);
bool snap_writer_ok(const struct snap_writer *w);
/**
 * Seal the header (section count, total length, CRC). Returns the bytes of
 * the whole file in *@data, its length in *@len (still owned by @w), or -EINVAL/-ENOMEM.
 */
int snap_writer_seal(struct snap_writer *w, const uint8_t **data, size_t *len);

/** One section being read: bounds-checked gets that fail sticky. */
struct snap_section {
	uint32_t type, instance;
	const uint8_t *data;
	size_t len, pos;
	bool failed;
};

bool snap_get_u8(struct snap_section *s, uint8_t *v);
bool snap_get_u16(struct snap_section *s, uint16_t *v);
bool snap_get_u32(struct snap_section *s, uint32_t *v);
bool snap_get_u64(struct snap_section *s, uint64_t *v);
bool snap_get_bytes(struct snap_section *s, void *p, size_t len);
/** A pointer to the next @len bytes inside the section, or NULL (sticky failure). */
const void *snap_get_ref(struct snap_section *s, size_t len);
/**
 * A string written by snap_put_str(): NUL-terminated into @buf (@size
 * bytes); *@present says whether it was NULL. Fails on a string with a NUL
 * inside, or one too long for @buf.
 */
bool snap_get_str(struct snap_section *s, char *buf, size_t size, bool *present);
/** Mark the section bad (a value failed validation). Always returns false. */
bool snap_fail(struct snap_section *s);
/** True when nothing failed and every byte was consumed. */
bool snap_section_done(const struct snap_section *s);

/** A parsed, CRC-checked state file. */
struct snap_reader {
	const uint8_t *data;
	size_t len;
	uint16_t major, minor;
	uint32_t nr_sections;
	struct snap_section *sections;
};

/**
 * Check the header, every section's bounds and CRC of the file image
 * @data/@len (which must outlive @r). Returns 0, or -EINVAL with @err
 * saying what is wrong.
 */
int snap_reader_parse(struct snap_reader *r, const uint8_t *data, size_t len, char *err,
		      size_t errlen);
void snap_reader_finish(struct snap_reader *r);
/**
 * A fresh cursor over section (@type, @instance) in *@s, or false when the
 * file has none.
 */
bool snap_reader_find(const struct snap_reader *r, uint32_t type, uint32_t instance,
		      struct snap_section *s);
/** How many sections of @type the file holds. */
unsigned snap_reader_count(const struct snap_reader *r, uint32_t type);
/** A short name for @type ("vcpu", "uart", ...), for messages. */
const char *snap_type_name(uint32_t type);

/** CRC32C (Castagnoli) of @len bytes, continuing from @crc (start with 0). */
uint32_t snap_crc32c(uint32_t crc, const void *p, size_t len);

#endif
