/*
 * pop3-parse - POP3 command lines, the RETR/TOP converter, UIDL text.
 *
 * The parser is strict about what it hands on (numbers, mechanism names,
 * base64) and lenient about spacing, because real clients differ there;
 * errors carry the text of the "-ERR" reply so that the session only has
 * to print it.
 */
#include "pop3-parse.h"

#include <string.h>
#include <strings.h>

static const struct {
	enum pop3_cmd cmd;
	const char *name;
} verbs[] = {
	{ POP3_CMD_USER, "USER" }, { POP3_CMD_PASS, "PASS" },
	{ POP3_CMD_AUTH, "AUTH" }, { POP3_CMD_APOP, "APOP" },
	{ POP3_CMD_STAT, "STAT" }, { POP3_CMD_LIST, "LIST" },
	{ POP3_CMD_UIDL, "UIDL" }, { POP3_CMD_RETR, "RETR" },
	{ POP3_CMD_TOP, "TOP" }, { POP3_CMD_DELE, "DELE" },
	{ POP3_CMD_RSET, "RSET" }, { POP3_CMD_NOOP, "NOOP" },
	{ POP3_CMD_QUIT, "QUIT" }, { POP3_CMD_CAPA, "CAPA" },
	{ POP3_CMD_STLS, "STLS" },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

const char *
pop3_cmd_name(enum pop3_cmd cmd)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (verbs[i].cmd == cmd)
			return verbs[i].name;
	return "UNKNOWN";
}

/* next_word - skip spaces, cut one word; returns it or NULL at the end. */
static char *
next_word(char **p)
{
	char *s = *p, *w;

	while (*s == ' ')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	w = s;
	while (*s != '\0' && *s != ' ')
		s++;
	if (*s == ' ')
		*s++ = '\0';
	*p = s;
	return w;
}

/* parse_u64 - plain decimal of at most maxdigits digits; 0/-1. */
static int
parse_u64(const char *s, int maxdigits, uint64_t *v_r)
{
	uint64_t v = 0;
	int n = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n >= maxdigits)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*v_r = v;
	return 0;
}

static int
parse_msgnum(const char *s, uint32_t *num_r)
{
	uint64_t v;

	if (parse_u64(s, 10, &v) < 0 || v == 0 || v > POP3_MSGNUM_MAX)
		return -1;
	*num_r = (uint32_t)v;
	return 0;
}

static int
is_b64(const char *s)
{
	size_t n = 0, pad = 0;

	for (; *s; s++, n++) {
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/'))
			return 0;
	}
	return n > 0 && pad <= 2;
}

static int
is_mech(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 20)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* rest_of_line - USER/PASS argument: everything after one space. */
static int
rest_of_line(struct pop3_command *c, char *rest, size_t max, const char **error_r)
{
	size_t n = strlen(rest);

	if (n == 0) {
		*error_r = c->cmd == POP3_CMD_USER ? "Missing user name" : "Missing password";
		return -1;
	}
	if (n > max) {
		*error_r = c->cmd == POP3_CMD_USER ? "User name too long" : "Password too long";
		return -1;
	}
	c->arg = rest;
	return 0;
}

static int
parse_auth(struct pop3_command *c, char *rest, const char **error_r)
{
	char *mech = next_word(&rest), *resp = next_word(&rest);

	if (mech == NULL)
		return 0;		/* AUTH alone: list the mechanisms */
	if (!is_mech(mech)) {
		*error_r = "Bad mechanism name";
		return -1;
	}
	if (next_word(&rest) != NULL) {
		*error_r = "Too many arguments";
		return -1;
	}
	if (resp != NULL && strcmp(resp, "=") != 0 && strcmp(resp, "*") != 0 && !is_b64(resp)) {
		*error_r = "Initial response is not base64";
		return -1;
	}
	c->mech = mech;
	c->resp = resp;
	c->arg = mech;
	return 0;
}

