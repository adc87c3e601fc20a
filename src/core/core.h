/* core.h - options, ranks and prediction arithmetic of the core (internal). */
#ifndef CT_CORE_H
#define CT_CORE_H

#include "base/base.h"

/* ------------------------------------------------------------------ */
/* Options (core/config.c)                                             */
/* ------------------------------------------------------------------ */
/* Validates `in` and makes the tracker's own copy: strings duplicated,
 * -1 epochs resolved, country from CT_COUNTRY, CT_OFFLINE read. */
int ct__config_resolve(const ct_config *in, ct_config *out, char *msg, size_t len);
void ct__config_free(ct_config *c);
int ct__parse_components(const char *spec, int want[CT_COMPONENT_COUNT], char *msg, size_t len);

/* ------------------------------------------------------------------ */
/* Ranks (core/ranks.c)                                                */
/* ------------------------------------------------------------------ */
typedef struct ct__rank_info {
    int rank, local_rank, world_size; /* -1 when unknown */
    char launcher[16];                /* "torchrun", "slurm", "openmpi", "pmi", "" */
    char job_id[64];                  /* SLURM_JOB_ID etc., "" when none */
} ct__rank_info;
void ct__ranks_detect(ct__rank_info *out);

/* ------------------------------------------------------------------ */
/* Prediction (core/predict.c)                                         */
/* ------------------------------------------------------------------ */
/* Linear prediction: mean per-epoch value over `measured` epochs x total. */
double ct__predict_total(double sum_measured, int measured, int total);

/* One finished epoch as the tracker keeps it (56 bytes; ct_get_epoch copies
 * it out as a ct_epoch_info). label: the intensity kind that covered most
 * of its energy (top 4 bits) and the index of its intensity-source text in
 * the tracker's table of distinct texts (the rest): one copy of each text
 * per run, not one per epoch. */
typedef struct ct__epoch_rec {
    int epoch;                          /* 1-based */
    uint32_t label;
    double start_unix_s, end_unix_s, duration_s;
    double energy_j[CT_COMPONENT_COUNT]; /* J, WITHOUT PUE */
    double co2eq_g;                     /* g, WITH PUE */
} ct__epoch_rec;
#define CT__LABEL_KIND_SHIFT 28
#define CT__LABEL_SOURCE_MASK 0x0fffffffu

/* Raw power samples taken in the current epoch (for bench/bench_core.c). */
double ct__tracker_samples_in_epoch(ct_tracker *t);

/* The prediction of the whole training: the seam where a predictor plugs in.
 * In: the finished epochs (energy WITHOUT PUE), `actual` their totals as
 * ct_get_actual gives them, total_epochs of the training, pue. Out: epochs,
 * duration, energy per component and in kWh (WITH PUE), components; the
 * CO2eq is left to ct__prediction_add_co2 because the intensity expected
 * over the rest of the run depends on the predicted duration. */
void ct__prediction_compute(const ct__epoch_rec *epochs, int nepochs, const ct_result *actual, int total_epochs,
                            double pue, ct_result *out);
/* CO2eq = measured so far + the rest of the energy at g_per_kwh, the mean
 * intensity expected from now to the predicted end; the label is that
 * intensity's. */
void ct__prediction_add_co2(ct_result *p, const ct_result *actual, double g_per_kwh, ct_intensity_kind kind,
                            const char *source);

#endif /* CT_CORE_H */
