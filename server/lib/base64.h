/*
 * base64 - RFC 4648 base64 (the standard alphabet, with padding), the one
 * codec of the tree.
 *
 * Decoding is strict, as SASL wants it (RFC 4422 §3.1 + RFC 4648 §3.3):
 * the length is a multiple of 4, only alphabet characters, '=' only as
 * the last one or two, no spaces or line breaks.
 */
#ifndef ONEBOX_BASE64_H
#define ONEBOX_BASE64_H

#include <stddef.h>
#include <sys/types.h>

/* the decoded size of n base64 characters, at most */
#define BASE64_DECODED_MAX(n) (((n) / 4) * 3)
/* the buffer base64_encode needs for n bytes, with the terminating NUL */
#define BASE64_ENCODED_SIZE(n) ((((n) + 2) / 3) * 4 + 1)

/* base64_decode - inlen characters of in into out (outsz bytes; not
 * NUL-terminated: the data may hold NULs).  Returns the decoded length,
 * or -1 if in is not base64 or does not fit. */
ssize_t base64_decode(const char *in, size_t inlen, void *out, size_t outsz);
/* base64_value - the 6 bits of the alphabet character c, or -1 (for
 * decoders with other rules, e.g. MIME's, which skips what is not base64) */
int base64_value(unsigned char c);
/* base64_encode - inlen bytes into out, NUL-terminated; returns the length
 * without the NUL, or -1 if outsz < BASE64_ENCODED_SIZE(inlen). */
ssize_t base64_encode(const void *in, size_t inlen, char *out, size_t outsz);

#endif
