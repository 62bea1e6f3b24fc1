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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* write_subscriptions - the first list: INBOX and the standard folders. */
static int
write_subscriptions(const char *root)
{
	char *path = xasprintf("%s/%s", root, SUBSCRIPTIONS_FILE);
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	int r = -1;

	if (f != NULL) {
		fputs("INBOX\n", f);
		for (const struct index_special_folder *sf = index_special_folders; sf->name; sf++)
			fprintf(f, "%s\n", sf->name);
		if (fflush(f) == 0 && fsync(fileno(f)) == 0 && fclose(f) == 0)
			r = rename(tmp, path);
		else
			fclose(f);
	}
	if (r < 0)
		log_warn("index: write %s", path);
	free(path);
	free(tmp);
	return r;
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
