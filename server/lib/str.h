/*
 * str - small string helpers (glibc 2.36 lacks strlcpy).
 */
#ifndef ONEBOX_STR_H
#define ONEBOX_STR_H

#include <stddef.h>
#include <stdint.h>

size_t str_lcpy(char *dst, const char *src, size_t size);
/* str_lower - ASCII lower-case in place; returns s. */
char *str_lower(char *s);
/* str_trim - strip ASCII white space at both ends, in place; returns start. */
char *str_trim(char *s);
int str_casecmp_prefix(const char *s, const char *prefix);	/* 1 if s starts with prefix, any case */
/* str_to_u64 - whole-string decimal parse; 0 or -1. */
int str_to_u64(const char *s, uint64_t *num_r);
/* str_size_parse - "10M", "512k", "2G", "1T", "1234" -> bytes; 0 or -1. */
int str_size_parse(const char *s, uint64_t *num_r);
/* str_size_format - bytes as "25M", "1G", "512K" when exact (binary units
 * up to T, what str_size_parse reads back), else digits. */
void str_size_format(uint64_t v, char *out, size_t size);
/* str_random_hex - fill out with 2*n hex digits of random data + '\0'. */
void str_random_hex(char *out, size_t n);

#endif
