/*
 * maildir - Maildir++ storage: paths, two-phase delivery, tmp/ cleaning.
 *
 * Why two phases: the caller (delivery) batches the fsyncs of many messages
 * (group commit), so creating, linking and publishing are separate steps and
 * none of them syncs by itself.  Quota accounting is in maildir-quota.c.
 */
#include "maildir.h"
#include "buf.h"
#include "log.h"
#include "str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAILDIR_TMP_MAX_AGE	(36 * 3600)
#define MAILDIR_UNIQUE_TRIES	10
#define MAILDIR_UNIQUE_MAX	70

static atomic_uint maildir_counter;

/* A local part or domain usable as one path component. */
static int
maildir_component_ok(const char *s)
{
	if (s == NULL || *s == '\0' || *s == '.')
		return 0;	/* also rejects "." and ".." */
	if (strchr(s, '/') != NULL)
		return 0;
	return 1;
}

char *
maildir_path(const char *data_dir, const char *localpart, const char *domain)
{
	char *lp, *dom, *path;

	if (!maildir_component_ok(localpart) || !maildir_component_ok(domain))
		return NULL;
	lp = str_lower(xstrdup(localpart));
	dom = str_lower(xstrdup(domain));
	path = xasprintf("%s/mail/%s/%s", data_dir, dom, lp);
	free(lp);
	free(dom);
	return path;
}

static int
mkdir_one(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* mkdir_p - create path and its missing parents, mode 0700. */
static int
mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir_one(p) == -1)
			ret = -1;
		*s = '/';
		if (ret == -1)
			break;
	}
	if (ret == 0)
		ret = mkdir_one(p);
	free(p);
	return ret;
}

int
maildir_create(const char *dir)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	struct stat st;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir_p(dir) == -1)
			return -1;
	} else if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		char *p = xasprintf("%s/%s", dir, sub[i]);
		int r = mkdir_one(p);
		free(p);
		if (r == -1)
			return -1;
	}
	return 0;
}

void
maildir_unique(char *out, size_t outsz)
{
	static char host[256];
	struct timeval tv;
	char rnd[9];
	char h[128];
	size_t j = 0;

	if (host[0] == '\0' && gethostname(host, sizeof(host) - 1) == -1)
		str_lcpy(host, "localhost", sizeof(host));
	/* '/' ':' and ',' would break the path or the name's syntax. */
	for (size_t i = 0; host[i] != '\0' && j + 5 < sizeof(h); i++) {
		const char *rep = NULL;
		switch (host[i]) {
		case '/': rep = "\\057"; break;
		case ':': rep = "\\072"; break;
		case ',': rep = "\\054"; break;
		}
		if (rep != NULL) {
			memcpy(h + j, rep, 4);
			j += 4;
		} else
			h[j++] = host[i];
	}
	h[j] = '\0';
	gettimeofday(&tv, NULL);
	str_random_hex(rnd, 4);
	int n = snprintf(out, outsz, "%lld.M%ldP%ldQ%uR%s.",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    atomic_fetch_add(&maildir_counter, 1) + 1, rnd);
	/* The name is the POP3 UIDL, at most 70 characters (RFC 1939). */
	if (n > 0 && (size_t)n < outsz && n < MAILDIR_UNIQUE_MAX)
		snprintf(out + n, outsz - (size_t)n, "%.*s",
		    MAILDIR_UNIQUE_MAX - n, h);
}

static char *
maildir_tmp_path(const char *dir, const char *unique)
{
	return xasprintf("%s/tmp/%s", dir, unique);
}

