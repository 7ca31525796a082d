// SPDX-License-Identifier: MIT
#include "msix.h"
#include "snapshot/snap_format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MSIX_ADDR_LO (PCI_MSIX_ENTRY_LOWER_ADDR / 4)
#define MSIX_ADDR_HI (PCI_MSIX_ENTRY_UPPER_ADDR / 4)
#define MSIX_DATA    (PCI_MSIX_ENTRY_DATA / 4)
#define MSIX_CTRL    (PCI_MSIX_ENTRY_VECTOR_CTRL / 4)

int msix_init(struct msix *m, unsigned size, const struct msix_ops *ops, void *opaque)
{
	memset(m, 0, sizeof(*m));
	if (size == 0 || size > MSIX_MAX_VECTORS)
		return -EINVAL;
	m->table = calloc(size, sizeof(*m->table));
	m->pba = calloc((size + 63) / 64, sizeof(*m->pba));
	if (!m->table || !m->pba) {
		free(m->table);
		free(m->pba);
		memset(m, 0, sizeof(*m));
		return -ENOMEM;
	}
	/* Vectors come out of reset masked. */
	for (unsigned v = 0; v < size; v++)
		m->table[v].dw[MSIX_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	m->size = size;
	m->ops = ops;
	m->opaque = opaque;
	pthread_mutex_init(&m->lock, NULL);
	return 0;
}

void msix_finish(struct msix *m)
{
	if (!m->table)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->table);
	free(m->pba);
	memset(m, 0, sizeof(*m));
}

uint32_t msix_table_bytes(const struct msix *m)
{
	return m->size * PCI_MSIX_ENTRY_SIZE;
}

uint32_t msix_pba_bytes(const struct msix *m)
{
	return (m->size + 63) / 64 * 8;
}

