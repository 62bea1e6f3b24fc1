/*
 * index - the per-folder mailbox index read by POP3 and IMAP.
 *
 * One SQLite file per folder, "<folder dir>/onebox-index.db" (WAL mode,
 * busy_timeout 5000 ms), holding:
 *   meta(key, value)   uidvalidity, uidnext, highestmodseq, new_mtime,
 *                      cur_mtime (nanoseconds; 0 = "rescan next time")
 *   messages           uid, base, filename, size, vsize, internaldate,
 *                      flags, keywords, modseq, envelope, bodystructure, body, mime
 *                      (the IMAP cache: index_cache_get)
 *   expunged(uid, modseq)  for QRESYNC-like tracking
 *
 * The Maildir is the truth, the index a cache of it plus the UID mapping:
 * index_sync() makes the index match the directory.  Flags live in the
 * file names (":2,DFRST"); on a rebuild they are read back from there.
 *
 * UIDs (RFC 3501/9051) are assigned in delivery order and never reused:
 * uidnext only grows.  UIDVALIDITY is time-based and strictly greater than
 * any earlier one of the folder (remembered in "<folder>/onebox-uidvalidity"),
 * so a rebuilt index (deleted or corrupt file) always gets a new one.
 * MODSEQ (RFC 7162): every write transaction that changes something takes
 * one new modseq = highestmodseq + 1 and stamps every row it touches.
 *
 * POP3 UIDL = index_msg.base, the unique part of the file name (before
 * the first ',' or ':').  It is stable across sessions, restarts and index
 * rebuilds, and unique within the mailbox.
 *
 * Quota: index_expunge() subtracts from the Maildir++ root's maildirsize.
 * The root is the folder dir itself for INBOX, and its parent for a
 * Maildir++ sub-folder (a folder dir whose last component starts with '.').
 *
 * Concurrency: several processes may open the same index; writes are
 * serialized by SQLite (BEGIN IMMEDIATE), readers are never blocked (WAL).
 * A struct mbox_index is for one thread.  The counters below (uidvalidity,
 * uidnext, highestmodseq) are as of the last index_open(), index_sync() or
 * change made through this handle; count is counted at the first
 * index_count() after those (a table scan, skipped when nobody asks).
 */
#ifndef ONEBOX_INDEX_H
#define ONEBOX_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define INDEX_FILE_NAME		"onebox-index.db"

struct mbox_index;

struct index_msg {
	uint32_t uid;
	char *base;		/* unique part of the file name = POP3 UIDL */
	char *filename;		/* relative to the folder: "cur/x,S=1,W=2:2,S" */
	uint64_t size;		/* file size (LF line ends) */
	uint64_t vsize;		/* size with CRLF line ends (RFC822.SIZE) */
	int64_t internaldate;	/* seconds since the epoch (file mtime) */
	uint32_t flags;		/* IDX_* bits */
	uint64_t modseq;
};

enum {
	IDX_SEEN = 1,
	IDX_ANSWERED = 2,
	IDX_FLAGGED = 4,
	IDX_DELETED = 8,
	IDX_DRAFT = 16,
	IDX_RECENT = 32,	/* reserved: session state, never stored */
	IDX_STORED_FLAGS = 31
};

/*
 * index_open - open (creating when missing) the index of a folder, and
 * tmp/ new/ cur/ when missing.  A corrupt index file is renamed aside
 * ("onebox-index.db.corrupt-<time>") and rebuilt, with a new UIDVALIDITY
 * and a warning.  Does not sync: call index_sync().  0, or -1 with a
 * static *error_r.
 */
int index_open(const char *folder_dir, struct mbox_index **ix_r,
    const char **error_r);
/* index_close - free the handle and NULL *ix; NULL is fine. */
void index_close(struct mbox_index **ix);

/*
 * index_sync - make the index match new/ and cur/: unknown files get the
 * next UIDs in delivery order (the time in the unique name, then the name);
 * vanished files are removed and recorded in expunged; renamed files (same
 * base, other ":2,..." flags) update flags and filename.  With
 * move_new_to_cur, files in new/ are renamed into cur/ with ":2," appended
 * (what POP3 and IMAP do when they open a mailbox).  Cheap when the
 * directory mtimes have not changed.  One transaction.  0/-1.
 */
int index_sync(struct mbox_index *ix, int move_new_to_cur);

