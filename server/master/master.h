/*
 * master - the root process: config, listeners, TLS, and the supervision
 * of the service processes.  It parses no network input.
 */
#ifndef ONEBOX_MASTER_H
#define ONEBOX_MASTER_H

/* master_run - run the daemon with the config at path; returns the exit status. */
int master_run(const char *path);

#endif
