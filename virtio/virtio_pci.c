// SPDX-License-Identifier: MIT
/*
 * Modern virtio PCI transport (virtio 1.2, section 4.1): every structure
 * lives in BAR 0, interrupts are MSI-X only, notifications are ioeventfds.
 */
#include "virtio_pci.h"
#include "msix.h"
#include "snapshot/snap_format.h"

#include <errno.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* BAR 0 layout: one 4 KiB page per structure. */
#define VP_COMMON_OFF	  0x0000
#define VP_ISR_OFF	  0x1000
#define VP_DEVICE_OFF	  0x2000
#define VP_NOTIFY_OFF	  0x3000
#define VP_MSIX_TABLE_OFF 0x4000
#define VP_MSIX_PBA_OFF	  0x5000
#define VP_REGION_SIZE	  0x1000
#define VP_BAR_SIZE	  0x8000
#define VP_NOTIFY_MULT	  4

#define VP_VENDOR      0x1af4
#define VP_DEVICE_BASE 0x1040
#define VP_ISR_QUEUE   0x1
/* One vector per queue plus one for configuration changes. */
#define VP_MAX_VECTORS (VIRTIO_MAX_QUEUES + 1)

struct virtio_pci_queue {
	struct virtio_pci *vp;
	unsigned index;
	int notify_fd;
	bool ioeventfd; /* registered at vp->notify_base */
};

struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *dev;
	struct vm *vm;
	const struct virtio_pci_vm_ops *vm_ops;
	struct pci_bus *pb; /* set once the function is on the bus */
	struct msix msix;
	unsigned nr_vectors;
	int msi_gsi[VP_MAX_VECTORS];
	int msi_fd[VP_MAX_VECTORS];
	struct virtio_pci_queue queues[VIRTIO_MAX_QUEUES];
	uint64_t notify_base; /* guest address of the notify region, 0 = unmapped */
	uint8_t cfg_cap;      /* config offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	atomic_uchar isr;

	/* Common configuration, under dev->lock. */
	uint32_t dfselect, gfselect;
	uint16_t msix_config;
	uint16_t queue_select;
	bool active; /* DRIVER_OK accepted and the device activated */
};

static struct virtio_pci *vp_from_pci(struct pci_dev *p)
{
	return (struct virtio_pci *)((char *)p - offsetof(struct virtio_pci, pci));
}

static unsigned vp_num_queues(const struct virtio_pci *vp)
{
	return vp->dev->ops->num_queues;
}

static uint64_t vp_host_features(const struct virtio_pci *vp)
{
	return vp->dev->host_features | (1ULL << VIRTIO_F_VERSION_1);
}

/* ---- interrupts ---- */

static void vp_msix_deliver(void *opaque, unsigned v)
{
	struct virtio_pci *vp = opaque;
	/* A full eventfd counter still means "raised": nothing to handle. */
	eventfd_write(vp->msi_fd[v], 1);
}

static void vp_msix_route(void *opaque, unsigned v, uint64_t addr, uint32_t data)
{
	struct virtio_pci *vp = opaque;
	int ret = vp->vm_ops->msi_route(vp->vm, (uint32_t)vp->msi_gsi[v], addr, data);
	if (ret < 0)
		fprintf(stderr, "virtio-pci: %s: MSI route for vector %u: %s\n", vp->dev->ops->name,
			v, strerror(-ret));
}

static const struct msix_ops vp_msix_ops = {
    .deliver = vp_msix_deliver,
    .route = vp_msix_route,
};

/* Caller holds dev->lock (virtio_queue_done() does). */
static void vp_signal_queue(struct virtio_dev *d, unsigned q)
{
	struct virtio_pci *vp = d->transport;
	if (q >= vp_num_queues(vp))
		return;
	atomic_fetch_or(&vp->isr, VP_ISR_QUEUE);
	msix_notify(&vp->msix, d->vq[q].msix_vector);
}

/* Caller holds dev->lock. */
static void vp_signal_config(struct virtio_dev *d)
{
	struct virtio_pci *vp = d->transport;
	atomic_fetch_or(&vp->isr, VIRTIO_PCI_ISR_CONFIG);
	msix_notify(&vp->msix, vp->msix_config);
}

static const struct virtio_transport_ops vp_transport_ops = {
    .signal_queue = vp_signal_queue,
    .signal_config = vp_signal_config,
};

