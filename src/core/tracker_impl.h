/* tracker_impl.h - the tracker's state, shared by core/tracker.c and output/records.c. */
#ifndef CT_TRACKER_IMPL_H
#define CT_TRACKER_IMPL_H

#include "ct_internal.h"
#include "output/output.h"
#include "predict/predictor.h"

#include <pthread.h>

#define CT__MAX_SOURCES 8
#define CT__MAX_PENDING 8

typedef struct ct_source_inst {
    const ct_source_ops *ops;
    void *state;
    int ndev, dev0;        /* devices [dev0, dev0+ndev) of the tracker */
    double max_interval;   /* s, 0 = none */
    double last_read_mono; /* s */
    int failed;            /* the whole source failed; its devices are lost */
} ct_source_inst;

#define CT__INTENSITY_KINDS 5

typedef struct ct_epoch_rec {
    ct_epoch_info info;                   /* co2eq_g WITH PUE */
    int has_component[CT_COMPONENT_COUNT];
    ct_intensity_kind intensity_kind;     /* the kind that covered most of the epoch's energy */
    char intensity_source[160];
} ct_epoch_rec;

struct ct_tracker {
    ct_config cfg;                /* resolved copy; strings owned */
    int want[CT_COMPONENT_COUNT]; /* requested */
    int have[CT_COMPONENT_COUNT]; /* available */
    int estimated[CT_COMPONENT_COUNT];
    char reason[CT_COMPONENT_COUNT][1024]; /* why a requested component is unavailable */
    int measuring;                /* 0 on ranks that leave the node to local rank 0 */
    ct_rank_info ranks;
    char host[256];

    ct_source_inst src[CT__MAX_SOURCES];
    int nsrc;
    int ndev;
    ct_device_desc *devs;
    double *cum_j;       /* latest cumulative reading per device, J */
    double *prev_j;      /* reading before the latest (for CO2 per interval) */
    double *epoch0_j;    /* reading at the start of the current epoch */
    double *sample0_j;   /* reading at the last power sample */
    double sample0_mono;

    double t0_mono, t0_unix;
    ct_intensity *intensity;
    ct_intensity_value intensity_start;
    ct_intensity_value intensity_logged; /* the last value written to the JSON Lines log */
    ct_logfiles logs;
    ct_source_ctx ctx;

    pthread_mutex_t mu; /* guards everything below and all source reads */
    pthread_cond_t cv;
    pthread_t thread;
    int thread_started, thread_stop;

    /* epochs */
    int in_epoch;
    int epoch_no;           /* number of the current/last epoch */
    double epoch_start_mono, epoch_start_unix;
    double epoch_co2_g;     /* CO2eq of the current epoch so far, WITHOUT PUE */
    ct_series series;       /* power of the current epoch */
    double power_w[CT_COMPONENT_COUNT];
    ct_epoch_rec *epochs;
    int nepochs, cap_epochs;
    /* Running totals over the recorded epochs (constant-time results). */
    double sum_duration_s, sum_energy_j[CT_COMPONENT_COUNT], sum_co2_g;
    /* Energy (J) charged at each kind of intensity, for honest labels, and
     * the latest source text of each kind. */
    double epoch_kind_j[CT__INTENSITY_KINDS], sum_kind_j[CT__INTENSITY_KINDS];
    char kind_source[CT__INTENSITY_KINDS][160];

    int has_prediction;
    ct_result predicted;
    ct__predictor pred;     /* the per-epoch model (issue 12) */
    ct_result refined;      /* its latest prediction: ct_get_predicted, status, budgets */
    int has_refined;
    int pred_stale;         /* an epoch or a mark arrived since `refined` was computed */
    /* `predicted` stays the prediction printed after epochs_before_pred (the
     * original's block, and the final JSON Lines record) */
    int finished;           /* monitoring ended (monitor_epochs reached or stop) */
    int budget_warned[2];   /* energy, co2 */
    int budget_exceeded;    /* bit 0 energy, bit 1 CO2eq */

    int status_enabled, status_drawn; /* live status line on stderr */
    ct_confirm_fn confirm;            /* stop_and_confirm hook; NULL = stdin */
    void *confirm_user;

    char msg[CT__MSG_LEN];
    char pending[CT__MAX_PENDING][512]; /* warnings before the JSONL header */
    int npending, header_written;
};

/* records.c: JSON Lines records. Lock order is t->mu, then the logs' mutex:
 * ct__record_epoch is called with t->mu held (it reads the power series). */
void ct__record_header(ct_tracker *t);
void ct__record_epoch(ct_tracker *t, const ct_epoch_rec *e, const double *dev_energy_j);
void ct__record_prediction(ct_tracker *t);
void ct__record_warning(ct_tracker *t, const char *message);
void ct__record_intensity(ct_tracker *t, const ct_intensity_value *iv);
void ct__record_final(ct_tracker *t, const ct_result *actual, const char *reason, int early_stop);
const char *ct__intensity_kind_name(ct_intensity_kind k);

/* progress.c: ct_epoch_progress and the refined prediction (t->mu held).
 * ct__tracker_prediction: 0 or CT_ENODATA. ct__prediction_wanted_now: 1 when
 * something consumes the prediction at every epoch (budgets, JSON Lines, the
 * status line, verbose 2), so ct_epoch_end refits; else it is refitted on demand. */
int ct__tracker_prediction(ct_tracker *t, ct_result *out);
int ct__prediction_wanted_now(const ct_tracker *t);

#endif
