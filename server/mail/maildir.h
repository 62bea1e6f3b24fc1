/*
 * maildir - Maildir++ storage: creating mailboxes, writing a message into
 * tmp/ and moving it into new/, quota accounting (maildirsize).
 *
 * Layout: data_dir/mail/<domain>/<localpart>/ is a user's Maildir++ root
 * (INBOX = the root's tmp/ new/ cur/; sub-folders are ".Name/").
 *
 * Files hold the message with LF line ends (the Maildir convention).  The
 * file name carries the sizes: "<unique>,S=<file size>,W=<size with CRLF>"
 * so POP3 LIST and IMAP RFC822.SIZE need not read the file.  The unique
 * part (before the first ',' or ':') is stable for the life of the message
 * and is what POP3 UIDL reports.
 *
 * Delivery is two-phase so that many deliveries can share one sync (group
 * commit, see commit.h):
 *   maildir_tmp_create()  O_CREAT|O_EXCL in tmp/, caller writes the data
 *   maildir_tmp_link()    hard link of the same data into another mailbox's tmp/
 *   ... data made durable (fsync / syncfs) ...
 *   maildir_tmp_publish() rename tmp/X -> new/X,S=..,W=..
 *                         (or the group committer renames maildir_tmp_paths)
 *   ... directory made durable ...
 * A crash before publish leaves only tmp/ files, which maildir_clean_tmp()
 * removes after 36 hours; a published file is complete, never partial.
 */
#ifndef ONEBOX_MAILDIR_H
#define ONEBOX_MAILDIR_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct maildir_tmp {
	char *dir;		/* the Maildir root */
	char *unique;		/* unique base name */
	uint64_t size;		/* file size (LF) */
	uint64_t vsize;		/* size with CRLF line ends */
	int published;		/* moved into new/ (maildir_tmp_publish, or the committer) */
};

/* maildir_path - malloc'd data_dir/mail/<domain>/<localpart> for an address,
 * both lower-cased; NULL if either is empty, starts with '.' (so "." and
 * "..") or contains '/': an address never escapes data_dir/mail. */
char *maildir_path(const char *data_dir, const char *localpart, const char *domain);

/* maildir_create - mkdir -p the root and tmp/ new/ cur/ (mode 0700). 0/-1 (errno). */
int maildir_create(const char *dir);

/*
 * maildir_tmp_create - open a new file in dir/tmp/ for writing (O_EXCL,
 * mode 0600); returns fd or -1 (errno).  Fills t->dir and t->unique; the
 * CALLER sets t->size and t->vsize after writing, before publish.  On
 * success release t with maildir_tmp_free() (after publish or abort).
 */
int maildir_tmp_create(const char *dir, struct maildir_tmp *t);
/* maildir_tmp_link - hard-link src's tmp file into dir/tmp/ (same fs) under
 * a new unique name; copies size/vsize; 0/-1. */
int maildir_tmp_link(const struct maildir_tmp *src, const char *dir, struct maildir_tmp *t);
/* maildir_tmp_publish - rename tmp/ file into new/ with the size suffixes; 0/-1. */
int maildir_tmp_publish(struct maildir_tmp *t);
/* maildir_tmp_paths - the malloc'd tmp/ path and new/ path of t, for a
 * caller that renames it itself (the group committer, commit.h); it sets
 * t->published once the rename is done. */
void maildir_tmp_paths(const struct maildir_tmp *t, char **from_r, char **to_r);
/* maildir_tmp_abort - unlink the file: from tmp/, or from new/ if it was
 * published (a delivery that failed after part of it was published). */
void maildir_tmp_abort(struct maildir_tmp *t);
void maildir_tmp_free(struct maildir_tmp *t);

/* maildir_unique - write a unique name "<sec>.M<usec>P<pid>Q<n>R<rand>.<host>"
 * ('/' ':' ',' in host escaped as \057 \072 \054; host cut so that the
 * name is at most 70 characters, the POP3 UIDL limit); out >= 128. */
void maildir_unique(char *out, size_t outsz);

/* maildir_clean_tmp - remove tmp/ files older than 36 hours. */
void maildir_clean_tmp(const char *dir);

/* Quota (Maildir++ maildirsize file in the root). */
/* maildir_quota_usage - bytes and messages in use (recalculated when the
 * file is missing or large). 0/-1. */
int maildir_quota_usage(const char *dir, uint64_t *bytes_r, uint64_t *count_r);
/* maildir_quota_refresh - recount from the files when maildirsize is older
 * than max_age seconds (the Maildir++ rule for a mailbox that looks full:
 * files removed behind our back leave stale lines).  0/-1. */
int maildir_quota_refresh(const char *dir, time_t max_age);
/* maildir_quota_add - append a "bytes count" line (negative to remove);
 * does nothing (0) if maildirsize does not exist yet. */
int maildir_quota_add(const char *dir, int64_t bytes, int64_t count);
/* maildir_quota_set - write the definition line "<limit>S" (0 = none) and a
 * freshly recalculated usage. 0/-1. */
int maildir_quota_set(const char *dir, uint64_t limit_bytes);

/* maildir_name_sizes - parse ",S=" and ",W=" from a file name (before any
 * ':'); 0 if both found.  A missing one is set to 0. */
int maildir_name_sizes(const char *name, uint64_t *size_r, uint64_t *vsize_r);

#endif
