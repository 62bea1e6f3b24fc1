/*
 * buf - the one growable byte buffer of onebox.
 *
 * A buf owns its memory.  data[len] is always '\0' (so a buf holding text
 * is a C string), and rpos marks how much the reader has consumed.
 * Out of memory is fatal: callers never check allocation results.
 */
#ifndef ONEBOX_BUF_H
#define ONEBOX_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;	/* bytes stored */
	size_t cap;	/* bytes allocated (data[len] always fits) */
	size_t rpos;	/* read position: data[rpos..len) is unread */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);		/* len = rpos = 0, keeps memory */
void buf_reserve(struct buf *b, size_t extra);	/* room for extra more bytes */
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* buf_consume - mark n unread bytes read; compacts when all is read. */
void buf_consume(struct buf *b, size_t n);
/* buf_compact - move unread bytes to the front. */
void buf_compact(struct buf *b);
static inline size_t buf_unread(const struct buf *b) { return b->len - b->rpos; }
static inline char *buf_rptr(const struct buf *b) { return b->data ? b->data + b->rpos : NULL; }

/* xmalloc family: fatal on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
