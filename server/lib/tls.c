/*
 * tls - OpenSSL glue for servers.
 */
#include "tls.h"
#include "buf.h"
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

char *
tls_last_error(void)
{
	struct buf b = BUF_INIT;
	unsigned long e;
	char tmp[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, tmp, sizeof(tmp));
		if (b.len)
			buf_adds(&b, "; ");
		buf_adds(&b, tmp);
	}
	if (b.len == 0)
		buf_adds(&b, "unknown TLS error");
	return b.data;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		*error_r = tls_last_error();
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!MD5:!DSS");
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char *e = tls_last_error();
		*error_r = xasprintf("%s / %s: %s", cert, key, e);
		free(e);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tls_client_ctx(char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		*error_r = tls_last_error();
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

static int
tls_write_pem(const char *path, int mode, int (*wr)(FILE *, void *), void *obj)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	FILE *fp = fdopen(fd, "w");
	if (fp == NULL) {
		close(fd);
		return -1;
	}
	int ok = wr(fp, obj);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		ok = 0;
	fclose(fp);
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
wr_key(FILE *fp, void *k)
{
	return PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
}

static int
wr_cert(FILE *fp, void *x)
{
	return PEM_write_X509(fp, x);
}

int
tls_make_selfsigned(const char *certpath, const char *keypath, const char *hostname, char **error_r)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int ret = -1;

	if (pkey == NULL || x == NULL)
		goto fail;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);
	char san[300];
	snprintf(san, sizeof(san), "DNS:%s", hostname);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (ext == NULL)
		goto fail;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(x, pkey, EVP_sha256()) == 0)
		goto fail;
	if (tls_write_pem(keypath, 0600, wr_key, pkey) < 0 ||
	    tls_write_pem(certpath, 0644, wr_cert, x) < 0) {
		*error_r = xasprintf("cannot write %s: %s", certpath, strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
fail:
	*error_r = tls_last_error();
out:
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ret;
}

void
tls_describe(SSL *ssl, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}
