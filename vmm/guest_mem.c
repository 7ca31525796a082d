// SPDX-License-Identifier: MIT
#include "guest_mem.h"
#include "layout.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void guest_mem_set(struct guest_mem *m, void *host, uint64_t size, int fd)
{
	m->host = host;
	m->size = size;
	m->low_size = size < LAYOUT_PCI_HOLE ? size : LAYOUT_PCI_HOLE;
	m->fd = fd;
}

int guest_mem_init(struct guest_mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (size == 0 || size % (2ULL << 20))
		return -EINVAL;
	/* The memfd is what snapshots save and clones map privately. */
	int fd = memfd_create("inlay-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		goto err_errno;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		goto err_errno;
	madvise(p, size, MADV_MERGEABLE);
	guest_mem_set(m, p, size, fd);
	return 0;
err_errno:;
	int err = -errno;
	close(fd);
	return err;
}

int guest_mem_init_file(struct guest_mem *m, uint64_t size, int fd)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (size == 0 || size % (2ULL << 20)) {
		close(fd);
		return -EINVAL;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;
		close(fd);
		return err;
	}
	guest_mem_set(m, p, size, fd);
	m->private_file = true;
	return 0;
}

void guest_mem_finish(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->host = NULL;
	m->fd = -1;
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->host)
		return NULL;
	if (gpa < m->low_size) {
		if (len > m->low_size - gpa)
			return NULL;
		return m->host + gpa;
	}
	uint64_t high = guest_mem_high_size(m);
	if (gpa < LAYOUT_HIGH_RAM || gpa - LAYOUT_HIGH_RAM >= high)
		return NULL;
	uint64_t off = gpa - LAYOUT_HIGH_RAM;
	if (len > high - off)
		return NULL;
	return m->host + m->low_size + off;
}

uint64_t guest_mem_gpa(const struct guest_mem *m, const void *host)
{
	const uint8_t *p = host;
	if (!m->host || p < m->host || (uint64_t)(p - m->host) >= m->size)
		return UINT64_MAX;
	uint64_t off = (uint64_t)(p - m->host);
	return off < m->low_size ? off : LAYOUT_HIGH_RAM + (off - m->low_size);
}

bool guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);
	if (!p)
		return false;
	memcpy(dst, p, len);
	return true;
}

bool guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);
	if (!p)
		return false;
	memcpy(p, src, len);
	return true;
}
