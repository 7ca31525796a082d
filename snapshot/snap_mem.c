// SPDX-License-Identifier: MIT
#include "snap_mem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
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

/* Write the non-zero pages of [start, end), coalescing runs into one write each. */
static int write_range(const struct guest_mem *m, int fd, uint64_t start, uint64_t end,
		       uint64_t *data)
{
	uint64_t run = start;
	bool in_run = false;
	for (uint64_t off = start; off <= end; off += SNAP_PAGE) {
		bool zero = off == end || page_is_zero(m->host + off);
		if (!zero && !in_run) {
			run = off;
			in_run = true;
		} else if (zero && in_run) {
			int ret = write_at(fd, m->host + run, off - run, run);
			if (ret < 0)
				return ret;
			*data += off - run;
			in_run = false;
		}
	}
	return 0;
}

int snap_mem_write(const struct guest_mem *m, int fd, uint64_t *data)
{
	*data = 0;
	uint64_t off = 0;
	/*
	 * A memfd knows which pages were ever allocated. A private mapping of
	 * an earlier snapshot does not (written pages live in anonymous
	 * memory), so there every page is looked at.
	 */
	while (off < m->size) {
		uint64_t start = off, end = m->size;
		if (!m->private_file) {
			off_t d = lseek(m->fd, (off_t)off, SEEK_DATA);
			if (d < 0 && errno == ENXIO)
				break;
			if (d < 0)
				return -errno;
			off_t h = lseek(m->fd, d, SEEK_HOLE);
			if (h < 0)
				return -errno;
			start = (uint64_t)d & ~(uint64_t)(SNAP_PAGE - 1);
			end = (uint64_t)h < m->size ? ((uint64_t)h + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1) : m->size;
			if (end > m->size)
				end = m->size;
		}
		int ret = write_range(m, fd, start, end, data);
		if (ret < 0)
			return ret;
		off = end;
	}
	return ftruncate(fd, (off_t)m->size) < 0 ? -errno : 0;
}
