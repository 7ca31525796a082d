/* SPDX-License-Identifier: MIT */
#ifndef INLAY_GUEST_MEM_H
#define INLAY_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Guest RAM: one memfd mapped once. Guest physical [0, low_size) is host
 * offset 0; guest physical [4 GiB, 4 GiB + size - low_size) follows it.
 */
struct guest_mem {
	uint8_t *host;
	uint64_t size;
	uint64_t low_size;
	int fd;
	bool private_file; /* fd is a snapshot's memory file mapped MAP_PRIVATE */
};

/** Create RAM of @size bytes (a multiple of 2 MiB). Returns 0 or -errno. */
int guest_mem_init(struct guest_mem *m, uint64_t size);
/**
 * RAM of @size bytes from @fd (a snapshot's memory file, at least @size
 * long), mapped MAP_PRIVATE: pages are shared through the page cache until
 * the guest writes them, and writes never reach the file. Takes @fd, also
 * on failure. Returns 0 or -errno.
 */
int guest_mem_init_file(struct guest_mem *m, uint64_t size, int fd);
void guest_mem_finish(struct guest_mem *m);

/**
 * Host pointer to guest physical [gpa, gpa + len), or NULL unless the whole
 * range is RAM of one region. Overflow-safe; len 0 is valid inside RAM.
 */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/** The guest physical address of host pointer @host into RAM, or UINT64_MAX. */
uint64_t guest_mem_gpa(const struct guest_mem *m, const void *host);

/** Copy helpers; false when the range is not entirely RAM. */
bool guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
bool guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);

/** Size of RAM that lies at or above 4 GiB. */
static inline uint64_t guest_mem_high_size(const struct guest_mem *m)
{
	return m->size - m->low_size;
}

#endif
