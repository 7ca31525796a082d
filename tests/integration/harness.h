/* SPDX-License-Identifier: MIT */
/*
 * Integration test harness: runs inlay-vmm as a child process with piped
 * stdin/stdout/stderr and a deadline, and gives each test a private
 * temporary directory that is removed afterwards.
 */
#ifndef INLAY_TEST_HARNESS_H
#define INLAY_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Generous: a guest boot takes a second or two on software-virtualized hosts. */
#define HARNESS_TIMEOUT_MS 60000

/* harness_wait() result when the deadline passed (the VMM was killed). */
#define HARNESS_TIMED_OUT (-1)

struct harness_vm;

/** Per-test state for harness_setup()/harness_teardown(). */
struct harness_ctx {
	char dir[256];	       /* private temporary directory */
	struct harness_vm *vm; /* destroyed by teardown */
	int fd;		       /* closed by teardown when >= 0 */
};

/** cmocka setup: allocate a harness_ctx with a fresh temporary directory. */
int harness_setup(void **state);
/** cmocka teardown: stop the VM, close the fd, remove the directory. */
int harness_teardown(void **state);

/** Fail the test (never skip) unless /dev/kvm can be opened read-write. */
void harness_require_kvm(void);
/** inlay-vmm's path from $INLAY_VMM; fails the test when unset. */
const char *harness_vmm(void);
/** Test guest @name's path from $INLAY_GUEST_<NAME>; fails the test when unset. */
const char *harness_guest(const char *name);
/** "@ctx->dir/@name" in @out; fails the test if it does not fit. */
void harness_path(const struct harness_ctx *ctx, const char *name, char *out, size_t len);

/**
 * Start "inlay-vmm @argv..." (@argv NULL-terminated, without the program
 * name). Returns the VM or NULL (after printing why).
 */
struct harness_vm *harness_start(const char *const *argv);
/** Write all of @buf to the VMM's stdin. Returns 0 or -errno. */
int harness_send(struct harness_vm *vm, const void *buf, size_t len);
/**
 * Collect output until stdout contains @needle. Returns false if the VMM
 * exited or @timeout_ms passed first.
 */
bool harness_wait_stdout(struct harness_vm *vm, const char *needle, int timeout_ms);
/**
 * Collect output until the VMM exits. Returns its exit status, 128 + signal
 * number if a signal ended it, or HARNESS_TIMED_OUT (it is then killed).
 */
int harness_wait(struct harness_vm *vm, int timeout_ms);
/** Everything the VMM wrote so far (NUL-terminated). */
const char *harness_stdout(const struct harness_vm *vm);
const char *harness_stderr(const struct harness_vm *vm);
/** Print the VMM's output as TAP comments on stderr (for failure diagnosis). */
void harness_dump(const struct harness_vm *vm);
/** Kill (if still running) and reap the VMM, free everything. NULL is a no-op. */
void harness_destroy(struct harness_vm *vm);

/**
 * Run "inlay-vmm @argv..." to completion with empty stdin; the VM is left in
 * ctx->vm. Returns the status as harness_wait() does.
 */
int harness_run(struct harness_ctx *ctx, const char *const *argv);

/** Create @path with @len bytes of @buf. Returns 0 or -errno. */
int harness_write_file(const char *path, const void *buf, size_t len);
/** Read up to @len bytes of @path into @buf. Returns the count or -errno. */
ssize_t harness_read_file(const char *path, void *buf, size_t len);
/** Deterministic pseudo-random bytes for disk images, varying with @seed. */
void harness_fill(void *buf, size_t len, uint32_t seed);
/** 32-bit FNV-1a, as the blk guest prints it. */
uint32_t harness_fnv1a(const void *buf, size_t len);

/** Connect to a listening Unix socket, retrying until @timeout_ms. Returns fd or -errno. */
int harness_connect(const char *path, int timeout_ms);
/**
 * Read from @fd into @buf (NUL-terminated, at most @len - 1 bytes) until
 * @end is read or @timeout_ms passes. Returns the byte count or -errno.
 */
ssize_t harness_read_until(int fd, char *buf, size_t len, char end, int timeout_ms);

#endif
