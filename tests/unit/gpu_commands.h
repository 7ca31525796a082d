/* SPDX-License-Identifier: MIT */
#ifndef INLAY_TEST_GPU_COMMANDS_H
#define INLAY_TEST_GPU_COMMANDS_H

#include <linux/virtio_gpu.h>

/* The 2D control commands that carry a body after the control header, for initialisers. */
#define GPU_BODY_COMMANDS                                                                          \
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, VIRTIO_GPU_CMD_RESOURCE_UNREF,                          \
	    VIRTIO_GPU_CMD_SET_SCANOUT, VIRTIO_GPU_CMD_RESOURCE_FLUSH,                             \
	    VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,            \
	    VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, VIRTIO_GPU_CMD_GET_EDID

#endif
