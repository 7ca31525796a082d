// SPDX-License-Identifier: MIT
/* The transport bound to the real VM; kept apart so unit tests link without KVM. */
#include "virtio_pci.h"

static const struct virtio_pci_vm_ops vp_kvm_ops = {
    .msi_alloc = vm_msi_alloc,
    .msi_route = vm_msi_route,
    .ioeventfd = vm_ioeventfd,
};

struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_bus *pb, struct virtio_dev *dev)
{
	return virtio_pci_create_ops(vm, &vp_kvm_ops, pb, dev);
}
