/*
 * predictor.h - the per-epoch prediction model (issue 12). Pure arithmetic:
 * no I/O, no clock, no allocation, no threads; the tracker feeds it and owns
 * the locking. The model is described in docs/prediction.md.
 *
 * Series. Every epoch gives 1 + CT_COMPONENT_COUNT numbers, each modelled on
 * its own: the duration (s) and the energy of each component (J, WITHOUT PUE,
 * as the hardware saw it). A value that is NaN, infinite or negative (a lost
 * device, a broken counter) is a gap: it counts as an epoch whose value is
 * unknown, is left out of the fit, and is estimated like a future epoch.
 *
 * Cost. ct__predictor_add_epoch and ct__predictor_progress are O(1) and only
 * copy numbers. ct__predictor_refit fits the model over at most the last
 * CT__PRED_WINDOW epochs (a few microseconds, see bench/RESULTS.md) and caches
 * the fit; ct__predictor_predict then costs a small constant, so calling it at
 * every progress mark is cheap. Without a current cached fit, predict fits
 * into a temporary (same answer, the fit's cost).
 *
 * Memory. A ct__predictor is one fixed-size struct (no heap), whatever the
 * number of epochs: the last CT__PRED_WINDOW epochs are kept, older ones
 * only in running totals.
 *
 * Thread safety: none; one caller at a time (the tracker's mutex).
 */
#ifndef CT_PREDICT_PREDICTOR_H
#define CT_PREDICT_PREDICTOR_H

#include "carbontracker.h"
#include "predict/state.h" /* the types of the state: ct__predictor and its parts */

/* One predicted quantity. Units: s for the duration, J (without PUE) for energy. */
typedef struct ct__pred_value {
    double measured;                      /* sum over the epochs added (known values only) */
    double remaining;                     /* predicted for the rest: epochs not yet added, the one in progress, gaps */
    double remaining_low, remaining_high; /* 90 % interval of `remaining` (low >= 0) */
    double total;                         /* measured + remaining */
    double total_low, total_high;         /* 90 % interval of `total` */
} ct__pred_value;

typedef struct ct__prediction {
    int epochs_seen;      /* epochs added */
    int epochs_total;     /* epochs the prediction is for */
    int overrun;          /* 1: more epochs added than total_epochs (nothing left to predict) */
    int partial;          /* 1: the epoch in progress was extrapolated from its progress marks */
    int warmup_separated; /* 1: epoch 1's warm-up was measured from its marks and kept apart */
    int gaps;             /* epochs with an unknown value in some series (estimated) */
    int from_one_epoch;   /* 1: rests on epoch 1 alone, without marks that separate a warm-up;
                            * the interval assumes epoch 1 is like the rest (say so to the user) */
    ct__pred_value duration_s;
    ct__pred_value energy_j[CT_COMPONENT_COUNT];
    ct__pred_value energy_total_j; /* sum of the components; interval: their intervals added */
    char model[96];                /* what the duration model found, e.g. "first epoch apart, period 4" */
} ct__prediction;

/* Empties the predictor (a new run). No allocation; never fails. */
void ct__predictor_init(ct__predictor *p);
void ct__predictor_reset(ct__predictor *p);

/* Forgets the progress marks of the epoch in progress (call at ct_epoch_start). */
void ct__predictor_begin_epoch(ct__predictor *p);

/*
 * One finished epoch: its duration (s) and energy per component (J without PUE;
 * energy_j may be NULL: all unknown). Values that are NaN, infinite or negative
 * are gaps (see above). The progress marks given since the last add_epoch /
 * begin_epoch belong to this epoch and are consumed. Returns 0, CT_EINVAL for
 * p NULL. O(1).
 */
int ct__predictor_add_epoch(ct__predictor *p, double duration_s, const double energy_j[CT_COMPONENT_COUNT]);

/*
 * A progress mark in the epoch in progress: `fraction` (0..1) of it done after
 * `elapsed_s` s, with energy_j (J per component since the epoch started; NULL
 * or NaN entries: unknown) spent so far. Returns 0, or CT_EINVAL (nothing is
 * recorded) when p is NULL, fraction is not in 0..1 or smaller than the
 * previous mark's, or elapsed_s is not finite, negative or smaller than the
 * previous mark's. O(1), no system call.
 */
int ct__predictor_progress(ct__predictor *p, double fraction, double elapsed_s,
                           const double energy_j[CT_COMPONENT_COUNT]);

/*
 * The predicted shape of the epochs first_epoch .. last_epoch (1-based, not yet
 * added), in at most max_pieces consecutive pieces of whole epochs: piece i
 * lasts duration_s[i] (s) and uses energy_j[i] (J, all components, without
 * PUE). For pricing the energy at the intensity expected when it will be used
 * (a forecast); periodic epochs and trends show in it. Returns the number of
 * pieces (0 when there is nothing to predict from or no such epoch), or
 * CT_EINVAL. Uses the cached fit when current, else fits into a temporary.
 */
int ct__predictor_profile(const ct__predictor *p, int first_epoch, int last_epoch, int max_pieces, double *duration_s,
                          double *energy_j);

/* Fits the model to the epochs added so far, unless that fit is already
 * cached (the first call after an epoch: a few microseconds; then nothing). */
void ct__predictor_refit(ct__predictor *p);

/*
 * The prediction for a run of total_epochs epochs: what was measured, what
 * remains (the epoch in progress from its marks, the epochs not yet started,
 * the gaps) and the whole, each with a 90 % interval. Returns 0,
 * CT_ENODATA when there is nothing to predict from yet (no epoch and fewer
 * than 3 progress marks in the first epoch), CT_EINVAL for NULL arguments or
 * total_epochs < 1. total_epochs smaller than the epochs added is allowed:
 * out->overrun is set and nothing is left to predict (remaining 0).
 * Uses the fit cached by ct__predictor_refit when it is current, else fits
 * into a temporary (same result, a few microseconds); never writes to p.
 */
int ct__predictor_predict(const ct__predictor *p, int total_epochs, ct__prediction *out);

#endif