/* ---- common configuration ---- */

static uint16_t vp_vector(const struct virtio_pci *vp, uint64_t v)
{
	return v < vp->nr_vectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static struct virtq *vp_selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp_num_queues(vp) ? &vp->dev->vq[vp->queue_select] : NULL;
}

/* Queue setup is frozen once the queue is enabled or the device is live. */
static struct virtq *vp_selected_writable(struct virtio_pci *vp)
{
	struct virtq *q = vp_selected(vp);
	if (!q || q->ready || (vp->dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return NULL;
	return q;
}

/* Transport state after a reset; also the state at creation. */
static void vp_reset_transport(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->dev;
	dev->status = 0;
	dev->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	vp->queue_select = 0;
	vp->active = false;
	atomic_store(&vp->isr, 0);
	for (unsigned i = 0; i < vp_num_queues(vp); i++) {
		struct virtq *q = &dev->vq[i];
		virtq_reset(q);
		q->size = dev->ops->queue_max_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
	}
}

static bool vp_features_ok(const struct virtio_pci *vp)
{
	uint64_t f = vp->dev->driver_features;
	return !(f & ~vp_host_features(vp)) && (f & (1ULL << VIRTIO_F_VERSION_1));
}

/* DRIVER_OK was just set: check the rings and start the device. */
static void vp_activate(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->dev;
	bool ok = (dev->status & VIRTIO_CONFIG_S_FEATURES_OK) && virtio_dev_activate(dev) &&
		  (!dev->ops->activate || dev->ops->activate(dev));
	if (ok) {
		vp->active = true;
		return;
	}
	fprintf(stderr, "virtio-pci: %s: driver setup rejected, device needs reset\n",
		dev->ops->name);
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vp_signal_config(dev);
}

static void vp_write_status(struct virtio_pci *vp, uint8_t val)
{
	struct virtio_dev *dev = vp->dev;
	if (val == 0) {
		if (dev->ops->reset)
			dev->ops->reset(dev);
		vp_reset_transport(vp);
		return;
	}
	/* Only a reset clears bits; a driver never takes one back. */
	uint8_t old = dev->status;
	uint8_t status = old | val;
	if ((status & ~old & VIRTIO_CONFIG_S_FEATURES_OK) && !vp_features_ok(vp))
		status &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	dev->status = status;
	if (status & ~old & VIRTIO_CONFIG_S_DRIVER_OK)
		vp_activate(vp);
}

static void vp_write_driver_features(struct virtio_pci *vp, uint32_t val)
{
	struct virtio_dev *dev = vp->dev;
	/* Features are fixed once accepted; words past 64 bits offer nothing. */
	if ((dev->status & VIRTIO_CONFIG_S_FEATURES_OK) || vp->gfselect > 1)
		return;
	unsigned shift = 32 * vp->gfselect;
	dev->driver_features &= ~(0xffffffffULL << shift);
	dev->driver_features |= (uint64_t)val << shift;
}

/* queue_desc/driver/device: each 64 bits, written as one 8- or two 4-byte halves. */
static void vp_write_queue_addr(struct virtio_pci *vp, uint64_t off, uint64_t val, uint32_t len)
{
	struct virtq *q = vp_selected_writable(vp);
	if (!q || (len != 4 && len != 8) || off % len)
		return;
	uint64_t rel = off - VIRTIO_PCI_COMMON_Q_DESCLO;
	uint64_t *gpa = rel < 8 ? &q->desc_gpa : rel < 16 ? &q->avail_gpa : &q->used_gpa;
	if (len == 8)
		*gpa = val;
	else if (rel % 8)
		*gpa = (*gpa & 0xffffffffULL) | val << 32;
	else
		*gpa = (*gpa & ~0xffffffffULL) | val;
}

/* Natural-width accesses only (virtio 1.2, 4.1.3.1); anything else is ignored. */
static void vp_common_write(struct virtio_pci *vp, uint64_t off, uint64_t val, uint32_t len)
{
	struct virtio_dev *dev = vp->dev;
	struct virtq *q;
	if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < sizeof(struct virtio_pci_common_cfg)) {
		vp_write_queue_addr(vp, off, val, len);
		return;
	}
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (len == 4)
			vp->dfselect = (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (len == 4)
			vp->gfselect = (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_GF:
		if (len == 4)
			vp_write_driver_features(vp, (uint32_t)val);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		if (len == 2)
			vp->msix_config = vp_vector(vp, val);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		if (len == 1)
			vp_write_status(vp, (uint8_t)val);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (len == 2)
			vp->queue_select = (uint16_t)val;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		q = vp_selected_writable(vp);
		/* Split rings: a power of two no larger than what we offered. */
		if (len == 2 && q && val && !(val & (val - 1)) && val <= dev->ops->queue_max_size)
			q->size = (uint16_t)val;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		q = vp_selected(vp);
		if (len == 2 && q)
			q->msix_vector = vp_vector(vp, val);
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* Writing 0 is not allowed without VIRTIO_F_RING_RESET. */
		q = vp_selected_writable(vp);
		if (len == 2 && q && val == 1)
			q->ready = true;
		break;
	}
}

/* Reads of any width: render the whole structure and copy the bytes asked for. */
static void vp_common_read(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_dev *dev = vp->dev;
	struct virtio_pci_common_cfg c = {0};
	c.device_feature_select = vp->dfselect;
	if (vp->dfselect < 2)
		c.device_feature = (uint32_t)(vp_host_features(vp) >> (32 * vp->dfselect));
	c.guest_feature_select = vp->gfselect;
	if (vp->gfselect < 2)
		c.guest_feature = (uint32_t)(dev->driver_features >> (32 * vp->gfselect));
	c.msix_config = vp->msix_config;
	c.num_queues = (uint16_t)vp_num_queues(vp);
	c.device_status = dev->status;
	c.config_generation = dev->config_generation;
	c.queue_select = vp->queue_select;
	const struct virtq *q = vp_selected(vp);
	if (q) {
		c.queue_size = q->size;
		c.queue_msix_vector = q->msix_vector;
		c.queue_enable = q->ready;
		c.queue_notify_off = vp->queue_select;
		c.queue_desc_lo = (uint32_t)q->desc_gpa;
		c.queue_desc_hi = (uint32_t)(q->desc_gpa >> 32);
		c.queue_avail_lo = (uint32_t)q->avail_gpa;
		c.queue_avail_hi = (uint32_t)(q->avail_gpa >> 32);
		c.queue_used_lo = (uint32_t)q->used_gpa;
		c.queue_used_hi = (uint32_t)(q->used_gpa >> 32);
	}
	memcpy(data, (const uint8_t *)&c + off, len);
}

static void vp_common_access(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len,
			     bool is_write)
{
	if (off >= sizeof(struct virtio_pci_common_cfg) ||
	    len > sizeof(struct virtio_pci_common_cfg) - off)
		return;
	pthread_mutex_lock(&vp->dev->lock);
	if (is_write) {
		uint64_t val = 0;
		memcpy(&val, data, len);
		vp_common_write(vp, off, val, len);
	} else {
		vp_common_read(vp, off, data, len);
	}
	pthread_mutex_unlock(&vp->dev->lock);
}

/* ---- other BAR 0 regions ---- */

static void vp_isr_access(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len,
			  bool is_write)
{
	if (is_write || off != 0)
		return;
	memset(data, 0, len);
	data[0] = atomic_exchange(&vp->isr, 0);
}

static void vp_device_access(struct virtio_pci *vp, uint64_t off, uint8_t *data, uint32_t len,
			     bool is_write)
{
	struct virtio_dev *dev = vp->dev;
	const struct virtio_dev_ops *ops = dev->ops;
	if (off >= ops->config_size || len > ops->config_size - off)
		return;
	pthread_mutex_lock(&dev->lock);
	if (is_write && ops->config_write)
		ops->config_write(dev, (uint32_t)off, data, len);
	else if (!is_write && ops->config_read)
		ops->config_read(dev, (uint32_t)off, data, len);
	pthread_mutex_unlock(&dev->lock);
}

/*
 * A notify that exited to userspace (no ioeventfd registered at that address
 * yet) is forwarded to the queue's eventfd so that the device always sees
 * kicks on the event-loop thread.
 */
static void vp_notify_access(struct virtio_pci *vp, uint64_t off, bool is_write)
{
	if (!is_write || off % VP_NOTIFY_MULT || off / VP_NOTIFY_MULT >= vp_num_queues(vp))
		return;
	eventfd_write(vp->queues[off / VP_NOTIFY_MULT].notify_fd, 1);
}

static void vp_bar_access(struct pci_dev *pdev, int bar, uint64_t off, uint8_t *data, uint32_t len,
			  bool is_write)
{
	struct virtio_pci *vp = vp_from_pci(pdev);
	if (bar != 0 || len == 0 || len > 8 || off >= VP_BAR_SIZE)
		return;
	uint64_t rel = off % VP_REGION_SIZE;
	switch (off - rel) {
	case VP_COMMON_OFF:
		vp_common_access(vp, rel, data, len, is_write);
		break;
	case VP_ISR_OFF:
		vp_isr_access(vp, rel, data, len, is_write);
		break;
	case VP_DEVICE_OFF:
		vp_device_access(vp, rel, data, len, is_write);
		break;
	case VP_NOTIFY_OFF:
		vp_notify_access(vp, rel, is_write);
		break;
	case VP_MSIX_TABLE_OFF:
		msix_table_access(&vp->msix, rel, data, len, is_write);
		break;
	case VP_MSIX_PBA_OFF:
		msix_pba_access(&vp->msix, rel, data, len, is_write);
		break;
	}
}

/* ---- notifications ---- */

/* The device takes dev->lock itself in queue_notify (see virtio.h). */
static void vp_notify_event(void *opaque, uint32_t events)
{
	struct virtio_pci_queue *pq = opaque;
	struct virtio_pci *vp = pq->vp;
	struct virtio_dev *dev = vp->dev;
	eventfd_t count;
	if (eventfd_read(pq->notify_fd, &count) < 0)
		return;
	pthread_mutex_lock(&dev->lock);
	bool live =
	    vp->active && !(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET) && dev->vq[pq->index].ready;
	pthread_mutex_unlock(&dev->lock);
	if (live && dev->ops->queue_notify)
		dev->ops->queue_notify(dev, pq->index);
}

static void vp_notify_unregister(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp_num_queues(vp); i++) {
		struct virtio_pci_queue *pq = &vp->queues[i];
		if (!pq->ioeventfd)
			continue;
		vp->vm_ops->ioeventfd(vp->vm, vp->notify_base + VP_NOTIFY_MULT * i, 0,
				      pq->notify_fd, false, false);
		pq->ioeventfd = false;
	}
	vp->notify_base = 0;
}

/* A queue whose ioeventfd fails still works through vp_notify_access(). */
static void vp_notify_register(struct virtio_pci *vp, uint64_t base)
{
	vp->notify_base = base;
	for (unsigned i = 0; i < vp_num_queues(vp); i++) {
		struct virtio_pci_queue *pq = &vp->queues[i];
		int ret = vp->vm_ops->ioeventfd(vp->vm, base + VP_NOTIFY_MULT * i, 0, pq->notify_fd,
						false, true);
		if (ret < 0)
			fprintf(stderr, "virtio-pci: %s: ioeventfd for queue %u: %s\n",
				vp->dev->ops->name, i, strerror(-ret));
		pq->ioeventfd = ret == 0;
	}
}

/* Runs under the PCI bus lock, which serializes it with other BAR changes. */
static void vp_bar_mapped(struct pci_dev *pdev, int bar, uint64_t addr)
{
	struct virtio_pci *vp = vp_from_pci(pdev);
	if (bar != 0)
		return;
	vp_notify_unregister(vp);
	if (addr)
		vp_notify_register(vp, addr + VP_NOTIFY_OFF);
}

/* ---- config space ---- */

static bool vp_touches_cfg_data(const struct virtio_pci *vp, uint32_t off, uint32_t len)
{
	uint32_t data = vp->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	return off < data + 4 && data < off + len;
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG: pci_cfg_data is a window onto cap.length bytes at
 * cap.offset of BAR cap.bar. Settings that do not name an aligned 1, 2 or
 * 4-byte access inside BAR 0 make the window inert.
 */
static void vp_cfg_window(struct virtio_pci *vp, bool is_write)
{
	struct virtio_pci_cfg_cap c;
	memcpy(&c, &vp->pci.cfg[vp->cfg_cap], sizeof(c));
	uint32_t len = c.cap.length, off = c.cap.offset;
	if (c.cap.bar != 0 || (len != 1 && len != 2 && len != 4) || off % len || off >= VP_BAR_SIZE)
		return;
	uint8_t *data =
	    &vp->pci.cfg[vp->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)];
	if (!is_write)
		memset(data, 0xff, len);
	vp_bar_access(&vp->pci, 0, off, data, len, is_write);
}

static void vp_cfg_write(struct pci_dev *pdev, uint32_t off, uint32_t val, uint32_t len)
{
	struct virtio_pci *vp = vp_from_pci(pdev);
	msix_cfg_write(&vp->msix, off, len);
	if (vp_touches_cfg_data(vp, off, len))
		vp_cfg_window(vp, true);
}

static void vp_cfg_read(struct pci_dev *pdev, uint32_t off, uint32_t *val, uint32_t len)
{
	struct virtio_pci *vp = vp_from_pci(pdev);
	if (!vp_touches_cfg_data(vp, off, len))
		return;
	vp_cfg_window(vp, false);
	*val = pci_cfg_get(pdev, off, len);
}

static const struct pci_dev_ops vp_pci_ops = {
    .cfg_write = vp_cfg_write,
    .cfg_read = vp_cfg_read,
    .bar_mapped = vp_bar_mapped,
    .bar_access = vp_bar_access,
};

static uint32_t vp_class_code(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000; /* Ethernet controller */
	case VIRTIO_ID_BLOCK:
		return 0x018000; /* other mass storage controller */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* other communication controller */
	case VIRTIO_ID_GPU:
		return 0x038000; /* other display controller */
	case VIRTIO_ID_INPUT:
		return 0x098000; /* other input device */
	default:
		return 0xff0000; /* unassigned class */
	}
}

