// SPDX-License-Identifier: MIT
#include "presenter.h"

#include <linux/virtio_gpu.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* A wl_buffer over (part of) one device image. */
struct pbuf {
	struct presenter *p;
	struct vgpu_image *img;
	struct wl_buffer *buffer;
	struct vgpu_rect src; /* the part of img the buffer covers */
	struct wl_list link;  /* presenter::bufs */
};

struct presenter {
	/*
	 * The device calls in with its lock held (gpu lock -> this lock);
	 * Wayland events come on the event-loop thread with only this lock.
	 */
	pthread_mutex_t lock;
	struct wl_shm *shm;
	struct wl_surface *surface;
	presenter_flush_fn flush;
	void *flush_opaque;
	struct vgpu *gpu;
	bool ready, lost;
	bool format_warned;
	uint32_t formats; /* bit n: the compositor takes the format of formats_wl[n] */

	struct vgpu_image *img; /* what the scanout shows now, NULL if disabled */
	struct vgpu_rect src;
	struct vgpu_rect damage; /* image pixels not yet committed */
	bool dirty;
	uint64_t dirty_since_ns;
	struct wl_callback *frame;
	struct wl_list bufs; /* pbuf::link */

	struct wl_surface *cursor_surface;
	struct wl_buffer *cursor_buffer;
	bool has_cursor;
	int32_t hot_x, hot_y;
	struct wl_pointer *pointer;
	uint32_t enter_serial;

	struct presenter_stats stats;
};

/* virtio-gpu formats name bytes in memory order, wl_shm (DRM) ones little-endian words. */
static const struct {
	uint32_t virtio, wl;
} formats_wl[] = {
    {VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, WL_SHM_FORMAT_ARGB8888},
    {VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, WL_SHM_FORMAT_XRGB8888},
    {VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, WL_SHM_FORMAT_BGRA8888},
    {VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, WL_SHM_FORMAT_BGRX8888},
    {VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, WL_SHM_FORMAT_ABGR8888},
    {VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, WL_SHM_FORMAT_RGBX8888},
    {VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, WL_SHM_FORMAT_RGBA8888},
    {VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, WL_SHM_FORMAT_XBGR8888},
};
#define NR_FORMATS (sizeof(formats_wl) / sizeof(formats_wl[0]))

/* The wl_shm format for @virtio_format, or -1 when the compositor lacks it. */
static int64_t wl_format(const struct presenter *p, uint32_t virtio_format)
{
	for (unsigned i = 0; i < NR_FORMATS; i++)
		if (formats_wl[i].virtio == virtio_format)
			return p->formats & (1u << i) ? (int64_t)formats_wl[i].wl : -1;
	return -1;
}

static void handle_shm_format(void *data, struct wl_shm *shm, uint32_t format)
{
	struct presenter *p = data;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < NR_FORMATS; i++)
		if (formats_wl[i].wl == format)
			p->formats |= 1u << i;
	pthread_mutex_unlock(&p->lock);
}

