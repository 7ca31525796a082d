// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <wayland-client.h>

#include "grant-private.h"

_Static_assert((int)INLAY_LEASE_INVALID_TOKEN ==
		       (int)SCREEN_GRANT_LEASE_V1_REVOKE_REASON_INVALID_TOKEN &&
		   (int)INLAY_LEASE_GRANT_DESTROYED ==
		       (int)SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANT_DESTROYED &&
		   (int)INLAY_LEASE_GRANTER_GONE ==
		       (int)SCREEN_GRANT_LEASE_V1_REVOKE_REASON_GRANTER_GONE,
	       "revoke reasons follow the protocol");

struct inlay_lease {
	struct screen_grant_lease_v1 *proxy;
	const struct inlay_lease_listener *listener;
	void *data;
};

static void handle_configure(void *data, struct screen_grant_lease_v1 *proxy, int32_t width,
			     int32_t height)
{
	struct inlay_lease *lease = data;

	if (lease->listener && lease->listener->configure)
		lease->listener->configure(lease->data, lease, width, height);
}

static void handle_revoked(void *data, struct screen_grant_lease_v1 *proxy, uint32_t reason)
{
	struct inlay_lease *lease = data;

	if (lease->listener && lease->listener->revoked)
		lease->listener->revoked(lease->data, lease,
					 (enum inlay_lease_revoke_reason)reason);
}

static const struct screen_grant_lease_v1_listener lease_listener = {
    .configure = handle_configure,
    .revoked = handle_revoked,
};

struct inlay_lease *inlay_lease_accept(struct inlay_grant_manager *manager, const char *token,
				       struct wl_surface *surface,
				       const struct inlay_lease_listener *listener, void *data)
{
	struct inlay_lease *lease;

	if (!manager || !token || !surface || !inlay_grant_token_valid(token)) {
		errno = EINVAL;
		return NULL;
	}
	lease = calloc(1, sizeof(*lease));
	if (!lease)
		return NULL;
	lease->listener = listener;
	lease->data = data;
	lease->proxy = screen_grant_manager_v1_accept(manager->proxy, token, surface);
	if (!lease->proxy) {
		free(lease);
		errno = ENOMEM;
		return NULL;
	}
	screen_grant_lease_v1_add_listener(lease->proxy, &lease_listener, lease);
	return lease;
}

void inlay_lease_destroy(struct inlay_lease *lease)
{
	if (!lease)
		return;
	screen_grant_lease_v1_destroy(lease->proxy);
	free(lease);
}
