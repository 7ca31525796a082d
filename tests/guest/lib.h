/* SPDX-License-Identifier: MIT */
/* The few libc pieces the guests need (gcc may also emit calls to these). */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/** 32-bit FNV-1a of @len bytes, continuing from @hash (start with FNV1A_INIT). */
uint32_t fnv1a(uint32_t hash, const void *buf, size_t len);
#define FNV1A_INIT 0x811c9dc5u

#endif
