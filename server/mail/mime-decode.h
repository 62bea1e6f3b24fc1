/*
 * mime-decode - Content-Transfer-Encoding decoders (RFC 2045 §6) as push
 * converters, and the text of a part as UTF-8: what IMAP BINARY (RFC
 * 3516) sends and what a full-text index reads.
 *
 * The output is the part's content in canonical form: base64 gives its
 * bytes; quoted-printable and the identity encodings give CR LF line
 * ends (a bare LF of the stored file becomes CR LF, as mime_reader does).
 * No input is invalid: base64 skips what is not in its alphabet (line
 * ends, spaces, garbage) and restarts after padding (concatenated
 * blocks); quoted-printable keeps an '=' that starts no escape or soft
 * line break as it is.  State is carried between calls, so the input may
 * come in pieces of any size.
 */
#ifndef ONEBOX_MIME_DECODE_H
#define ONEBOX_MIME_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mime.h"

enum mime_cte {
	MIME_CTE_7BIT,		/* also when the field is absent */
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_UNKNOWN,	/* decoded as identity; BINARY answers [UNKNOWN-CTE] */
};

/* mime_cte_parse - the encoding named (any case; NULL is 7bit). */
enum mime_cte mime_cte_parse(const char *encoding);

struct mime_decoder {
	enum mime_cte cte;
	int state;		/* quoted-printable: enum in mime-decode.c */
	char hi;		/* quoted-printable: the first hex digit */
	int cr;			/* the last byte was a CR */
	uint32_t acc;		/* base64: bits not yet written */
	int nbits;
};

void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte);
/* mime_decoder_feed - decode n bytes, appending to out. */
void mime_decoder_feed(struct mime_decoder *d, const char *in, size_t n,
    struct buf *out);
/* mime_decoder_end - what an unfinished escape held back ("=" or "=4"). */
void mime_decoder_end(struct mime_decoder *d, struct buf *out);

/*
 * mime_part_decoded_size - the size of a leaf part's decoded body (IMAP
 * BINARY.SIZE), decoding it in steps without keeping it.
 */
uint64_t mime_part_decoded_size(const struct mime_tree *t, uint32_t part);

/*
 * mime_part_text - append the body of a leaf part of type text to out
 * as UTF-8: transfer encoding decoded, then converted from its charset
 * (us-ascii when none; an unknown one is taken as UTF-8 and cleaned, see
 * rfc2047_to_utf8).  Line ends come out as CR LF.  At most max_in bytes
 * of the stored body are read (the decoded text is held in memory once:
 * an indexer bounds it).  -1 if the part is not a text leaf (out
 * unchanged), else 0.
 */
int mime_part_text(const struct mime_tree *t, uint32_t part, size_t max_in,
    struct buf *out);

#endif