static int vp_add_virtio_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len)
{
	struct virtio_pci_cap c = {
	    .cap_len = sizeof(c),
	    .cfg_type = type,
	    .bar = 0,
	    .offset = off,
	    .length = len,
	};
	return pci_add_cap(&vp->pci, PCI_CAP_ID_VNDR, &c, sizeof(c));
}

static int vp_setup_config(struct virtio_pci *vp)
{
	struct pci_dev *p = &vp->pci;
	const struct virtio_dev_ops *ops = vp->dev->ops;
	uint16_t pci_id = (uint16_t)(VP_DEVICE_BASE + ops->device_id);
	p->ops = &vp_pci_ops;
	pci_cfg_set(p, PCI_VENDOR_ID, VP_VENDOR, 2);
	pci_cfg_set(p, PCI_DEVICE_ID, pci_id, 2);
	/* Revision 1: a modern-only (non-transitional) device. */
	pci_cfg_set(p, PCI_CLASS_REVISION, vp_class_code(ops->device_id) << 8 | 1, 4);
	pci_cfg_set(p, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL, 1);
	pci_cfg_set(p, PCI_SUBSYSTEM_VENDOR_ID, VP_VENDOR, 2);
	pci_cfg_set(p, PCI_SUBSYSTEM_ID, pci_id, 2);
	/* Interrupt pin stays 0: Inlay's virtio functions signal through MSI-X only. */
	p->bar_size[0] = VP_BAR_SIZE;

	int ret = vp_add_virtio_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VP_COMMON_OFF,
				    sizeof(struct virtio_pci_common_cfg));
	if (ret >= 0)
		ret = vp_add_virtio_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VP_ISR_OFF, 1);
	/* Devices without configuration fields have no DEVICE_CFG structure. */
	if (ret >= 0 && ops->config_size)
		ret = vp_add_virtio_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VP_DEVICE_OFF,
					ops->config_size);
	if (ret >= 0) {
		struct virtio_pci_notify_cap n = {
		    .cap = {.cap_len = sizeof(n),
			    .cfg_type = VIRTIO_PCI_CAP_NOTIFY_CFG,
			    .offset = VP_NOTIFY_OFF,
			    .length = VP_NOTIFY_MULT * ops->num_queues},
		    .notify_off_multiplier = VP_NOTIFY_MULT,
		};
		ret = pci_add_cap(p, PCI_CAP_ID_VNDR, &n, sizeof(n));
	}
	if (ret >= 0) {
		struct virtio_pci_cfg_cap w = {
		    .cap = {.cap_len = sizeof(w), .cfg_type = VIRTIO_PCI_CAP_PCI_CFG},
		};
		ret = pci_add_cap(p, PCI_CAP_ID_VNDR, &w, sizeof(w));
	}
	if (ret < 0)
		return ret;
	/* The driver points the window with bar/offset/length and moves data. */
	vp->cfg_cap = (uint8_t)ret;
	p->wmask[ret + offsetof(struct virtio_pci_cap, bar)] = 0xff;
	memset(&p->wmask[ret + offsetof(struct virtio_pci_cap, offset)], 0xff, 8);
	memset(&p->wmask[ret + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)], 0xff, 4);
	return msix_add_cap(&vp->msix, p, 0, VP_MSIX_TABLE_OFF, VP_MSIX_PBA_OFF);
}

