/*
 * base.h - the floor every part of the library stands on: clocks, strings,
 * files, numbers, errors, JSON writing, ISO-8601 times and the pure energy
 * arithmetic. Includes nothing of the library but the public header.
 * Never installed.
 *
 * Naming: ct_ is public, ct__ is internal across files, static otherwise.
 * Layers (a file includes only its own layer and those below):
 *   base/       this floor
 *   sources/    energy sources behind ct_source_ops     (base)
 *   intensity/  carbon intensity, static tables, live    (base)
 *   output/     every channel the tracker writes to      (base)
 *   core/       options, ranks, tracker lifecycle, measurement thread,
 *               epochs, prediction                       (base, sources, intensity, output)
 *   results/    reading logs back: parse, aggregate, report (base, output)
 */
#ifndef CT_BASE_H
#define CT_BASE_H

#include "carbontracker.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CT__MSG_LEN 1024

/* ------------------------------------------------------------------ */
/* Small utilities (base/util.c)                                       */
/* ------------------------------------------------------------------ */
double ct__monotonic_s(void);      /* CLOCK_MONOTONIC, s */
double ct__unix_s(void);           /* CLOCK_REALTIME, s since the epoch */
char *ct__strdup(const char *s);   /* NULL -> NULL */
void ct__strlcpy(char *dst, const char *src, size_t len);
/* Reads a whole file (at most max-1 bytes; the rest is left unread) into a
 * NUL-terminated malloc'd buffer. Only a regular file is read (a FIFO or
 * device is refused without blocking). 0, CT_EIO or CT_ENOMEM with the
 * detail in ct_last_error_message(). */
int ct__read_file(const char *path, size_t max, char **out, size_t *outlen);
/* Opens a regular file for reading without ever blocking (O_NONBLOCK, then
 * fstat); nofollow refuses a symlink at the last component. Returns the fd
 * (O_NONBLOCK, which a regular file ignores) and its size, or CT_EIO/CT_EINVAL with detail. */
int ct__open_regular(const char *path, int nofollow, off_t *size);
/* Parses an unsigned decimal integer with overflow and garbage checks (trailing
 * whitespace allowed). Returns 0 or CT_EPARSE. */
int ct__parse_u64(const char *s, uint64_t *out);
/* Environment lookup returning NULL for unset or empty. */
const char *ct__getenv(const char *name);
/* printf into a message buffer (NULL or 0 length: nothing). */
void ct__msgf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Path join into buf; returns CT_EINVAL if it does not fit. */
int ct__path_join(char *buf, size_t len, const char *a, const char *b);

/* ------------------------------------------------------------------ */
/* Errors (base/errors.c)                                              */
/* ------------------------------------------------------------------ */
/* Records the detail of a failure for ct_last_error_message() in this
 * thread (printf format) and returns code, so `return ct__fail(CT_EIO, ...)`. */
int ct__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears this thread's detail (successful calls that promise it is empty). */
void ct__fail_clear(void);

/* ------------------------------------------------------------------ */
/* What a part gets from its owner: options and a notice sink          */
/* ------------------------------------------------------------------ */
/* What a source gets from the tracker. */
typedef struct ct_source_ctx {
    const ct_config *cfg;  /* validated options, strings owned by the tracker */
    /* Non-fatal notices (e.g. the RAPL permission fix, MIG, a lost GPU).
     * level: 0 = info (verbose 2), 1 = warning. Safe to call from any thread. */
    void (*notice)(void *user, int level, const char *msg);
    void *user;
} ct_source_ctx;

/* ------------------------------------------------------------------ */
/* Accounting arithmetic (base/accounting.c): pure, unit-tested         */
/* ------------------------------------------------------------------ */
/* Delta of a wrapping counter, in counter units. max_range is the value at
 * which it wraps (powercap max_energy_range_uj); 0 = unknown (no wrap). */
uint64_t ct__counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range);
/* Trapezoid area of power samples: (t1-t0) * (p0+p1)/2, J. */
double ct__trapezoid_j(double t0_s, double p0_w, double t1_s, double p1_w);
double ct__j_to_kwh(double joules);


/* Bounded, decimating series of power samples (memory does not grow). */
#define CT__SERIES_MAX 128
typedef struct ct_series {
    int n;           /* points stored */
    int stride;      /* raw samples per stored point */
    int pending;     /* raw samples accumulated in acc */
    double acc_t, acc_p[CT_COMPONENT_COUNT];
    double t[CT__SERIES_MAX];                     /* s since tracker start */
    double p[CT__SERIES_MAX][CT_COMPONENT_COUNT]; /* W */
} ct_series;
void ct__series_reset(ct_series *s);
void ct__series_add(ct_series *s, double t_s, const double p_w[CT_COMPONENT_COUNT]);

/* ------------------------------------------------------------------ */
/* JSON writing (base/json.c)                                          */
/* ------------------------------------------------------------------ */
/* JSON string escaping into a FILE (quotes included). */
void ct__json_string(FILE *f, const char *s);
/* A finite double as JSON (null for NaN/inf). */
void ct__json_number(FILE *f, double v);

/* ------------------------------------------------------------------ */
/* ISO 8601 times (base/time.c)                                        */
/* ------------------------------------------------------------------ */
/* Parses "YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+hh:mm]" to Unix s; 0 or CT_EPARSE. */
int ct__parse_iso8601(const char *s, double *unix_s);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
void ct__format_iso8601(double unix_s, char *buf, size_t len);
/* "YYYY-MM-DDTHH:MMZ" (UTC). */
void ct__format_iso8601_minutes(double unix_s, char *buf, size_t len);

#endif /* CT_BASE_H */
