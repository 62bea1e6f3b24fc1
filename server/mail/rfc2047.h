/*
 * rfc2047 - header text to UTF-8: MIME encoded words (RFC 2047, B and Q,
 * with the RFC 2231 "*language" suffix on the charset) and the charset
 * conversion shared with RFC 2231 parameter values (mime.h).
 *
 * Nothing here fails on bad input: an unknown charset, a malformed encoded
 * word or bytes invalid in their charset never stop the decoding.  What
 * cannot be converted becomes U+FFFD, a malformed encoded word is kept as
 * written, so the output is always valid UTF-8 (for SEARCH and SORT).
 * Conversion uses iconv(3), so any charset glibc knows works.
 */
#ifndef ONEBOX_RFC2047_H
#define ONEBOX_RFC2047_H

#include <stddef.h>

#include "buf.h"

/*
 * rfc2047_to_utf8 - append n bytes of text in charset to out as UTF-8.
 * charset is a C string, matched case-insensitively ("" or an unknown
 * name: the text is taken as UTF-8 and invalid bytes replaced).  Returns
 * 0, or -1 if the charset was unknown (the output is appended anyway).
 */
int rfc2047_to_utf8(const char *charset, const char *in, size_t n,
    struct buf *out);

/*
 * rfc2047_decode - append the unfolded, decoded form of a header value
 * (n bytes, raw from the file: folding line ends are dropped) to out as
 * UTF-8.  Whitespace between two adjacent encoded words is dropped, and
 * adjacent words in one charset are converted together (a multibyte
 * character split between two B words comes out whole).  Raw 8-bit text
 * outside encoded words is taken as UTF-8.
 */
void rfc2047_decode(const char *in, size_t n, struct buf *out);

#endif
