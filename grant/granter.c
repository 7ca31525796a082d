// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>

#include "grant-private.h"

_Static_assert((int)INLAY_GRANT_GONE_DESTROYED == (int)SCREEN_GRANT_V1_GONE_REASON_DESTROYED &&
		   (int)INLAY_GRANT_GONE_DISCONNECTED ==
		       (int)SCREEN_GRANT_V1_GONE_REASON_DISCONNECTED,
	       "gone reasons follow the protocol");

struct inlay_grant {
	struct screen_grant_v1 *proxy;
	const struct inlay_granter_listener *listener;
	void *data;
	char *token; /* current token, NULL until the first one */
};

static bool rect_valid(int32_t x, int32_t y, int32_t width, int32_t height)
{
	return width >= 1 && width <= INLAY_GRANT_SIZE_MAX && height >= 1 &&
	       height <= INLAY_GRANT_SIZE_MAX && x >= -32768 && x <= 32767 && y >= -32768 &&
	       y <= 32767;
}

static void handle_token(void *data, struct screen_grant_v1 *proxy, const char *token)
{
	struct inlay_grant *grant = data;
	char *copy;

	/* A malformed token could not be passed on safely: treat it as not sent. */
	if (!inlay_grant_token_valid(token))
		return;
	copy = strdup(token);
	if (!copy)
		return;
	free(grant->token);
	grant->token = copy;
	if (grant->listener && grant->listener->token)
		grant->listener->token(grant->data, grant, grant->token);
}

static void handle_accepted(void *data, struct screen_grant_v1 *proxy)
{
	struct inlay_grant *grant = data;

	if (grant->listener && grant->listener->accepted)
		grant->listener->accepted(grant->data, grant);
}

static void handle_grantee_gone(void *data, struct screen_grant_v1 *proxy, uint32_t reason)
{
	struct inlay_grant *grant = data;

	if (grant->listener && grant->listener->gone)
		grant->listener->gone(grant->data, grant, (enum inlay_grant_gone_reason)reason);
}

static const struct screen_grant_v1_listener grant_listener = {
    .token = handle_token,
    .accepted = handle_accepted,
    .grantee_gone = handle_grantee_gone,
};

struct inlay_grant *inlay_grant_create(struct inlay_grant_manager *manager,
				       struct wl_surface *surface, int32_t x, int32_t y,
				       int32_t width, int32_t height,
				       const struct inlay_granter_listener *listener, void *data)
{
	struct inlay_grant *grant;

	if (!manager || !surface || !rect_valid(x, y, width, height)) {
		errno = EINVAL;
		return NULL;
	}
	grant = calloc(1, sizeof(*grant));
	if (!grant)
		return NULL;
	grant->listener = listener;
	grant->data = data;
	grant->proxy =
	    screen_grant_manager_v1_grant_surface(manager->proxy, surface, x, y, width, height);
	if (!grant->proxy) {
		free(grant);
		errno = ENOMEM;
		return NULL;
	}
	screen_grant_v1_add_listener(grant->proxy, &grant_listener, grant);
	return grant;
}

int inlay_grant_set_rect(struct inlay_grant *grant, int32_t x, int32_t y, int32_t width,
			 int32_t height)
{
	if (!grant || !rect_valid(x, y, width, height))
		return -EINVAL;
	screen_grant_v1_set_rectangle(grant->proxy, x, y, width, height);
	return 0;
}

void inlay_grant_show(struct inlay_grant *grant)
{
	if (grant)
		screen_grant_v1_show(grant->proxy);
}

void inlay_grant_hide(struct inlay_grant *grant)
{
	if (grant)
		screen_grant_v1_hide(grant->proxy);
}

const char *inlay_grant_token(const struct inlay_grant *grant)
{
	return grant ? grant->token : NULL;
}

static bool env_is(const char *entry, const char *name)
{
	size_t len = strlen(name);

	return strncmp(entry, name, len) == 0 && entry[len] == '=';
}

/* environ without WAYLAND_SOCKET and any old token, plus the current token. */
static char **child_environ(const char *token, char **token_entry)
{
	extern char **environ;
	size_t n = 0, i = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	if (asprintf(token_entry, "%s=%s", INLAY_GRANT_TOKEN_ENV, token) < 0) {
		free(envp);
		return NULL;
	}
	for (char **e = environ; *e; e++) {
		if (!env_is(*e, "WAYLAND_SOCKET") && !env_is(*e, INLAY_GRANT_TOKEN_ENV))
			envp[i++] = *e;
	}
	envp[i] = *token_entry;
	return envp;
}

pid_t inlay_grant_spawn(const struct inlay_grant *grant, char *const argv[])
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	char *token_entry = NULL;
	sigset_t none, all;
	char **envp;
	pid_t pid;
	int err;

	if (!grant || !argv || !argv[0] || !argv[0][0])
		return -EINVAL;
	if (!grant->token)
		return -EAGAIN;
	envp = child_environ(grant->token, &token_entry);
	if (!envp)
		return -ENOMEM;
	err = posix_spawn_file_actions_init(&actions);
	if (err)
		goto err_env;
	/* The app's Wayland socket and every other descriptor stay with the app. */
	err = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
	if (err)
		goto err_actions;
	err = posix_spawnattr_init(&attr);
	if (err)
		goto err_actions;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawnp(&pid, argv[0], &actions, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
err_actions:
	posix_spawn_file_actions_destroy(&actions);
err_env:
	free(token_entry);
	free(envp);
	return err ? -err : pid;
}

void inlay_grant_destroy(struct inlay_grant *grant)
{
	if (!grant)
		return;
	screen_grant_v1_destroy(grant->proxy);
	free(grant->token);
	free(grant);
}