int
maildir_tmp_create(const char *dir, struct maildir_tmp *t)
{
	char unique[256];

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < MAILDIR_UNIQUE_TRIES; i++) {
		maildir_unique(unique, sizeof(unique));
		char *path = maildir_tmp_path(dir, unique);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		free(path);
		if (fd != -1) {
			t->dir = xstrdup(dir);
			t->unique = xstrdup(unique);
			return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
maildir_tmp_link(const struct maildir_tmp *src, const char *dir,
    struct maildir_tmp *t)
{
	char unique[256];
	char *from = maildir_tmp_path(src->dir, src->unique);

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < MAILDIR_UNIQUE_TRIES; i++) {
		maildir_unique(unique, sizeof(unique));
		char *to = maildir_tmp_path(dir, unique);
		int r = link(from, to);
		free(to);
		if (r == 0) {
			free(from);
			t->dir = xstrdup(dir);
			t->unique = xstrdup(unique);
			t->size = src->size;
			t->vsize = src->vsize;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	free(from);
	return -1;
}

static char *
maildir_new_path(const struct maildir_tmp *t)
{
	return xasprintf("%s/new/%s,S=%llu,W=%llu", t->dir, t->unique,
	    (unsigned long long)t->size, (unsigned long long)t->vsize);
}

void
maildir_tmp_paths(const struct maildir_tmp *t, char **from_r, char **to_r)
{
	*from_r = maildir_tmp_path(t->dir, t->unique);
	*to_r = maildir_new_path(t);
}

int
maildir_tmp_publish(struct maildir_tmp *t)
{
	char *from, *to;
	int r;

	maildir_tmp_paths(t, &from, &to);
	r = rename(from, to);

	if (r == 0)
		t->published = 1;
	free(from);
	free(to);
	return r == 0 ? 0 : -1;
}

void
maildir_tmp_abort(struct maildir_tmp *t)
{
	if (t->dir == NULL || t->unique == NULL)
		return;
	/* A published file is taken back too: its sender gets a 4xx and sends
	 * the message again, which must not leave a second copy. */
	char *path = t->published ? maildir_new_path(t) : maildir_tmp_path(t->dir, t->unique);
	t->published = 0;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("maildir: unlink %s", path);
	free(path);
}

void
maildir_tmp_free(struct maildir_tmp *t)
{
	free(t->dir);
	free(t->unique);
	memset(t, 0, sizeof(*t));
}

void
maildir_clean_tmp(const char *dir)
{
	char *tmp = xasprintf("%s/tmp", dir);
	DIR *d = opendir(tmp);
	struct dirent *de;
	time_t limit = time(NULL) - MAILDIR_TMP_MAX_AGE;

	if (d == NULL) {
		if (errno != ENOENT)
			log_warn("maildir: opendir %s", tmp);
		free(tmp);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (!S_ISREG(st.st_mode) || st.st_mtime >= limit)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1 && errno != ENOENT)
			log_warn("maildir: unlink %s/%s", tmp, de->d_name);
		else
			log_info("maildir: removed stale %s/%s", tmp, de->d_name);
	}
	closedir(d);
	free(tmp);
}

/* Find "," key "=" digits in the name part before ':'; 0 if found. */
static int
name_size_field(const char *name, char key, uint64_t *v_r)
{
	const char *end = strchr(name, ':');
	size_t len = end ? (size_t)(end - name) : strlen(name);

	for (size_t i = 0; i + 3 <= len; i++) {
		if (name[i] != ',' || name[i + 1] != key || name[i + 2] != '=')
			continue;
		uint64_t v = 0;
		size_t j = i + 3, start = j;
		while (j < len && name[j] >= '0' && name[j] <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (uint64_t)(name[j] - '0');
			j++;
		}
		if (j == start || (j < len && name[j] != ','))
			continue;
		*v_r = v;
		return 0;
	}
	return -1;
}

int
maildir_name_sizes(const char *name, uint64_t *size_r, uint64_t *vsize_r)
{
	int rs, rw;

	*size_r = 0;
	*vsize_r = 0;
	rs = name_size_field(name, 'S', size_r);
	rw = name_size_field(name, 'W', vsize_r);
	return rs == 0 && rw == 0 ? 0 : -1;
}

/*
 * Quota: the Maildir++ "maildirsize" file in the root.  Line 1 is the
 * quota definition ("<bytes>S", "0S" = no limit known here: the limits
 * live in the config database), then "<bytes> <count>" lines, appended
 * with O_APPEND in one write(2) each so concurrent writers never mix.
 * The sum of the lines is the usage.  When the file is missing, unparsable,
 * negative or grown past MAILDIRSIZE_MAX, it is recalculated from the
 * file names and replaced atomically (write in tmp/, rename).
 */
#define MAILDIRSIZE_MAX	5120

/* Add the sizes of the messages in one folder's new/ and cur/. */
static void
quota_scan_folder(const char *folder, uint64_t *bytes, uint64_t *count)
{
	static const char *const sub[] = { "new", "cur" };

	for (size_t i = 0; i < 2; i++) {
		char *path = xasprintf("%s/%s", folder, sub[i]);
		DIR *d = opendir(path);
		struct dirent *de;
		free(path);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			uint64_t s;
			struct stat st;
			if (de->d_name[0] == '.')
				continue;
			if (name_size_field(de->d_name, 'S', &s) == -1) {
				if (fstatat(dirfd(d), de->d_name, &st, 0) == -1 ||
				    !S_ISREG(st.st_mode))
					continue;
				s = (uint64_t)st.st_size;
			}
			*bytes += s;
			(*count)++;
		}
		closedir(d);
	}
}

static void
quota_scan(const char *dir, uint64_t *bytes_r, uint64_t *count_r)
{
	DIR *d;
	struct dirent *de;

	*bytes_r = *count_r = 0;
	quota_scan_folder(dir, bytes_r, count_r);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		char *sub = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			quota_scan_folder(sub, bytes_r, count_r);
		free(sub);
	}
	closedir(d);
}