static bool vp_ops_ok(const struct virtio_dev_ops *ops)
{
	uint16_t max = ops->queue_max_size;
	return ops->num_queues >= 1 && ops->num_queues <= VIRTIO_MAX_QUEUES && max >= 1 &&
	       max <= VIRTQ_MAX_SIZE && !(max & (max - 1)) && ops->config_size <= VP_REGION_SIZE &&
	       ops->device_id < 0x40;
}

struct virtio_pci *virtio_pci_create_ops(struct vm *vm, const struct virtio_pci_vm_ops *ops,
					 struct pci_bus *pb, struct virtio_dev *dev)
{
	if (!vp_ops_ok(dev->ops)) {
		fprintf(stderr, "virtio-pci: %s: unsupported queue or config layout\n",
			dev->ops->name);
		return NULL;
	}
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	if (!vp) {
		fprintf(stderr, "virtio-pci: %s: out of memory\n", dev->ops->name);
		return NULL;
	}
	vp->dev = dev;
	vp->vm = vm;
	vp->vm_ops = ops;
	vp->nr_vectors = dev->ops->num_queues + 1;
	for (unsigned v = 0; v < VP_MAX_VECTORS; v++)
		vp->msi_fd[v] = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->queues[i] = (struct virtio_pci_queue){.vp = vp, .index = i, .notify_fd = -1};

