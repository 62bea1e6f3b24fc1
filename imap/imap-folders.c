/*
 * imap-folders - the folder commands of the authenticated state (RFC 3501
 * §6.3): LIST and LSUB (with RFC 5258's selection options SUBSCRIBED and
 * SPECIAL-USE and its RETURN options, RFC 3348 \HasChildren and
 * \HasNoChildren, RFC 6154 special-use attributes), CREATE, DELETE,
 * RENAME, SUBSCRIBE, UNSUBSCRIBE, and STATUS (with RFC 8438 SIZE and RFC
 * 7162 HIGHESTMODSEQ).  The store is index-folder.c's Maildir++ layout.
 *
 * LIST and the folder changes are a few directory operations on the
 * user's root: done in the loop.  STATUS opens and syncs an index (the
 * first sync of a big folder reads a large directory): in a worker.
 */
#include "imap.h"
#include "log.h"
#include "str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PATTERN_MAX	1024

/*
 * The names Outlook and Apple's programs use for the standard folders:
 * they land in the same folders (Sent, Trash, Junk) instead of beside
 * them, unless a folder of that very name exists (made before, or by
 * another program), which keeps its own.
 */
static const struct {
	const char *alias, *name;
} folder_aliases[] = {
	{ "Sent Items", "Sent" }, { "Sent Messages", "Sent" },
	{ "Deleted Items", "Trash" }, { "Deleted Messages", "Trash" },
	{ "Junk Email", "Junk" }, { "Junk E-mail", "Junk" },
};

static const char *
alias_of(struct imap_session *s, const char *name)
{
	for (size_t i = 0; i < sizeof(folder_aliases) / sizeof(folder_aliases[0]); i++) {
		if (strcasecmp(name, folder_aliases[i].alias) != 0)
			continue;
		char *own = index_folder_dir(s->root, name);
		int has_own = own && access(own, F_OK) == 0;
		free(own);
		return has_own ? name : folder_aliases[i].name;
	}
	return name;
}

const char *
imap_folder_name(struct imap_session *s, const char *name)
{
	return index_folder_is_inbox(name) ? "INBOX" : alias_of(s, name);
}

const char *
imap_folder_arg(struct imap_session *s, const struct imap_arg *a)
{
	const char *name = imap_arg_astring(a);

	if (name == NULL) {
		imap_bad(s, "Missing mailbox name");
		return NULL;
	}
	if (index_folder_is_inbox(name))
		return "INBOX";
	if (!imap_mutf7_valid(name) || !index_folder_name_valid(name)) {
		imap_tagged(s, "NO [CANNOT] Invalid mailbox name");
		return NULL;
	}
	return alias_of(s, name);
}

/* ---- LIST and LSUB ---- */

/* match - does name match the pattern (RFC 3501 §6.3.8: '*' anything,
 * '%' anything but the separator)?  Dynamic programming: no exponential
 * backtracking on hostile patterns. */
static int
match(const char *pat, const char *name)
{
	size_t m = strlen(pat), n = strlen(name);
	unsigned char *row = xcalloc(n + 1, 1), *next = xcalloc(n + 1, 1);
	int r;

	row[0] = 1;
	for (size_t j = 1; j <= n; j++)
		row[j] = 0;
	for (size_t i = 1; i <= m; i++) {
		char pc = pat[i - 1];
		next[0] = row[0] && (pc == '*' || pc == '%');
		for (size_t j = 1; j <= n; j++) {
			if (pc == '*')
				next[j] = row[j] || next[j - 1];
			else if (pc == '%')
				next[j] = row[j] || (next[j - 1] && name[j - 1] != '/');
			else
				next[j] = row[j - 1] && pc == name[j - 1];
		}
		unsigned char *t = row;
		row = next;
		next = t;
	}
	r = row[n];
	free(row);
	free(next);
	return r;
}

/* match_name - INBOX matches its own name in any case. */
static int
match_name(const char *pat, const char *name)
{
	if (strcmp(name, "INBOX") == 0 && strcasecmp(pat, "INBOX") == 0)
		return 1;
	return match(pat, name);
}

enum list_opt {
	LIST_SUBSCRIBED = 1,	/* selection: subscribed only; return \Subscribed */
	LIST_SPECIAL_USE = 2,	/* selection: special-use folders only */
	LIST_RET_SUBSCRIBED = 4,
};

static int
is_subscribed(char **subs, size_t nsubs, const char *name)
{
	for (size_t i = 0; i < nsubs; i++)
		if (strcmp(subs[i], name) == 0 || (index_folder_is_inbox(subs[i]) && strcmp(name, "INBOX") == 0))
			return 1;
	return 0;
}

