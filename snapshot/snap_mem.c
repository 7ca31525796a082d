// SPDX-License-Identifier: MIT
#include "snap_mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SNAP_PAGE 4096

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (size_t i = 0; i < SNAP_PAGE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

static int write_at(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* The data range of @fd at or after @off, in whole pages; [size, size) when none. */
static int next_data(int fd, uint64_t off, uint64_t size, uint64_t *start, uint64_t *end)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);
	*start = *end = size;
	if (d < 0)
		return errno == ENXIO ? 0 : -errno;
	off_t h = lseek(fd, d, SEEK_HOLE);
	if (h < 0)
		return -errno;
	*start = (uint64_t)d & ~(uint64_t)(SNAP_PAGE - 1);
	*end = ((uint64_t)h + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
	if (*end > size)
		*end = size;
	return 0;
}

int snap_mem_write(const struct guest_mem *m, int fd, uint64_t *data)
{
	/*
	 * Only pages that may hold data are looked at: the file's data ranges
	 * (a memfd allocates only what the guest touched) and, for a private
	 * mapping of an earlier snapshot, whatever is resident, which covers
	 * the pages this VM wrote (they live in anonymous memory, not in the
	 * file). Looking at nothing else keeps untouched RAM unmapped.
	 */
	unsigned char *resident = NULL;
	uint64_t pages = m->size / SNAP_PAGE, start = 0, end = 0, run = 0;
	bool in_run = false;
	int ret = 0;
	*data = 0;
	if (m->private_file) {
		resident = malloc(pages);
		if (!resident)
			return -ENOMEM;
		if (mincore(m->host, m->size, resident) < 0) {
			free(resident);
			return -errno;
		}
	}
	for (uint64_t off = 0; off <= m->size && !ret; off += SNAP_PAGE) {
		bool keep = false;
		if (off < m->size) {
			if (off >= end)
				ret = next_data(m->fd, off, m->size, &start, &end);
			keep = (off >= start && off < end) ||
			       (resident && resident[off / SNAP_PAGE] & 1);
			keep = keep && !page_is_zero(m->host + off);
		}
		if (keep && !in_run) {
			run = off;
			in_run = true;
		} else if (!keep && in_run) {
			ret = write_at(fd, m->host + run, off - run, run);
			*data += off - run;
			in_run = false;
		}
	}
	free(resident);
	if (!ret && ftruncate(fd, (off_t)m->size) < 0)
		ret = -errno;
	return ret;
}
