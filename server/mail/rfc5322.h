/*
 * rfc5322 - header fields of a stored message (RFC 5322): iterating and
 * finding fields, unfolding, address lists and dates.
 *
 * Input is raw bytes as stored (LF or CR LF line ends, 8-bit allowed, no
 * NUL terminator needed); nothing here allocates for the bytes it reads
 * except the results it returns.  Every function accepts any input: bad
 * syntax gives a best-effort result, never an error that stops the caller.
 */
#ifndef ONEBOX_RFC5322_H
#define ONEBOX_RFC5322_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* One field as stored: "Name: value" with its continuation lines. */
struct rfc5322_field {
	const char *name;	/* not NUL-terminated */
	size_t name_len;
	const char *value;	/* after the ':', folding kept, final line end not */
	size_t value_len;
	size_t off, len;	/* the whole field in the header, its line end included */
};

/*
 * rfc5322_next_field - the field at *pos in hdr[0..len): fills *f_r,
 * moves *pos past it and returns 1; returns 0 at the empty line that ends
 * the header or at the end of hdr.  A line without a colon is a field
 * with an empty value whose name is the whole line (so it is never lost
 * from HEADER.FIELDS.NOT, and never matches a real name).
 */
int rfc5322_next_field(const char *hdr, size_t len, size_t *pos,
    struct rfc5322_field *f_r);

/* rfc5322_find - the first field named name (any case); 1 if found. */
int rfc5322_find(const char *hdr, size_t len, const char *name,
    struct rfc5322_field *f_r);

/* rfc5322_name_is - 1 if the field's name is name, any case. */
int rfc5322_name_is(const struct rfc5322_field *f, const char *name);

/*
 * rfc5322_unfold - append v[0..n) to out with every CR and LF removed (the
 * white space after a fold is kept) and leading and trailing white space
 * trimmed.
 */
void rfc5322_unfold(const char *v, size_t n, struct buf *out);

enum rfc5322_addr_kind {
	RFC5322_MAILBOX,
	RFC5322_GROUP_START,	/* name = the group's display name */
	RFC5322_GROUP_END,
};

/*
 * One entry of an address list, in order; a group is its start, its
 * members, then its end.  Strings are malloc'd (NULL when absent) and raw:
 * quotes and escapes removed from quoted strings, comments dropped,
 * encoded words kept as written (rfc2047_decode() them for display or
 * SEARCH).  name: the display name (for a mailbox without one, the text
 * of its last comment, as "a@b (Name)" means); route: the obsolete source
 * route "@a,@b"; mailbox/host: the local part and the domain (NULL when
 * the address lacks them, e.g. "To: someone").
 */
struct rfc5322_addr {
	enum rfc5322_addr_kind kind;
	char *name, *route, *mailbox, *host;
};

/*
 * rfc5322_parse_addresses - parse an address-list field value (raw, may be
 * folded).  *addrs_r is malloc'd (NULL when *n_r is 0); free it with
 * rfc5322_addrs_free().  At most RFC5322_ADDR_MAX entries are kept: more
 * are dropped (a group started is always ended).
 */
#define RFC5322_ADDR_MAX	10000
void rfc5322_parse_addresses(const char *v, size_t n,
    struct rfc5322_addr **addrs_r, size_t *n_r);
void rfc5322_addrs_free(struct rfc5322_addr **addrs, size_t n);

/*
 * rfc5322_parse_date - parse a date-time ("Mon, 7 Dec 2026 23:33:30
 * +0100"), with the obsolete forms: no day name, two- and three-digit
 * years, no seconds, named zones (UT, GMT, EST..., military letters count
 * as +0000), comments, a missing zone (+0000).  *time_r is seconds since
 * the epoch (UTC), *tz_r the zone in minutes east of UTC.  0, or -1 if
 * the text is not a date.
 */
int rfc5322_parse_date(const char *v, size_t n, int64_t *time_r, int *tz_r);

#endif
