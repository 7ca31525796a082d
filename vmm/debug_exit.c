// SPDX-License-Identifier: MIT
#include "layout.h"
#include "legacy.h"
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>

struct debug_exit {
	struct vm *vm;
};

static void debug_exit_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct debug_exit *d = opaque;
	if (!is_write || len != 1)
		return;
	if (data[0] == 0) {
		vm_request_exit(d->vm, VM_EXIT_POWEROFF);
		return;
	}
	fprintf(stderr, "inlay-vmm: guest reported failure status %u\n", data[0]);
	vm_request_exit(d->vm, VM_EXIT_GUEST_FAILED);
}

struct debug_exit *debug_exit_create(struct vm *vm)
{
	struct debug_exit *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->vm = vm;
	if (bus_register(&vm->pio, LAYOUT_PORT_EXIT, 1, debug_exit_io, d) < 0) {
		free(d);
		return NULL;
	}
	return d;
}

void debug_exit_destroy(struct debug_exit *d)
{
	if (!d)
		return;
	bus_unregister(&d->vm->pio, LAYOUT_PORT_EXIT, d);
	free(d);
}
