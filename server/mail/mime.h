/*
 * mime - the MIME structure of a stored message (RFC 2045-2049, 2231,
 * 5322): a tree of parts with their offsets and sizes, the Content-*
 * fields of each part, and the byte ranges a reader sends with CR LF line
 * ends.  No protocol syntax here: imap/imap-msg.h writes BODYSTRUCTURE,
 * ENVELOPE and BODY[section] from it.
 *
 * Two kinds of sizes.  Messages are stored with LF line ends (CR LF is
 * accepted too), and a client sees CR LF.  Every part carries its offsets
 * in the file (to read the bytes) and its sizes in CR LF terms (what a
 * client is told): a CR LF size is the file size plus the number of bare
 * LFs (LFs not after a CR), the rule of index.h's vsize and of
 * mime_reader, which sends each bare LF as CR LF and everything else as
 * stored.  Lines are counted as LFs (a last line without one is not
 * counted).
 *
 * The tree is a flat array in depth-first order; part 0 is the whole
 * message (its header and body).  A multipart's children are its body
 * parts (preamble and epilogue belong to its body but to no child); a
 * message/rfc822 (or message/global) part has one child: the embedded
 * message, whose header starts where the part's body starts.  Where a part
 * ends: the line end before a boundary belongs to the boundary (RFC 2046
 * §5.1.1), except the line end of a boundary line itself (a close
 * delimiter right before the outer boundary), which stays with the parts,
 * as Dovecot counts it; at the end of the file every open part ends with
 * the file.  A boundary matches as a prefix of its line, the longest
 * open one winning (Dovecot again: mailers put garbage after boundaries).
 *
 * Bad MIME never fails the parse: a missing final boundary ends the parts
 * at the parent's next boundary or at the end; a boundary line of an
 * enclosing multipart ends the inner ones; a header without an empty line
 * ends at a boundary or at the end (empty body); a multipart without a
 * boundary or in which no delimiter comes, an encoded message/rfc822, or
 * one past the limits (MIME_MAX_DEPTH levels, MIME_MAX_PARTS parts) stays
 * a leaf and is flagged MIME_F_DEGRADED (mime_part_fields() then says
 * application/octet-stream, so no writer promises children that are not
 * there).  The parser is one
 * pass over the bytes, keeps no copy of them (map the file: mime_parse_fd)
 * and uses memory in proportion to the number of parts only.
 *
 * How IMAP uses it (see imap/imap-msg.h): at the first FETCH of a message
 * that needs its structure, mime_open_fd() without a blob parses it;
 * BODYSTRUCTURE and ENVELOPE are written once and stored in the index
 * (envelope/bodystructure columns), and mime_tree_serialize() gives a
 * compact blob of the offsets, so a later BODY[1.2] is mime_open_fd()
 * with that blob: a map and no parse.  A parsed tree costs
 * sizeof(struct mime_part) = 80 bytes a part.
 */
#ifndef ONEBOX_MIME_H
#define ONEBOX_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MIME_MAX_DEPTH	64	/* nesting levels of multiparts and messages */
#define MIME_MAX_PARTS	10000	/* parts in one message */
#define MIME_MAX_PARAMS	64	/* parameters kept per field */
#define MIME_NONE	UINT32_MAX

enum mime_kind {
	MIME_LEAF,
	MIME_MULTIPART,
	MIME_MESSAGE,		/* message/rfc822 or message/global */
};

enum {
	MIME_F_DIGEST_CHILD = 1,	/* in a multipart/digest: message/rfc822 by default */
	MIME_F_DEGRADED = 2,		/* a multipart or message kept as a leaf */
	MIME_F_NO_BLANK = 4,		/* the header has no empty line after it */
};

struct mime_part {
	uint64_t hdr_off, hdr_len;	/* file: the header, its empty line included */
	uint64_t body_off, body_len;	/* file */
	uint64_t hdr_vlen, body_vlen;	/* CR LF sizes of the same */
	uint64_t body_lines;		/* LFs in the body */
	uint32_t parent;		/* MIME_NONE for part 0 */
	uint32_t first_child, next;	/* MIME_NONE when none */
	uint32_t nchildren;
	uint16_t depth;			/* 0 for part 0 */
	uint8_t kind;			/* enum mime_kind */
	uint8_t flags;			/* MIME_F_* */
};

struct mime_tree {
	const char *data;		/* the message bytes (not owned unless mapped) */
	size_t len;
	struct mime_part *parts;
	size_t nparts;			/* at least 1 */
	void *map;			/* set when mime_parse_fd() mapped the file */
};

/*
 * mime_parse - parse data[0..len) into *t.  data must stay valid and
 * unchanged while t is used (t->data points into it).  Never fails; free
 * with mime_tree_free().
 */
void mime_parse(const char *data, size_t len, struct mime_tree *t);

/*
 * mime_parse_fd - map the file read-only (an empty file needs no map)
 * and parse it; the map is unmapped by mime_tree_free().  The fd may be
 * closed afterwards.  0, or -1 with errno (fstat/mmap failed).
 */
int mime_parse_fd(int fd, struct mime_tree *t);

void mime_tree_free(struct mime_tree *t);

/*
 * mime_tree_serialize - append t's parts to out as a binary blob (a
 * version byte, then fixed-size little-endian records).
 * mime_tree_deserialize - rebuild a tree over data[0..len) (the same
 * message, e.g. freshly mapped) from such a blob.  The blob is checked
 * (offsets inside the data, links forward only, depth and count limits):
 * 0, or -1 when it does not fit the data (then parse again).
 */
void mime_tree_serialize(const struct mime_tree *t, struct buf *out);
int mime_tree_deserialize(const void *blob, size_t bloblen, const char *data,
    size_t len, struct mime_tree *t);