static void
list_one(struct imap_session *s, const char *cmd, const struct index_folder *f, int subscribed)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "* %s (%s", cmd, f->has_children ? "\\HasChildren" : "\\HasNoChildren");
	if (subscribed)
		buf_adds(&b, " \\Subscribed");
	if (f->special_use)
		buf_printf(&b, " %s", f->special_use);
	buf_adds(&b, ") \"/\" ");
	imap_quote(&b, f->name);
	imap_reply(s, "%s", b.data);
	buf_free(&b);
}

/* list_options - the RFC 5258 selection list before the reference, and
 * RETURN (...) after the pattern; -1 if answered BAD. */
static int
list_options(struct imap_session *s, const struct imap_command *c, size_t *first_r, unsigned *opts_r)
{
	const struct imap_arg *a = c->args;
	size_t n = c->nargs, first = 0;

	*opts_r = 0;
	if (n > 0 && a[0].type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < a[0].n; i++) {
			if (imap_arg_atom(&a[0].list[i], "SUBSCRIBED"))
				*opts_r |= LIST_SUBSCRIBED | LIST_RET_SUBSCRIBED;
			else if (imap_arg_atom(&a[0].list[i], "SPECIAL-USE"))
				*opts_r |= LIST_SPECIAL_USE;
			else if (!imap_arg_atom(&a[0].list[i], "RECURSIVEMATCH"))
				goto bad;
		}
		first = 1;
	}
	if (n == first + 4 && imap_arg_atom(&a[first + 2], "RETURN") && a[first + 3].type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < a[first + 3].n; i++)
			if (imap_arg_atom(&a[first + 3].list[i], "SUBSCRIBED"))
				*opts_r |= LIST_RET_SUBSCRIBED;
	} else if (n != first + 2)
		goto bad;
	if (imap_arg_astring(&a[first]) == NULL || imap_arg_astring(&a[first + 1]) == NULL)
		goto bad;
	*first_r = first;
	return 0;
bad:
	imap_bad(s, "LIST takes [(options)] reference pattern [RETURN (options)]");
	return -1;
}

static void
list_folders(struct imap_session *s, const char *cmd, const char *pat, unsigned opts)
{
	struct index_folder *f;
	char **subs = NULL;
	size_t n, nsubs = 0;

	if (index_folder_list(s->root, &f, &n) < 0 ||
	    ((opts & (LIST_SUBSCRIBED | LIST_RET_SUBSCRIBED)) && index_subscriptions(s->root, &subs, &nsubs) < 0)) {
		log_warn("%016llx imap list %s", (unsigned long long)s->base.id, s->root);
		imap_tagged(s, "NO [SERVERBUG] Cannot list the folders");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int sub = (opts & (LIST_SUBSCRIBED | LIST_RET_SUBSCRIBED)) && is_subscribed(subs, nsubs, f[i].name);
		if (!match_name(pat, f[i].name) || ((opts & LIST_SUBSCRIBED) && !sub) ||
		    ((opts & LIST_SPECIAL_USE) && f[i].special_use == NULL))
			continue;
		list_one(s, cmd, &f[i], sub);
	}
	index_folders_free(f, n);
	index_names_free(subs, nsubs);
	imap_tagged(s, "OK %s completed", cmd);
}

/* pattern - reference and mailbox pattern joined (malloc'd), or NULL if answered. */
static char *
pattern(struct imap_session *s, const char *ref, const char *pat)
{
	if (strlen(ref) + strlen(pat) > PATTERN_MAX) {
		imap_bad(s, "Pattern too long");
		return NULL;
	}
	if (ref[0] && pat[0] && ref[strlen(ref) - 1] != '/' && pat[0] != '/')
		return xasprintf("%s/%s", ref, pat);
	return xasprintf("%s%s", ref, pat);
}

void
imap_cmd_list(struct imap_session *s, const struct imap_command *c)
{
	size_t first;
	unsigned opts;
	char *pat;

	if (list_options(s, c, &first, &opts) < 0)
		return;
	if (c->args[first + 1].len == 0) {
		/* the hierarchy delimiter and root (RFC 3501 §6.3.8) */
		imap_reply(s, "* LIST (\\Noselect) \"/\" \"\"");
		imap_tagged(s, "OK LIST completed");
		return;
	}
	if ((pat = pattern(s, c->args[first].str, c->args[first + 1].str)) == NULL)
		return;
	list_folders(s, "LIST", pat, opts);
	free(pat);
}

/* lsub - the subscribed names that match pat, in the order subscribed;
 * one whose folder is gone is still listed, \Noselect (RFC 3501 §6.3.9). */
