/*
 * predict_internal.h - what the files of src/predict/ share and nothing else
 * includes. From the top down, each calling only the ones below:
 *
 *   predictor.c  the run's epochs, the prediction and its interval (the
 *                contract is predictor.h)
 *   state.h      the predictor's state (types only)
 *   fit.c        the model fit of one series over the last epochs
 *   marks.c      progress marks of the epoch in progress, and their rates
 *
 * Pure arithmetic, as predictor.h says: no I/O, no clock, no allocation.
 */
#ifndef CT_PREDICT_PREDICT_INTERNAL_H
#define CT_PREDICT_PREDICT_INTERNAL_H

#include "predict/state.h"

#include <math.h>

#define PRIOR_REL_SD 0.02 /* epoch-to-epoch sd assumed before any is seen, relative to the level */
#define PRIOR_DOF 4.0     /* weight of that assumption, in epochs */

static inline int ct__pred_finite_nonneg(double v) { return isfinite(v) && v >= 0; }

/* The value of series s at a mark (duration: time; energy: J), NaN if unknown. */
static inline double ct__pred_mark_value(const ct__pred_mark *k, int s) { return s == 0 ? k->t : k->e[s - 1]; }

/* marks.c: a progress mark added to the marks of the epoch in progress
 * (ct__predictor_progress says how); 0 or CT_EINVAL (nothing recorded). */
int ct__pred_marks_add(ct__pred_marks *m, double fraction, double elapsed_s, const double energy_j[CT_COMPONENT_COUNT]);
/* marks.c: the steady rate of series s in an epoch's marks (see there); 0 when none. */
int ct__pred_mark_rate(const ct__pred_marks *m, int s, ct__pred_mark *anchor, double *rate, double *relvar);

/* fit.c: fits series s of p from its ring of epochs; fills f. */
void ct__pred_fit_series(const ct__predictor *p, int s, ct__pred_fit *f);
/* fit.c: one-sided 95 % quantile of Student's t with dof degrees of freedom. */
double ct__pred_t95(double dof);

#endif /* CT_PREDICT_PREDICT_INTERNAL_H */
