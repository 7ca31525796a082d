// SPDX-License-Identifier: MIT
#include "snap_port.h"
#include "vmm/layout.h"
#include "vmm/vm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct snap_port {
	struct vm *vm;
	uint32_t generation;
	int efd;
	void (*ready)(void *opaque);
	void *opaque;
};

/* vCPU thread: the snapshot itself is taken on the event-loop thread. */
static void snap_port_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct snap_port *p = opaque;
	if (offset != 0)
		return;
	if (is_write) {
		if (len == 1 && data[0] == 1)
			eventfd_write(p->efd, 1);
		return;
	}
	if (len <= sizeof(p->generation))
		memcpy(data, &p->generation, len);
}

static void snap_port_event(void *opaque, uint32_t events)
{
	struct snap_port *p = opaque;
	eventfd_t n;
	if (eventfd_read(p->efd, &n) == 0 && p->ready)
		p->ready(p->opaque);
}

struct snap_port *snap_port_create(struct vm *vm, uint32_t generation, void (*ready)(void *),
				   void *opaque)
{
	struct snap_port *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	*p = (struct snap_port){
	    .vm = vm, .generation = generation, .ready = ready, .opaque = opaque};
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0)
		goto err_free;
	if (evloop_add(vm->loop, p->efd, EPOLLIN, snap_port_event, p) < 0)
		goto err_close;
	if (bus_register(&vm->pio, LAYOUT_PORT_SNAPSHOT, 4, snap_port_io, p) < 0)
		goto err_del;
	return p;
err_del:
	evloop_del(vm->loop, p->efd);
err_close:
	close(p->efd);
err_free:
	free(p);
	return NULL;
}

void snap_port_destroy(struct snap_port *p)
{
	if (!p)
		return;
	bus_unregister(&p->vm->pio, LAYOUT_PORT_SNAPSHOT, p);
	evloop_del(p->vm->loop, p->efd);
	close(p->efd);
	free(p);
}
