/* SPDX-License-Identifier: MIT */
#ifndef INLAY_GRANT_PRIVATE_H
#define INLAY_GRANT_PRIVATE_H

#include <stdbool.h>

#include "inlay-grant.h"
#include "screen-grant-v1-client-protocol.h"

struct inlay_grant_manager {
	struct screen_grant_manager_v1 *proxy;
};

/* A token as the protocol defines it: 1..64 printable ASCII bytes. */
bool inlay_grant_token_valid(const char *token);

#endif