static void
lsub(struct imap_session *s, const char *pat)
{
	struct index_folder *f;
	char **subs;
	size_t n, nsubs;

	if (index_folder_list(s->root, &f, &n) < 0 || index_subscriptions(s->root, &subs, &nsubs) < 0) {
		log_warn("%016llx imap lsub %s", (unsigned long long)s->base.id, s->root);
		imap_tagged(s, "NO [SERVERBUG] Cannot list the folders");
		return;
	}
	for (size_t i = 0; i < nsubs; i++) {
		const char *name = index_folder_is_inbox(subs[i]) ? "INBOX" : subs[i];
		size_t k;
		if (!match_name(pat, name))
			continue;
		for (k = 0; k < n && strcmp(f[k].name, name) != 0; k++)
			;
		if (k < n) {
			list_one(s, "LSUB", &f[k], 0);
			continue;
		}
		struct buf b = BUF_INIT;
		buf_adds(&b, "* LSUB (\\Noselect) \"/\" ");
		imap_quote(&b, name);
		imap_reply(s, "%s", b.data);
		buf_free(&b);
	}
	index_folders_free(f, n);
	index_names_free(subs, nsubs);
	imap_tagged(s, "OK LSUB completed");
}

void
imap_cmd_lsub(struct imap_session *s, const struct imap_command *c)
{
	const char *ref = imap_arg_astring(&c->args[0]), *p = imap_arg_astring(&c->args[1]);
	char *pat;

	if (ref == NULL || p == NULL) {
		imap_bad(s, "LSUB takes a reference and a pattern");
		return;
	}
	if ((pat = pattern(s, ref, p)) == NULL)
		return;
	lsub(s, pat);
	free(pat);
}

/* ---- CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE ---- */

static void
folder_error(struct imap_session *s, const char *what, const char *name)
{
	int e = errno;

	switch (e) {
	case EEXIST:
		imap_tagged(s, "NO [ALREADYEXISTS] Mailbox already exists");
		break;
	case ENOENT:
		imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		break;
	case ENOTEMPTY:
		imap_tagged(s, "NO [INUSE] Mailbox has children, delete them first");
		break;
	case EPERM:
		imap_tagged(s, "NO [CANNOT] INBOX cannot be deleted");
		break;
	case EINVAL:
		imap_tagged(s, "NO [CANNOT] Invalid mailbox name");
		break;
	default:
		log_warnx("%016llx imap %s %s: %s", (unsigned long long)s->base.id, what, name, strerror(e));
		imap_tagged(s, "NO [SERVERBUG] %s failed", what);
		break;
	}
}

void
imap_cmd_create(struct imap_session *s, const struct imap_command *c)
{
	const char *arg = imap_arg_astring(&c->args[0]);
	char *name;

	if (arg == NULL) {
		imap_bad(s, "Missing mailbox name");
		return;
	}
	/* RFC 3501: a trailing separator only says "will have children" */
	name = xstrndup(arg, c->args[0].len - (c->args[0].len > 1 && arg[c->args[0].len - 1] == '/'));
	const char *folder = imap_folder_arg(s, &(struct imap_arg){ .type = IMAP_ARG_QUOTED, .str = name,
	    .len = strlen(name) });
	if (folder) {
		if (index_folder_create(s->root, folder) < 0)
			folder_error(s, "CREATE", folder);
		else
			imap_tagged(s, "OK CREATE completed");
	}
	free(name);
}

void
imap_cmd_delete(struct imap_session *s, const struct imap_command *c)
{
	const char *name = imap_folder_arg(s, &c->args[0]);

	if (name == NULL)
		return;
	if (s->state == IMAP_S_SELECTED && strcmp(s->mbox.name, name) == 0) {
		imap_tagged(s, "NO [INUSE] Mailbox is selected, close it first");
		return;
	}
	if (index_folder_delete(s->root, name) < 0)
		folder_error(s, "DELETE", name);
	else
		imap_tagged(s, "OK DELETE completed");
}

void
imap_cmd_rename(struct imap_session *s, const struct imap_command *c)
{
	const char *from = imap_folder_arg(s, &c->args[0]);
	const char *to = from ? imap_folder_arg(s, &c->args[1]) : NULL;

	if (to == NULL)
		return;
	if (s->state == IMAP_S_SELECTED && strcmp(s->mbox.name, from) == 0) {
		imap_tagged(s, "NO [INUSE] Mailbox is selected, close it first");
		return;
	}
	if (index_folder_rename(s->root, from, to) < 0)
		folder_error(s, "RENAME", from);
	else
		imap_tagged(s, "OK RENAME completed");
}