	const char *what;
	int ret = msix_init(&vp->msix, vp->nr_vectors, &vp_msix_ops, vp);
	if (ret < 0) {
		free(vp);
		fprintf(stderr, "virtio-pci: %s: MSI-X: %s\n", dev->ops->name, strerror(-ret));
		return NULL;
	}
	for (unsigned v = 0; v < vp->nr_vectors; v++) {
		what = "MSI vector";
		ret = ops->msi_alloc(vm, &vp->msi_fd[v]);
		if (ret < 0)
			goto err;
		vp->msi_gsi[v] = ret;
	}
	for (unsigned i = 0; i < dev->ops->num_queues; i++) {
		struct virtio_pci_queue *pq = &vp->queues[i];
		what = "notify eventfd";
		pq->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (pq->notify_fd < 0) {
			ret = -errno;
			goto err;
		}
		ret = evloop_add(vm->loop, pq->notify_fd, EPOLLIN, vp_notify_event, pq);
		if (ret < 0) {
			close(pq->notify_fd);
			pq->notify_fd = -1;
			goto err;
		}
	}
	what = "capabilities";
	ret = vp_setup_config(vp);
	if (ret < 0)
		goto err;

	pthread_mutex_lock(&dev->lock);
	dev->transport = vp;
	dev->transport_ops = &vp_transport_ops;
	vp_reset_transport(vp);
	pthread_mutex_unlock(&dev->lock);

