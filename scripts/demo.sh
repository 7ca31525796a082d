#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The Inlay demo: inlay-demo, a tabbed window whose tabs are virtual machines,
# each an inlay-vmm showing its screen in a screen grant (docs/DEMO.md).
#
#   scripts/demo.sh [BUILD_DIR]        (default: build)
#
# With WAYLAND_DISPLAY or DISPLAY set, inlay-compositor opens nested in a
# window of the running session with the demo inside; close it (or press
# Ctrl+Alt+BackSpace in it) to end. Without a display it runs headless, takes
# a screenshot once the first VM has drawn, prints where it is and exits.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
compositor=$build/compositor/inlay-compositor
demo=$build/apps/inlay-demo
vmm=$build/inlay-vmm
guest=$build/tests/guest/guest_gpu.elf
out_dir=${INLAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/inlay}
shot=$out_dir/demo.png
log=$out_dir/demo.log
ready_timeout=60 # seconds until the first VM must have drawn

say() { printf 'demo: %s\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

for f in "$compositor" "$demo" "$vmm" "$guest"; do
	[ -x "$f" ] || [ -f "$f" ] || die "$f is missing: build first (ninja -C $build)"
done
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then die "/dev/kvm is not usable: the VMs need KVM"; fi
mkdir -p "$out_dir"

# Quote one word for sh -c.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

if [ -n "${WAYLAND_DISPLAY:-}" ] || [ -n "${DISPLAY:-}" ]; then
	if [ -n "${WAYLAND_DISPLAY:-}" ]; then backend=wayland; else backend=x11; fi
	say "starting inlay-compositor in a $backend window; the VMs' serial output goes to $log"
	say "tabs: click a header or press Ctrl+1..3; quit: close the window or Ctrl+Alt+BackSpace"
	status=0
	startup="$(quote "$demo") --vmm $(quote "$vmm") --guest $(quote "$guest")"
	WLR_BACKENDS=$backend "$compositor" -s "$startup" >"$log" 2>&1 || status=$?
	[ "$status" -eq 0 ] || die "inlay-compositor exited with status $status (see $log)"
	exit 0
fi

# Headless: a private runtime directory and socket, cleaned up whatever happens.
runtime=$(mktemp -d "${TMPDIR:-/tmp}/inlay-demo.XXXXXX")
comp_pid=
demo_pid=
cleanup() {
	# The demo stops its VMs when asked to quit; then the compositor goes.
	if [ -n "$demo_pid" ]; then
		kill -TERM "$demo_pid" 2>/dev/null || true
		wait "$demo_pid" 2>/dev/null || true
	fi
	if [ -n "$comp_pid" ]; then
		kill -TERM "$comp_pid" 2>/dev/null || true
		wait "$comp_pid" 2>/dev/null || true
	fi
	rm -rf "$runtime"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

command -v grim >/dev/null || die "grim is needed for the headless screenshot"
unset DISPLAY WAYLAND_DISPLAY WAYLAND_SOCKET
export XDG_RUNTIME_DIR="$runtime"
socket=inlay-demo
say "no display: running headless (pixman), log in $log"
WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
	"$compositor" --socket "$socket" --hide-cursor >"$log" 2>&1 &
comp_pid=$!
export WAYLAND_DISPLAY=$socket

# Wait for a line in the log, as long as @pid lives.
wait_log() {
	n=0
	until grep -q "$1" "$log"; do
		kill -0 "$2" 2>/dev/null || die "$3 exited early (see $log)"
		n=$((n + 1))
		[ "$n" -le $((ready_timeout * 10)) ] || die "timed out waiting for '$1' (see $log)"
		sleep 0.1
	done
}
wait_log "^WAYLAND_DISPLAY=$socket" "$comp_pid" inlay-compositor
"$demo" --vmm "$vmm" --guest "$guest" >>"$log" 2>&1 &
demo_pid=$!
wait_log "^gpu: ready" "$demo_pid" inlay-demo
sleep 1 # the guest's first frame goes from its flush to the screen within a frame or two
# The first window sits at (0, 0); 640x440 is inlay-demo's default size.
grim -t png -g "0,0 640x440" "$shot" || die "grim failed"
say "screenshot: $shot"
