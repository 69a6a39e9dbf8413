/*
 * daemon.h — `m2mguard serve`: start-up, the main loop, reloads, shutdown.
 */
#ifndef M2MG_DAEMON_H
#define M2MG_DAEMON_H

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int daemon_serve(const char *config_path, int verbose);

#endif
