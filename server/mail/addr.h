/*
 * addr - RFC 5321 mailboxes and paths, the one place that parses addresses.
 *
 *   Path     = "<" [ A-d-l ":" ] Mailbox ">"
 *   Mailbox  = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string
 *
 * With ADDR_ALLOW_UTF8 (RFC 6531 SMTPUTF8) UTF-8 is allowed in the local
 * part and in domain labels; it must be well-formed (no overlong forms, no
 * surrogates, nothing above U+10FFFF).  The parsers do not IDNA-check
 * domain labels (a U-label is held to the same 63-octet limit as an
 * A-label); addr_domain_to_ascii() turns a parsed domain into the one form
 * that is compared and stored (A-labels), and must be called before a
 * domain is looked up: "ëxample.com" and "xn--xample-ova.com" are one
 * domain.
 *
 * Results:
 *   local   the local part: as written for a dot-string (case kept), the
 *           unescaped content for a quoted-string (quoted = 1).  At most
 *           ADDR_LOCAL_MAX octets after unescaping; never empty except for
 *           the null path; never holds NUL or control characters.
 *   domain  lower-cased (ASCII letters only), no trailing dot, each label
 *           1-63 octets of letters/digits/hyphens, not starting or ending
 *           with '-', the last label not all digits, at most ADDR_DOMAIN_MAX
 *           octets.  Single-label names ("localhost") are accepted.  An
 *           address literal is kept with its brackets in canonical form
 *           (inet_ntop): "[192.0.2.1]", "[IPv6:2001:db8::1]" (literal = 1).
 *           General address literals ("[tag:...]") are rejected.
 *
 * Relay safety: we never interpret '%', '!' or source routes.
 *   "user%other@ourdomain"   is local part "user%other" at ourdomain (an
 *                            unknown user there, never a relay to "other");
 *   "other!user@ourdomain"   likewise;
 *   "<@other:user@ourdomain>" is user@ourdomain: the route is parsed and
 *                            ignored (RFC 5321 §4.1.2 and appendix C: MUST
 *                            accept and ignore);
 *   "user@ourdomain."        is a syntax error (no trailing dot);
 *   "user@[192.0.2.1]"       is literal = 1: callers must never treat an
 *                            address literal as a local domain.
 *
 * Error strings (*error_r) are short static English text ("local part too
 * long", "missing '>'"); they are never NULL on failure.
 */
#ifndef ONEBOX_ADDR_H
#define ONEBOX_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX	64	/* octets, unescaped */
#define ADDR_DOMAIN_MAX	255	/* octets, brackets included for a literal */
#define ADDR_LABEL_MAX	63

/* Room for the longest canonical text, quotes and escapes included. */
#define ADDR_FORMAT_MAX	(2 + 2 * ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX + 1)

#define ADDR_ALLOW_EMPTY	0x01	/* "<>" (or "" for addr_parse) is the null path */
#define ADDR_ALLOW_UTF8		0x02	/* SMTPUTF8: UTF-8 in local part and domain */
#define ADDR_ALLOW_LITERAL	0x04	/* "[192.0.2.1]", "[IPv6:...]" as domain */

struct mailaddr {
	char local[ADDR_LOCAL_MAX + 1];
	char domain[ADDR_DOMAIN_MAX + 1];
	int quoted;	/* local part was a quoted-string */
	int literal;	/* domain is an address literal */
	int utf8;	/* local part or domain holds non-ASCII */
};

/*
 * addr_parse_path - parse a Path; s points at '<'.  On success fills *a_r,
 * sets *rest_r just after the '>' and returns 0.  The null path "<>" needs
 * ADDR_ALLOW_EMPTY and gives empty local and domain.  A source route is
 * accepted (its domains must be well-formed) and ignored.  An address
 * without angle brackets is an error.  Returns -1 with *error_r set; *a_r
 * and *rest_r are then unspecified.
 */
int addr_parse_path(const char *s, int flags, struct mailaddr *a_r,
    const char **rest_r, const char **error_r);

/*
 * addr_parse - parse a bare "local@domain" making up the whole of s (CLI,
 * config, database).  With ADDR_ALLOW_EMPTY the empty string is the null
 * address.  0, or -1 with *error_r set.
 */
int addr_parse(const char *s, int flags, struct mailaddr *a_r,
    const char **error_r);

/*
 * addr_format - canonical text "local@domain" into out (always
 * NUL-terminated when outsz > 0), quoting the local part when it is not a
 * valid dot-string; "" for the null path, just the local part when the
 * domain is empty ("postmaster").  Returns the length the full text needs,
 * like snprintf (out may be NULL when outsz is 0).  ADDR_FORMAT_MAX is
 * always enough.
 */
size_t addr_format(const struct mailaddr *a, char *out, size_t outsz);

/*
 * addr_domain_valid - 1 if domain is a whole valid domain by the rules
 * above (a literal only with ADDR_ALLOW_LITERAL, UTF-8 only with
 * ADDR_ALLOW_UTF8), else 0.  Case is not checked.
 */
int addr_domain_valid(const char *domain, int flags);

/*
 * addr_domain_to_ascii - domain (ADDR_DOMAIN_MAX + 1 bytes, as a parser
 * left it) with every U-label turned into its A-label, in place: IDNA2008
 * with the UTS #46 mapping (libidn2, non-transitional: case folded, NFC),
 * lower case, then held to the ASCII rules above (a mapping may not leave
 * an empty or bad label).  An ASCII domain or an address literal is left
 * as it is.  0, or -1 with *error_r set to why (static text: libidn2's,
 * e.g. "string contains a disallowed character"; the caller says that
 * the domain is an invalid international name); the domain is then left
 * as it was.
 */
int addr_domain_to_ascii(char *domain, const char **error_r);

/*
 * addr_utf8_len - length (2-4) of the well-formed UTF-8 sequence starting
 * with the non-ASCII byte at p, or 0 if it is malformed.  p must be
 * NUL-terminated (a NUL stops the sequence).
 */
size_t addr_utf8_len(const unsigned char *p);

#endif
