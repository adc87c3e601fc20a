/* output.h - the log files: internal to src/output/ (the tracker talks to
 * the reporter, output/reporter.h). */
#ifndef CT_OUTPUT_H
#define CT_OUTPUT_H

#include "output/format.h"

#include <limits.h>
#include <pthread.h>
#include <sys/types.h>

/* The original's three text logs plus our JSON Lines file. All writes are
 * serialised by `mu` (the measurement thread and the training thread both log). */
typedef struct ct__logfiles {
    pthread_mutex_t mu;
    int enabled;
    FILE *std, *out, *err;
    int jsonl;        /* descriptor of the JSON Lines file, -1 when none */
    off_t jsonl_size; /* bytes of whole records written */
    /* Records that could not be written (full disk): kept out until a write
     * succeeds again, then one "gap" record says what is missing. */
    int jsonl_failing; /* the last write failed */
    int jsonl_newline; /* a cut record could not be removed: start the next on a fresh line */
    int jsonl_errno;   /* why */
    long long lost_records;
    double lost_from, lost_to; /* Unix s of the first and last record lost */
    int *lost_epochs, nlost_epochs, cap_lost_epochs;
    int lost_epochs_incomplete; /* out of memory listing them */
    char base[PATH_MAX];        /* dir/prefix_pid.rand_time */
    char std_path[PATH_MAX], out_path[PATH_MAX], err_path[PATH_MAX], jsonl_path[PATH_MAX];
} ct__logfiles;

/* Creates log_dir if needed and opens the files. On failure (unwritable
 * directory, ...) returns CT_EIO with the reason in msg; lf stays usable
 * (disabled) so that training is never affected. */
int ct__logfiles_open(ct__logfiles *lf, const char *dir, const char *prefix, double unix_s, char *msg, size_t len);
/* The same with the seed of the random part of the names given (tests: a
 * name planted where the first try lands). */
int ct__logfiles_open_seeded(ct__logfiles *lf, const char *dir, const char *prefix, double unix_s, unsigned seed,
                             char *msg, size_t len);
void ct__logfiles_close(ct__logfiles *lf);
/* One record to the standard log, "YYYY-MM-DD HH:MM:SS - <text>\n". */
void ct__log_std(ct__logfiles *lf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One record to the output log (what is printed on the console), with the
 * console's "CarbonTracker: " prefix as the original writes it. */
void ct__log_out(ct__logfiles *lf, const char *text);
/* One record to the error log (created on first use) and the standard log. */
void ct__log_err(ct__logfiles *lf, const char *text);

/* One JSON Lines record (rec, ending in its newline) in one write(2). epoch:
 * the epoch number of an epoch record, 0 otherwise. `now` is the record's
 * Unix time. A record that cannot be written is left out whole (a cut one
 * is truncated away) and counted; the next write that succeeds is preceded
 * by a "gap" record. Returns CT__JSONL_WRITTEN, CT__JSONL_OFF (no file),
 * CT__JSONL_LOST_FIRST (this write failed after one that succeeded: tell
 * the user) or CT__JSONL_LOST; *err gets errno of a failure. */
enum { CT__JSONL_WRITTEN = 0, CT__JSONL_OFF = 1, CT__JSONL_LOST_FIRST = 2, CT__JSONL_LOST = 3 };
int ct__jsonl_write(ct__logfiles *lf, const char *rec, size_t len, int epoch, double now, int *err);
/* rec NULL: the record could not be formatted (out of memory); it counts as lost. */

/* "YYYY-MM-DD HH:MM:SS" in local time, as Python's logging writes it. */
void ct__format_log_time(double unix_s, char *buf, size_t len);

/* records.c: the "gap" record (without newline) into b. */
void ct__record_gap(ct__buf *b, const ct__logfiles *lf, double now);

#endif
