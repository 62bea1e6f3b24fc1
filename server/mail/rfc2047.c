/*
 * rfc2047 - encoded words and charsets to UTF-8.
 *
 * The decoder is lenient where mailers are sloppy (encoded words inside a
 * word, missing base64 padding, lower-case "b"/"q", spaces inside a Q
 * word) and strict only where leniency would guess: a word that does not
 * parse is left as written.  Adjacent words of one charset are joined as
 * bytes before the conversion because senders cut B words in the middle
 * of a UTF-8 or ISO-2022-JP sequence.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "base64.h"
#include "rfc2047.h"

#define CHARSET_MAX	64	/* longer charset names are not charsets */

static void
add_replacement(struct buf *out)
{
	buf_add(out, "\xef\xbf\xbd", 3);	/* U+FFFD */
}

/* Convert with cd; EILSEQ and a truncated tail become U+FFFD. */
static void
convert(iconv_t cd, const char *in, size_t n, struct buf *out)
{
	char *ip = (char *)in;
	size_t il = n;

	while (il > 0) {
		char tmp[1024], *op = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		int e = errno;

		buf_add(out, tmp, (size_t)(op - tmp));
		if (r != (size_t)-1 || e == E2BIG)
			continue;
		add_replacement(out);
		if (e == EINVAL)
			break;		/* incomplete sequence at the end */
		ip++;
		il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* flush a stateful encoding's shift back to the initial state */
	char tmp[64], *op = tmp;
	size_t ol = sizeof(tmp);
	if (iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1)
		buf_add(out, tmp, (size_t)(op - tmp));
}

static int
is_utf8_name(const char *charset)
{
	return charset[0] == '\0' || strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0 || strcasecmp(charset, "us-ascii") == 0;
}

/* Append tmp's bytes to out, each malformed UTF-8 sequence (glibc's
 * iconv lets some through: code points past U+10FFFF) as U+FFFD. */
static void
add_valid_utf8(const struct buf *tmp, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)tmp->data;
	const unsigned char *end = p + tmp->len;

	while (p < end) {
		const unsigned char *run = p;
		size_t n;

		while (p < end && *p < 0x80)
			p++;
		buf_add(out, run, (size_t)(p - run));
		if (p == end)
			break;
		n = addr_utf8_len(p);	/* tmp is NUL-terminated (buf.h) */
		if (n == 0) {
			add_replacement(out);
			p++;
		} else {
			buf_add(out, p, n);
			p += n;
		}
	}
}

int
rfc2047_to_utf8(const char *charset, const char *in, size_t n,
    struct buf *out)
{
	struct buf tmp = BUF_INIT;
	iconv_t cd = (iconv_t)-1;
	int known = 1;

	if (!is_utf8_name(charset)) {
		cd = iconv_open("UTF-8", charset);
		known = cd != (iconv_t)-1;
	}
	if (cd != (iconv_t)-1) {
		convert(cd, in, n, &tmp);
		iconv_close(cd);
	} else
		buf_add(&tmp, in, n);	/* UTF-8, or unknown: taken as UTF-8 */
	if (tmp.len > 0)
		add_valid_utf8(&tmp, out);
	buf_free(&tmp);
	return known ? 0 : -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
decode_q(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '_')
			buf_addc(out, ' ');
		else if (s[i] == '=' && i + 2 < n &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			buf_addc(out, (char)(hi << 4 | lo));
			i += 2;
		} else
			buf_addc(out, s[i]);
	}
}

/* Base64 without the strictness SASL needs: padding is added when
 * missing.  -1 if it still does not decode. */
static int
decode_b(const char *s, size_t n, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	ssize_t r;

	buf_add(&tmp, s, n);
	while (tmp.len % 4 != 0)
		buf_addc(&tmp, '=');
	buf_reserve(out, BASE64_DECODED_MAX(tmp.len));
	r = base64_decode(tmp.data, tmp.len, out->data + out->len,
	    out->cap - out->len);
	buf_free(&tmp);
	if (r < 0)
		return -1;
	out->len += (size_t)r;
	out->data[out->len] = '\0';
	return 0;
}

