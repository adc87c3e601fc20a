/* metrics.h - Prometheus text exposition of a node's counters and of the runs
 * logged on it (issue 13). Used by `carbontracker exporter` and its bench.
 * Public API only. Metric names: docs/cluster.md. */
#ifndef CT_CLI_METRICS_H
#define CT_CLI_METRICS_H

#include "carbontracker.h"

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

/* One run's JSON Lines log, summed as far as it is written (complete lines only). */
typedef struct ct_jsonl_run {
    char path[1024];
    char run_id[256];        /* file name without _carbontracker.jsonl */
    char host[128], job_id[64];
    int rank;                /* -1 when none */
    double start_unix_s, end_unix_s; /* header start; end of the last epoch or final record; NaN unknown */
    double pue;              /* from the header; NaN unknown */
    dev_t dev;
    ino_t ino;
    off_t offset;            /* after the last complete line read */
    int seen;                /* found in this scan */
    int has_header;
    int epochs;
    double duration_s;       /* s, summed over epochs */
    double energy_j[CT_COMPONENT_COUNT]; /* J without PUE, summed over epochs */
    int has_component[CT_COMPONENT_COUNT];
    int estimated[CT_COMPONENT_COUNT];
    double co2eq_g;          /* g, with PUE */
    int has_prediction;
    double predicted_j, predicted_co2eq_g;
    int finished;            /* the final record was written */
    int attributed;          /* BASE_attribution.json beside the log (SLURM plugin): the step's share of the node */
    double share, cpu_j_attributed; /* CPU-time share 0..1, share x node-level CPU energy (J) */
} ct_jsonl_run;

/* Reads one JSON Lines log. Returns 0, CT_EIO (unreadable) or CT_EPARSE (no header). */
int ct_jsonl_run_read(const char *path, ct_jsonl_run *out);
/* Reads the SLURM plugin's BASE_attribution.json beside r->path into r (attributed, share,
 * cpu_j_attributed). Returns 0, CT_ENODATA (none), CT_EPARSE. */
int ct_attribution_read(ct_jsonl_run *r);

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
