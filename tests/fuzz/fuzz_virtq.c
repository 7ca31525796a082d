// SPDX-License-Identifier: MIT
/*
 * Guest memory and ring configuration straight from the input: the rings,
 * descriptors and indirect tables are whatever bytes the fuzzer chose.
 *
 * Input: [0] log2 queue size, [1] flags (bit 0: event idx), [2..7] desc,
 * avail and used addresses in 2-byte units (little endian), [8..9]
 * last_avail, [10..11] used_idx, then guest RAM from address 0.
 */
#include "virtio/virtq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RAM_SIZE (2ULL << 20)
#define HEADER	 12
/* Rings live below 128 KiB + one used ring; pushes write nowhere else. */
#define DIRTY_SIZE (256ULL << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_mem mem;

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Every segment must lie inside guest RAM; read it all to prove it. */
static void check_segments(const struct iovec *iov, unsigned n)
{
	volatile uint8_t sink = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		if (p < mem.host || iov[i].iov_len > RAM_SIZE ||
		    p + iov[i].iov_len > mem.host + RAM_SIZE)
			__builtin_trap();
		for (size_t j = 0; j < iov[i].iov_len; j += 4096)
			sink ^= p[j];
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain c;
	struct virtq q = {0};

	if (!mem.host && guest_mem_init(&mem, RAM_SIZE))
		abort();
	if (size < HEADER)
		return 0;
	memset(mem.host, 0, DIRTY_SIZE);
	memcpy(mem.host, data + HEADER, size - HEADER < RAM_SIZE ? size - HEADER : RAM_SIZE);
	q.size = (uint16_t)(1u << (data[0] % 11));
	q.event_idx = data[1] & 1;
	q.desc_gpa = 2ULL * le16_at(data + 2);
	q.avail_gpa = 2ULL * le16_at(data + 4);
	q.used_gpa = 2ULL * le16_at(data + 6);
	q.last_avail = le16_at(data + 8);
	q.used_idx = q.signalled_used = le16_at(data + 10);
	q.ready = true;
	if (!virtq_check(&q, &mem))
		return 0;

	for (unsigned n = 0; n < 2u * q.size + 4; n++) {
		uint16_t before = q.last_avail;
		int r = virtq_pop(&q, &mem, &c);
		if (r == 0)
			break;
		if (r > 0) {
			if (c.n_out + c.n_in > VIRTQ_MAX_SEGS || c.out_len > UINT32_MAX ||
			    c.in_len > UINT32_MAX)
				__builtin_trap();
			check_segments(c.out, c.n_out);
			check_segments(c.in, c.n_in);
		}
		if (c.head != VIRTQ_NO_HEAD) {
			if (c.head >= q.size || virtq_push(&q, &mem, c.head, (uint32_t)c.in_len))
				__builtin_trap();
		} else if (q.last_avail == before) {
			break;
		}
	}
	virtq_needs_interrupt(&q, &mem);
	return 0;
}