uint32_t index_uidvalidity(struct mbox_index *ix);
uint32_t index_uidnext(struct mbox_index *ix);
uint64_t index_highestmodseq(struct mbox_index *ix);
uint32_t index_count(struct mbox_index *ix);
/* index_dir - the folder directory (owned by the handle). */
const char *index_dir(struct mbox_index *ix);

/* index_list - all messages by ascending UID, malloc'd; free with
 * index_msgs_free().  *msgs_r is NULL when n is 0.  0/-1. */
int index_list(struct mbox_index *ix, struct index_msg **msgs_r, size_t *n_r);
/* index_get - one message by UID into *m_r (free with index_msg_clear());
 * 0, 1 if there is no such UID, -1 on error. */
int index_get(struct mbox_index *ix, uint32_t uid, struct index_msg *m_r);
void index_msg_clear(struct index_msg *m);
void index_msgs_free(struct index_msg *msgs, size_t n);

/* index_stats - counts for STATUS: messages, those without \Seen, those
 * still in new/ (no reader has taken them: \Recent), total RFC822.SIZE. */
struct index_stats {
	uint32_t messages, unseen, recent;
	uint64_t vsize;
};
int index_stats(struct mbox_index *ix, struct index_stats *st);
/* index_changed_since - the messages whose modseq is above modseq (new,
 * or flags changed), by UID, malloc'd (index_msgs_free).  0/-1. */
int index_changed_since(struct mbox_index *ix, uint64_t modseq, struct index_msg **msgs_r, size_t *n_r);
/* index_expunged_since - UIDs expunged with a modseq above modseq, by
 * UID, malloc'd.  0/-1. */
int index_expunged_since(struct mbox_index *ix, uint64_t modseq, uint32_t **uids_r, size_t *n_r);
/* index_new_uids - UIDs of the messages still in new/, ascending,
 * malloc'd (NULL when none).  0/-1. */
int index_new_uids(struct mbox_index *ix, uint32_t **uids_r, size_t *n_r);

/*
 * index_set_flags - set a message's stored flags (IDX_STORED_FLAGS bits;
 * others ignored): renames the file to carry them (":2," + letters in ASCII
 * order, unknown letters such as keywords kept; a file in new/ moves to
 * cur/), then bumps its modseq.  Unchanged flags: nothing done.  0, or -1
 * (no such UID, or the file is gone: sync and retry).
 */
int index_set_flags(struct mbox_index *ix, uint32_t uid, uint32_t flags);
/* index_set_flags_kw - the same with the keyword letters: bit i of kw is
 * the letter 'a' + i (keywords, see index_keyword_add); kw < 0 keeps the
 * letters the name has. */
#define INDEX_KEYWORDS_MAX	26
int index_set_flags_kw(struct mbox_index *ix, uint32_t uid, uint32_t flags, int64_t kw);
/* index_name_keywords - the keyword bits of a file name's letters a-z. */
uint32_t index_name_keywords(const char *filename);

/*
 * index_expunge - unlink the messages' files, remove their rows and record
 * them in expunged, in one transaction; unknown UIDs are skipped.  The
 * removed sizes are subtracted from the Maildir++ root's quota.  0/-1.
 */
int index_expunge(struct mbox_index *ix, const uint32_t *uids, size_t n);

/*
 * index_copy_to - hard-link message uid into dest_dir/cur/ (another folder
 * of the same Maildir++ root) under a new unique name (written to unique:
 * the copy's base) with the same sizes and flags; *bytes_r its size.  The
 * caller makes dest_dir/cur durable and accounts the quota.  0, 1 if there
 * is no such UID, -1 (logged).
 */
#define INDEX_UNIQUE_MAX	128
int index_copy_to(struct mbox_index *ix, uint32_t uid, const char *dest_dir, uint64_t *bytes_r,
    char unique[INDEX_UNIQUE_MAX]);
/* index_uid_of - the UID of the message with this base; 0, 1 if none, -1. */
int index_uid_of(struct mbox_index *ix, const char *base, uint32_t *uid_r);

/*
 * The IMAP cache of a message (index-cache.c): its ENVELOPE,
 * BODYSTRUCTURE and BODY texts and its MIME tree blob (mime.h), computed
 * once from the file by the first reader that needs them.  The index does
 * not look inside them.
 */
struct index_cache {
	struct buf envelope, bodystructure, body, mime;
};
/* index_cache_get - the cache of uid into c (bufs reset first; zero c
 * before the first use); 0, 1 if the message has no cache or no row, -1. */
