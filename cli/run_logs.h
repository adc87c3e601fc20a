/* run_logs.h - the JSON Lines logs of runs, as `carbontracker exporter`
 * (metrics.c) and `carbontracker parse --job` (job.c) read them: one run's
 * log summed as far as it is written, and the SLURM plugin's attribution
 * beside it. Public API only. */
#ifndef CT_CLI_RUN_LOGS_H
#define CT_CLI_RUN_LOGS_H

#include "carbontracker.h"

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define CT_JSONL_SUFFIX "_carbontracker.jsonl"

/* One run's JSON Lines log, summed as far as it is written (complete lines only). */
typedef struct ct_jsonl_run {
    char path[1024];
    char run_id[256]; /* file name without _carbontracker.jsonl */
    char host[128], job_id[64];
    int rank;                        /* -1 when none */
    double start_unix_s, end_unix_s; /* header start; end of the last epoch or final record; NaN unknown */
    double pue;                      /* from the header; NaN unknown */
    dev_t dev;
    ino_t ino;
    off_t offset; /* after the last complete line read */
    int seen;     /* found in this scan */
    int has_header;
    int epochs;
    double duration_s;                   /* s, summed over epochs */
    double energy_j[CT_COMPONENT_COUNT]; /* J without PUE, summed over epochs */
    int has_component[CT_COMPONENT_COUNT];
    int estimated[CT_COMPONENT_COUNT];
    double co2eq_g; /* g, with PUE */
    int has_prediction;
    double predicted_j, predicted_co2eq_g;
    int finished;   /* the final record was written */
    int attributed; /* BASE_attribution.json beside the log (SLURM plugin): the step's share of the node */
    double share, cpu_j_attributed; /* CPU-time share 0..1, share x node-level CPU energy (J) */
} ct_jsonl_run;

/* 1 when a file name is a JSON Lines log's (ends with CT_JSONL_SUFFIX). */
int ct_jsonl_log_name(const char *name);
/* Empties r and sets its path and run id (the file name without the suffix). */
void ct_jsonl_run_start(ct_jsonl_run *r, const char *path);
/* Empties r's numbers, keeping its path and run id. */
void ct_jsonl_run_reset(ct_jsonl_run *r);
/* Reads the lines added to r's file since the last call (st: its stat now;
 * r->dev, r->ino: the file read so far). *scratch, *scratch_cap: a buffer the
 * caller keeps between calls and frees. */
void ct_jsonl_run_update(ct_jsonl_run *r, const struct stat *st, char **scratch, size_t *scratch_cap);
/* Reads one JSON Lines log. Returns 0, CT_EIO (unreadable) or CT_EPARSE (no header). */
int ct_jsonl_run_read(const char *path, ct_jsonl_run *out);
/* Reads the SLURM plugin's BASE_attribution.json beside r->path into r (attributed, share,
 * cpu_j_attributed). Returns 0, CT_ENODATA (none), CT_EPARSE. */
int ct_attribution_read(ct_jsonl_run *r);

#endif
