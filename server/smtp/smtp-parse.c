/*
 * smtp-parse - SMTP command-line parser (contract in smtp-parse.h).
 *
 * One table maps each verb to its argument checker.  The line is checked
 * once for NUL and control characters, so the checkers only deal with
 * printable text and UTF-8.  MAIL/RCPT parameters are read through
 * pointer+length pairs and never cut in place, so arg keeps the whole
 * argument for logging.
 */
#include "smtp-parse.h"
#include "str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef int (*parse_fn)(struct smtp_command *, int, struct smtp_parse_error *);

static int parse_noarg(struct smtp_command *, int, struct smtp_parse_error *);
static int parse_anyarg(struct smtp_command *, int, struct smtp_parse_error *);
static int parse_helo(struct smtp_command *, int, struct smtp_parse_error *);
static int parse_mail(struct smtp_command *, int, struct smtp_parse_error *);
static int parse_rcpt(struct smtp_command *, int, struct smtp_parse_error *);
static int parse_bdat(struct smtp_command *, int, struct smtp_parse_error *);
static int parse_auth(struct smtp_command *, int, struct smtp_parse_error *);

static const struct {
	enum smtp_cmd cmd;
	const char *name;
	parse_fn parse;
} commands[] = {
	{ SMTP_CMD_HELO,	"HELO",		parse_helo },
	{ SMTP_CMD_EHLO,	"EHLO",		parse_helo },
	{ SMTP_CMD_MAIL,	"MAIL",		parse_mail },
	{ SMTP_CMD_RCPT,	"RCPT",		parse_rcpt },
	{ SMTP_CMD_DATA,	"DATA",		parse_noarg },
	{ SMTP_CMD_BDAT,	"BDAT",		parse_bdat },
	{ SMTP_CMD_RSET,	"RSET",		parse_noarg },
	{ SMTP_CMD_NOOP,	"NOOP",		parse_anyarg },
	{ SMTP_CMD_QUIT,	"QUIT",		parse_noarg },
	{ SMTP_CMD_HELP,	"HELP",		parse_anyarg },
	{ SMTP_CMD_VRFY,	"VRFY",		parse_anyarg },
	{ SMTP_CMD_EXPN,	"EXPN",		parse_anyarg },
	{ SMTP_CMD_STARTTLS,	"STARTTLS",	parse_noarg },
	{ SMTP_CMD_AUTH,	"AUTH",		parse_auth },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* perr - fill err; detail (may be NULL) is appended after ": ". */
static int
perr(struct smtp_parse_error *err, int code, const char *enhanced,
    const char *text, const char *detail)
{
	err->code = code;
	err->enhanced = enhanced;
	err->text = text;
	if (detail != NULL) {
		snprintf(err->textbuf, sizeof(err->textbuf), "%s: %s", text,
		    detail);
		err->text = err->textbuf;
	}
	return -1;
}

static int
perr_syntax(struct smtp_parse_error *err, const char *detail)
{
	return perr(err, 501, "5.5.4", "Syntax error in parameters", detail);
}

const char *
smtp_cmd_name(enum smtp_cmd cmd)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "UNKNOWN";
}

static int
parse_noarg(struct smtp_command *cmd, int utf8_allowed,
    struct smtp_parse_error *err)
{
	(void)utf8_allowed;
	if (cmd->arg[0] != '\0') {
		snprintf(err->textbuf, sizeof(err->textbuf),
		    "Syntax error in parameters: %s takes no argument",
		    cmd->verb_name);
		return perr(err, 501, "5.5.4", err->textbuf, NULL);
	}
	return 0;
}

/* utf8_ok - 1 if every non-ASCII byte of s is in a well-formed sequence. */
static int
utf8_ok(const char *s)
{
	size_t n;

	while (*s != '\0') {
		if ((unsigned char)*s < 0x80) {
			s++;
			continue;
		}
		if ((n = addr_utf8_len((const unsigned char *)s)) == 0)
			return 0;
		s += n;
	}
	return 1;
}

static int
parse_anyarg(struct smtp_command *cmd, int utf8_allowed,
    struct smtp_parse_error *err)
{
	(void)utf8_allowed;
	if (!utf8_ok(cmd->arg))
		return perr_syntax(err, "invalid UTF-8");
	return 0;
}

static int
parse_helo(struct smtp_command *cmd, int utf8_allowed,
    struct smtp_parse_error *err)
{
	char *p;

	(void)utf8_allowed;
	if (cmd->arg[0] == '\0') {
		snprintf(err->textbuf, sizeof(err->textbuf),
		    "%s requires domain", cmd->verb_name);
		return perr(err, 501, "5.5.2", err->textbuf, NULL);
	}
	for (p = cmd->arg; *p != '\0' && *p != ' '; p++)
		if ((unsigned char)*p > 126)
			return perr_syntax(err, "bad character in domain");
	*p = '\0';
	return 0;
}

