/*
 * index-folder - the folders of a Maildir++ root, as IMAP names them (see
 * index.h): the name <-> directory mapping and the standard folders every
 * user gets.
 *
 * Why names are escaped on disk: Maildir++ joins the levels of a folder
 * name with '.', so a '.' inside a level ("Dr. Who") would read back as
 * two levels.  A level's '.' is written "\2e" and its '\' "\5c" (as
 * Dovecot's listescape does), which keeps every IMAP name representable
 * and the mapping one-to-one.
 */
#include "index.h"
#include "maildir.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUBSCRIPTIONS_FILE	"subscriptions"
#define FOLDER_MARKER		"maildirfolder"	/* Maildir++: "this is a sub-folder" */

const struct index_special_folder index_special_folders[] = {
	{ "Drafts", "\\Drafts" },
	{ "Sent", "\\Sent" },
	{ "Trash", "\\Trash" },
	{ "Junk", "\\Junk" },
	{ "Archive", "\\Archive" },
	{ NULL, NULL },
};

int
index_folder_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > INDEX_FOLDER_NAME_MAX || name[0] == '/' || name[n - 1] == '/' || strstr(name, "//"))
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '%' || *p == '*')
			return 0;
	return 1;
}

int
index_folder_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

char *
index_folder_dir(const char *root, const char *name)
{
	struct buf b = BUF_INIT;

	if (index_folder_is_inbox(name))
		return xstrdup(root);
	if (!index_folder_name_valid(name))
		return NULL;
	buf_printf(&b, "%s/.", root);
	for (const char *p = name; *p; p++) {
		if (*p == '/')
			buf_addc(&b, '.');
		else if (*p == '.')
			buf_adds(&b, "\\2e");
		else if (*p == '\\')
			buf_adds(&b, "\\5c");
		else
			buf_addc(&b, *p);
	}
	return b.data;
}