static const struct wl_shm_listener shm_listener = {
    .format = handle_shm_format,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- buffers ---- */

static void handle_buffer_release(void *data, struct wl_buffer *buffer)
{
	struct pbuf *b = data;
	struct presenter *p = b->p;

	pthread_mutex_lock(&p->lock);
	vgpu_image_release(b->img);
	pthread_mutex_unlock(&p->lock);
}

static const struct wl_buffer_listener buffer_listener = {
    .release = handle_buffer_release,
};

static void pbuf_destroy(struct pbuf *b)
{
	wl_buffer_destroy(b->buffer);
	/* No release can come for a destroyed buffer: the image is ours again. */
	vgpu_image_release(b->img);
	wl_list_remove(&b->link);
	free(b);
}

/* The buffer showing p->src of p->img, made on first use. */
static struct pbuf *pbuf_get(struct presenter *p)
{
	struct vgpu_image *img = p->img;
	struct pbuf *b, *tmp;

	wl_list_for_each_safe (b, tmp, &p->bufs, link) {
		if (b->img != img)
			continue;
		if (!memcmp(&b->src, &p->src, sizeof(b->src)))
			return b;
		pbuf_destroy(b); /* the scanout rectangle moved */
	}
	int64_t format = wl_format(p, img->format);
	if (format < 0 && !p->format_warned) {
		fprintf(stderr,
			"inlay-vmm: display: the compositor cannot show virtio-gpu format "
			"%u; the window stays as it is\n",
			img->format);
		p->format_warned = true;
	}
	if (img->fd < 0 || format < 0)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	struct wl_shm_pool *pool = wl_shm_create_pool(p->shm, img->fd, (int32_t)img->size);
	b->buffer = wl_shm_pool_create_buffer(
	    pool, (int32_t)(p->src.y * img->stride + p->src.x * 4), (int32_t)p->src.width,
	    (int32_t)p->src.height, (int32_t)img->stride, (uint32_t)format);
	wl_shm_pool_destroy(pool);
	b->p = p;
	b->img = img;
	b->src = p->src;
	wl_buffer_add_listener(b->buffer, &buffer_listener, b);
	wl_list_insert(&p->bufs, &b->link);
	return b;
}

/* The compositor is gone: nobody holds the images any more. Caller holds the lock. */
static void lost_locked(struct presenter *p)
{
	struct pbuf *b;

	p->lost = true;
	wl_list_for_each (b, &p->bufs, link)
		vgpu_image_release(b->img);
}

static void send_locked(struct presenter *p)
{
	if (!p->flush(p->flush_opaque))
		lost_locked(p);
}

/* ---- commits ---- */

static void commit_locked(struct presenter *p);

static void handle_frame_done(void *data, struct wl_callback *cb, uint32_t time)
{
	struct presenter *p = data;

	pthread_mutex_lock(&p->lock);
	wl_callback_destroy(cb);
	p->frame = NULL;
	commit_locked(p);
	pthread_mutex_unlock(&p->lock);
}

static const struct wl_callback_listener frame_listener = {
    .done = handle_frame_done,
};

/*
 * Commit the damage gathered so far, unless the compositor has not asked for
 * the next frame yet: then it waits for the frame callback, growing.
 */
static void commit_locked(struct presenter *p)
{
	if (!p->ready || p->lost || !p->img || !p->dirty || p->frame)
		return;
	struct pbuf *b = pbuf_get(p);
	if (!b)
		return;
	wl_surface_attach(p->surface, b->buffer, 0, 0);
	wl_surface_damage_buffer(p->surface, (int32_t)(p->damage.x - p->src.x),
				 (int32_t)(p->damage.y - p->src.y), (int32_t)p->damage.width,
				 (int32_t)p->damage.height);
	p->frame = wl_surface_frame(p->surface);
	wl_callback_add_listener(p->frame, &frame_listener, p);
	wl_surface_commit(p->surface);
	p->img->busy = true;
	p->dirty = false;
	p->damage = (struct vgpu_rect){0};
	uint64_t lat = now_ns() - p->dirty_since_ns;
	p->stats.commits++;
	p->stats.latency_ns_total += lat;
	if (lat > p->stats.latency_ns_max)
		p->stats.latency_ns_max = lat;
	send_locked(p);
}

static void add_damage(struct presenter *p, const struct vgpu_rect *r)
{
	if (!p->dirty) {
		p->damage = *r;
		p->dirty = true;
		p->dirty_since_ns = now_ns();
		return;
	}
	vgpu_rect_union(&p->damage, r);
}

/* ---- the device's side ---- */

static void dev_scanout(void *opaque, struct vgpu_image *img, const struct vgpu_rect *rect)
{
	struct presenter *p = opaque;

	pthread_mutex_lock(&p->lock);
	/* Disabled: keep showing the last frame rather than unmapping the surface. */
	if (img) {
		p->img = img;
		p->src = *rect;
		add_damage(p, rect);
		commit_locked(p);
	}
	pthread_mutex_unlock(&p->lock);
}

static void dev_flush(void *opaque, struct vgpu_image *img, const struct vgpu_rect *damage)
{
	struct presenter *p = opaque;

	pthread_mutex_lock(&p->lock);
	p->stats.flushes++;
	p->img = img;
	add_damage(p, damage);
	commit_locked(p);
	pthread_mutex_unlock(&p->lock);
}

static void dev_image_gone(void *opaque, struct vgpu_image *img)
{
	struct presenter *p = opaque;
	struct pbuf *b, *tmp;

	pthread_mutex_lock(&p->lock);
	wl_list_for_each_safe (b, tmp, &p->bufs, link)
		if (b->img == img)
			pbuf_destroy(b);
	if (p->img == img) {
		p->img = NULL;
		p->dirty = false;
	}
	pthread_mutex_unlock(&p->lock);
}

/* Point the pointer at the cursor surface (or hide it). Caller holds the lock. */
static void cursor_apply(struct presenter *p)
{
	if (!p->pointer || p->lost)
		return;
	wl_pointer_set_cursor(p->pointer, p->enter_serial, p->has_cursor ? p->cursor_surface : NULL,
			      p->hot_x, p->hot_y);
	send_locked(p);
}

/* Copy the guest's cursor into a buffer of our own: it is tiny and rarely changes. */
static void dev_cursor(void *opaque, const struct vgpu_image *img, uint32_t hot_x, uint32_t hot_y)
{
	struct presenter *p = opaque;

	pthread_mutex_lock(&p->lock);
	p->has_cursor = false;
	int64_t format = img ? wl_format(p, img->format) : -1;
	int fd = format >= 0 ? memfd_create("inlay-cursor", MFD_CLOEXEC) : -1;
	if (fd >= 0 && ftruncate(fd, (off_t)img->size) == 0 && !p->lost) {
		void *map = mmap(NULL, img->size, PROT_WRITE, MAP_SHARED, fd, 0);
		if (map != MAP_FAILED) {
			memcpy(map, img->data, img->size);
			munmap(map, img->size);
			struct wl_shm_pool *pool =
			    wl_shm_create_pool(p->shm, fd, (int32_t)img->size);
			struct wl_buffer *buf = wl_shm_pool_create_buffer(
			    pool, 0, (int32_t)img->width, (int32_t)img->height,
			    (int32_t)img->stride, (uint32_t)format);
			wl_shm_pool_destroy(pool);
			wl_surface_attach(p->cursor_surface, buf, 0, 0);
			wl_surface_damage_buffer(p->cursor_surface, 0, 0, INT32_MAX, INT32_MAX);
			wl_surface_commit(p->cursor_surface);
			/* The new buffer is committed: the old one is no longer read. */
			if (p->cursor_buffer)
				wl_buffer_destroy(p->cursor_buffer);
			p->cursor_buffer = buf;
			p->has_cursor = true;
			p->hot_x = (int32_t)hot_x;
			p->hot_y = (int32_t)hot_y;
		}
	}
	if (fd >= 0)
		close(fd);
	cursor_apply(p);
	pthread_mutex_unlock(&p->lock);
}

static const struct vgpu_presenter_ops presenter_ops = {
    .scanout = dev_scanout,
    .flush = dev_flush,
    .image_gone = dev_image_gone,
    .cursor = dev_cursor,
};

/* ---- public ---- */

struct presenter *presenter_create(struct wl_compositor *compositor, struct wl_shm *shm,
				   struct wl_surface *surface, presenter_flush_fn flush,
				   void *opaque)
{
	struct presenter *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cursor_surface = wl_compositor_create_surface(compositor);
	if (!p->cursor_surface) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->shm = shm;
	p->surface = surface;
	p->flush = flush;
	p->flush_opaque = opaque;
	wl_list_init(&p->bufs);
	wl_shm_add_listener(shm, &shm_listener, p);
	return p;
}

void presenter_attach(struct presenter *p, struct vgpu *gpu)
{
	if (p->gpu)
		vgpu_set_presenter(p->gpu, NULL, NULL);
	p->gpu = gpu;
	if (gpu)
		vgpu_set_presenter(gpu, &presenter_ops, p);
}

void presenter_destroy(struct presenter *p)
{
	struct pbuf *b, *tmp;

	if (!p)
		return;
	presenter_attach(p, NULL);
	wl_list_for_each_safe (b, tmp, &p->bufs, link)
		pbuf_destroy(b);
	if (p->frame)
		wl_callback_destroy(p->frame);
	if (p->cursor_buffer)
		wl_buffer_destroy(p->cursor_buffer);
	wl_surface_destroy(p->cursor_surface);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void presenter_set_ready(struct presenter *p)
{
	pthread_mutex_lock(&p->lock);
	p->ready = true;
	commit_locked(p);
	pthread_mutex_unlock(&p->lock);
}

void presenter_set_lost(struct presenter *p)
{
	pthread_mutex_lock(&p->lock);
	lost_locked(p);
	pthread_mutex_unlock(&p->lock);
}

void presenter_size(struct presenter *p, uint32_t *width, uint32_t *height)
{
	pthread_mutex_lock(&p->lock);
	*width = p->img ? p->src.width : 0;
	*height = p->img ? p->src.height : 0;
	pthread_mutex_unlock(&p->lock);
}

void presenter_set_cursor(struct presenter *p, struct wl_pointer *pointer, uint32_t serial)
{
	pthread_mutex_lock(&p->lock);
	p->pointer = pointer;
	p->enter_serial = serial;
	if (p->has_cursor)
		cursor_apply(p);
	pthread_mutex_unlock(&p->lock);
}

void presenter_get_stats(struct presenter *p, struct presenter_stats *s)
{
	pthread_mutex_lock(&p->lock);
	*s = p->stats;
	pthread_mutex_unlock(&p->lock);
}