static int
is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct eword {
	char charset[CHARSET_MAX + 1];
	size_t len;		/* of the whole "=?...?=" */
};

/*
 * Parse "=?charset?e?text?=" at s; the decoded bytes go to raw.  0 if it
 * is one (w->len: its length), else -1 with raw unchanged and w->len the
 * bytes the caller may skip: when no "?=" comes before white space or the
 * end, no word starting before that point can end either, and skipping it
 * keeps a long run of "=?a?q?b" linear instead of quadratic.
 */
static int
parse_eword(const char *s, size_t n, struct eword *w, struct buf *raw)
{
	const char *cs, *q, *text, *end;
	size_t cslen, save = raw->len;

	w->len = 1;
	if (n < 8 || s[0] != '=' || s[1] != '?')
		return -1;
	cs = s + 2;
	q = memchr(cs, '?', n - 2);
	if (q == NULL || q == cs || q + 3 >= s + n || q[2] != '?')
		return -1;
	cslen = (size_t)(q - cs);
	text = q + 3;
	end = text;
	while (end + 1 < s + n && !(end[0] == '?' && end[1] == '=') &&
	    !is_lwsp(*end))	/* words hold no white space */
		end++;
	if (end + 1 >= s + n || is_lwsp(*end)) {
		w->len = (size_t)(end - s);
		return -1;
	}
	for (const char *p = cs; p < q; p++)	/* RFC 2231 §5: charset*lang */
		if (*p == '*') {
			cslen = (size_t)(p - cs);
			break;
		}
	if (cslen == 0 || cslen > CHARSET_MAX)
		return -1;
	memcpy(w->charset, cs, cslen);
	w->charset[cslen] = '\0';
	if (q[1] == 'Q' || q[1] == 'q')
		decode_q(text, (size_t)(end - text), raw);
	else if (!(q[1] == 'B' || q[1] == 'b') ||
	    decode_b(text, (size_t)(end - text), raw) != 0) {
		raw->len = save;
		return -1;
	}
	w->len = (size_t)(end + 2 - s);
	return 0;
}

/* Plain text: folding line ends dropped, the rest taken as UTF-8. */
static void
add_plain(const char *s, size_t n, struct buf *out)
{
	struct buf tmp = BUF_INIT;

	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r' && s[i] != '\n')
			buf_addc(&tmp, s[i]);
	if (tmp.len > 0)
		rfc2047_to_utf8("utf-8", tmp.data, tmp.len, out);
	buf_free(&tmp);
}

static int
only_lwsp(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_lwsp(s[i]))
			return 0;
	return 1;
}

void
rfc2047_decode(const char *in, size_t n, struct buf *out)
{
	struct buf raw = BUF_INIT;	/* decoded bytes of a run of words */
	char cs[CHARSET_MAX + 1] = "";	/* the run's charset */
	size_t i = 0, plain = 0;	/* in[plain..i) not written yet */
	int run = 0;

	while (i < n) {
		struct eword w;
		size_t mark = raw.len;
		int adjacent;

		if (in[i] != '=') {
			i++;
			continue;
		}
		if (parse_eword(in + i, n - i, &w, &raw) != 0) {
			i += w.len;
			continue;
		}
		adjacent = run && only_lwsp(in + plain, i - plain);
		if (run && !(adjacent && strcasecmp(cs, w.charset) == 0)) {
			rfc2047_to_utf8(cs, raw.data, mark, out);
			if (mark > 0)	/* raw.data is NULL while nothing was decoded */
				memmove(raw.data, raw.data + mark, raw.len - mark);
			raw.len -= mark;
		}
		if (!adjacent)
			add_plain(in + plain, i - plain, out);
		memcpy(cs, w.charset, sizeof(cs));
		run = 1;
		i += w.len;
		plain = i;
	}
	if (run)
		rfc2047_to_utf8(cs, raw.data, raw.len, out);
	add_plain(in + plain, n - plain, out);
	buf_free(&raw);
}