/* folder_make - the folder's Maildir and its Maildir++ marker; 0/-1. */
int
index_folder_make(const char *dir)
{
	char *marker;
	int fd;

	if (maildir_create(dir) < 0)
		return -1;
	marker = xasprintf("%s/%s", dir, FOLDER_MARKER);
	fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(marker);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* write_names - replace the subscriptions file with names; 0/-1.  The
 * new list is written to a temporary file of its own (mkstemp), then
 * renamed over the old one: sessions writing at once (a mail program's
 * parallel first logins) each replace the file whole, none fails on a
 * temporary name another one renamed away. */
static int
write_names(const char *root, char *const *names, size_t n)
{
	char *path = xasprintf("%s/%s", root, SUBSCRIPTIONS_FILE);
	char *tmp = xasprintf("%s.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int r = -1;

	if (f == NULL && fd >= 0)
		close(fd);
	if (f != NULL) {
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s\n", names[i]);
		int ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
		if (fclose(f) == 0 && ok)
			r = rename(tmp, path);
	}
	if (r < 0) {
		log_warn("index: write %s", path);
		if (fd >= 0)
			unlink(tmp);
	}
	free(path);
	free(tmp);
	return r;
}

/* write_subscriptions - the first list: INBOX and the standard folders. */
static int
write_subscriptions(const char *root)
{
	char *names[8];
	size_t n = 0;

	names[n++] = "INBOX";
	for (const struct index_special_folder *sf = index_special_folders; sf->name; sf++)
		names[n++] = (char *)sf->name;
	return write_names(root, names, n);
}

int
index_folders_init(const char *root)
{
	char *subs = xasprintf("%s/%s", root, SUBSCRIPTIONS_FILE);
	struct stat st;
	int done = stat(subs, &st) == 0;

	free(subs);
	if (maildir_create(root) < 0) {
		log_warn("index: mkdir %s", root);
		return -1;
	}
	if (done)
		return 0;	/* not the first login: a deleted standard folder stays deleted */
	for (const struct index_special_folder *sf = index_special_folders; sf->name; sf++) {
		char *dir = index_folder_dir(root, sf->name);
		int r = index_folder_make(dir);
		if (r < 0)
			log_warn("index: mkdir %s", dir);
		free(dir);
		if (r < 0)
			return -1;
	}
	return write_subscriptions(root);
}

/* ---- listing ---- */

/* name_of_dir - the IMAP name of a sub-folder directory entry ("A.B" ->
 * "A/B"), or NULL if it is not one of ours (escapes that do not decode). */
static char *
name_of_dir(const char *ent)
{
	struct buf b = BUF_INIT;

	for (const char *p = ent; *p; p++) {
		if (*p == '.')
			buf_addc(&b, '/');
		else if (*p == '\\' && strncmp(p, "\\2e", 3) == 0) {
			buf_addc(&b, '.');
			p += 2;
		} else if (*p == '\\' && strncmp(p, "\\5c", 3) == 0) {
			buf_addc(&b, '\\');
			p += 2;
		} else
			buf_addc(&b, *p);
	}
	if (b.data == NULL || !index_folder_name_valid(b.data)) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

static int
folder_cmp(const void *pa, const void *pb)
{
	const struct index_folder *a = pa, *b = pb;

	if (index_folder_is_inbox(a->name) != index_folder_is_inbox(b->name))
		return index_folder_is_inbox(a->name) ? -1 : 1;
	return strcmp(a->name, b->name);
}

static const char *
special_use_of(const char *name)
{
	for (const struct index_special_folder *sf = index_special_folders; sf->name; sf++)
		if (strcmp(sf->name, name) == 0)
			return sf->use;
	return NULL;
}

/* mark_children - a folder has children if another name starts with its
 * name and '/' (quadratic, but a user has tens of folders, not thousands). */
static void
mark_children(struct index_folder *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(f[i].name);
		for (size_t j = 0; j < n; j++)
			if (j != i && strncmp(f[j].name, f[i].name, len) == 0 && f[j].name[len] == '/') {
				f[i].has_children = 1;
				break;
			}
	}
}

static void
folder_add(struct index_folder **f, size_t *n, size_t *cap, char *name)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*f = xrealloc(*f, *cap * sizeof(**f));
	}
	memset(&(*f)[*n], 0, sizeof(**f));
	(*f)[(*n)++].name = name;
}

int
index_folder_list(const char *root, struct index_folder **f_r, size_t *n_r)
{
	DIR *d = opendir(root);
	struct index_folder *f = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	*f_r = NULL;
	*n_r = 0;
	if (d == NULL)
		return -1;
	folder_add(&f, &n, &cap, xstrdup("INBOX"));
	while ((e = readdir(d)) != NULL) {
		char *name;
		/* ".." + anything is never a folder: index_folder_delete's trash */
		if (e->d_name[0] != '.' || e->d_name[1] == '.' || e->d_name[1] == '\0' ||
		    (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		if ((name = name_of_dir(e->d_name + 1)) != NULL)
			folder_add(&f, &n, &cap, name);
	}
	closedir(d);
	qsort(f, n, sizeof(*f), folder_cmp);
	mark_children(f, n);
	for (size_t i = 0; i < n; i++)
		f[i].special_use = special_use_of(f[i].name);
	*f_r = f;
	*n_r = n;
	return 0;
}

void
index_folders_free(struct index_folder *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].name);
	free(f);
}

/* ---- create, delete, rename ---- */

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* make_parents - every level above name (Maildir++ folders of their own,
 * so that no parent is a \Noselect that cannot hold mail). */
static int
make_parents(const char *root, const char *name)
{
	char *copy = xstrdup(name);
	int r = 0;

	for (char *slash = strchr(copy, '/'); slash && r == 0; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		char *dir = index_folder_dir(root, copy);
		if (dir == NULL || (!is_dir(dir) && index_folder_make(dir) < 0))
			r = -1;
		free(dir);
		*slash = '/';
	}
	free(copy);
	return r;
}

