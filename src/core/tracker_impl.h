/* tracker_impl.h - the tracker's state: private to src/core/. */
#ifndef CT_TRACKER_IMPL_H
#define CT_TRACKER_IMPL_H

#include "core/core.h"
#include "sources/source.h"
#include "intensity/intensity.h"
#include "output/reporter.h"
#include "predict/predictor.h"

#include <pthread.h>
#include <stdint.h>

#define CT__MAX_SOURCES 8

typedef struct ct__source_inst {
    const ct__source_ops *ops;
    void *state;
    int ndev, dev0;        /* devices [dev0, dev0+ndev) of the tracker */
    double max_interval;   /* s, 0 = none */
    double last_read_mono; /* s */
    int failed;            /* the whole source failed; its devices are lost */
} ct__source_inst;

#define CT__INTENSITY_KINDS 5


struct ct_tracker {
    ct_config cfg;                /* resolved copy; strings owned */
    int want[CT_COMPONENT_COUNT]; /* requested */
    int have[CT_COMPONENT_COUNT]; /* available */
    int estimated[CT_COMPONENT_COUNT];
    char reason[CT_COMPONENT_COUNT][1024]; /* why a requested component is unavailable */
    int measuring;                         /* 0 on ranks that leave the node to local rank 0 */
    ct__rank_info ranks;
    char host[256];

    ct__source_inst src[CT__MAX_SOURCES];
    int nsrc;
    int ndev;
    ct_device_desc *devs;
    double *cum_j;     /* latest cumulative reading per device, J */
    double *prev_j;    /* reading before the latest (for CO2 per interval) */
    double *epoch0_j;  /* reading at the start of the current epoch */
    double *sample0_j; /* reading at the last power sample */
    double sample0_mono;

    double t0_mono, t0_unix;
    ct_intensity *intensity;
    ct__intensity_value intensity_start;
    ct__intensity_value intensity_logged; /* the last value written to the JSON Lines log */
    ct__reporter rep;                     /* every output channel */
    ct__source_ctx ctx;

    pthread_mutex_t mu;    /* guards everything below and all source reads */
    pthread_mutex_t *lock; /* = &mu, so that getters of a const tracker lock it without a cast */
    pthread_cond_t cv;
    pthread_t thread;
    int thread_started, thread_stop;

    /* epochs */
    int in_epoch;
    int epoch_no; /* number of the current/last epoch */
    double epoch_start_mono, epoch_start_unix;
    double epoch_co2_g; /* CO2eq of the current epoch so far, WITHOUT PUE */
    ct__series series;  /* power of the current epoch */
    double power_w[CT_COMPONENT_COUNT];
    ct__epoch_rec *epochs; /* finished epochs (56 bytes each, core/core.h) */
    int nepochs, cap_epochs;
    char **sources; /* distinct intensity-source texts, interned */
    int nsources, cap_sources;
    /* Running totals over the recorded epochs (constant-time results). */
    double sum_duration_s, sum_energy_j[CT_COMPONENT_COUNT], sum_co2_g;
    /* Energy (J) charged at each kind of intensity, for honest labels, and
     * the latest source text of each kind. */
    double epoch_kind_j[CT__INTENSITY_KINDS], sum_kind_j[CT__INTENSITY_KINDS];
    char kind_source[CT__INTENSITY_KINDS][160];

    int has_prediction;
    ct_result predicted;
    ct__predictor pred; /* the per-epoch model (issue 12) */
    ct_result refined;  /* its latest prediction: ct_get_predicted, status, budgets */
    int has_refined;
    int pred_stale;           /* an epoch or a mark arrived since `refined` was computed */
    int pred_rec_epochs;      /* the last "prediction" record: after so many epochs, */
    double pred_rec_progress; /* and this fraction of the next (-1: none) */
    double pred_said_kwh;     /* the prediction last told (block or verbose-2 line) */
    /* `predicted` stays the prediction printed after epochs_before_pred (the
     * original's block, and the final JSON Lines record) */
    int finished;         /* monitoring ended (monitor_epochs reached or stop) */
    int budget_warned[2]; /* energy, co2 */
    int budget_exceeded;  /* CT_BUDGET_ENERGY | CT_BUDGET_CO2 */

    int status_enabled;    /* live status line on stderr */
    ct_confirm_fn confirm; /* stop_and_confirm hook; NULL = stdin */
    void *confirm_user;

    char msg[CT__MSG_LEN];
};

/* core/measure.c (t->mu held unless said otherwise) */
/* Reads the sources selected by due (NULL = all) at monotonic time now_mono;
 * energy since the previous read is charged to the epoch in progress at the
 * intensity of this moment. */
void ct__read_sources(ct_tracker *t, double now_mono, const int *due);
/* Copies the sources' own view of their devices (a device lost mid-run). */
void ct__refresh_devices(const ct_tracker *t);
/* The intensity kind that covered the most energy in j[] (-1 if none). */
int ct__dominant_kind(const double j[CT__INTENSITY_KINDS]);
/* A power sample: mean power per component since the last sample. */
void ct__take_sample(ct_tracker *t, double now_mono);
/* The live view from the running totals and the epoch in progress. */
void ct__fill_status(const ct_tracker *t, ct_status *st);
/* The measurement thread's body (takes the lock itself). */
void *ct__measure_main(void *arg);

/* progress.c: ct_epoch_progress and the refined prediction (t->mu held).
 * ct__tracker_prediction: 0 or CT_ENODATA; reads the tracker only (getters of a
 * const tracker call it). ct__tracker_refine: refits the model's cache and
 * keeps the result in t->refined (the measurement thread, ct_epoch_end);
 * with record, a refinement with new input (an epoch, or 10 % more of the
 * epoch in progress since the last record) becomes a "prediction" record, and
 * a move of more than 5 % since the prediction last told a verbose-2 line.
 * ct__prediction_wanted_now: 1 when something uses the prediction at every
 * epoch (budgets, log files, the status line, verbose 2). */
int ct__tracker_prediction(const ct_tracker *t, ct_result *out);
void ct__tracker_refine(ct_tracker *t, int record);
int ct__prediction_wanted_now(const ct_tracker *t);

#endif
