// SPDX-License-Identifier: MIT
/* libinlay-grant against a running compositor. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "inlay-grant.h"

#define PARENT 0xff804020

struct granter_log {
	int tokens, accepted, gone;
	enum inlay_grant_gone_reason reason;
	char token[INLAY_GRANT_TOKEN_MAX + 1];
};

static void on_token(void *data, struct inlay_grant *grant, const char *token)
{
	struct granter_log *log = data;

	log->tokens++;
	snprintf(log->token, sizeof(log->token), "%s", token);
}

static void on_accepted(void *data, struct inlay_grant *grant)
{
	struct granter_log *log = data;

	log->accepted++;
}

static void on_gone(void *data, struct inlay_grant *grant, enum inlay_grant_gone_reason reason)
{
	struct granter_log *log = data;

	log->gone++;
	log->reason = reason;
}

static const struct inlay_granter_listener granter_listener = {
    .token = on_token,
    .accepted = on_accepted,
    .gone = on_gone,
};

struct lease_log {
	int configures;
	int32_t width, height;
	bool revoked;
	enum inlay_lease_revoke_reason reason;
};

static void on_configure(void *data, struct inlay_lease *lease, int32_t width, int32_t height)
{
	struct lease_log *log = data;

	log->configures++;
	log->width = width;
	log->height = height;
}

static void on_revoked(void *data, struct inlay_lease *lease, enum inlay_lease_revoke_reason reason)
{
	struct lease_log *log = data;

	log->revoked = true;
	log->reason = reason;
}

static const struct inlay_lease_listener lease_listener = {
    .configure = on_configure,
    .revoked = on_revoked,
};

static void test_both_sides(void **state)
{
	struct harness *h = *state;
	struct client *granter = client_create(h), *grantee = client_create(h);
	struct surface *parent = toplevel_create(granter, 300, 200, PARENT);
	struct surface *s = surface_create(grantee);
	struct inlay_grant_manager *gm = inlay_grant_manager_create(granter->display);
	struct inlay_grant_manager *em = inlay_grant_manager_create(grantee->display);
	struct granter_log glog = {0};
	struct lease_log llog = {0};
	struct inlay_grant *grant;
	struct inlay_lease *lease;

	assert_non_null(gm);
	assert_non_null(em);
	grant =
	    inlay_grant_create(gm, parent->wl_surface, 10, 10, 100, 60, &granter_listener, &glog);
	assert_non_null(grant);
	assert_null(inlay_grant_token(grant));
	assert_int_equal(inlay_grant_spawn(grant, (char *[]){"true", NULL}), -EAGAIN);
	assert_true(wait_until(h, glog.tokens == 1));
	assert_string_equal(inlay_grant_token(grant), glog.token);

	lease = inlay_lease_accept(em, glog.token, s->wl_surface, &lease_listener, &llog);
	assert_non_null(lease);
	assert_true(wait_until(h, llog.configures == 1 && glog.accepted == 1));
	assert_int_equal(llog.width, 100);
	assert_int_equal(llog.height, 60);

	assert_int_equal(inlay_grant_set_rect(grant, 0, 0, 50, 40), 0);
	surface_commit_wait(parent);
	assert_true(wait_until(h, llog.configures == 2));
	assert_int_equal(llog.width, 50);
	inlay_grant_hide(grant);
	inlay_grant_show(grant);
	surface_commit_wait(parent);

	inlay_lease_destroy(lease);
	assert_true(wait_until(h, glog.gone == 1 && glog.tokens == 2));
	assert_int_equal(glog.reason, INLAY_GRANT_GONE_DESTROYED);

	lease = inlay_lease_accept(em, glog.token, s->wl_surface, &lease_listener, &llog);
	assert_true(wait_until(h, glog.accepted == 2));
	inlay_grant_destroy(grant);
	assert_true(wait_until(h, llog.revoked));
	assert_int_equal(llog.reason, INLAY_LEASE_GRANT_DESTROYED);
	inlay_lease_destroy(lease);
	inlay_grant_manager_destroy(gm);
	inlay_grant_manager_destroy(em);
	expect_no_error(granter);
	expect_no_error(grantee);
}

static void test_bad_arguments(void **state)
{
	struct harness *h = *state;
	struct client *c = client_create(h);
	struct surface *s = surface_create(c);
	struct inlay_grant_manager *m = inlay_grant_manager_create(c->display);
	struct inlay_grant *grant;
	char long_token[INLAY_GRANT_TOKEN_MAX + 2];

	assert_non_null(m);
	errno = 0;
	assert_null(inlay_grant_manager_create(NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(inlay_grant_create(m, s->wl_surface, 0, 0, 0, 10, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(inlay_grant_create(m, s->wl_surface, -40000, 0, 10, 10, NULL, NULL));
	assert_null(inlay_grant_create(m, s->wl_surface, 0, 0, 32768, 10, NULL, NULL));
	assert_null(inlay_grant_create(m, NULL, 0, 0, 10, 10, NULL, NULL));
	assert_null(inlay_grant_create(NULL, s->wl_surface, 0, 0, 10, 10, NULL, NULL));

	grant = inlay_grant_create(m, s->wl_surface, 0, 0, 10, 10, NULL, NULL);
	assert_non_null(grant);
	assert_int_equal(inlay_grant_set_rect(grant, 0, 0, 10, -1), -EINVAL);
	assert_int_equal(inlay_grant_set_rect(NULL, 0, 0, 10, 10), -EINVAL);
	assert_int_equal(inlay_grant_spawn(grant, NULL), -EINVAL);
	assert_int_equal(inlay_grant_spawn(grant, (char *[]){NULL}), -EINVAL);

	memset(long_token, 'a', sizeof(long_token) - 1);
	long_token[sizeof(long_token) - 1] = '\0';
	assert_null(inlay_lease_accept(m, long_token, s->wl_surface, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(inlay_lease_accept(m, "", s->wl_surface, NULL, NULL));
	assert_null(inlay_lease_accept(m, "bad\ntoken", s->wl_surface, NULL, NULL));
	assert_null(inlay_lease_accept(m, NULL, s->wl_surface, NULL, NULL));

	/* NULL is a no-op everywhere. */
	inlay_grant_show(NULL);
	inlay_grant_hide(NULL);
	inlay_grant_destroy(NULL);
	inlay_lease_destroy(NULL);
	inlay_grant_manager_destroy(NULL);
	assert_null(inlay_grant_token(NULL));

	/* Nothing invalid reached the compositor. */
	expect_no_error(c);
	inlay_grant_destroy(grant);
	inlay_grant_manager_destroy(m);
}

