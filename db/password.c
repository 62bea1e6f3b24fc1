/*
 * password - password hashes (yescrypt, "$y$", through libxcrypt), the same
 * scheme as /etc/shadow on Debian 12.
 *
 * crypt_ra allocates its own scratch area, so this is thread safe.  The
 * comparison runs over the whole hash whatever the input, so its time does
 * not tell how much of a guess matched.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"

char *
db_hash_password(const char *password)
{
	char *salt, *h, *out = NULL;
	void *data = NULL;
	int size = 0;

	if ((salt = crypt_gensalt_ra("$y$", 0, NULL, 0)) == NULL)
		return NULL;
	h = crypt_ra(password, salt, &data, &size);
	if (h != NULL && h[0] == '$')
		out = xstrdup(h);
	if (data) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	free(salt);
	return out;
}

static int
ct_equal(const char *a, const char *b, size_t n)
{
	volatile unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

int
db_check_password(const char *password, const char *hash)
{
	void *data = NULL;
	int size = 0, ok = 0;
	char *h;

	/* "" (PAM users), "!..." and "*..." (locked) never match */
	if (hash == NULL || hash[0] != '$')
		return 0;
	h = crypt_ra(password, hash, &data, &size);
	if (h != NULL && h[0] == '$' && strlen(h) == strlen(hash))
		ok = ct_equal(h, hash, strlen(hash));
	if (data) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	return ok;
}