/* Replace maildirsize with "def" and one usage line; 0/-1. */
static int
quota_write(const char *dir, const char *def, uint64_t bytes, uint64_t count)
{
	struct maildir_tmp t;
	struct buf b = BUF_INIT;
	int fd, ret = -1;

	if ((fd = maildir_tmp_create(dir, &t)) == -1)
		return -1;
	buf_printf(&b, "%s\n%llu %llu\n", def, (unsigned long long)bytes,
	    (unsigned long long)count);
	if (write(fd, b.data, b.len) == (ssize_t)b.len) {
		char *from = maildir_tmp_path(dir, t.unique);
		char *to = xasprintf("%s/maildirsize", dir);
		ret = rename(from, to);
		free(from);
		free(to);
	}
	close(fd);
	if (ret == -1)
		maildir_tmp_abort(&t);
	maildir_tmp_free(&t);
	buf_free(&b);
	return ret;
}

/*
 * Parse maildirsize; 0 and the sums, or -1 if it must be recalculated.
 * def_r gets the definition line (caller frees) whenever one was read.
 */
static int
quota_read(const char *dir, char **def_r, int64_t *bytes_r, int64_t *count_r)
{
	char data[MAILDIRSIZE_MAX + 2];
	char *path = xasprintf("%s/maildirsize", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	free(path);
	*def_r = NULL;
	*bytes_r = *count_r = 0;
	if (fd == -1)
		return -1;
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	data[n] = '\0';
	char *nl = strchr(data, '\n');
	if (nl == NULL)
		return -1;
	*nl = '\0';
	*def_r = xstrdup(str_trim(data));
	if (n > MAILDIRSIZE_MAX)
		return -1;
	for (char *line = nl + 1; *line != '\0'; ) {
		long long b, c;
		char *end = strchr(line, '\n');
		if (end == NULL)
			break;	/* partial line: ignore */
		*end = '\0';
		if (sscanf(line, "%lld %lld", &b, &c) == 2) {
			*bytes_r += b;
			*count_r += c;
		}
		line = end + 1;
	}
	return *bytes_r < 0 || *count_r < 0 ? -1 : 0;
}

int
maildir_quota_usage(const char *dir, uint64_t *bytes_r, uint64_t *count_r)
{
	char *def;
	int64_t b, c;

	if (quota_read(dir, &def, &b, &c) == 0) {
		*bytes_r = (uint64_t)b;
		*count_r = (uint64_t)c;
		free(def);
		return 0;
	}
	quota_scan(dir, bytes_r, count_r);
	int r = quota_write(dir, def != NULL ? def : "0S", *bytes_r, *count_r);
	if (r == -1)
		log_warn("maildir: rewrite %s/maildirsize", dir);
	free(def);
	return 0;
}

int
maildir_quota_refresh(const char *dir, time_t max_age)
{
	char *path = xasprintf("%s/maildirsize", dir), *def = NULL;
	struct stat st;
	int64_t b, c;
	uint64_t bytes, count;
	int r = 0;

	if (stat(path, &st) == 0 && time(NULL) - st.st_mtime > max_age) {
		if (quota_read(dir, &def, &b, &c) < 0 && def == NULL)
			def = xstrdup("0S");
		quota_scan(dir, &bytes, &count);
		r = quota_write(dir, def ? def : "0S", bytes, count);
	}
	free(def);
	free(path);
	return r;
}

int
maildir_quota_set(const char *dir, uint64_t limit_bytes)
{
	uint64_t b, c;
	char def[32];

	snprintf(def, sizeof(def), "%lluS", (unsigned long long)limit_bytes);
	quota_scan(dir, &b, &c);
	return quota_write(dir, def, b, c);
}

int
maildir_quota_add(const char *dir, int64_t bytes, int64_t count)
{
	char line[64];
	char *path = xasprintf("%s/maildirsize", dir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	int n, ret = 0;

	free(path);
	if (fd == -1)	/* missing: the next usage check recalculates */
		return errno == ENOENT ? 0 : -1;
	n = snprintf(line, sizeof(line), "%lld %lld\n", (long long)bytes,
	    (long long)count);
	if (write(fd, line, (size_t)n) != n)
		ret = -1;
	close(fd);
	return ret;
}
