// SPDX-License-Identifier: MIT
#include "term.h"
#include "uart.h"
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define TERM_ESCAPE 0x01 /* Ctrl-A */

static void term_input_readable(void *opaque, uint32_t events);
static void term_read(struct term_input *t);

static void term_watch(struct term_input *t, bool on)
{
	if (on == t->watching || t->eof)
		return;
	if (on)
		t->watching = evloop_add(t->vm->loop, t->fd, EPOLLIN, term_input_readable, t) == 0;
	else if (evloop_del(t->vm->loop, t->fd) == 0)
		t->watching = false;
}

/* Apply Ctrl-A escapes in place; returns the bytes left for the guest. */
static size_t term_filter(struct term_input *t, uint8_t *buf, size_t len)
{
	size_t out = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if (t->escape) {
			t->escape = false;
			if (c == 'x' || c == 'X') {
				fprintf(stderr, "\r\ninlay-vmm: quit from the console\r\n");
				vm_request_exit(t->vm, VM_EXIT_INTERRUPTED);
				return out;
			}
			if (c != TERM_ESCAPE)
				continue;
		} else if (c == TERM_ESCAPE && t->raw) {
			t->escape = true;
			continue;
		}
		buf[out++] = c;
	}
	return out;
}

/* Push what is pending into the UART; true when all of it went in. */
static bool term_flush(struct term_input *t)
{
	while (t->pending_off < t->pending_len) {
		size_t n = uart_receive(t->uart, t->pending + t->pending_off,
					t->pending_len - t->pending_off);
		if (n == 0)
			return false;
		t->pending_off += n;
	}
	t->pending_off = t->pending_len = 0;
	return true;
}

static void term_input_readable(void *opaque, uint32_t events)
{
	struct term_input *t = opaque;
	pthread_mutex_lock(&t->lock);
	term_read(t);
	pthread_mutex_unlock(&t->lock);
}

static void term_read(struct term_input *t)
{
	ssize_t n = read(t->fd, t->pending, sizeof(t->pending));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF or error: the guest simply gets no more input. */
		term_watch(t, false);
		t->eof = true;
		return;
	}
	t->pending_len = term_filter(t, t->pending, (size_t)n);
	t->pending_off = 0;
	if (!term_flush(t))
		term_watch(t, false);
}

/* Runs on a vCPU thread while the loop thread may be reading: hence the lock. */
void term_input_resume(void *opaque)
{
	struct term_input *t = opaque;
	pthread_mutex_lock(&t->lock);
	if (term_flush(t))
		term_watch(t, true);
	pthread_mutex_unlock(&t->lock);
}

int term_input_init(struct term_input *t, struct vm *vm, struct uart *uart, int fd)
{
	memset(t, 0, sizeof(*t));
	t->vm = vm;
	t->uart = uart;
	t->fd = fd;
	pthread_mutex_init(&t->lock, NULL);
	if (isatty(fd) && tcgetattr(fd, &t->saved) == 0) {
		struct termios raw = t->saved;
		cfmakeraw(&raw);
		/* Keep output post-processing so VMM messages still end lines. */
		raw.c_oflag |= OPOST;
		if (tcsetattr(fd, TCSANOW, &raw) == 0)
			t->raw = true;
	}
	term_watch(t, true);
	/* A regular file or /dev/null cannot be polled: the guest gets no input. */
	if (!t->watching)
		t->eof = true;
	return 0;
}

void term_input_finish(struct term_input *t)
{
	if (!t->vm)
		return;
	term_watch(t, false);
	if (t->raw)
		tcsetattr(t->fd, TCSANOW, &t->saved);
	t->raw = false;
	pthread_mutex_destroy(&t->lock);
	t->vm = NULL;
}
