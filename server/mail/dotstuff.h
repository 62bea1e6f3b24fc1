/*
 * dotstuff - the two byte converters of SMTP/POP3 "dot transparency"
 * (RFC 5321 §4.5.2, RFC 1939 §3), pure push converters: no I/O, no
 * session; state carried between calls, so input may arrive in pieces of
 * any size, one byte at a time included.
 *
 * Unstuffer (receiving SMTP DATA): the wire text, CR LF lines with leading
 * dots doubled, ending at CR LF "." CR LF, becomes the stored text with LF
 * line ends and single dots.  Only CR LF "." CR LF ends the data (also at
 * the very start: the data opens at a line start); a bare LF never starts
 * a line for the end marker or for unstuffing, which closes the door on
 * SMTP smuggling ("\n.\n", "\n.\r\n", "\r.\r" are content).  Bare line
 * ends are counted and stored as line ends: a bare LF (not after CR) and a
 * bare CR (not before LF) each become one LF, so the stored text has LF
 * line ends only and its size with CR LF is always size + lines (Maildir
 * W=, POP3 LIST, IMAP RFC822.SIZE).  The caller decides from the counters
 * whether to refuse the message (smtp_bare_line_ends).
 *
 * Stuffer (sending: POP3 RETR/TOP now, the outbound SMTP client later):
 * stored text with LF or CR LF line ends becomes CR LF lines on the wire,
 * with a '.' added in front of every line that starts with one, and
 * dot_stuff_end() closes with ".\r\n" (after a CR LF if the text did not
 * end with a line end).  A bare CR in the stored text also becomes CR LF,
 * so no bare CR leaves and a dot after it is stuffed.  With a line limit
 * (POP3 TOP) only the header, the empty line after it and that many body
 * lines are produced.
 */
#ifndef ONEBOX_DOTSTUFF_H
#define ONEBOX_DOTSTUFF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum dot_unstuff_state {
	DU_BOL,		/* at the start of a line (after CR LF, or the first byte) */
	DU_MID,		/* inside a line */
	DU_CR,		/* a CR was read: CR LF ends the line, anything else makes it bare */
	DU_DOT,		/* a '.' at the start of a line */
	DU_DOTCR,	/* "." CR at the start of a line: an LF ends the data */
	DU_DONE,	/* CR LF "." CR LF consumed; nothing more is read */
};

struct dot_unstuff {
	enum dot_unstuff_state state;
	uint64_t lines;		/* LFs written to out */
	uint64_t bare_cr;	/* CRs not followed by LF (stored as line ends) */
	uint64_t bare_lf;	/* LFs not preceded by CR (stored as line ends) */
};

void dot_unstuff_init(struct dot_unstuff *u);
/*
 * dot_unstuff_feed - convert up to n bytes of in, appending to out.
 * Returns 1 when the end marker has been consumed: *used_r is the number
 * of bytes consumed, the end marker included, so whatever follows (the
 * client's pipelined commands) is still in the input.  Returns 0 when all
 * n bytes were consumed (*used_r = n) and more is needed.  Never -1:
 * there is no invalid input.  After 1 it consumes nothing.
 */
int dot_unstuff_feed(struct dot_unstuff *u, const char *in, size_t n, struct buf *out, size_t *used_r);

enum dot_stuff_state {
	DS_BOL,		/* at the start of a line */
	DS_MID,		/* inside a line */
	DS_CR,		/* a CR was read and not written yet */
	DS_DONE,	/* the line limit was reached: the rest is ignored */
};

struct dot_stuff {
	enum dot_stuff_state state;
	int in_body;		/* the empty line after the header was seen */
	int limited;		/* TOP: stop after body_left body lines */
	uint64_t body_left;
};

/* dot_stuff_init - lines = UINT64_MAX for the whole message (RETR). */
void dot_stuff_init(struct dot_stuff *st, uint64_t lines);
/* dot_stuff_feed - convert n bytes into out; 1 when nothing more is
 * wanted (the line limit was reached), else 0. */
int dot_stuff_feed(struct dot_stuff *st, const char *in, size_t n, struct buf *out);
/* dot_stuff_end - the line end of an unterminated last line, then ".\r\n". */
void dot_stuff_end(struct dot_stuff *st, struct buf *out);

#endif