/*
 * mime_open_fd - the tree of a message file, from its serialised form
 * when blob is not NULL and fits the file (the file is then mapped
 * without being read: a BODY[2] of a 50 MB message reads only part 2's
 * pages), else parsed as mime_parse_fd() does.  1 if it was parsed (store
 * a new blob), 0 if the blob was used, -1 with errno on failure.
 */
int mime_open_fd(int fd, const void *blob, size_t bloblen,
    struct mime_tree *t);

/*
 * mime_part_number - the part a MIME part number selects (RFC 3501
 * §6.4.5; also what webmail links use): nums[0..n) are 1-based.  The
 * numbers count the body parts of a message, starting with the whole
 * message (part 0): in a multipart the n-th child; in anything else only
 * 1 is valid and selects the part itself (the body of a non-multipart
 * message is its part 1, even when that body is a message/rfc822).  After
 * the first number, a message/rfc822 part stands for its embedded
 * message, whose body parts the next number counts.  n = 0 gives part 0.
 * MIME_NONE if there is no such part.
 */
uint32_t mime_part_number(const struct mime_tree *t, const uint32_t *nums,
    size_t n);

/* ---- the Content-* fields of a part ---- */

struct mime_param {
	char *name;		/* without RFC 2231 "*" / "*N" suffixes */
	char *value;		/* continuations joined; see extended */
	int extended;		/* value is RFC 2231 "charset'lang'%XX..." */
};

/*
 * Strings are malloc'd, NUL-terminated, unfolded and trimmed, NULL when
 * the field is absent.  type/subtype are as written (case kept); the
 * other values are raw (encoded words not decoded: IMAP wants them so).
 */
struct mime_fields {
	char *type, *subtype;
	struct mime_param *params;
	size_t nparams;
	char *id, *description, *encoding, *md5, *location;
	char *disposition;
	struct mime_param *dparams;
	size_t ndparams;
	char **languages;
	size_t nlanguages;
};

/*
 * mime_fields_parse - the Content-* fields of a header (raw bytes, up to
 * its empty line): Content-Type (type/subtype NULL when absent or not
 * "token/token"), -Transfer-Encoding (NULL unless a token), -ID,
 * -Description, -Disposition, -Language (a list), -Location, -MD5.
 * The first of each field counts.  Parameters: RFC 2045 tokens or quoted
 * strings, RFC 2231 continuations joined (a parameter with an encoded
 * section comes out extended, its plain sections %-encoded), duplicates
 * dropped, at most MIME_MAX_PARAMS.
 */
void mime_fields_parse(const char *hdr, size_t len, struct mime_fields *f);

/*
 * mime_part_fields - mime_fields_parse() of a part's header with the
 * defaults of RFC 2045/2046 filled in: no valid Content-Type means
 * text/plain, or message/rfc822 in a multipart/digest; a part flagged
 * MIME_F_DEGRADED says application/octet-stream (its other fields kept).
 * type and subtype are never NULL after it.
 */
void mime_part_fields(const struct mime_tree *t, uint32_t part,
    struct mime_fields *f);
void mime_fields_clear(struct mime_fields *f);

/* mime_param_find - the parameter named name (any case), or NULL. */
const struct mime_param *mime_param_find(const struct mime_param *p,
    size_t n, const char *name);

/*
 * mime_param_decode - append the parameter's value as UTF-8: an extended
 * value is %-decoded and converted from its charset; a plain one has its
 * encoded words decoded (mailers put them in filenames).  The language,
 * when wanted, is copied into lang (NUL-terminated, truncated to langsz).
 */
void mime_param_decode(const struct mime_param *p, struct buf *out,
    char *lang, size_t langsz);

/* ---- byte ranges sent with CR LF line ends ---- */

#define MIME_RANGE_CRLF	UINT64_MAX	/* off of a range that is "\r\n" itself */

struct mime_range {
	uint64_t off, len;	/* in the file */
	uint64_t vlen;		/* CR LF size */
};

struct mime_ranges {
	struct mime_range *r;
	size_t n, cap;
	uint64_t vsize;		/* the sum of the vlens: the literal's {n} */
};

/*
 * mime_ranges_add - append data[off..off+len) (inside t's data); vlen is
 * its CR LF size, or UINT64_MAX to have it counted.  A range that starts
 * where the last one ends is merged with it.  mime_ranges_add_crlf adds
 * a CR LF that is not in the file (the end of HEADER.FIELDS).
 */
void mime_ranges_add(struct mime_ranges *rs, const struct mime_tree *t,
    uint64_t off, uint64_t len, uint64_t vlen);
void mime_ranges_add_crlf(struct mime_ranges *rs);
void mime_ranges_free(struct mime_ranges *rs);

/* mime_crlf_size - the CR LF size of data[0..len) (bare LFs counted). */
uint64_t mime_crlf_size(const char *data, size_t len);

/*
 * A reader sends the ranges as CR LF text from a CR LF offset on (the
 * <origin> of a partial fetch), in pieces of any size: each call appends
 * at most max bytes to out and returns how many (0: the end).  It reads
 * only the bytes it sends (and those it skips to reach the origin once).
 */
struct mime_reader {
	const struct mime_tree *t;
	const struct mime_ranges *rs;
	size_t i;		/* current range */
	uint64_t pos;		/* offset in it (file terms) */
	int lf_due;		/* a CR of a bare LF was sent, its LF not yet */
};

void mime_reader_init(struct mime_reader *rd, const struct mime_tree *t,
    const struct mime_ranges *rs, uint64_t voff);
size_t mime_reader_read(struct mime_reader *rd, size_t max, struct buf *out);

#endif
