/*
 * imap-commands - the command table: in which states each command is
 * valid and how many arguments it takes (the check), and what it does
 * (the proceed); and the commands valid in every state (RFC 3501 §6.1):
 * CAPABILITY, NOOP, LOGOUT, plus ID (RFC 2971), STARTTLS, ENABLE (RFC
 * 5161) and NAMESPACE (RFC 2342).
 *
 * A syntax error, an unknown command, a command in the wrong state and
 * wrong arguments are answered BAD and count towards IMAP_MAX_ERRORS.
 */
#include "imap.h"
#include "log.h"
#include "str.h"

#include <string.h>
#include <strings.h>

/* the states a command is valid in */
#define NOT_AUTH	(1u << IMAP_S_NOT_AUTH)
#define AUTH		(1u << IMAP_S_AUTH | 1u << IMAP_S_SELECTED)
#define SELECTED	(1u << IMAP_S_SELECTED)
#define ANY		(NOT_AUTH | AUTH)

#define ID_PAIRS_MAX	30	/* RFC 2971 §3.3 */
#define ID_FIELD_MAX	30
#define ID_VALUE_MAX	1024

struct imap_cmdtab {
	const char *name;
	unsigned states;
	size_t min_args, max_args;
	void (*proceed)(struct imap_session *s, const struct imap_command *c);
};

void
imap_capability(struct imap_session *s, struct buf *out)
{
	buf_adds(out, "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE NAMESPACE");
	if (s->state != IMAP_S_NOT_AUTH) {
		buf_adds(out, " UNSELECT UIDPLUS CHILDREN SPECIAL-USE STATUS=SIZE MOVE IDLE CONDSTORE QRESYNC ESEARCH BINARY");
		return;
	}
	if (!s->base.tls && s->d->svc.tls && s->base.peer.svc == SVC_IMAP)
		buf_adds(out, " STARTTLS");
	if (imap_auth_allowed(s))
		buf_adds(out, " AUTH=PLAIN AUTH=LOGIN");
	else
		buf_adds(out, " LOGINDISABLED");
}

static void
do_capability(struct imap_session *s, const struct imap_command *c)
{
	struct buf caps = BUF_INIT;

	imap_capability(s, &caps);
	imap_reply(s, "* CAPABILITY %s", caps.data);
	imap_tagged(s, "OK Capability completed");
	buf_free(&caps);
}

static void
do_noop(struct imap_session *s, const struct imap_command *c)
{
	imap_tagged(s, "OK NOOP completed");
}

static void
do_logout(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* BYE Logging out");
	imap_tagged(s, "OK Logout completed");
	s->state = IMAP_S_LOGOUT;
	session_close_after_reply(&s->base);
}

static void
do_starttls(struct imap_session *s, const struct imap_command *c)
{
	if (s->base.tls || s->base.peer.svc != SVC_IMAP) {
		imap_bad(s, "TLS is already active");
		return;
	}
	if (s->d->svc.tls == NULL) {
		imap_tagged(s, "NO [UNAVAILABLE] TLS is not available");
		return;
	}
	imap_tagged(s, "OK Begin TLS negotiation now");
	session_starttls(&s->base, s->d->svc.tls);
}

/* id_valid - NIL, or a list of at most ID_PAIRS_MAX field/value pairs
 * (strings; a value may be NIL). */
static int
id_valid(const struct imap_arg *a)
{
	if (imap_arg_nil(a))
		return 1;
	if (a->type != IMAP_ARG_LIST || a->n % 2 || a->n / 2 > ID_PAIRS_MAX)
		return 0;
	for (size_t i = 0; i < a->n; i += 2) {
		const struct imap_arg *f = &a->list[i], *v = &a->list[i + 1];
		if (imap_arg_string(f) == NULL || f->len > ID_FIELD_MAX)
			return 0;
		if (!imap_arg_nil(v) && (imap_arg_string(v) == NULL || v->len > ID_VALUE_MAX))
			return 0;
	}
	return 1;
}

static void
do_id(struct imap_session *s, const struct imap_command *c)
{
	if (!id_valid(&c->args[0])) {
		imap_bad(s, "ID takes NIL or a list of field and value strings");
		return;
	}
	imap_reply(s, "* ID (\"name\" \"onebox\" \"vendor\" \"onebox\")");
	imap_tagged(s, "OK ID completed");
}