int
index_folder_create(const char *root, const char *name)
{
	char *dir;
	int r;

	if (index_folder_is_inbox(name)) {
		errno = EEXIST;
		return -1;
	}
	if ((dir = index_folder_dir(root, name)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (is_dir(dir)) {
		free(dir);
		errno = EEXIST;
		return -1;
	}
	r = make_parents(root, name) == 0 ? index_folder_make(dir) : -1;
	free(dir);
	return r;
}

static int
unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* folder_usage - bytes and messages in dir's cur/ and new/, from the names. */
static void
folder_usage(const char *dir, int64_t *bytes, int64_t *count)
{
	static const char *const sub[] = { "cur", "new" };

	for (size_t i = 0; i < 2; i++) {
		char *path = xasprintf("%s/%s", dir, sub[i]);
		DIR *d = opendir(path);
		struct dirent *e;
		free(path);
		while (d && (e = readdir(d)) != NULL) {
			uint64_t size, vsize;
			if (e->d_name[0] == '.')
				continue;
			maildir_name_sizes(e->d_name, &size, &vsize);
			*bytes += (int64_t)size;
			(*count)++;
		}
		if (d)
			closedir(d);
	}
}

/* has_children - 1 if a folder below name exists. */
static int
has_children(const char *root, const char *name)
{
	struct index_folder *f;
	size_t n, len = strlen(name);
	int r = 0;

	if (index_folder_list(root, &f, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !r; i++)
		r = strncmp(f[i].name, name, len) == 0 && f[i].name[len] == '/';
	index_folders_free(f, n);
	return r;
}

int
index_folder_delete(const char *root, const char *name)
{
	char unique[128], *dir, *trash;
	int64_t bytes = 0, count = 0;
	int r;

	if (index_folder_is_inbox(name)) {
		errno = EPERM;
		return -1;
	}
	if ((dir = index_folder_dir(root, name)) == NULL || !is_dir(dir)) {
		free(dir);
		errno = ENOENT;
		return -1;
	}
	if ((r = has_children(root, name)) != 0) {
		free(dir);
		errno = r > 0 ? ENOTEMPTY : EIO;
		return -1;
	}
	/* out of sight at once (one rename), then removed at leisure */
	maildir_unique(unique, sizeof(unique));
	trash = xasprintf("%s/..deleted-%s", root, unique);
	r = rename(dir, trash);
	if (r == 0) {
		folder_usage(trash, &bytes, &count);
		if (nftw(trash, unlink_one, 8, FTW_DEPTH | FTW_PHYS) < 0)
			log_warn("index: remove %s", trash);
		if (count > 0 && maildir_quota_add(root, -bytes, -count) < 0)
			log_warn("index: quota update in %s", root);
	}
	free(dir);
	free(trash);
	return r;
}

/* move_files - INBOX's messages into the folder dir (RENAME INBOX). */
static int
move_files(const char *root, const char *dir)
{
	static const char *const sub[] = { "cur", "new" };
	int r = 0;

	for (size_t i = 0; i < 2 && r == 0; i++) {
		char *path = xasprintf("%s/%s", root, sub[i]);
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && r == 0 && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char *from = xasprintf("%s/%s", path, e->d_name);
			char *to = xasprintf("%s/%s/%s", dir, sub[i], e->d_name);
			r = rename(from, to);
			free(from);
			free(to);
		}
		if (d)
			closedir(d);
		free(path);
	}
	return r;
}

/* rename_tree - from and every folder below it. */
static int
rename_tree(const char *root, const char *from, const char *to)
{
	struct index_folder *f;
	size_t n, len = strlen(from);
	int r = 0;

	if (index_folder_list(root, &f, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (strncmp(f[i].name, from, len) != 0 || (f[i].name[len] != '\0' && f[i].name[len] != '/'))
			continue;
		char *newname = xasprintf("%s%s", to, f[i].name + len);
		char *a = index_folder_dir(root, f[i].name), *b = index_folder_dir(root, newname);
		r = b == NULL ? (errno = EINVAL, -1) : rename(a, b);
		free(a);
		free(b);
		free(newname);
	}
	index_folders_free(f, n);
	return r;
}

int
index_folder_rename(const char *root, const char *from, const char *to)
{
	char *fdir = index_folder_dir(root, from), *tdir = index_folder_dir(root, to);
	int r = -1;

	if (fdir == NULL || tdir == NULL || index_folder_is_inbox(to))
		errno = tdir == NULL ? EINVAL : EEXIST;
	else if (!is_dir(fdir))
		errno = ENOENT;
	else if (is_dir(tdir))
		errno = EEXIST;
	else if (make_parents(root, to) == 0) {
		if (index_folder_is_inbox(from))
			r = index_folder_make(tdir) == 0 ? move_files(root, tdir) : -1;
		else
			r = rename_tree(root, from, to);
	}
	free(fdir);
	free(tdir);
	return r;
}

/* ---- subscriptions ---- */

int
index_subscriptions(const char *root, char ***names_r, size_t *n_r)
{
	char *path = xasprintf("%s/%s", root, SUBSCRIPTIONS_FILE);
	FILE *f = fopen(path, "re");
	char line[INDEX_FOLDER_NAME_MAX + 2];
	char **names = NULL;
	size_t n = 0;

	free(path);
	*names_r = NULL;
	*n_r = 0;
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (!index_folder_is_inbox(line) && !index_folder_name_valid(line))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(line);
	}
	fclose(f);
	*names_r = names;
	*n_r = n;
	return 0;
}

void
index_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
index_subscribe(const char *root, const char *name, int on)
{
	char **names;
	size_t n, w = 0;
	int found = 0, r;

	if (index_subscriptions(root, &names, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0) {
			found = 1;
			if (!on) {
				free(names[i]);
				continue;
			}
		}
		names[w++] = names[i];
	}
	if (on && !found) {
		names = xrealloc(names, (w + 1) * sizeof(*names));
		names[w++] = xstrdup(name);
	}
	r = found == on ? 0 : write_names(root, names, w);
	index_names_free(names, w);
	return r;
}

/* ---- keywords ---- */

#define KEYWORDS_FILE	"onebox-keywords"
#define KEYWORD_MAX	128

/* read_names - the lines of a file (missing: none); 0/-1. */
static int
read_names(const char *path, char ***names_r, size_t *n_r)
{
	FILE *f = fopen(path, "re");
	char line[KEYWORD_MAX + 2];
	char **names = NULL;
	size_t n = 0;

	*names_r = NULL;
	*n_r = 0;
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (n < INDEX_KEYWORDS_MAX && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(line);
	}
	fclose(f);
	*names_r = names;
	*n_r = n;
	return 0;
}

int
index_keywords(const char *root, char ***names_r, size_t *n_r)
{
	char *path = xasprintf("%s/%s", root, KEYWORDS_FILE);
	int r = read_names(path, names_r, n_r);

	free(path);
	return r;
}

int
index_keyword_add(const char *root, const char *name)
{
	char *path = xasprintf("%s/%s", root, KEYWORDS_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	char **names = NULL;
	size_t n = 0;
	int r = -1;

	if (strlen(name) > KEYWORD_MAX || strchr(name, '\n')) {
		errno = EINVAL;
		goto out;
	}
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || read_names(path, &names, &n) < 0)
		goto out;
	for (size_t i = 0; i < n && r < 0; i++)
		if (strcasecmp(names[i], name) == 0)
			r = (int)i;
	if (r < 0 && n >= INDEX_KEYWORDS_MAX)
		errno = ENOSPC;
	else if (r < 0) {
		char *line = xasprintf("%s\n", name);
		ssize_t len = (ssize_t)strlen(line);
		/* appended whole or not at all, then durable: letters on disk
		 * must never name a keyword that was not written */
		if (write(fd, line, (size_t)len) == len && fsync(fd) == 0)
			r = (int)n;
		free(line);
	}
out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	index_names_free(names, n);
	free(path);
	return r;
}