static void
subscribe(struct imap_session *s, const struct imap_command *c, int on)
{
	const char *name = imap_folder_arg(s, &c->args[0]);

	if (name == NULL)
		return;
	if (index_subscribe(s->root, name, on) < 0)
		imap_tagged(s, "NO [SERVERBUG] Cannot change the subscriptions");
	else
		imap_tagged(s, "OK %s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
}

void
imap_cmd_subscribe(struct imap_session *s, const struct imap_command *c)
{
	subscribe(s, c, 1);
}

void
imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *c)
{
	subscribe(s, c, 0);
}

/* ---- STATUS ---- */

enum status_item {
	ST_MESSAGES = 1, ST_UIDNEXT = 2, ST_UIDVALIDITY = 4, ST_UNSEEN = 8, ST_RECENT = 16,
	ST_HIGHESTMODSEQ = 32, ST_SIZE = 64,
};

static const struct {
	const char *name;
	unsigned item;
} status_names[] = {
	{ "MESSAGES", ST_MESSAGES }, { "UIDNEXT", ST_UIDNEXT }, { "UIDVALIDITY", ST_UIDVALIDITY },
	{ "UNSEEN", ST_UNSEEN }, { "RECENT", ST_RECENT }, { "HIGHESTMODSEQ", ST_HIGHESTMODSEQ },
	{ "SIZE", ST_SIZE },
};
#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

struct status_job {
	struct imap_job j;
	char *dir, *name;
	unsigned items;
	int result;		/* 0, -1 error, 1 no such folder */
	struct index_stats st;
	uint32_t uidnext, uidvalidity;
	uint64_t highestmodseq;
};

static void
status_work(struct imap_job *j)
{
	struct status_job *sj = (struct status_job *)j;
	struct mbox_index *ix;
	const char *err;

	if (access(sj->dir, F_OK) < 0) {
		sj->result = 1;
		return;
	}
	sj->result = -1;
	if (index_open(sj->dir, &ix, &err) < 0)
		return;
	if (index_sync(ix, 0) == 0 && index_stats(ix, &sj->st) == 0) {
		sj->uidnext = index_uidnext(ix);
		sj->uidvalidity = index_uidvalidity(ix);
		sj->highestmodseq = index_highestmodseq(ix);
		sj->result = 0;
	}
	index_close(&ix);
}

static void
status_done(struct imap_session *s, struct imap_job *j)
{
	struct status_job *sj = (struct status_job *)j;
	struct buf b = BUF_INIT;
	const uint64_t v[] = { sj->st.messages, sj->uidnext, sj->uidvalidity, sj->st.unseen, sj->st.recent,
		sj->highestmodseq, sj->st.vsize };

	if (sj->result != 0) {
		if (sj->result > 0)
			imap_tagged(s, "NO [NONEXISTENT] No such mailbox");
		else
			imap_tagged(s, "NO [SERVERBUG] Cannot read the mailbox");
		return;
	}
	buf_adds(&b, "* STATUS ");
	imap_quote(&b, sj->name);
	buf_adds(&b, " (");
	for (size_t i = 0, first = 1; i < N_STATUS; i++)
		if (sj->items & status_names[i].item) {
			buf_printf(&b, "%s%s %llu", first ? "" : " ", status_names[i].name, (unsigned long long)v[i]);
			first = 0;
		}
	buf_adds(&b, ")");
	imap_reply(s, "%s", b.data);
	imap_tagged(s, "OK STATUS completed");
	buf_free(&b);
}

static void
status_free(struct imap_job *j)
{
	struct status_job *sj = (struct status_job *)j;

	free(sj->dir);
	free(sj->name);
	free(sj);
}

void
imap_cmd_status(struct imap_session *s, const struct imap_command *c)
{
	const char *name = imap_folder_arg(s, &c->args[0]);
	const struct imap_arg *l = &c->args[1];
	struct status_job *sj;
	unsigned items = 0;

	if (name == NULL)
		return;
	if (l->type != IMAP_ARG_LIST || l->n == 0) {
		imap_bad(s, "STATUS takes a mailbox and a list of items");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		size_t k;
		for (k = 0; k < N_STATUS && !imap_arg_atom(&l->list[i], status_names[k].name); k++)
			;
		if (k == N_STATUS) {
			imap_bad(s, "Unknown STATUS item");
			return;
		}
		items |= status_names[k].item;
	}
	sj = xcalloc(1, sizeof(*sj));
	sj->dir = index_folder_dir(s->root, name);
	/* the answer names the mailbox as the client did (an alias too) */
	sj->name = xstrdup(strcmp(name, "INBOX") == 0 ? name : c->args[0].str);
	sj->items = items;
	sj->j.work = status_work;
	sj->j.done = status_done;
	sj->j.free = status_free;
	imap_job_submit(s, &sj->j);
}