static void
do_enable(struct imap_session *s, const struct imap_command *c)
{
	int condstore = 0, qresync = 0;

	for (size_t i = 0; i < c->nargs; i++) {
		if (c->args[i].type != IMAP_ARG_ATOM) {
			imap_bad(s, "ENABLE takes capability names");
			return;
		}
		condstore |= strcasecmp(c->args[i].str, "CONDSTORE") == 0;
		qresync |= strcasecmp(c->args[i].str, "QRESYNC") == 0;
	}
	/* the extensions ENABLE can turn on here (QRESYNC implies
	 * CONDSTORE, RFC 7162 §3.2.3); ENABLED lists what this command
	 * turned on (RFC 5161 §3.1), unknown names are ignored */
	condstore &= !s->condstore;
	qresync &= !s->qresync;
	imap_reply(s, "* ENABLED%s%s", condstore ? " CONDSTORE" : "", qresync ? " QRESYNC" : "");
	if ((condstore || qresync) && !s->condstore && s->state == IMAP_S_SELECTED)
		imap_reply(s, "* OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)s->mbox.highestmodseq);
	s->condstore |= condstore | qresync;
	s->qresync |= qresync;
	imap_tagged(s, "OK ENABLE completed");
}

static void
do_namespace(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_tagged(s, "OK NAMESPACE completed");
}

/* do_append_no_literal - an APPEND whose message was not a literal */
static void
do_append_no_literal(struct imap_session *s, const struct imap_command *c)
{
	imap_bad(s, "APPEND takes the message as a literal");
}

static const struct imap_cmdtab commands[] = {
	{ "CAPABILITY", ANY, 0, 0, do_capability },
	{ "NOOP", ANY, 0, 0, do_noop },
	{ "LOGOUT", ANY, 0, 0, do_logout },
	{ "ID", ANY, 1, 1, do_id },
	{ "STARTTLS", NOT_AUTH, 0, 0, do_starttls },
	{ "LOGIN", NOT_AUTH, 2, 2, imap_cmd_login },
	{ "AUTHENTICATE", NOT_AUTH, 1, 2, imap_cmd_authenticate },
	{ "ENABLE", AUTH, 1, 64, do_enable },
	{ "IDLE", AUTH, 0, 0, imap_cmd_idle },
	{ "NAMESPACE", AUTH, 0, 0, do_namespace },
	{ "LIST", AUTH, 2, 5, imap_cmd_list },
	{ "LSUB", AUTH, 2, 2, imap_cmd_lsub },
	{ "CREATE", AUTH, 1, 1, imap_cmd_create },
	{ "DELETE", AUTH, 1, 1, imap_cmd_delete },
	{ "RENAME", AUTH, 2, 2, imap_cmd_rename },
	{ "SUBSCRIBE", AUTH, 1, 1, imap_cmd_subscribe },
	{ "UNSUBSCRIBE", AUTH, 1, 1, imap_cmd_unsubscribe },
	{ "STATUS", AUTH, 2, 2, imap_cmd_status },
	{ "APPEND", AUTH, 1, 4, do_append_no_literal },
	{ "SELECT", AUTH, 1, 2, imap_cmd_select },
	{ "EXAMINE", AUTH, 1, 2, imap_cmd_select },
	{ "CLOSE", SELECTED, 0, 0, imap_cmd_close },
	{ "UNSELECT", SELECTED, 0, 0, imap_cmd_unselect },
	{ "CHECK", SELECTED, 0, 0, imap_cmd_check },
	{ "FETCH", SELECTED, 2, 3, imap_cmd_fetch },
	{ "UID FETCH", SELECTED, 2, 3, imap_cmd_fetch },
	{ "STORE", SELECTED, 3, 64, imap_cmd_store },
	{ "UID STORE", SELECTED, 3, 64, imap_cmd_store },
	{ "EXPUNGE", SELECTED, 0, 0, imap_cmd_expunge },
	{ "UID EXPUNGE", SELECTED, 1, 1, imap_cmd_expunge },
	{ "SEARCH", SELECTED, 1, IMAP_ARGS_MAX, imap_cmd_search },
	{ "UID SEARCH", SELECTED, 1, IMAP_ARGS_MAX, imap_cmd_search },
	{ "COPY", SELECTED, 2, 2, imap_cmd_copy },
	{ "UID COPY", SELECTED, 2, 2, imap_cmd_copy },
	{ "MOVE", SELECTED, 2, 2, imap_cmd_copy },
	{ "UID MOVE", SELECTED, 2, 2, imap_cmd_copy },
};

static const struct imap_cmdtab *
lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* wrong_state - answer a command that exists but not here. */
static void
wrong_state(struct imap_session *s, const struct imap_cmdtab *t)
{
	if (t->states == NOT_AUTH)
		imap_bad(s, "Already logged in");
	else if (t->states == SELECTED && s->state == IMAP_S_AUTH)
		imap_bad(s, "No mailbox selected");
	else
		imap_bad(s, "Log in first");
}

void
imap_command(struct imap_session *s, const char *cmd, size_t len)
{
	struct imap_command c;
	const struct imap_cmdtab *t;
	const char *err;

	s->ncommands++;
	if (imap_parse_command(cmd, len, &c, &err) < 0) {
		log_debug("%016llx imap bad command: %s", (unsigned long long)s->base.id, err);
		str_lcpy(s->tag, c.tag, sizeof(s->tag));
		imap_bad(s, err);
		imap_command_free(&c);
		return;
	}
	log_debug("%016llx imap command %s %s", (unsigned long long)s->base.id, c.tag, c.name);
	str_lcpy(s->tag, c.tag, sizeof(s->tag));
	if ((t = lookup(c.name)) == NULL)
		imap_bad(s, "Unknown command");
	else if (!(t->states & (1u << s->state)))
		wrong_state(s, t);
	else if (c.nargs < t->min_args || c.nargs > t->max_args)
		imap_bad(s, c.nargs < t->min_args ? "Missing arguments" : "Too many arguments");
	else {
		/* what changed meanwhile, before the command's own answer; no
		 * EXPUNGE before FETCH, STORE, SEARCH (RFC 3501 §7.4.1) */
		if (s->state == IMAP_S_SELECTED)
			imap_mailbox_sync(s, strcmp(c.name, "FETCH") != 0 && strcmp(c.name, "STORE") != 0 &&
			    strcmp(c.name, "SEARCH") != 0);
		t->proceed(s, &c);
	}
	imap_command_free(&c);
}
