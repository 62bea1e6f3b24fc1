/*
 * tls - OpenSSL server and client contexts: TLS 1.2 and newer only, modern ciphers,
 * and a self-signed certificate made at first start when none is set.
 */
#ifndef ONEBOX_TLS_H
#define ONEBOX_TLS_H

#include <openssl/ssl.h>

/* tls_server_ctx - a context serving cert (PEM chain) and key; NULL with
 * *error_r (malloc'd) on failure. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, char **error_r);
/* tls_client_ctx - a client context for opportunistic STARTTLS (RFC 3207
 * as MTAs use it: TLS 1.2+, the certificate not checked, since a failed
 * check would only fall back to plaintext); NULL with *error_r. */
SSL_CTX *tls_client_ctx(char **error_r);
/* tls_make_selfsigned - write a new EC P-256 key and a 10-year self-signed
 * certificate for hostname (CN and SAN) to certpath/keypath. 0/-1. */
int tls_make_selfsigned(const char *certpath, const char *keypath, const char *hostname, char **error_r);
/* tls_describe - "TLSv1.3 TLS_AES_256_GCM_SHA384" style text for Received:. */
void tls_describe(SSL *ssl, char *out, size_t outsz);
/* tls_last_error - malloc'd text of the OpenSSL error queue (cleared). */
char *tls_last_error(void);

#endif
