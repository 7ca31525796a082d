/* SPDX-License-Identifier: MIT */
/*
 * What the Linux-guest tests share: TAP output, running the cached build
 * scripts, and driving an inlay-vmm process through its serial console.
 */
#ifndef INLAY_TESTS_LINUX_HARNESS_H
#define INLAY_TESTS_LINUX_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/** tap_ok() - print one TAP result line; returns @ok. */
bool tap_ok(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** tap_bail() - "Bail out!" with the reason, then exit(1). */
void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/** tap_done() - the plan line; returns the exit status for main(). */
int tap_done(void);

/** harness_require_kvm() - bail out unless /dev/kvm opens read-write. */
void harness_require_kvm(void);

/**
 * harness_run() - run @argv, capture stdout (and stderr when @err is set)
 * Return: the exit status (or 128+signal, or -1 if it could not run).
 * @out and @err get NUL-terminated malloc'd text; stderr also goes to ours.
 */
int harness_run(char *const *argv, char **out, char **err);

/** harness_last_line() - the last non-empty line of @text, in place. */
char *harness_last_line(char *text);

/**
 * harness_script_path() - run a cached build script (guest/kernel/build.sh,
 * guest/mkimage.sh...) and return the path it printed last (malloc'd);
 * bails out if the script fails.
 */
char *harness_script_path(char *const *argv);

struct vm;

/** harness_set_echo() - copy guest serial output to stderr (the default) or not. */
void harness_set_echo(bool on);

/** vm_start() - start a VMM with @argv (argv[0] is the binary), serial on pipes. */
struct vm *vm_start(char *const *argv);
/**
 * vm_expect() - wait until the serial output after the last match matches
 * the extended regular expression @re, for at most @timeout_s seconds
 * Return: the matched text (valid until the next call), or NULL on timeout
 * or exit. Everything the guest prints is copied to stderr.
 */
const char *vm_expect(struct vm *vm, const char *re, int timeout_s);
/** vm_send() - type @line (a newline is added) on the serial console. */
bool vm_send(struct vm *vm, const char *line);
/** vm_wait() - wait for exit; returns the exit status, or -1 after @timeout_s (then kills). */
int vm_wait(struct vm *vm, int timeout_s);
/** vm_destroy() - kill if still running, reap, free; NULL is a no-op. */
void vm_destroy(struct vm *vm);
/** vm_elapsed() - seconds since vm_start(). */
double vm_elapsed(const struct vm *vm);

#endif
