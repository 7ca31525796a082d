#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds the Inlay guest kernel from Debian's linux-source-6.1 and caches it.
#
#   guest/kernel/build.sh [--variant auto|plain|pvm] [--keep-tree]
#
# Prints the cache directory on stdout; it holds vmlinux (the PVH ELF inlay-vmm
# boots), bzImage, config and build.log. Progress goes to stderr.
#
# The cache key is a hash of the inputs: the linux-source-6.1 package version,
# inlay.config, the variant and (for "pvm") every patch in patches/. Unchanged
# inputs: no build. "pvm" adds the patches for hosts whose /dev/kvm is a
# software virtualizer; "auto" picks it when the host CPU has no vmx/svm.
# INLAY_CACHE overrides the cache root (default ${XDG_CACHE_HOME:-~/.cache}/inlay).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
variant=auto
keep_tree=0
while [ $# -gt 0 ]; do
	case "$1" in
	--variant) variant=${2:?--variant needs a value}; shift 2 ;;
	--keep-tree) keep_tree=1; shift ;;
	*) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

log() { echo "kernel: $*" >&2; }
die() { echo "kernel: error: $*" >&2; exit 1; }

if [ "$variant" = auto ]; then
	if grep -qwE 'vmx|svm' /proc/cpuinfo; then variant=plain; else variant=pvm; fi
fi
case "$variant" in plain|pvm) ;; *) die "unknown variant $variant (auto, plain or pvm)" ;; esac

src_tar=/usr/src/linux-source-6.1.tar.xz
src_ver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null) ||
	die "package linux-source-6.1 is not installed"
[ -f "$src_tar" ] || die "$src_tar is missing (reinstall linux-source-6.1)"
for tool in make gcc bison flex bc; do
	command -v $tool >/dev/null || die "$tool is missing (see docs/GUESTS.md for the packages)"
done

patches=""
if [ "$variant" = pvm ]; then
	for p in "$here"/patches/*.patch; do
		[ -f "$p" ] && patches="$patches $p"
	done
fi

# Bump when the way the inputs become a kernel changes.
recipe=1
key=$( {
	echo "recipe $recipe variant $variant linux-source-6.1 $src_ver"
	cat "$here/inlay.config"
	for p in $patches; do echo "patch $(basename "$p")"; cat "$p"; done
} | sha256sum | cut -c1-16)

cache=${INLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/inlay}/kernel
out=$cache/$variant-$key
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [ -f "$out/done" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

tree=$cache/$variant-$key.build
rm -rf "$tree" "$out"
mkdir -p "$tree"
start=$(date +%s)
log "building $variant kernel from linux-source-6.1 $src_ver into $out"
log "unpacking $src_tar"
tar -C "$tree" --strip-components=1 -xf "$src_tar"
for p in $patches; do
	log "applying $(basename "$p")"
	patch -s -p1 -d "$tree" < "$p" || die "patch $(basename "$p") does not apply"
done

log "configuring (tinyconfig + inlay.config)"
{
	make -s -C "$tree" tinyconfig &&
		"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" \
			"$here/inlay.config" &&
		make -s -C "$tree" olddefconfig
} > "$tree/config.log" 2>&1 || { cat "$tree/config.log" >&2; die "configuring failed"; }
# Every line of the fragment must survive Kconfig's dependency resolution.
grep -E '^CONFIG_' "$here/inlay.config" | while IFS='=' read -r k v; do
	got=$(grep -E "^$k=" "$tree/.config" | cut -d= -f2- || true)
	if [ "$v" = n ]; then
		[ -z "$got" ] || die "$k=$v in inlay.config, but Kconfig chose $got"
	else
		[ "$got" = "$v" ] || die "$k=$v in inlay.config, but Kconfig chose '${got:-n}'"
	fi
done

jobs=$(nproc)
log "compiling with $jobs jobs (about 7 minutes on 2 idle cores; log: $tree/build.log)"
make -C "$tree" -j"$jobs" vmlinux bzImage > "$tree/build.log" 2>&1 &
make_pid=$!
while kill -0 $make_pid 2>/dev/null; do
	sleep 20
	n=$(grep -c '^  CC ' "$tree/build.log" || true)
	log "$n files compiled, $(( $(date +%s) - start )) s"
done
if ! wait $make_pid; then
	tail -n 30 "$tree/build.log" >&2
	die "compiling failed; see $tree/build.log"
fi

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp "$tree/vmlinux" "$tree/arch/x86/boot/bzImage" "$tree/System.map" "$out.tmp/"
cp "$tree/.config" "$out.tmp/config"
cp "$tree/build.log" "$out.tmp/build.log"
echo "$(( $(date +%s) - start ))" > "$out.tmp/build-seconds"
touch "$out.tmp/done"
mv "$out.tmp" "$out"
[ "$keep_tree" = 1 ] || rm -rf "$tree"
log "built in $(cat "$out/build-seconds") s: $out"
echo "$out"
