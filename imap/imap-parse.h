/*
 * imap-parse - the pure parts of the IMAP command syntax (RFC 3501 §9,
 * RFC 7888 LITERAL+): where a command line announces a literal, the whole
 * command (its lines and literals put together) as a tree of arguments,
 * and sequence sets.  Nothing here knows about sessions or mailboxes, so
 * the unit test and the fuzz target drive it directly.
 *
 * A command reaches the parser whole: the session reads a line, asks
 * imap_line_literal() whether it ends in {n} or {n+}, reads the n literal
 * bytes (after "+ Ready" for {n}), then the next line, and so on until a
 * line without a literal ends the command.  The parts are kept as they
 * came ("line CRLF literal line CRLF ..."), without the last CRLF.
 *
 * Arguments:
 *   atom     1*ATOM-CHAR, where ATOM-CHAR is any byte from 0x21 to 0x7e
 *            but ( ) { " and, outside brackets, nothing else; so "\Seen",
 *            "1:*", "INBOX.%" and "]" are atoms.  An atom that opens a
 *            '[' runs to its matching ']' with spaces and parentheses kept
 *            and may go on after it: BODY.PEEK[HEADER.FIELDS (From To)]<0.9>
 *            is one atom (FETCH parses the section).  NIL is an atom too
 *            (imap_arg_nil).
 *   quoted   "..." with \" and \\ escapes; any byte but NUL, CR and LF
 *            (8-bit text is passed on: UTF-8 user names and passwords).
 *   literal  {n} or {n+} CRLF and n bytes; any byte but NUL.
 *   list     ( ... ), nested at most IMAP_DEPTH_MAX deep.
 * Arguments are separated by one space; the line may not end in a space.
 * At most IMAP_ARGS_MAX arguments in all (lists and their members).
 */
#ifndef ONEBOX_IMAP_PARSE_H
#define ONEBOX_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define IMAP_LINE_MAX		(64 * 1024)	/* one command line, CRLF included */
#define IMAP_COMMAND_MAX	(64 * 1024)	/* all of a command but APPEND's message */
#define IMAP_TAG_MAX		64
#define IMAP_DEPTH_MAX		8		/* nested parentheses */
#define IMAP_ARGS_MAX		4096		/* arguments, list members included */
#define IMAP_SEQ_RANGES_MAX	10000		/* ranges in one sequence set */
#define IMAP_SEQ_STAR		UINT32_MAX	/* '*' in a sequence set */

enum imap_arg_type { IMAP_ARG_ATOM, IMAP_ARG_QUOTED, IMAP_ARG_LITERAL, IMAP_ARG_LIST };

struct imap_arg {
	enum imap_arg_type type;
	const char *str;	/* ATOM/QUOTED/LITERAL: NUL-terminated (a copy) */
	size_t len;
	const struct imap_arg *list;	/* LIST: its members */
	size_t n;
};

struct imap_command {
	char tag[IMAP_TAG_MAX + 1];	/* "" when the line has no valid tag */
	char name[32];			/* upper case; "UID FETCH" etc. for UID commands */
	const struct imap_arg *args;	/* the arguments after the name */
	size_t nargs;
	/* private: storage of args and their strings */
	struct imap_arg *arena;
	char *strings;
};

/*
 * imap_line_literal - 1 if the line (len bytes, without CRLF) ends by
 * announcing a literal outside a quoted string: *size_r its size,
 * *sync_r 1 for {n} (the client waits for "+ "), 0 for {n+}.  0 if not;
 * -1 if the announcement is malformed ({, {12x}, a size beyond 2^32).
 * Each line is scanned on its own: a quoted string cannot span lines.
 */
int imap_line_literal(const char *line, size_t len, uint64_t *size_r, int *sync_r);

/*
 * imap_parse_tag - copy the tag at the start of line into tag (IMAP_TAG_MAX
 * + 1 bytes); 0, or -1 (no valid tag: answer "* BAD").
 */
int imap_parse_tag(const char *line, size_t len, char *tag);

/*
 * imap_parse_command - parse a whole command of len bytes.  Returns 0 with
 * c filled, or -1 with *error_r set to a static text for the BAD reply
 * (c->tag is filled when the tag itself was good).  Either way free c with
 * imap_command_free().  The input is not modified; c's strings are copies.
 */
int imap_parse_command(const char *cmd, size_t len, struct imap_command *c, const char **error_r);
void imap_command_free(struct imap_command *c);

/* imap_arg_atom - the argument is an atom equal to s (ASCII, any case). */
int imap_arg_atom(const struct imap_arg *a, const char *s);
/* imap_arg_nil - the atom NIL. */
int imap_arg_nil(const struct imap_arg *a);
/* imap_arg_astring - an atom, quoted string or literal: its text, else NULL. */
const char *imap_arg_astring(const struct imap_arg *a);
/* imap_arg_string - a quoted string or literal (not an atom), else NULL. */
const char *imap_arg_string(const struct imap_arg *a);

/*
 * imap_mutf7_valid - 1 if name is valid modified UTF-7 (RFC 3501 §5.1.3):
 * printable ASCII, '&' starting a base64 run (',' for '/') closed by '-'
 * that decodes to whole UTF-16 units, "&-" for '&'.  It does not check
 * that the run is minimal or that the UTF-16 is well-formed.
 */
int imap_mutf7_valid(const char *name);

/* A sequence set (RFC 3501 seq-set): ranges lo <= hi; '*' is IMAP_SEQ_STAR
 * until imap_seqset_resolve() replaces it by the largest number in use. */
struct imap_seq_range {
	uint32_t lo, hi;
};
struct imap_seqset {
	struct imap_seq_range *r;
	size_t n;
};

/*
 * imap_parse_seqset - parse s ("1,3:5,7:*"); numbers are 1..2^32-1 (no
 * zero, no sign); at most IMAP_SEQ_RANGES_MAX ranges.  0, or -1 with
 * *error_r set.  Free with imap_seqset_free().
 */
int imap_parse_seqset(const char *s, struct imap_seqset *set, const char **error_r);
/* imap_seqset_resolve - '*' means max (0 when the mailbox is empty); the
 * ranges are then sorted and merged.  Call it before imap_seqset_has. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t max);
/* imap_seqset_has - n is in the set (after resolve). */
int imap_seqset_has(const struct imap_seqset *set, uint32_t n);
void imap_seqset_free(struct imap_seqset *set);

#endif
