/* intensity_mock.h - starts tests/mock_intensity_server.py for a test and
 * points the CT_*_URL variables at it (issue 4). */
#ifndef CT_TEST_INTENSITY_MOCK_H
#define CT_TEST_INTENSITY_MOCK_H

#include <sys/types.h>

typedef struct im_server {
    pid_t pid;
    int stdin_fd; /* closing it stops the server */
    int port;
    char base[64]; /* "http://127.0.0.1:PORT" */
} im_server;

/* Starts the server (python from env CT_PYTHON, else python3) and sets
 * CT_ELECTRICITYMAPS_URL, CT_UKGRID_URL, CT_ENERGIDATA_URL, CT_IPINFO_URL to it.
 * Returns 0 or -1. */
int im_start(im_server *s);
/* Switches the scripted case (see the server's docstring). */
int im_case(im_server *s, const char *name);
/* GET path on the server; malloc'd body or NULL. */
char *im_get(im_server *s, const char *path);
/* Number of service requests logged since the last reset (control calls excluded). */
int im_requests(im_server *s);
void im_reset(im_server *s);
void im_stop(im_server *s);
/* Unsets every location, key and network variable the library reads (so a test
 * sees only what it sets) and points XDG_CONFIG_HOME at nowhere (no default key). */
void im_clear_location_env(void);

#endif