	what = "PCI slot";
	ret = pci_bus_add(pb, &vp->pci);
	if (ret < 0)
		goto err;
	vp->pb = pb;
	return vp;
err:
	fprintf(stderr, "virtio-pci: %s: %s: %s\n", dev->ops->name, what, strerror(-ret));
	virtio_pci_destroy(vp);
	return NULL;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	if (vp->pb)
		pci_bus_remove(vp->pb, &vp->pci);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vp->queues[i].notify_fd < 0)
			continue;
		evloop_del(vp->vm->loop, vp->queues[i].notify_fd);
		close(vp->queues[i].notify_fd);
	}
	for (unsigned v = 0; v < VP_MAX_VECTORS; v++)
		if (vp->msi_fd[v] >= 0)
			close(vp->msi_fd[v]);
	if (vp->dev->transport == vp) {
		vp->dev->transport = NULL;
		vp->dev->transport_ops = NULL;
	}
	msix_finish(&vp->msix);
	free(vp);
}

/* ---- snapshots ---- */

#define VP_STATUS_BITS                                                                             \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |        \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)

void virtio_pci_save(struct virtio_pci *vp, struct snap_writer *w)
{
	struct virtio_dev *dev = vp->dev;
	snap_put_u16(w, dev->ops->device_id);
	snap_put_u32(w, vp_num_queues(vp));
	pthread_mutex_lock(&vp->pb->lock);
	pci_dev_save(&vp->pci, w);
	pthread_mutex_unlock(&vp->pb->lock);
	msix_save(&vp->msix, w);
	pthread_mutex_lock(&dev->lock);
	snap_put_u8(w, dev->status);
	snap_put_u64(w, dev->driver_features);
	snap_put_u8(w, dev->config_generation);
	snap_put_u32(w, vp->dfselect);
	snap_put_u32(w, vp->gfselect);
	snap_put_u16(w, vp->msix_config);
	snap_put_u16(w, vp->queue_select);
	snap_put_u8(w, vp->active);
	snap_put_u8(w, atomic_load(&vp->isr));
	for (unsigned i = 0; i < vp_num_queues(vp); i++)
		virtq_save(&dev->vq[i], w);
	pthread_mutex_unlock(&dev->lock);
}

