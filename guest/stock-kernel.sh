#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The stock Debian kernel (the one linux-image-amd64 depends on), ready for
# inlay-vmm. Prints the path of its vmlinux: the ELF inside Debian's bzImage,
# which carries a PVH entry note, so the VM skips the bzImage decompressor
# (minutes of emulated code on software-virtualized hosts). The ELF is
# unpacked once into ${INLAY_CACHE:-${XDG_CACHE_HOME:-~/.cache}/inlay}/kernel.
#
#   guest/stock-kernel.sh [--bzimage]    (--bzimage: print the bzImage path instead)
set -eu

die() { echo "stock-kernel: error: $*" >&2; exit 1; }

release=$(dpkg-query -W -f '${Depends}' linux-image-amd64 2>/dev/null |
	sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
bz=/boot/vmlinuz-$release
if [ -z "$release" ] || [ ! -f "$bz" ]; then die "install the package linux-image-amd64"; fi
if [ "${1:-}" = --bzimage ]; then
	echo "$bz"
	exit 0
fi

version=$(dpkg-query -W -f '${Version}' "linux-image-$release")
out=${INLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/inlay}/kernel/stock-$release-$version
if [ ! -f "$out/vmlinux" ]; then
	# Boot protocol header: setup_sects at 0x1f1, payload_offset/_length at 0x248.
	setup_sects=$(od -An -tu1 -j 497 -N 1 "$bz" | tr -d ' ')
	[ "$setup_sects" -ne 0 ] || setup_sects=4
	offset=$(od -An -tu4 -j 584 -N 4 "$bz" | tr -d ' ')
	length=$(od -An -tu4 -j 588 -N 4 "$bz" | tr -d ' ')
	start=$(( (setup_sects + 1) * 512 + offset ))
	magic=$(od -An -tx1 -j "$start" -N 6 "$bz" | tr -d ' ')
	[ "$magic" = fd377a585a00 ] || die "$bz: payload is not xz (magic $magic)"
	mkdir -p "$out"
	echo "stock-kernel: unpacking the ELF from $bz" >&2
	tail -c +$((start + 1)) "$bz" | head -c "$length" | xz -dc --single-stream > "$out/vmlinux.tmp" ||
		die "unpacking $bz failed"
	mv "$out/vmlinux.tmp" "$out/vmlinux"
fi
echo "$out/vmlinux"
