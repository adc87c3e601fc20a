/*
 * reporter.h - the one writer of everything the tracker tells: the console
 * (stdout, the status line on stderr), the original's three text logs and
 * the JSON Lines log. It receives plain values (a run header, an epoch, a
 * result, an intensity change, the finish) that the tracker computed once;
 * it never sees the tracker, the sources or the intensity service.
 *
 * Thread safety: every function may be called from the training thread and
 * the measurement thread at once (the log files serialise their writes);
 * ct__reporter_open/close and ct__reporter_configure only while no other
 * thread uses the reporter. Lock order: the tracker's lock, then the
 * reporter's, then the log files'.
 */
#ifndef CT_OUTPUT_REPORTER_H
#define CT_OUTPUT_REPORTER_H

#include "output/output.h"

#define CT__REPORT_PENDING 8

typedef struct ct__reporter {
    ct__logfiles logs;
    int verbose; /* 0 silent, 1 results, 2 components and intensity */
    int precision, interpretable;
    double car_g_per_km;                   /* for "This is equivalent to ... km travelled by car" */
    int status_drawn;                      /* the status line is on the terminal (atomic) */
    pthread_mutex_t mu;                    /* guards the members below */
    char pending[CT__REPORT_PENDING][512]; /* warnings before the JSON Lines header */
    int npending, header_written;
    int jsonl_told;    /* the user was told the JSON Lines log lost records */
    int no_prediction; /* epochs_before_pred == 0: "Actual consumption:" as the original */
    /* Console text to a function (ct_config.output_fn): queued under mu by
     * whoever reports (perhaps under the tracker's lock), handed over in
     * order by ct__reporter_flush (never under the tracker's lock). */
    ct_output_fn out_fn;
    void *out_user;
    struct ct__console_msg *q_head, *q_tail;
    pthread_mutex_t deliver_mu; /* one delivery at a time, in order */
} ct__reporter;

/* Log files closed; console only, silent until configured. */
void ct__reporter_init(ct__reporter *r);
void ct__reporter_configure(ct__reporter *r, int verbose, int precision, int interpretable, double car_g_per_km);
/* Console text to fn instead of stdout (before any thread uses r). */
void ct__reporter_set_output(ct__reporter *r, ct_output_fn fn, void *user);
/* Hands queued console text to the output function; call without the
 * tracker's lock. No-op without an output function. */
void ct__reporter_flush(ct__reporter *r);
/* Opens the log files in dir (see ct__logfiles_open). On failure the reason
 * is in msg and printed as a warning (verbose >= 1); the reporter goes on
 * without files. */
int ct__reporter_open_logs(ct__reporter *r, const char *dir, const char *prefix, double unix_s, char *msg, size_t len);
void ct__reporter_close(ct__reporter *r);
const char *ct__reporter_log_path(const ct__reporter *r);   /* NULL without files */
const char *ct__reporter_jsonl_path(const ct__reporter *r); /* NULL without files */

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */
/* Console (when verbose >= level) and the output log, as the original's
 * logger.output(text, verbose_level). */
void ct__report_output(ct__reporter *r, const char *text, int level);
/* A warning: console, error log, standard log and a JSON Lines "warning" record. */
void ct__report_warning(ct__reporter *r, const char *text);
/* A notice of a part: level 1 a warning, 0 information (verbose 2 and the standard log). */
void ct__report_notice(ct__reporter *r, int level, const char *text);

/* What the tracker decided about its sources, in the original's wording:
 * a rank that leaves the node's devices to local rank 0 (information), a
 * component with no source (warning for the CPU, information for a GPU),
 * a source that failed mid-run (warning). */
void ct__report_rank_share(ct__reporter *r, int rank, int local_rank, const char *launcher, int devices_by_pid,
                           int measuring);