/* parse_numbers - LIST/UIDL/RETR/DELE/TOP arguments. */
static int
parse_numbers(struct pop3_command *c, char *rest, const char **error_r)
{
	char *a = next_word(&rest), *b = next_word(&rest);
	int want = c->cmd == POP3_CMD_TOP ? 2 : 1;
	int optional = c->cmd == POP3_CMD_LIST || c->cmd == POP3_CMD_UIDL;

	if (next_word(&rest) != NULL || (b != NULL && want == 1)) {
		*error_r = "Too many arguments";
		return -1;
	}
	if (a == NULL && optional)
		return 0;
	if (a == NULL || (want == 2 && b == NULL)) {
		*error_r = want == 2 ? "Syntax: TOP message lines" : "Missing message number";
		return -1;
	}
	if (parse_msgnum(a, &c->num) < 0) {
		*error_r = "Invalid message number";
		return -1;
	}
	c->has_num = 1;
	if (want == 2 && parse_u64(b, 19, &c->lines) < 0) {
		*error_r = "Invalid line count";
		return -1;
	}
	return 0;
}

static int
check_chars(const unsigned char *p, size_t len, int high_ok, const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] > 0x7f && !high_ok)) {
			*error_r = "Invalid character in command";
			return -1;
		}
	}
	return 0;
}

int
pop3_parse_command(char *line, size_t len, struct pop3_command *c, const char **error_r)
{
	char *p;
	size_t vlen;

	memset(c, 0, sizeof(*c));
	c->cmd = POP3_CMD_UNKNOWN;
	c->verb = "UNKNOWN";
	c->arg = line + len;
	line[len] = '\0';
	vlen = strcspn(line, " ");
	if (vlen > len)
		vlen = len;
	for (size_t i = 0; i < NVERBS; i++) {
		if (strlen(verbs[i].name) == vlen && strncasecmp(line, verbs[i].name, vlen) == 0) {
			c->cmd = verbs[i].cmd;
			c->verb = verbs[i].name;
		}
	}
	if (c->cmd == POP3_CMD_UNKNOWN || vlen == 0) {
		*error_r = "Unknown command";
		return -1;
	}
	if (check_chars((unsigned char *)line, len,
	    c->cmd == POP3_CMD_USER || c->cmd == POP3_CMD_PASS, error_r) < 0)
		return -1;
	p = line + vlen;
	if (*p == ' ')
		*p++ = '\0';
	switch (c->cmd) {
	case POP3_CMD_USER:
		/* trailing spaces are not part of a user name */
		while (len > vlen + 1 && line[len - 1] == ' ')
			line[--len] = '\0';
		while (*p == ' ')
			p++;
		return rest_of_line(c, p, POP3_ARG_USER_MAX, error_r);
	case POP3_CMD_PASS:
		return rest_of_line(c, p, POP3_ARG_PASS_MAX, error_r);
	case POP3_CMD_AUTH:
		return parse_auth(c, p, error_r);
	case POP3_CMD_LIST: case POP3_CMD_UIDL: case POP3_CMD_RETR:
	case POP3_CMD_DELE: case POP3_CMD_TOP:
		return parse_numbers(c, p, error_r);
	case POP3_CMD_APOP:
		c->arg = p;
		return 0;
	default:
		if (next_word(&p) != NULL) {
			*error_r = "This command takes no argument";
			return -1;
		}
		return 0;
	}
}

/* ---- UIDL ---- */

void
pop3_uidl(const char *base, char *out)
{
	size_t n = strlen(base);
	int ok = n > 0 && n <= POP3_UIDL_MAX;
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 */
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; ok && i < n; i++)
		if ((unsigned char)base[i] < 0x21 || (unsigned char)base[i] > 0x7e)
			ok = 0;
	if (ok) {
		memcpy(out, base, n + 1);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)base[i];
		h *= 0x100000001b3ULL;
	}
	out[0] = 'X';
	for (int i = 0; i < 16; i++)
		out[1 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
	out[17] = '\0';
}
