/* SPDX-License-Identifier: MIT */
#ifndef INLAY_INIT_MODULES_H
#define INLAY_INIT_MODULES_H

#include <stddef.h>

/**
 * modules_load() - load kernel modules and, first, what they depend on
 * @names: module names ("virtio_blk"; '-' and '_' are the same)
 * @n: how many
 *
 * Dependencies come from /lib/modules/$(uname -r)/modules.dep. A kernel
 * without that file has everything built in: nothing to do, returns 0.
 * Return: 0, or -errno after a message on stderr naming the module.
 */
int modules_load(const char *const *names, size_t n);

#endif
