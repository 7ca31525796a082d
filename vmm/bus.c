// SPDX-License-Identifier: MIT
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b)
{
	memset(b, 0, sizeof(*b));
	pthread_rwlock_init(&b->lock, NULL);
}

void bus_finish(struct bus *b)
{
	free(b->ranges);
	b->ranges = NULL;
	b->n = b->cap = 0;
	pthread_rwlock_destroy(&b->lock);
}

/* Index of the first range whose end lies above @addr. */
static size_t bus_lower_bound(const struct bus *b, uint64_t addr)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->ranges[mid];
		if (r->base + r->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_access_fn fn, void *opaque)
{
	if (len == 0 || base + len < base || !fn)
		return -EINVAL;
	int ret = 0;
	pthread_rwlock_wrlock(&b->lock);
	size_t i = bus_lower_bound(b, base);
	if (i < b->n && b->ranges[i].base < base + len) {
		ret = -EEXIST;
		goto out;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *r = realloc(b->ranges, cap * sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		b->ranges = r;
		b->cap = cap;
	}
	memmove(&b->ranges[i + 1], &b->ranges[i], (b->n - i) * sizeof(*b->ranges));
	b->ranges[i] = (struct bus_range){base, len, fn, opaque};
	b->n++;
out:
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

int bus_unregister(struct bus *b, uint64_t base, void *opaque)
{
	int ret = -ENOENT;
	pthread_rwlock_wrlock(&b->lock);
	size_t i = bus_lower_bound(b, base);
	if (i < b->n && b->ranges[i].base == base && b->ranges[i].opaque == opaque) {
		memmove(&b->ranges[i], &b->ranges[i + 1], (b->n - i - 1) * sizeof(*b->ranges));
		b->n--;
		ret = 0;
	}
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

bool bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct bus_range r = {0};
	bool found = false;
	pthread_rwlock_rdlock(&b->lock);
	size_t i = bus_lower_bound(b, addr);
	if (i < b->n && b->ranges[i].base <= addr &&
	    addr - b->ranges[i].base + len <= b->ranges[i].len) {
		r = b->ranges[i];
		found = true;
	}
	pthread_rwlock_unlock(&b->lock);
	/* Reads nobody (or a handler that stays silent) answers float high. */
	if (!is_write)
		memset(data, 0xff, len);
	if (!found)
		return false;
	/*
	 * Handlers run outside the bus lock so they may (un)register ranges,
	 * as a BAR move does; each device serializes its own state.
	 */
	r.fn(r.opaque, addr - r.base, data, len, is_write);
	return true;
}
