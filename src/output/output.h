/* output.h - log files and JSON Lines: internal to the library. */
#ifndef CT_OUTPUT_H
#define CT_OUTPUT_H

#include "output/format.h"

#include <limits.h>
#include <pthread.h>

/* The original's three text logs plus our JSON Lines file. All writes are
 * serialised by `mu` (the measurement thread and the training thread both log). */
typedef struct ct_logfiles {
    pthread_mutex_t mu;
    int enabled;
    FILE *std, *out, *err, *jsonl;
    char base[PATH_MAX]; /* dir/prefix_pid.rand_time */
    char std_path[PATH_MAX], out_path[PATH_MAX], err_path[PATH_MAX], jsonl_path[PATH_MAX];
} ct_logfiles;

/* Creates log_dir if needed and opens the files. On failure (unwritable
 * directory, ...) returns CT_EIO with the reason in msg; lf stays usable
 * (disabled) so that training is never affected. */
int ct__logfiles_open(ct_logfiles *lf, const char *dir, const char *prefix, double unix_s, char *msg, size_t len);
/* The same with the seed of the random part of the names given (tests: a
 * name planted where the first try lands). */
int ct__logfiles_open_seeded(ct_logfiles *lf, const char *dir, const char *prefix, double unix_s, unsigned seed,
                             char *msg, size_t len);
void ct__logfiles_close(ct_logfiles *lf);
/* One record to the standard log, "YYYY-MM-DD HH:MM:SS - <text>\n". */
void ct__log_std(ct_logfiles *lf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One record to the output log (what is printed on the console). */
void ct__log_out(ct_logfiles *lf, const char *text);
/* One record to the error log (created on first use) and the standard log. */
void ct__log_err(ct_logfiles *lf, const char *text);
/* Locks the JSON Lines file for one record; NULL when disabled. End with ct__jsonl_end (flushes). */
FILE *ct__jsonl_begin(ct_logfiles *lf);
void ct__jsonl_end(ct_logfiles *lf);

/* "YYYY-MM-DD HH:MM:SS" in local time, as Python's logging writes it. */
void ct__format_log_time(double unix_s, char *buf, size_t len);

#endif
