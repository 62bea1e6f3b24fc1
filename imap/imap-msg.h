/*
 * imap-msg - the IMAP view of a stored message (RFC 3501 §7.4.2, RFC
 * 9051): ENVELOPE, BODY and BODYSTRUCTURE in exact IMAP syntax, and the
 * byte ranges of BODY[section].  The parsing is server/mail's (mime.h,
 * rfc5322.h); this file only writes IMAP.
 *
 * How FETCH uses it:
 *   - Once per message: mime_open_fd(fd, NULL, 0, &t) parses the file;
 *     imap_msg_envelope() and imap_msg_bodystructure() into two bufs go
 *     to the index's envelope / bodystructure columns, and
 *     mime_tree_serialize() gives a blob of the part offsets worth
 *     caching beside them.  BODY (the non-extensible form) is
 *     imap_msg_body(), cheap from the tree, or cached too.
 *   - Later: mime_open_fd(fd, blob, bloblen, &t) maps the file and uses
 *     the blob (returns 0) or parses again when it does not fit (1: store
 *     the new blob); no bytes are read until a section is streamed.
 *   - FETCH ENVELOPE / BODYSTRUCTURE / BODY: copy the cached text after
 *     "ENVELOPE " / "BODYSTRUCTURE " / "BODY ".
 *   - FETCH BODY[section]<o.n>: imap_section_parse() (the text between
 *     the brackets), imap_msg_section() for the ranges; announce
 *     "{min(n, vsize - o)}" (0 when o >= vsize), then stream with
 *     mime_reader_init(o) and mime_reader_read() in steps.  A section
 *     that does not exist (a part number past the last, HEADER of a part
 *     that is not a message/rfc822) returns -1: the FETCH code answers
 *     NIL for it.
 *   - RFC822.HEADER = BODY.PEEK[HEADER], RFC822.TEXT = BODY[TEXT],
 *     RFC822 = BODY[] (empty section), RFC822.SIZE = index vsize.
 *   - HEADER and HEADER.FIELDS over many messages (what Outlook and
 *     Thunderbird ask for a whole folder) need no full parse: mime_parse()
 *     of the file's first bytes up to the empty line gives a tree whose
 *     part 0 header is exact, and these sections read nothing else.
 *
 * Cost: a 50 KB message with an attachment parses in about 8 us and
 * BODYSTRUCTURE + ENVELOPE add 3 us (one core of the build machine).
 *
 * Strings: NIL for an absent value; a quoted string when every byte is
 * printable 7-bit or TAB (\" and \\ escaped); otherwise (8-bit, CR, LF,
 * control characters, or longer than IMAP_MSG_QUOTED_MAX) a literal
 * "{n}\r\n...", with NUL bytes written as 0x80 (a literal may not hold
 * NUL).  Header
 * values are raw, as IMAP requires: unfolded, encoded words left as they
 * are.  So the cached text is valid for IMAP4rev1 and IMAP4rev2 clients
 * alike.
 */
#ifndef ONEBOX_IMAP_MSG_H
#define ONEBOX_IMAP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "index.h"
#include "mime.h"

#define IMAP_MSG_QUOTED_MAX	1024

/* imap_msg_nstring - s[0..n) as NIL (s NULL), a quoted string or a literal. */
void imap_msg_nstring(struct buf *out, const char *s, size_t n);

/*
 * imap_msg_envelope - the envelope of the message whose header is
 * hdr[0..len), as "(date subject from sender reply-to to cc bcc
 * in-reply-to message-id)".  The first of each field counts; an address
 * list that is absent or holds no address is NIL; sender and reply-to
 * absent or empty are from's; an address without local part or domain
 * gets "MISSING_MAILBOX" / "MISSING_DOMAIN" (as Dovecot), a group is
 * (NIL NIL "name" NIL) ... (NIL NIL NIL NIL).
 */
void imap_msg_envelope(const char *hdr, size_t len, struct buf *out);

/*
 * imap_msg_bodystructure - BODYSTRUCTURE of the whole message: "(...)"
 * with the extension data (md5, disposition, language, location for a
 * single part; parameters, disposition, language, location for a
 * multipart).  imap_msg_body - the same without extension data (BODY).
 * Sizes and lines are CR LF terms; a text part without a charset
 * parameter gets ("charset" "us-ascii") first, a missing or invalid
 * transfer encoding is "7bit".
 */
void imap_msg_bodystructure(const struct mime_tree *t, struct buf *out);
void imap_msg_body(const struct mime_tree *t, struct buf *out);

/*
 * imap_msg_cache_fill - what the index caches for a message (index.h
 * struct index_cache): ENVELOPE, BODYSTRUCTURE and BODY without their
 * item names, and the serialised tree.
 */
void imap_msg_cache_fill(const struct mime_tree *t, struct index_cache *c);

enum imap_section_text {
	IMAP_SECTION_BODY,		/* "" or "1.2": the part's body */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,
};

#define IMAP_SECTION_FIELDS_MAX	256

struct imap_section {
	uint32_t path[MIME_MAX_DEPTH];	/* part numbers, 1-based */
	size_t depth;
	enum imap_section_text text;
	char **fields;			/* HEADER.FIELDS names, malloc'd */
	size_t nfields;
};

/*
 * imap_section_parse - the section spec between "[" and "]" (e.g. "",
 * "1.2", "HEADER", "1.TEXT", "2.MIME", "HEADER.FIELDS (From \"To\")",
 * "3.HEADER.FIELDS.NOT (Received)"), keywords in any case.  0, or -1 if
 * it is not valid (answer BAD): a 0 part number, MIME without a part
 * number, an empty or unclosed field list, trailing text.
 */
int imap_section_parse(const char *s, size_t n, struct imap_section *sec);
void imap_section_clear(struct imap_section *sec);

/*
 * imap_msg_section - the ranges of the message file that make up the
 * section (RFC 3501 §6.4.5), appended to rs (rs->vsize: the CR LF size).
 * HEADER, TEXT and HEADER.FIELDS apply to the message (no part number)
 * or to a message/rfc822 part's embedded message; MIME is the part's own
 * header; a bare part number is its body (for a message/rfc822 part: the
 * whole embedded message).  HEADER.FIELDS gives the matching fields as
 * stored (folding kept) and an empty line.  0, or -1 if there is no such
 * part or the section does not apply to it (rs unchanged).
 */
int imap_msg_section(const struct mime_tree *t, const struct imap_section *sec,
    struct mime_ranges *rs);

#endif
