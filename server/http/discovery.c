/*
 * discovery - how mail programs find their settings by themselves.
 */
#include "http.h"

const struct http_route discovery_routes[] = {
	{ NULL, 0, 0, 0, NULL }
};