/* decimal - 1-20 digits of s[0..n) into *v; 0 or -1. */
static int
decimal(const char *s, size_t n, uint64_t *v)
{
	char tmp[21];
	size_t i;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return str_to_u64(tmp, v);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* xtext_decode - RFC 3461 xtext v[0..n) into out; printable ASCII only. */
static int
xtext_decode(const char *v, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;
	int c, hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if (c == '+') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval(v[i + 1])) < 0 ||
			    (lo = hexval(v[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 33 || c > 126 || o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int
param_is(const char *kw, size_t kwlen, const char *name)
{
	return strlen(name) == kwlen && strncasecmp(kw, name, kwlen) == 0;
}

/* mail_param - one MAIL keyword[=value]; val is NULL without '='. */
static int
mail_param(struct smtp_command *cmd, const char *kw, size_t kwlen,
    const char *val, size_t vlen, struct smtp_parse_error *err)
{
	if (param_is(kw, kwlen, "SIZE")) {
		if (cmd->has_size)
			return perr_syntax(err, "duplicate SIZE parameter");
		if (val == NULL || decimal(val, vlen, &cmd->size) == -1)
			return perr_syntax(err, "bad SIZE value");
		cmd->has_size = 1;
	} else if (param_is(kw, kwlen, "BODY")) {
		if (cmd->body != SMTP_BODY_NONE)
			return perr_syntax(err, "duplicate BODY parameter");
		if (val != NULL && param_is(val, vlen, "7BIT"))
			cmd->body = SMTP_BODY_7BIT;
		else if (val != NULL && param_is(val, vlen, "8BITMIME"))
			cmd->body = SMTP_BODY_8BITMIME;
		else if (val != NULL && param_is(val, vlen, "BINARYMIME"))
			return perr(err, 555, "5.5.4",
			    "BODY=BINARYMIME not implemented", NULL);
		else
			return perr_syntax(err, "bad BODY value");
	} else if (param_is(kw, kwlen, "SMTPUTF8")) {
		if (cmd->smtputf8)
			return perr_syntax(err, "duplicate SMTPUTF8 parameter");
		if (val != NULL)
			return perr_syntax(err, "SMTPUTF8 takes no value");
		cmd->smtputf8 = 1;
	} else if (param_is(kw, kwlen, "AUTH")) {
		if (cmd->auth_param[0] != '\0')
			return perr_syntax(err, "duplicate AUTH parameter");
		if (val == NULL || xtext_decode(val, vlen, cmd->auth_param,
		    sizeof(cmd->auth_param)) == -1)
			return perr_syntax(err, "bad AUTH value");
	} else
		return -2;
	return 0;
}

static int
param_unknown(const char *kw, size_t kwlen, struct smtp_parse_error *err)
{
	snprintf(err->textbuf, sizeof(err->textbuf),
	    "Parameter not recognized or not implemented: %.*s",
	    kwlen > 40 ? 40 : (int)kwlen, kw);
	return perr(err, 555, "5.5.4", err->textbuf, NULL);
}

/*
 * params_parse - *( SP esmtp-keyword ["=" esmtp-value] ) at p; for RCPT
 * (is_mail 0) every well-formed parameter is 555.
 */
static int
params_parse(struct smtp_command *cmd, const char *p, int is_mail,
    struct smtp_parse_error *err)
{
	const char *kw, *val;
	size_t kwlen, vlen;
	int r;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		kw = p;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || (*p == '-' && p > kw))
			p++;
		kwlen = (size_t)(p - kw);
		val = NULL;
		vlen = 0;
		if (*p == '=') {
			val = ++p;
			while (*p > 32 && *p < 127 && *p != '=')
				p++;
			vlen = (size_t)(p - val);
		}
		if (kwlen == 0 || (val != NULL && vlen == 0) ||
		    (*p != ' ' && *p != '\0'))
			return perr_syntax(err, "bad parameter syntax");
		r = is_mail ? mail_param(cmd, kw, kwlen, val, vlen, err) : -2;
		if (r == -2)
			return param_unknown(kw, kwlen, err);
		if (r == -1)
			return -1;
	}
}

/* path_start - after "FROM:"/"TO:" (any case) and optional spaces. */
static const char *
path_start(const char *arg, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncasecmp(arg, prefix, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

static int
parse_mail(struct smtp_command *cmd, int utf8_allowed,
    struct smtp_parse_error *err)
{
	const char *p, *rest, *error;

	(void)utf8_allowed;
	if ((p = path_start(cmd->arg, "FROM:")) == NULL)
		return perr_syntax(err, "MAIL FROM:<address> expected");
	if (addr_parse_path(p, ADDR_ALLOW_EMPTY | ADDR_ALLOW_UTF8 |
	    ADDR_ALLOW_LITERAL, &cmd->addr, &rest, &error) == -1)
		return perr(err, 501, "5.1.7", "Bad sender address syntax",
		    error);
	if (*rest != ' ' && *rest != '\0')
		return perr(err, 501, "5.1.7", "Bad sender address syntax",
		    "garbage after '>'");
	if (params_parse(cmd, rest, 1, err) == -1)
		return -1;
	if (cmd->addr.utf8 && !cmd->smtputf8)
		return perr(err, 553, "5.6.7",
		    "Non-ASCII sender address requires SMTPUTF8", NULL);
	if (addr_domain_to_ascii(cmd->addr.domain, &error) == -1)
		return perr(err, 553, "5.1.7", "Bad sender address: invalid "
		    "international domain name", error);
	return 0;
}

static int
parse_rcpt(struct smtp_command *cmd, int utf8_allowed,
    struct smtp_parse_error *err)
{
	const char *p, *rest, *error;

	if ((p = path_start(cmd->arg, "TO:")) == NULL)
		return perr_syntax(err, "RCPT TO:<address> expected");
	if (strncasecmp(p, "<postmaster>", 12) == 0) {
		memset(&cmd->addr, 0, sizeof(cmd->addr));
		str_lcpy(cmd->addr.local, "postmaster",
		    sizeof(cmd->addr.local));
		rest = p + 12;
	} else if (addr_parse_path(p, ADDR_ALLOW_UTF8 | ADDR_ALLOW_LITERAL,
	    &cmd->addr, &rest, &error) == -1)
		return perr(err, 501, "5.1.3", "Bad recipient address syntax",
		    error);
	if (*rest != ' ' && *rest != '\0')
		return perr(err, 501, "5.1.3", "Bad recipient address syntax",
		    "garbage after '>'");
	if (cmd->addr.utf8 && !utf8_allowed)
		return perr(err, 553, "5.6.7",
		    "Non-ASCII recipient address requires SMTPUTF8", NULL);
	if (addr_domain_to_ascii(cmd->addr.domain, &error) == -1)
		return perr(err, 553, "5.1.3", "Bad recipient address: invalid "
		    "international domain name", error);
	return params_parse(cmd, rest, 0, err);
}

static int
parse_bdat(struct smtp_command *cmd, int utf8_allowed,
    struct smtp_parse_error *err)
{
	const char *p = cmd->arg;

	(void)utf8_allowed;
	while (*p >= '0' && *p <= '9')
		p++;
	if (decimal(cmd->arg, (size_t)(p - cmd->arg), &cmd->size) == -1)
		return perr_syntax(err, "BDAT chunk size expected");
	cmd->has_size = 1;
	if (*p == '\0')
		return 0;
	while (*p == ' ')
		p++;
	if (strcasecmp(p, "LAST") != 0)
		return perr_syntax(err, "BDAT <size> [LAST] expected");
	cmd->bdat_last = 1;
	return 0;
}

static int
is_b64(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int
parse_auth(struct smtp_command *cmd, int utf8_allowed,
    struct smtp_parse_error *err)
{
	const char *p = cmd->arg, *ir;

	(void)utf8_allowed;
	if (*p == '\0')
		return perr(err, 501, "5.5.2", "AUTH requires a mechanism",
		    NULL);
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
		p++;
	if (p - cmd->arg > 20 || (*p != ' ' && *p != '\0'))
		return perr_syntax(err, "bad AUTH mechanism");
	while (*p == ' ')
		p++;
	if (*p == '\0' || strcmp(p, "=") == 0)
		return 0;
	for (ir = p; is_b64(*p); p++)
		;
	while (*p == '=' && p - ir >= 2 && p[-2] != '=')
		p++;
	if (*p != '\0')
		return perr_syntax(err, "bad AUTH initial response");
	return 0;
}

/* line_check - NUL and control characters are refused everywhere. */
static int
line_check(const char *line, size_t len, struct smtp_parse_error *err)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\0')
			return perr(err, 500, "5.5.2",
			    "Syntax error, NUL character in command", NULL);
		if (c < 32 || c == 127)
			return perr(err, 500, "5.5.2",
			    "Syntax error, control character in command", NULL);
	}
	return 0;
}

int
smtp_parse_command(char *line, size_t len, int utf8_allowed,
    struct smtp_command *cmd_r, struct smtp_parse_error *err_r)
{
	size_t i, vlen;
	char *p;

	line[len] = '\0';
	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->cmd = SMTP_CMD_UNKNOWN;
	cmd_r->verb_name = "UNKNOWN";
	cmd_r->arg = line + len;
	if (line_check(line, len, err_r) == -1)
		return -1;
	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	for (vlen = 0; line[vlen] != '\0' && line[vlen] != ' '; vlen++)
		;
	for (i = 0; i < NCOMMANDS; i++)
		if (param_is(line, vlen, commands[i].name))
			break;
	if (i == NCOMMANDS)
		return perr(err_r, 500, "5.5.2",
		    "Syntax error, command unrecognized", NULL);
	cmd_r->cmd = commands[i].cmd;
	cmd_r->verb_name = commands[i].name;
	for (p = line + vlen; *p == ' '; p++)
		;
	cmd_r->arg = p;
	return commands[i].parse(cmd_r, utf8_allowed, err_r);
}
