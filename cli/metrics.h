/* metrics.h - Prometheus text exposition of a node's counters and of the runs
 * logged on it (issue 13; the logs are read by run_logs.c). Used by
 * `carbontracker exporter` and its bench. Public API only. Metric names:
 * docs/cluster.md. */
#ifndef CT_CLI_METRICS_H
#define CT_CLI_METRICS_H

#include "carbontracker.h"
#include "run_logs.h"

#include <stddef.h>
#include <sys/types.h>

/* A growable text buffer. */
typedef struct ct_sbuf {
    char *s;
    size_t len, cap;
    int oom; /* 1 after an allocation failed (the text is then truncated) */
} ct_sbuf;

void ct_sbuf_reset(ct_sbuf *b);
void ct_sbuf_free(ct_sbuf *b);
void ct_sbuf_add(ct_sbuf *b, const char *s, size_t n);
void ct_sbuf_printf(ct_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s escaped as a Prometheus label value (\\, \" and \n). */
void ct_sbuf_label(ct_sbuf *b, const char *s);

typedef struct ct_metrics ct_metrics;

/* t: the node's tracker (may be NULL: runs only; borrowed, must outlive m).
 * run_dirs: directories holding JSON Lines logs of runs on this node, read with
 * their subdirectories one level down (DIR/JOBID/ as the SLURM plugin writes).
 * host: the host label. Returns NULL when out of memory. */
ct_metrics *ct_metrics_new(ct_tracker *t, const char *const *run_dirs, int nrun_dirs, const char *host);
void ct_metrics_free(ct_metrics *m);

/* Renders every metric into out (reset first). Rescans the run directories
 * (new lines of known files are read incrementally; unchanged files cost a
 * stat). Thread-safe (one internal lock). Returns 0 or CT_ENOMEM. */
int ct_metrics_render(ct_metrics *m, ct_sbuf *out);

/* Runs whose log was last written more than max_age_s ago are left out (0 = keep all, the default):
 * a site directory keeps every job's logs, a scrape needs only the recent ones. */
void ct_metrics_set_max_age(ct_metrics *m, double max_age_s);

/* Number of runs known after the last render. */
int ct_metrics_run_count(ct_metrics *m);

#endif