void ct__report_component_missing(ct__reporter *r, ct_component c, const char *reason);
void ct__report_source_failed(ct__reporter *r, const char *source_name);

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */
typedef struct ct__run_header {
    const char *host;
    int pid;
    double start_unix_s;
    const char *job_id, *launcher; /* "" when none */
    int rank, local_rank, world_size;
    int measuring; /* 0 on ranks that leave the node to local rank 0 */
    int epochs, epochs_before_pred, monitor_epochs;
    double pue;
    /* the carbon intensity at the start */
    double g_per_kwh;
    ct_intensity_kind kind;
    const char *intensity_source;
    /* per component: requested, available, estimated, why not available */
    const int *want, *have, *estimated;
    const char *reason[CT_COMPONENT_COUNT];
    const ct_device_desc *devs;
    int ndev;
} ct__run_header;

/* The first lines of the standard log (version, PUE, host and ranks), before
 * the energy sources are looked for. */
void ct__report_opening(ct__reporter *r, const ct__run_header *h);
/* The components found and the intensity at the start (standard log,
 * console), then the JSON Lines header and the warnings held back for it. */
void ct__report_header(ct__reporter *r, const ct__run_header *h);

/* A new carbon intensity during the run: one JSON Lines "intensity" record. */
void ct__report_intensity(ct__reporter *r, double unix_s, double g_per_kwh, ct_intensity_kind kind, const char *source);

/* One finished epoch, every number computed by the tracker. */
typedef struct ct__epoch_report {
    const ct_epoch_info *info;          /* energy_j WITHOUT PUE, co2eq_g WITH PUE */
    double energy_kwh;                  /* WITH PUE */
    double power_w[CT_COMPONENT_COUNT]; /* mean power per component */
    double intensity_g_per_kwh;         /* energy-weighted intensity of the epoch */
    ct_intensity_kind intensity_kind;
    const char *intensity_source;
    const int *have, *estimated; /* per component */
    const ct_device_desc *devs;
    const double *dev_energy_j; /* per device, J; NULL when unknown */
    int ndev;
    const ct__series *series; /* power of the epoch */
} ct__epoch_report;

/* Standard log ("Epoch N:", duration, mean power per device) and the JSON
 * Lines "epoch" record. */
void ct__report_epoch(ct__reporter *r, const ct__epoch_report *e);

/* The prediction after after_epochs epochs: console, output log, JSON Lines. */
void ct__report_prediction(ct__reporter *r, const ct_result *predicted, int after_epochs);

/* A refinement of the prediction (issue 12): a JSON Lines "prediction" record
 * (progress: the fraction of epoch after_epochs + 1 done, < 0 between epochs)
 * and, when announce (it moved by more than 5 %), a short line at verbose 2. */
void ct__report_prediction_update(ct__reporter *r, const ct_result *predicted, int after_epochs, double progress,
                                  int announce);

/* The stop_and_confirm question on the console; 1 continue, 0 stop. Blocks on stdin. */
int ct__report_ask_continue(ct__reporter *r);
/* "Session ended by user." */
void ct__report_declined(ct__reporter *r);

typedef struct ct__run_finish {
    const ct_result *actual;    /* over the recorded epochs (epochs may be 0) */
    const ct_result *predicted; /* NULL when no prediction was made */
    const char *reason;         /* "completed" or "stopped" */
    int early_stop;             /* fewer epochs than monitor_epochs */
    int monitor_epochs;
    double end_unix_s;
} ct__run_finish;

/* The end: interruption note, actual consumption, JSON Lines "final" record,
 * "Monitoring thread ended.", "Finished monitoring.". */
void ct__report_finish(ct__reporter *r, const ct__run_finish *f);

/* The live status line on stderr, redrawn in place; cleared before anything
 * else is printed. */
void ct__report_status(ct__reporter *r, const ct_status *st);
void ct__report_status_clear(ct__reporter *r);

/* records.c: JSON Lines records as text (each ending in its newline). */
void ct__record_header(ct__buf *b, const ct__run_header *h);
void ct__record_warning(ct__buf *b, double unix_s, const char *message);
void ct__record_intensity(ct__buf *b, double unix_s, double g_per_kwh, ct_intensity_kind kind, const char *source);
void ct__record_epoch(ct__buf *b, const ct__epoch_report *e);
void ct__record_prediction(ct__buf *b, const ct_result *predicted, int after_epochs, double progress, int printed);
void ct__record_final(ct__buf *b, const ct__run_finish *f);

#endif /* CT_OUTPUT_REPORTER_H */
