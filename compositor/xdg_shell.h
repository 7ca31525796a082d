/* SPDX-License-Identifier: MIT */
#ifndef INLAY_COMPOSITOR_XDG_SHELL_H
#define INLAY_COMPOSITOR_XDG_SHELL_H

#include <wayland-server-core.h>

/** server::new_xdg_surface: make a view for a toplevel, a scene node for a popup. */
void handle_new_xdg_surface(struct wl_listener *listener, void *data);

#endif