/* The registers of the common configuration, checked as guest writes would be. */
static bool vp_restore_common(struct virtio_pci *vp, struct snap_section *s)
{
	struct virtio_dev *dev = vp->dev;
	uint8_t status, gen, active, isr;
	uint64_t features;
	uint32_t dfselect, gfselect;
	uint16_t msix_config, queue_select;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	if (!snap_get_u8(s, &status) || !snap_get_u64(s, &features) || !snap_get_u8(s, &gen) ||
	    !snap_get_u32(s, &dfselect) || !snap_get_u32(s, &gfselect) ||
	    !snap_get_u16(s, &msix_config) || !snap_get_u16(s, &queue_select) ||
	    !snap_get_u8(s, &active) || !snap_get_u8(s, &isr))
		return false;
	for (unsigned i = 0; i < vp_num_queues(vp); i++) {
		if (!virtq_restore(&vq[i], s, dev->ops->queue_max_size))
			return false;
		if (vq[i].msix_vector != vp_vector(vp, vq[i].msix_vector))
			return snap_fail(s);
	}
	if ((status & ~VP_STATUS_BITS) || active > 1 ||
	    (isr & ~(VP_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)) ||
	    msix_config != vp_vector(vp, msix_config) || (features & ~vp_host_features(vp)) ||
	    (active && !(status & VIRTIO_CONFIG_S_DRIVER_OK)))
		return snap_fail(s);
	pthread_mutex_lock(&dev->lock);
	dev->status = status;
	dev->driver_features = features;
	bool ok = !(status & VIRTIO_CONFIG_S_FEATURES_OK) || vp_features_ok(vp);
	dev->config_generation = gen;
	vp->dfselect = dfselect;
	vp->gfselect = gfselect;
	vp->msix_config = msix_config;
	vp->queue_select = queue_select;
	vp->active = active;
	atomic_store(&vp->isr, isr);
	for (unsigned i = 0; i < vp_num_queues(vp); i++)
		dev->vq[i] = vq[i];
	/* A live device gets its rings checked the way DRIVER_OK checks them. */
	if (ok && active && dev->ops->activate)
		ok = dev->ops->activate(dev);
	for (unsigned i = 0; ok && i < vp_num_queues(vp); i++)
		if (dev->vq[i].ready && !virtq_check(&dev->vq[i], dev->mem))
			ok = false;
	pthread_mutex_unlock(&dev->lock);
	return ok || snap_fail(s);
}

bool virtio_pci_restore(struct virtio_pci *vp, struct snap_section *s)
{
	uint16_t device_id;
	uint32_t nq;
	if (!snap_get_u16(s, &device_id) || !snap_get_u32(s, &nq))
		return false;
	if (device_id != vp->dev->ops->device_id || nq != vp_num_queues(vp))
		return snap_fail(s);
	if (!pci_dev_restore(&vp->pci, s) || !msix_restore(&vp->msix, s) ||
	    !vp_restore_common(vp, s))
		return false;
	for (unsigned i = 0; i < vp_num_queues(vp); i++)
		if (vp->active && vp->dev->vq[i].ready)
			eventfd_write(vp->queues[i].notify_fd, 1);
	return true;
}
