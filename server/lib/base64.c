/*
 * base64 - RFC 4648 base64 (base64.h).  Written out instead of OpenSSL's
 * EVP_DecodeBlock, which skips white space and leaves the padding for the
 * caller to subtract.
 */
#include "base64.h"

#include <stdint.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ssize_t
base64_decode(const char *in, size_t inlen, void *out, size_t outsz)
{
	unsigned char *o = out;
	size_t pad = 0, n = 0;

	if (inlen % 4 != 0)
		return -1;
	if (inlen >= 4 && in[inlen - 1] == '=')
		pad = in[inlen - 2] == '=' ? 2 : 1;
	if (BASE64_DECODED_MAX(inlen) - pad > outsz)
		return -1;
	for (size_t i = 0; i < inlen; i += 4) {
		uint32_t q = 0;
		int last = i + 4 == inlen;
		for (size_t k = 0; k < 4; k++) {
			int v = base64_value((unsigned char)in[i + k]);
			if (v < 0 && !(last && in[i + k] == '=' && k >= 4 - pad))
				return -1;
			q = q << 6 | (uint32_t)(v < 0 ? 0 : v);
		}
		o[n++] = (unsigned char)(q >> 16);
		if (!last || pad < 2)
			o[n++] = (unsigned char)(q >> 8);
		if (!last || pad < 1)
			o[n++] = (unsigned char)q;
	}
	return (ssize_t)n;
}

ssize_t
base64_encode(const void *in, size_t inlen, char *out, size_t outsz)
{
	const unsigned char *p = in;
	size_t n = 0;

	if (outsz < BASE64_ENCODED_SIZE(inlen))
		return -1;
	for (size_t i = 0; i < inlen; i += 3) {
		uint32_t q = (uint32_t)p[i] << 16;
		size_t left = inlen - i;
		if (left > 1)
			q |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			q |= p[i + 2];
		out[n++] = alphabet[q >> 18 & 63];
		out[n++] = alphabet[q >> 12 & 63];
		out[n++] = left > 1 ? alphabet[q >> 6 & 63] : '=';
		out[n++] = left > 2 ? alphabet[q & 63] : '=';
	}
	out[n] = '\0';
	return (ssize_t)n;
}
