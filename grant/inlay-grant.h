/* SPDX-License-Identifier: MIT */
#ifndef INLAY_GRANT_H
#define INLAY_GRANT_H

/*
 * libinlay-grant: both sides of the screen-grant-v1 protocol on top of a
 * wl_display the application owns (plain libwayland, or GTK4 through
 * gdk_wayland_display_get_wl_display() and gdk_wayland_surface_get_wl_surface()).
 *
 * The library keeps no global state and never dispatches the display: events
 * arrive on the display's default queue while the application dispatches it
 * as usual. Every object is tied to the manager's connection; destroy(NULL)
 * is a no-op. Functions that can fail return NULL or a negative errno value
 * and never raise a protocol error for arguments they can check themselves.
 */

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wl_display;
struct wl_surface;

#ifdef INLAY_GRANT_BUILD
#define INLAY_GRANT_API __attribute__((visibility("default")))
#else
#define INLAY_GRANT_API
#endif

/** Name of the environment variable that carries a token to a grantee. */
#define INLAY_GRANT_TOKEN_ENV "INLAY_GRANT_TOKEN"

/** Longest token the protocol allows, in bytes, without the terminating NUL. */
#define INLAY_GRANT_TOKEN_MAX 64

/** Largest width or height of a grant rectangle. */
#define INLAY_GRANT_SIZE_MAX 32767

struct inlay_grant_manager;
struct inlay_grant;
struct inlay_lease;

/** Why a grantee went away (screen_grant_v1.gone_reason). */
enum inlay_grant_gone_reason {
	INLAY_GRANT_GONE_DESTROYED = 0,	   /**< the grantee ended its lease or surface */
	INLAY_GRANT_GONE_DISCONNECTED = 1, /**< the grantee's connection ended */
};

/** Why a lease ended (screen_grant_lease_v1.revoke_reason). */
enum inlay_lease_revoke_reason {
	INLAY_LEASE_INVALID_TOKEN = 0,	 /**< unknown, used or expired token */
	INLAY_LEASE_GRANT_DESTROYED = 1, /**< the granter destroyed the grant */
	INLAY_LEASE_GRANTER_GONE = 2,	 /**< granted surface or granter connection gone */
};

/**
 * Bind the compositor's screen_grant_manager_v1 global on @display.
 *
 * Makes one roundtrip on a private queue, so events of the application's
 * own objects are not dispatched here. Returns NULL with errno set to
 * ENOTSUP when the compositor does not offer the global, or to the error of
 * the connection.
 */
INLAY_GRANT_API struct inlay_grant_manager *inlay_grant_manager_create(struct wl_display *display);

/** Destroy the manager. Grants and leases made through it stay valid. */
INLAY_GRANT_API void inlay_grant_manager_destroy(struct inlay_grant_manager *manager);

/** Callbacks of the granter's side. Any member may be NULL. */
struct inlay_granter_listener {
	/**
	 * A token to hand to the grantee: after creation, and again after
	 * gone() with a new value (the earlier one no longer works). The string
	 * lives until the next token or inlay_grant_destroy().
	 */
	void (*token)(void *data, struct inlay_grant *grant, const char *token);
	/** A grantee accepted the current token. */
	void (*accepted)(void *data, struct inlay_grant *grant);
	/** The grantee went away; a new token() follows, so it can be restarted. */
	void (*gone)(void *data, struct inlay_grant *grant, enum inlay_grant_gone_reason reason);
};

/**
 * Grant the rectangle (x, y, width, height) of @surface, in surface-local
 * coordinates, to another client. The grant starts shown; the token arrives
 * through @listener while the application dispatches its display.
 *
 * Returns NULL with errno EINVAL for a NULL argument or a rectangle the
 * protocol forbids (size not in 1..32767, position not in -32768..32767).
 */
INLAY_GRANT_API struct inlay_grant *
inlay_grant_create(struct inlay_grant_manager *manager, struct wl_surface *surface, int32_t x,
		   int32_t y, int32_t width, int32_t height,
		   const struct inlay_granter_listener *listener, void *data);

/**
 * Move or resize the rectangle. Like show and hide it takes effect on the
 * next commit of the granted surface. Returns 0 or -EINVAL (nothing sent).
 */
INLAY_GRANT_API int inlay_grant_set_rect(struct inlay_grant *grant, int32_t x, int32_t y,
					 int32_t width, int32_t height);

/** Show the grantee's content again (on the next commit of the granted surface). */
INLAY_GRANT_API void inlay_grant_show(struct inlay_grant *grant);

/** Hide the grantee's content, keeping its lease (on the next commit). */
INLAY_GRANT_API void inlay_grant_hide(struct inlay_grant *grant);

/** The current token, or NULL before the first token event. */
INLAY_GRANT_API const char *inlay_grant_token(const struct inlay_grant *grant);

/**
 * Start argv[0] (looked up in PATH) with INLAY_GRANT_TOKEN set to the
 * current token and WAYLAND_SOCKET removed. The child inherits only
 * standard input, output and error: every other descriptor, the Wayland
 * connection included, is closed in it. Signal mask and dispositions are
 * reset to defaults. The caller reaps the child.
 *
 * Returns the child's pid, -EAGAIN before the first token, -EINVAL for a
 * NULL or empty argv, or the negative errno of the failed spawn.
 */
INLAY_GRANT_API pid_t inlay_grant_spawn(const struct inlay_grant *grant, char *const argv[]);

/** End the grant; the lease (if any) is revoked with grant_destroyed. */
INLAY_GRANT_API void inlay_grant_destroy(struct inlay_grant *grant);

/** Callbacks of the grantee's side. Any member may be NULL. */
struct inlay_lease_listener {
	/** The size to draw at: after acceptance and whenever it changes. */
	void (*configure)(void *data, struct inlay_lease *lease, int32_t width, int32_t height);
	/** The lease is over; the surface is no longer shown. Destroy the lease. */
	void (*revoked)(void *data, struct inlay_lease *lease,
			enum inlay_lease_revoke_reason reason);
};

/**
 * Accept the grant named by @token with @surface, a surface of this client
 * that has no role other than screen-grant and no live lease. From then on
 * the surface is drawn in the granted rectangle. A stale token is reported
 * through revoked(INLAY_LEASE_INVALID_TOKEN), not here.
 *
 * Returns NULL with errno EINVAL for a NULL argument or a token that is
 * empty, longer than INLAY_GRANT_TOKEN_MAX or not printable.
 */
INLAY_GRANT_API struct inlay_lease *inlay_lease_accept(struct inlay_grant_manager *manager,
						       const char *token,
						       struct wl_surface *surface,
						       const struct inlay_lease_listener *listener,
						       void *data);

/** Give the lease up (the granter learns gone(DESTROYED)). The surface may accept again. */
INLAY_GRANT_API void inlay_lease_destroy(struct inlay_lease *lease);

/**
 * Take the token from the INLAY_GRANT_TOKEN environment variable and remove
 * the variable, so the grantee's own children do not inherit a token meant
 * for it. Returns a copy to free() with free(), or NULL with errno ENOENT
 * (unset) or EINVAL (not a well-formed token). Call it before starting
 * threads: it changes the environment.
 */
INLAY_GRANT_API char *inlay_grant_token_from_env(void);

#ifdef __cplusplus
}
#endif

#endif
