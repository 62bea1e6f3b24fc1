/*
 * imap-search-fold - the case folding SEARCH matches with (RFC 3501
 * §6.4.4: "case-insensitive"; RFC 9051 asks for at least the ASCII
 * letters and recommends the Unicode folding of RFC 5051's i;unicode-
 * casemap).  Both the searched text and the search string go through it,
 * then a plain substring match decides.
 *
 * Why a table of ranges and not towlower(): the result must not depend
 * on the process's locale (imapd runs in "C"), and these ranges cover the
 * letters of the languages an office writes in Latin, Greek and Cyrillic
 * scripts.  Other characters are kept as they are.
 */
#include "imap.h"

static uint32_t
fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 0x20;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c & 1 ? c + 1 : c;
	if (c == 0x178)
		return 0xff;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 0x20;
	if (c >= 0x410 && c <= 0x42f)
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	return c;
}

/* utf8_next - the code point at s[i] (a lone byte when not valid UTF-8:
 * *len_r 1, returned as UINT32_MAX; overlong forms and surrogates are not
 * valid, so what is folded encodes back to as many bytes). */
static uint32_t
utf8_next(const unsigned char *s, size_t n, size_t i, size_t *len_r)
{
	uint32_t c = s[i];
	size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 1;

	*len_r = 1;
	if (c < 0x80)
		return c;
	if (len == 1 || c >= 0xf5 || i + len > n)
		return UINT32_MAX;
	c &= 0x3f >> (len - 1);
	for (size_t k = 1; k < len; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return UINT32_MAX;
		c = c << 6 | (s[i + k] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return UINT32_MAX;
	*len_r = len;
	return c;
}

static void
utf8_put(uint32_t c, struct buf *out)
{
	if (c < 0x80)
		buf_addc(out, (char)c);
	else if (c < 0x800) {
		buf_addc(out, (char)(0xc0 | c >> 6));
		buf_addc(out, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_addc(out, (char)(0xe0 | c >> 12));
		buf_addc(out, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addc(out, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_addc(out, (char)(0xf0 | c >> 18));
		buf_addc(out, (char)(0x80 | (c >> 12 & 0x3f)));
		buf_addc(out, (char)(0x80 | (c >> 6 & 0x3f)));
		buf_addc(out, (char)(0x80 | (c & 0x3f)));
	}
}

void
imap_search_fold(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;

	buf_reserve(out, n);
	for (size_t i = 0; i < n;) {
		size_t len;
		uint32_t c = utf8_next(u, n, i, &len);
		if (c == UINT32_MAX)
			buf_addc(out, s[i]);
		else
			utf8_put(fold_cp(c), out);
		i += len;
	}
}
