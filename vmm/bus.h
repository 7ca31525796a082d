/* SPDX-License-Identifier: MIT */
#ifndef INLAY_BUS_H
#define INLAY_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Handler for an access to a claimed range. @offset is relative to the
 * range's base; @data holds @len bytes (1, 2, 4 or 8), little-endian.
 * Reads fill @data; a handler that has nothing to return leaves it as 0xff.
 */
typedef void (*bus_access_fn)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
			      bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_access_fn fn;
	void *opaque;
};

/** An address space (port I/O or MMIO): sorted, non-overlapping ranges. */
struct bus {
	struct bus_range *ranges;
	size_t n, cap;
	pthread_rwlock_t lock;
};

void bus_init(struct bus *b);
void bus_finish(struct bus *b);
/** Claim [base, base + len). Returns 0, -EINVAL, -EEXIST (overlap) or -ENOMEM. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_access_fn fn, void *opaque);
/** Release the range starting at @base owned by @opaque. Returns 0 or -ENOENT. */
int bus_unregister(struct bus *b, uint64_t base, void *opaque);
/**
 * Dispatch an access. Returns false when no range claims all of it; then a
 * read returns all ones, as on real hardware.
 */
bool bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
