#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Assembles an Inlay guest image (an uncompressed newc initramfs) from Debian
# packages, with inlay-init as /init, and caches it.
#
#   guest/mkimage.sh --init FILE [--list FILE] [--disk] NAME
#
# NAME's package list is guest/images/NAME.list unless --list names another.
# Prints the image directory on stdout (it holds initramfs.cpio); progress and
# errors go to stderr. --disk also writes root.erofs, the same tree as a
# read-only erofs disk, and boot.cpio, an initramfs with only inlay-init and
# the image's modules, for booting with inlay.root=/dev/vda (needs mkfs.erofs
# from erofs-utils). The cache key is a hash of the list, the versions apt
# resolves its packages to, the stock kernel release (for module lines) and
# the init binary: unchanged inputs, no rebuild.
# INLAY_CACHE overrides the cache root (default ${XDG_CACHE_HOME:-~/.cache}/inlay).
#
# A list has one entry a line ('#' starts a comment):
#   PACKAGE          a Debian package, unpacked into the image. Dependencies
#                    are not followed: list every package the image needs.
#   module NAME      a module of the stock Debian kernel (linux-image-amd64),
#                    copied with the modules it depends on; inlay-init loads
#                    it at boot (listed in /etc/inlay/modules).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
init=""
list=""
name=""
disk=0
while [ $# -gt 0 ]; do
	case "$1" in
	--init) init=${2:?--init needs a file}; shift 2 ;;
	--list) list=${2:?--list needs a file}; shift 2 ;;
	--disk) disk=1; shift ;;
	-*) echo "mkimage: unknown option $1" >&2; exit 2 ;;
	*) name=$1; shift ;;
	esac
done

log() { echo "mkimage: $*" >&2; }
# first_file GLOB: the first existing file the (unquoted) glob names, or nothing
first_file() {
	for f in $1; do
		[ -f "$f" ] && echo "$f" && return 0
	done
	return 0
}
die() { echo "mkimage: error: $*" >&2; exit 1; }

[ -n "$name" ] || die "usage: mkimage.sh --init FILE [--list FILE] [--disk] NAME"
[ -n "$list" ] || list=$here/images/$name.list
[ -f "$list" ] || die "no package list $list"
if [ -z "$init" ] || [ ! -f "$init" ]; then die "--init must name the inlay-init binary"; fi
[ "$disk" = 0 ] || command -v mkfs.erofs >/dev/null ||
	die "--disk needs mkfs.erofs (the package erofs-utils)"

entries=$(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$list" | grep -v '^$' || true)
packages=$(printf '%s\n' "$entries" | grep -v '^module ' || true)
modules=$(printf '%s\n' "$entries" | sed -n 's/^module[[:space:]]\{1,\}//p')

# Resolve every package before doing any work, so a bad name fails fast.
resolved=""
for pkg in $packages; do
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$ver" ] || die "package '$pkg' (in $list) is not known to apt"
	resolved="$resolved $pkg=$ver"
done

release=""
if [ -n "$modules" ]; then
	release=$(dpkg-query -W -f '${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
	if [ -z "$release" ] || [ ! -f "/lib/modules/$release/modules.dep" ]; then
		die "module lines in $list need the package linux-image-amd64 installed"
	fi
fi

recipe=1
key=$( {
	echo "recipe $recipe kernel-release $release disk $disk"
	cat "$list"
	echo "$resolved"
	sha256sum < "$init"
} | sha256sum | cut -c1-16)

cache=${INLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/inlay}
out=$cache/images/$name-$key
mkdir -p "$cache/images" "$cache/debs"
exec 9>"$cache/images/.lock"
flock 9

if [ -f "$out/done" ]; then
	log "cached: $out"
	echo "$out"
	exit 0
fi

log "building image $name into $out"
# apt's download user cannot write into a root-owned cache; as root, download as root.
sandbox_user=_apt
[ "$(id -u)" != 0 ] || sandbox_user=root
stage=$out.stage
rm -rf "$stage" "$out.tmp" "$out"
mkdir -p "$stage" "$out.tmp"
for pkg_ver in $resolved; do
	pkg=${pkg_ver%%=*}
	ver=${pkg_ver#*=}
	# apt names the file PACKAGE_VERSION_ARCH.deb with ':' as %3a
	deb_glob="$cache/debs/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_*.deb"
	deb=$(first_file "$deb_glob")
	if [ -z "$deb" ]; then
		log "downloading $pkg $ver"
		(cd "$cache/debs" && apt-get download -q=2 -o "APT::Sandbox::User=$sandbox_user" "$pkg=$ver") >&2 ||
			die "cannot download package '$pkg' $ver"
		deb=$(first_file "$deb_glob")
		[ -n "$deb" ] || die "apt-get download of '$pkg' left no .deb"
	fi
	log "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$stage"
done

# busybox provides the shell and the tools; give every applet its name.
if [ -x "$stage/bin/busybox" ]; then
	for applet in $("$stage/bin/busybox" --list-full); do
		[ -e "$stage/$applet" ] || [ -L "$stage/$applet" ] && continue
		mkdir -p "$stage/$(dirname "$applet")"
		ln -s /bin/busybox "$stage/$applet"
	done
fi

if [ -n "$modules" ]; then
	moddir=/lib/modules/$release
	dep=$moddir/modules.dep
	mkdir -p "$stage/etc/inlay" "$stage$moddir"
	: > "$stage/etc/inlay/modules"
	wanted=""
	for m in $modules; do
		norm=$(echo "$m" | tr - _)
		line=$(awk -F: -v n="$norm" '{ b = $1; sub(/.*\//, "", b); sub(/\..*/, "", b);
			gsub(/-/, "_", b); if (b == n) { print; exit } }' "$dep")
		[ -n "$line" ] || die "module '$m' (in $list) is not in $dep"
		echo "$m" >> "$stage/etc/inlay/modules"
		wanted="$wanted ${line%%:*} ${line#*:}"
	done
	wanted=$(echo "$wanted" | tr ' ' '\n' | grep -v '^$' | sort -u)
	for path in $wanted; do
		mkdir -p "$stage$moddir/$(dirname "$path")"
		cp "$moddir/$path" "$stage$moddir/$path"
		grep -E "^$path:" "$dep" >> "$stage$moddir/modules.dep"
	done
	log "added $(echo "$wanted" | wc -l) modules of $release"
fi

for d in proc sys dev run tmp root etc newroot; do mkdir -p "$stage/$d"; done
cp "$init" "$stage/init"
chmod 0755 "$stage/init"

# newc archive of the stage paths given on stdin
mkcpio() { (cd "$stage" && LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet); }

(cd "$stage" && find . -mindepth 1) | mkcpio > "$out.tmp/initramfs.cpio"
if [ "$disk" = 1 ]; then
	mkfs.erofs --quiet -x -1 --all-root -T 0 "$out.tmp/root.erofs" "$stage" >&2 ||
		die "mkfs.erofs failed"
	(cd "$stage" && find ./init ./etc/inlay ./lib/modules ./proc ./sys ./dev ./run ./tmp \
		./newroot 2>/dev/null) | mkcpio > "$out.tmp/boot.cpio"
fi
rm -rf "$stage"
touch "$out.tmp/done"
mv "$out.tmp" "$out"
log "built $(du -k "$out/initramfs.cpio" | cut -f1) KiB: $out"
echo "$out"