static void test_token_from_env(void **state)
{
	char *token;

	unsetenv(INLAY_GRANT_TOKEN_ENV);
	errno = 0;
	assert_null(inlay_grant_token_from_env());
	assert_int_equal(errno, ENOENT);

	setenv(INLAY_GRANT_TOKEN_ENV, "tok\x01", 1);
	assert_null(inlay_grant_token_from_env());
	assert_int_equal(errno, EINVAL);
	assert_null(getenv(INLAY_GRANT_TOKEN_ENV));

	setenv(INLAY_GRANT_TOKEN_ENV, "AbC-123_xyz", 1);
	token = inlay_grant_token_from_env();
	assert_non_null(token);
	assert_string_equal(token, "AbC-123_xyz");
	assert_null(getenv(INLAY_GRANT_TOKEN_ENV));
	free(token);
}

static char *slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The child sees the token, not the Wayland socket nor descriptors left open by mistake. */
static void test_spawn_hygiene(void **state)
{
	struct harness *h = *state;
	struct client *c = client_create(h);
	struct surface *parent = toplevel_create(c, 100, 100, PARENT);
	struct inlay_grant_manager *m = inlay_grant_manager_create(c->display);
	struct granter_log glog = {0};
	struct inlay_grant *grant;
	char script[1400], seen[128];
	int stray = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
	int status;
	pid_t pid;

	assert_true(stray > 2);
	grant = inlay_grant_create(m, parent->wl_surface, 0, 0, 10, 10, &granter_listener, &glog);
	assert_true(wait_until(h, glog.tokens == 1));
	/* Neither the stray descriptor nor the Wayland connection reaches the child. */
	snprintf(script, sizeof(script),
		 "[ ! -e /proc/$$/fd/%d ] && [ ! -e /proc/$$/fd/%d ] && [ -z \"$WAYLAND_SOCKET\" ]"
		 " && printf %%s \"$INLAY_GRANT_TOKEN\" > '%s/seen'",
		 stray, wl_display_get_fd(c->display), h->log_dir);
	setenv("WAYLAND_SOCKET", "7", 1);
	pid = inlay_grant_spawn(grant, (char *[]){"sh", "-c", script, NULL});
	unsetenv("WAYLAND_SOCKET");
	close(stray);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	snprintf(script, sizeof(script), "%s/seen", h->log_dir);
	assert_non_null(slurp(script, seen, sizeof(seen)));
	assert_string_equal(seen, glog.token);

	assert_true(inlay_grant_spawn(grant, (char *[]){"/nonexistent/program", NULL}) < 0);
	inlay_grant_destroy(grant);
	inlay_grant_manager_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_both_sides),
	    HARNESS_TEST(test_bad_arguments),
	    cmocka_unit_test(test_token_from_env),
	    HARNESS_TEST(test_spawn_hygiene),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
