/*
 * pop3-parse - the pure parts of POP3: the command-line parser (RFC 1939,
 * RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH) and the UIDL text of a
 * message.  (The RETR/TOP answer is made by the dot stuffer,
 * server/mail/dotstuff.h, shared with the SMTP side.)
 *
 * Nothing here knows about sessions, sockets or files, so the unit test
 * and the fuzz target drive it directly.
 *
 * Command syntax accepted (verbs are case-insensitive; arguments are
 * separated by one or more spaces; trailing spaces are ignored):
 *   USER name            the rest of the line (spaces kept; 1..320 bytes)
 *   PASS password        the rest of the line, spaces included (a password
 *                        may have spaces), 1..1024 bytes
 *   AUTH [mech [resp]]   mech 1..20 chars of [A-Za-z0-9-_]; resp is
 *                        base64, "=" (empty) or "*"
 *   STAT NOOP RSET QUIT CAPA STLS   no argument
 *   LIST [n]  UIDL [n]   optional message number
 *   RETR n  DELE n       one message number
 *   TOP n m              message number and line count (m may be 0)
 * A message number is 1..POP3_MSGNUM_MAX in plain decimal (no sign, no
 * leading "+", at most 10 digits); a line count is 0..2^63.
 * A control character (below 0x20, or 0x7f) anywhere is an error; bytes
 * above 0x7f are accepted only in the USER and PASS arguments (UTF-8
 * user names and passwords are passed on as they are).
 */
#ifndef ONEBOX_POP3_PARSE_H
#define ONEBOX_POP3_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define POP3_MSGNUM_MAX		2000000000u
#define POP3_ARG_USER_MAX	320
#define POP3_ARG_PASS_MAX	1024
#define POP3_UIDL_MAX		70	/* RFC 1939 §7: 1 to 70 characters */

enum pop3_cmd {
	POP3_CMD_USER, POP3_CMD_PASS, POP3_CMD_AUTH, POP3_CMD_APOP,
	POP3_CMD_STAT, POP3_CMD_LIST, POP3_CMD_UIDL, POP3_CMD_RETR,
	POP3_CMD_TOP, POP3_CMD_DELE, POP3_CMD_RSET, POP3_CMD_NOOP,
	POP3_CMD_QUIT, POP3_CMD_CAPA, POP3_CMD_STLS, POP3_CMD_UNKNOWN
};

struct pop3_command {
	enum pop3_cmd cmd;
	const char *verb;	/* canonical upper case, "UNKNOWN" */
	char *arg;		/* USER/PASS/AUTH: into the line; "" if none */
	char *mech;		/* AUTH: mechanism (into the line) or NULL */
	char *resp;		/* AUTH: initial response (into the line) or NULL */
	int has_num;		/* LIST/UIDL: a number was given */
	uint32_t num;		/* message number */
	uint64_t lines;		/* TOP line count */
};

/*
 * pop3_parse_command - parse one line of len bytes (without CRLF).  The
 * line must have room for one more byte: it is modified in place (NULs
 * put after arguments) and cmd_r's pointers point into it.
 * Returns 0 with *cmd_r filled, or -1 with *error_r set to a static text
 * for the "-ERR" reply.  On -1 cmd_r->cmd still says which verb it was
 * (POP3_CMD_UNKNOWN if none), so the caller can tell "unknown command"
 * from "bad arguments".
 */
int pop3_parse_command(char *line, size_t len, struct pop3_command *cmd_r,
    const char **error_r);

/* pop3_cmd_name - canonical upper-case verb; "UNKNOWN". */
const char *pop3_cmd_name(enum pop3_cmd cmd);

/* The RETR/TOP converter is the dot stuffer of server/mail/dotstuff.h. */

/*
 * pop3_uidl - the UIDL of a message from its stable Maildir base name:
 * the base itself when it is 1..70 characters of 0x21-0x7e, else "X"
 * and 16 hex digits of a 64-bit hash of it (stable as well).  out must
 * hold POP3_UIDL_MAX + 1 bytes.
 */
void pop3_uidl(const char *base, char *out);

#endif
