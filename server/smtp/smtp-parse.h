/*
 * smtp-parse - the SMTP command-line parser (RFC 5321), with the MAIL
 * parameters of SIZE (RFC 1870), BODY= (RFC 6152 8BITMIME), SMTPUTF8
 * (RFC 6531) and AUTH= (RFC 4954), and BDAT (RFC 3030).
 *
 * It turns one line into a struct smtp_command or a ready-made error
 * reply; it knows nothing about sessions, state or sockets.  Checks that
 * need session state (command order, whether an extension was advertised,
 * size limits, policy) belong to the caller.
 *
 * Per command (verbs are case-insensitive; extra spaces after the verb are
 * skipped; trailing spaces are trimmed):
 *   HELO/EHLO  one word of printable ASCII is required (a domain or an
 *              address literal, but not checked: real clients send odd
 *              names); arg is that first word, anything after it is ignored.
 *   MAIL       "FROM:" [SP] Path *(SP param); the null path "<>" is allowed.
 *              Params: SIZE=digits, BODY=7BIT|8BITMIME, SMTPUTF8, AUTH=xtext.
 *              UTF-8 is allowed in the path only with the SMTPUTF8 param
 *              (else 553 5.6.7).  utf8_allowed is ignored for MAIL: the
 *              caller refuses SMTPUTF8 / 8BITMIME / AUTH= if it did not
 *              advertise them (cmd.smtputf8, cmd.body, cmd.auth_param).
 *   RCPT       "TO:" [SP] Path; "<>" is refused; "<Postmaster>" (any case,
 *              RFC 5321 §4.5.1) gives local "postmaster" and domain "".
 *              UTF-8 in the path only if utf8_allowed (pass whether the
 *              transaction's MAIL had SMTPUTF8).  Every param is 555: we do
 *              not advertise DSN (ORCPT/NOTIFY).
 *   BDAT       "BDAT" SP size [SP "LAST"]: size in cmd.size, bdat_last.
 *   AUTH       "AUTH" SP mechanism [SP initial-response]: checked for syntax
 *              (mechanism chars, base64 or "="), left in arg.
 *   DATA RSET QUIT STARTTLS   no argument (else 501 5.5.4).
 *   NOOP HELP VRFY EXPN       any argument (well-formed UTF-8), in arg.
 * Address paths are parsed by addr_parse_path() (see addr.h for the rules
 * and the relay-safety note).  A UTF-8 domain in MAIL or RCPT is turned
 * into its A-labels (addr_domain_to_ascii), so cmd.addr.domain is always
 * ASCII, the one form every lookup and policy check compares; cmd.addr.utf8
 * still says whether the path as given held non-ASCII.  An invalid
 * international name is 553 5.1.7 (MAIL) or 553 5.1.3 (RCPT).
 *
 * A NUL or control character anywhere in the line is 500 5.5.2.
 * Non-ASCII is allowed only in MAIL/RCPT paths (as above) and in the free
 * arguments of NOOP/HELP/VRFY/EXPN.
 */
#ifndef ONEBOX_SMTP_PARSE_H
#define ONEBOX_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum smtp_cmd {
	SMTP_CMD_HELO, SMTP_CMD_EHLO, SMTP_CMD_MAIL, SMTP_CMD_RCPT,
	SMTP_CMD_DATA, SMTP_CMD_BDAT, SMTP_CMD_RSET, SMTP_CMD_NOOP,
	SMTP_CMD_QUIT, SMTP_CMD_HELP, SMTP_CMD_VRFY, SMTP_CMD_EXPN,
	SMTP_CMD_STARTTLS, SMTP_CMD_AUTH, SMTP_CMD_UNKNOWN
};

enum smtp_body { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };

#define SMTP_AUTH_PARAM_MAX	512	/* decoded MAIL AUTH= value, octets */
#define SMTP_PARSE_TEXT_MAX	160

struct smtp_command {
	enum smtp_cmd cmd;
	const char *verb_name;	/* canonical upper case; "UNKNOWN" */
	char *arg;		/* into the line, after the verb; "" if none */
	struct mailaddr addr;	/* MAIL/RCPT path */
	uint64_t size;		/* MAIL SIZE= or BDAT chunk size */
	int has_size;
	enum smtp_body body;	/* MAIL BODY= */
	int smtputf8;		/* MAIL SMTPUTF8 */
	int bdat_last;		/* BDAT ... LAST */
	char auth_param[SMTP_AUTH_PARAM_MAX + 1];	/* MAIL AUTH=, xtext-decoded; "" if none */
};

/*
 * A ready reply: "<code> <enhanced> <text>", e.g.
 *   501 5.1.7 Bad sender address syntax: missing '>'
 * The caller owns the struct (usually on its stack).  text points to static
 * storage or into this struct's textbuf, so it is valid as long as the
 * struct is; a struct copy's text may still point into the original, so
 * format the reply at once rather than copying the struct.
 */
struct smtp_parse_error {
	int code;
	const char *enhanced;
	const char *text;
	char textbuf[SMTP_PARSE_TEXT_MAX];
};

/*
 * smtp_parse_command - parse one command line.
 * line holds len bytes WITHOUT the CRLF and must have room for one more:
 * line[len] is set to '\0' and the line is modified in place (trailing
 * spaces cut, the HELO/EHLO word terminated); cmd_r->arg points into it.
 * Returns 0 with *cmd_r filled, or -1 with *err_r filled.  On -1, cmd_r->cmd
 * and verb_name still tell which command it was (SMTP_CMD_UNKNOWN if the
 * verb was not recognised), so the caller can count errors per command.
 */
int smtp_parse_command(char *line, size_t len, int utf8_allowed,
    struct smtp_command *cmd_r, struct smtp_parse_error *err_r);

/* smtp_cmd_name - canonical upper-case verb, "UNKNOWN" for SMTP_CMD_UNKNOWN. */
const char *smtp_cmd_name(enum smtp_cmd cmd);

#endif