int msix_add_cap(struct msix *m, struct pci_dev *dev, uint8_t bar, uint32_t table_off,
		 uint32_t pba_off)
{
	uint8_t cap[PCI_CAP_MSIX_SIZEOF] = {0};
	if (bar >= PCI_NUM_BARS || (table_off | pba_off) & PCI_MSIX_TABLE_BIR)
		return -EINVAL;
	uint16_t ctrl = (uint16_t)(m->size - 1);
	uint32_t table = table_off | bar, pba = pba_off | bar;
	memcpy(&cap[PCI_MSIX_FLAGS], &ctrl, 2);
	memcpy(&cap[PCI_MSIX_TABLE], &table, 4);
	memcpy(&cap[PCI_MSIX_PBA], &pba, 4);
	int off = pci_add_cap(dev, PCI_CAP_ID_MSIX, cap, sizeof(cap));
	if (off < 0)
		return off;
	dev->wmask[off + PCI_MSIX_FLAGS + 1] =
	    (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	m->pci = dev;
	m->cap = (uint8_t)off;
	return 0;
}

static bool msix_vector_masked(const struct msix *m, unsigned v)
{
	return m->masked || (m->table[v].dw[MSIX_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static bool msix_pending(const struct msix *m, unsigned v)
{
	return m->pba[v / 64] & (1ULL << (v % 64));
}

/* Deliver @v if it is pending and nothing masks it any more. */
static void msix_flush(struct msix *m, unsigned v)
{
	if (!m->enabled || msix_vector_masked(m, v) || !msix_pending(m, v))
		return;
	m->pba[v / 64] &= ~(1ULL << (v % 64));
	m->ops->deliver(m->opaque, v);
}

void msix_cfg_write(struct msix *m, uint32_t off, uint32_t len)
{
	uint32_t ctrl_off = m->cap + PCI_MSIX_FLAGS;
	if (!m->cap || off >= ctrl_off + 2 || off + len <= ctrl_off)
		return;
	uint16_t ctrl = (uint16_t)pci_cfg_get(m->pci, ctrl_off, 2);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	m->masked = ctrl & PCI_MSIX_FLAGS_MASKALL;
	for (unsigned v = 0; v < m->size; v++)
		msix_flush(m, v);
	pthread_mutex_unlock(&m->lock);
}

static void msix_entry_write(struct msix *m, uint64_t off, uint32_t val)
{
	unsigned v = (unsigned)(off / PCI_MSIX_ENTRY_SIZE);
	unsigned i = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;
	uint32_t *dw = m->table[v].dw;
	if (i == MSIX_CTRL) {
		/* Only the mask bit is defined; the rest is reserved and reads 0. */
		dw[i] = val & PCI_MSIX_ENTRY_CTRL_MASKBIT;
		msix_flush(m, v);
		return;
	}
	if (dw[i] == val)
		return;
	dw[i] = val;
	m->ops->route(m->opaque, v, (uint64_t)dw[MSIX_ADDR_HI] << 32 | dw[MSIX_ADDR_LO],
		      dw[MSIX_DATA]);
}

static uint32_t msix_entry_read(const struct msix *m, uint64_t off)
{
	return m->table[off / PCI_MSIX_ENTRY_SIZE].dw[(off % PCI_MSIX_ENTRY_SIZE) / 4];
}

/* Aligned 4- or 8-byte access wholly inside [0, size)? */
static bool msix_access_ok(uint64_t off, uint32_t len, uint32_t size)
{
	return (len == 4 || len == 8) && off % len == 0 && off < size && len <= size - off;
}

void msix_table_access(struct msix *m, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	if (!msix_access_ok(off, len, msix_table_bytes(m)))
		return;
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = 0; i < len; i += 4) {
		uint32_t val;
		if (is_write) {
			memcpy(&val, data + i, 4);
			msix_entry_write(m, off + i, val);
		} else {
			val = msix_entry_read(m, off + i);
			memcpy(data + i, &val, 4);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_access(struct msix *m, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	if (is_write || !msix_access_ok(off, len, msix_pba_bytes(m)))
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(data, (const uint8_t *)m->pba + off, len);
	pthread_mutex_unlock(&m->lock);
}

void msix_notify(struct msix *m, unsigned v)
{
	if (v >= m->size)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->enabled) {
		m->pba[v / 64] |= 1ULL << (v % 64);
		msix_flush(m, v);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_save(struct msix *m, struct snap_writer *w)
{
	pthread_mutex_lock(&m->lock);
	snap_put_u32(w, m->size);
	for (unsigned v = 0; v < m->size; v++)
		for (unsigned i = 0; i < PCI_MSIX_ENTRY_SIZE / 4; i++)
			snap_put_u32(w, m->table[v].dw[i]);
	for (unsigned i = 0; i < (m->size + 63) / 64; i++)
		snap_put_u64(w, m->pba[i]);
	pthread_mutex_unlock(&m->lock);
}

bool msix_restore(struct msix *m, struct snap_section *s)
{
	uint32_t size;
	if (!snap_get_u32(s, &size))
		return false;
	if (size != m->size)
		return snap_fail(s);
	unsigned words = (size + 63) / 64;
	struct msix_entry *table = calloc(size, sizeof(*table));
	uint64_t *pba = calloc(words, sizeof(*pba));
	bool ok = table && pba;
	for (unsigned v = 0; ok && v < size; v++) {
		for (unsigned i = 0; i < PCI_MSIX_ENTRY_SIZE / 4; i++)
			ok = ok && snap_get_u32(s, &table[v].dw[i]);
		ok = ok && !(table[v].dw[MSIX_CTRL] & ~PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	for (unsigned i = 0; ok && i < words; i++)
		ok = snap_get_u64(s, &pba[i]);
	/* No pending bits past the last vector. */
	if (ok && size % 64 && pba[words - 1] >> (size % 64))
		ok = false;
	if (ok) {
		pthread_mutex_lock(&m->lock);
		memcpy(m->table, table, size * sizeof(*table));
		memcpy(m->pba, pba, words * sizeof(*pba));
		for (unsigned v = 0; v < size; v++) {
			const uint32_t *dw = m->table[v].dw;
			if (dw[MSIX_ADDR_LO] || dw[MSIX_ADDR_HI] || dw[MSIX_DATA])
				m->ops->route(m->opaque, v,
					      (uint64_t)dw[MSIX_ADDR_HI] << 32 | dw[MSIX_ADDR_LO],
					      dw[MSIX_DATA]);
		}
		pthread_mutex_unlock(&m->lock);
		if (m->cap)
			msix_cfg_write(m, m->cap + PCI_MSIX_FLAGS, 2);
	}
	free(table);
	free(pba);
	return ok || snap_fail(s);
}
