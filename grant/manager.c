// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>

#include "grant-private.h"

struct registry_scan {
	struct wl_registry *registry;
	struct screen_grant_manager_v1 *proxy;
};

static void handle_global(void *data, struct wl_registry *registry, uint32_t name,
			  const char *interface, uint32_t version)
{
	struct registry_scan *scan = data;

	if (scan->proxy || strcmp(interface, screen_grant_manager_v1_interface.name) != 0)
		return;
	scan->proxy = wl_registry_bind(registry, name, &screen_grant_manager_v1_interface, 1);
}

static void handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = handle_global,
    .global_remove = handle_global_remove,
};

struct inlay_grant_manager *inlay_grant_manager_create(struct wl_display *display)
{
	struct registry_scan scan = {0};
	struct inlay_grant_manager *manager;
	struct wl_event_queue *queue;
	struct wl_display *wrapper;
	int err;

	if (!display) {
		errno = EINVAL;
		return NULL;
	}
	manager = calloc(1, sizeof(*manager));
	if (!manager)
		return NULL;
	/* A private queue, so the roundtrip dispatches none of the app's events. */
	queue = wl_display_create_queue(display);
	if (!queue)
		goto err_manager;
	wrapper = wl_proxy_create_wrapper(display);
	if (!wrapper)
		goto err_queue;
	wl_proxy_set_queue((struct wl_proxy *)wrapper, queue);
	scan.registry = wl_display_get_registry(wrapper);
	wl_proxy_wrapper_destroy(wrapper);
	if (!scan.registry)
		goto err_queue;
	wl_registry_add_listener(scan.registry, &registry_listener, &scan);
	if (wl_display_roundtrip_queue(display, queue) < 0) {
		err = wl_display_get_error(display);
		goto err_registry;
	}
	if (!scan.proxy) {
		err = ENOTSUP;
		goto err_registry;
	}
	/* Grants and leases inherit this queue: hand them to the app's default one. */
	wl_proxy_set_queue((struct wl_proxy *)scan.proxy, NULL);
	manager->proxy = scan.proxy;
	wl_registry_destroy(scan.registry);
	wl_event_queue_destroy(queue);
	return manager;

err_registry:
	if (scan.proxy)
		screen_grant_manager_v1_destroy(scan.proxy);
	wl_registry_destroy(scan.registry);
	wl_event_queue_destroy(queue);
	free(manager);
	errno = err ? err : EPROTO;
	return NULL;
err_queue:
	wl_event_queue_destroy(queue);
err_manager:
	free(manager);
	errno = ENOMEM;
	return NULL;
}

void inlay_grant_manager_destroy(struct inlay_grant_manager *manager)
{
	if (!manager)
		return;
	screen_grant_manager_v1_destroy(manager->proxy);
	free(manager);
}

bool inlay_grant_token_valid(const char *token)
{
	size_t len = strnlen(token, INLAY_GRANT_TOKEN_MAX + 1);

	if (len == 0 || len > INLAY_GRANT_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (token[i] < 0x20 || token[i] > 0x7e)
			return false;
	}
	return true;
}

char *inlay_grant_token_from_env(void)
{
	const char *value = getenv(INLAY_GRANT_TOKEN_ENV);
	char *token;

	if (!value) {
		errno = ENOENT;
		return NULL;
	}
	if (!inlay_grant_token_valid(value)) {
		unsetenv(INLAY_GRANT_TOKEN_ENV);
		errno = EINVAL;
		return NULL;
	}
	token = strdup(value);
	if (token)
		unsetenv(INLAY_GRANT_TOKEN_ENV);
	return token;
}
