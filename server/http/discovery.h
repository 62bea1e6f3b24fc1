/*
 * discovery - the parts of the discovery endpoints that read client input
 * (pure, fuzzed by tests/fuzz/fuzz-discovery.c).
 */
#ifndef ONEBOX_DISCOVERY_H
#define ONEBOX_DISCOVERY_H

#include <stddef.h>

/*
 * discovery_pox_email - the text of the first EMailAddress element of an
 * Outlook Autodiscover (POX) request body, any namespace prefix, with the
 * white space around it trimmed, into out (NUL-terminated).  Returns 0, or
 * -1 when there is none, it is empty, longer than outsz - 1, or holds a
 * '<', '&' or control character (no entities are decoded: an address
 * needs none).
 */
int discovery_pox_email(const char *body, size_t len, char *out, size_t outsz);

#endif