int index_cache_get(struct mbox_index *ix, uint32_t uid, struct index_cache *c);
/* index_cache_missing - the UIDs in lo..hi without a cache, ascending,
 * malloc'd (NULL when none); 0/-1. */
int index_cache_missing(struct mbox_index *ix, uint32_t lo, uint32_t hi, uint32_t **uids_r, size_t *n_r);
/* index_cache_put - store c[i] for uids[i], in one transaction that does
 * not wait for the disk (a cache lost to a crash is computed again);
 * no modseq changes.  0/-1. */
int index_cache_put(struct mbox_index *ix, const uint32_t *uids, const struct index_cache *c, size_t n);
void index_cache_clear(struct index_cache *c);

/* index_msg_path - malloc'd full path of the message file. */
char *index_msg_path(struct mbox_index *ix, const struct index_msg *m);

/* index_name_flags - IDX_* flags from a file name's ":2,..." suffix. */
uint32_t index_name_flags(const char *filename);

/*
 * Folders of a Maildir++ root (index-folder.c), by their IMAP names:
 * "INBOX" (any case) is the root itself; "A/B" is the directory ".A.B"
 * under it (hierarchy separator '/'; a '.' or '\' inside a level is
 * stored as "\2e" / "\5c").  Names are modified UTF-7 as the client
 * sent them.
 */
#define INDEX_FOLDER_NAME_MAX	512

/* The standard folders every user gets at first login, with their
 * special-use attribute (RFC 6154); NULL-terminated. */
struct index_special_folder {
	const char *name;
	const char *use;
};
extern const struct index_special_folder index_special_folders[];

/* index_folder_name_valid - 1 if name can be a folder: not empty, no
 * empty level, no control character, no wildcard. */
int index_folder_name_valid(const char *name);
int index_folder_is_inbox(const char *name);
/* index_folder_dir - malloc'd directory of folder name, or NULL if the
 * name is not valid. */
char *index_folder_dir(const char *root, const char *name);
/* index_folder_make - create dir as a Maildir++ sub-folder; 0/-1 (errno). */
int index_folder_make(const char *dir);
/* index_folder_list - INBOX, then every folder by name, malloc'd. */
struct index_folder {
	char *name;
	int has_children;
	const char *special_use;	/* "\\Sent" etc., or NULL */
};
int index_folder_list(const char *root, struct index_folder **f_r, size_t *n_r);
void index_folders_free(struct index_folder *f, size_t n);
/* index_folder_create - with any missing parent levels; -1 with errno
 * EEXIST (INBOX or an existing folder), EINVAL (bad name) or another. */
int index_folder_create(const char *root, const char *name);
/* index_folder_delete - a folder without children, its messages removed
 * from the quota; -1 with errno EPERM (INBOX), ENOENT, ENOTEMPTY. */
int index_folder_delete(const char *root, const char *name);
/* index_folder_rename - a folder and those below it, keeping their
 * indexes (and so UIDVALIDITY); renaming INBOX moves its messages into a
 * new folder and leaves INBOX empty (RFC 3501 §6.3.5).  -1 with errno
 * ENOENT, EEXIST, EINVAL. */
int index_folder_rename(const char *root, const char *from, const char *to);
/* index_subscriptions - the subscribed names, malloc'd (index_names_free). */
int index_subscriptions(const char *root, char ***names_r, size_t *n_r);
void index_names_free(char **names, size_t n);
/* index_subscribe - add (on) or remove a name; 0/-1. */
int index_subscribe(const char *root, const char *name, int on);
/*
 * Keywords (IMAP user flags, "$Junk", "$Forwarded"...) are the letters
 * a-z of the file names, one table per user for every folder (so a copy
 * keeps its letters): "<root>/onebox-keywords", one name a line, line i
 * naming the letter 'a' + i.
 */
/* index_keywords - the table, malloc'd (index_names_free); 0/-1. */
int index_keywords(const char *root, char ***names_r, size_t *n_r);
/* index_keyword_add - the bit number of name, added to the table when new
 * (under a lock: two sessions agree); -1 with errno ENOSPC when all 26
 * letters are taken, or another errno. */
int index_keyword_add(const char *root, const char *name);
/* index_folders_init - at every login: make the root; at the first one
 * (no subscriptions file yet) also the standard folders, subscribed.
 * 0/-1 (logged). */
int index_folders_init(const char *root);

#endif
