/*
 * http.h - a small blocking HTTP GET over libcurl for the intensity providers.
 * libcurl is not linked: it is loaded (dlopen) on the first request, so a
 * tracked program that never asks the network does not map it.
 *
 * Only ever called from the intensity fetch thread or the planner (never from
 * the training thread). Every request has a connect and a total timeout, a cap
 * on the body size, only http/https, no redirects, and can be aborted from
 * another thread within ~10 ms by setting *abort_flag to non-zero.
 *
 * Timeouts: connect 3 s, total 8 s by default; env CT_HTTP_TIMEOUT_MS sets the
 * total (and caps the connect timeout), for tests and slow links.
 *
 * Secrets: header values are never copied into error messages; callers keep
 * API keys out of URLs.
 */
#ifndef CT_INTENSITY_HTTP_H
#define CT_INTENSITY_HTTP_H

#include <stdatomic.h>
#include <stddef.h>

#define CT__HTTP_MAX_BODY (4u * 1024u * 1024u) /* bytes */

typedef struct ct__http_response {
    long status; /* HTTP status, 0 when no response */
    char *body;  /* NUL-terminated, malloc'd; NULL when none */
    size_t len;  /* bytes in body */
} ct__http_response;

/* GET url with extra headers (NULL-terminated list of "Name: value", may be
 * NULL). Returns 0 when a complete response arrived (any status; check
 * resp->status), CT_ENETWORK (connection, timeout, size cap, aborted) or
 * CT_ENOTSUP (built without libcurl), with a reason in why. The caller frees
 * the response with ct__http_response_free. abort_flag may be NULL. */
int ct__http_get(const char *url, char *const *headers, const atomic_int *abort_flag, ct__http_response *resp,
                 char *why, size_t whylen);
#define CT__HTTP_MAX_HEADERS 8

/* Loads libcurl.so.4 on the first call (dlopen; env CT_CURL_LIBRARY names
 * another file). 1 when it is usable; else 0 with the reason in why ("live
 * intensity needs libcurl.so.4 (apt install libcurl4)"). Any thread. */
int ct__http_available(char *why, size_t whylen);
void ct__http_response_free(ct__http_response *resp);

/* Effective timeouts in ms (env CT_HTTP_TIMEOUT_MS applied). */
void ct__http_timeouts(long *connect_ms, long *total_ms);

/* Percent-encodes s (RFC 3986 unreserved kept) into buf; CT_EINVAL if it does not fit. */
int ct__url_escape(const char *s, char *buf, size_t len);

#endif
