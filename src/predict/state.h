/*
 * state.h - the predictor's state (internal): the epochs kept for the fit,
 * the progress marks of the epoch in progress and the cached fit. One
 * fixed-size struct, no heap. The contract is predictor.h; the files of
 * src/predict/ that work on parts of it include this alone.
 */
#ifndef CT_PREDICT_STATE_H
#define CT_PREDICT_STATE_H

#include "carbontracker.h"

#define CT__PRED_SERIES (1 + CT_COMPONENT_COUNT) /* 0: duration s, 1 + c: energy J of component c */
#define CT__PRED_WINDOW 64                       /* epochs kept for the fit */
#define CT__PRED_MODELS 8                        /* candidate models kept per series after a fit */
#define CT__PRED_GRID 16                         /* progress snapshots per epoch (at k/16) */

/* One candidate model of a series, as the fit left it (internal). */
typedef struct ct__pred_model {
    int degree;       /* 0 level, 1 linear trend, 2 quadratic trend */
    int head;         /* 1: epoch 1 has its own value (warm-up, cold cache) */
    int seg_start;    /* first epoch number of the segment it was fitted on */
    double beta[3];   /* coefficients in the scaled time t = (epoch - t_origin) / t_scale */
    double cov[3][3]; /* (X'X)^-1 of the segment, for the parameter variance */
    double sigma2;    /* residual variance (normalised units) */
    double dof;       /* degrees of freedom of sigma2, prior included */
    double weight;    /* posterior weight among the kept models (sum 1) */
} ct__pred_model;

/* The fit of one series (internal). Values are normalised: y' = (y - centre) / norm. */
typedef struct ct__pred_fit {
    int valid; /* 0: no usable value yet */
    int nmodels;
    ct__pred_model model[CT__PRED_MODELS];
    double centre, norm; /* normalisation */
    double t_origin, t_scale;
    int head;            /* 1: epoch 1 is modelled apart (warm-up, cold cache) */
    int period, phase;   /* periodic epochs: epoch % period == phase; period 0 = none */
    double period_delta; /* extra value of a periodic epoch (normalised) */
    double period_var;   /* its variance */
    int gaps;            /* epochs with an unknown value (NaN) */
    int last_epoch;      /* last epoch number with a value */
} ct__pred_fit;

/* Progress marks of the epoch in progress (internal). */
typedef struct ct__pred_mark {
    double f, t;                  /* fraction done, s since the epoch started */
    double e[CT_COMPONENT_COUNT]; /* J so far in this epoch (NaN: unknown) */
} ct__pred_mark;

typedef struct ct__pred_marks {
    int n; /* marks in this epoch */
    ct__pred_mark first, last;
    ct__pred_mark grid[CT__PRED_GRID + 1]; /* first mark at or past k / CT__PRED_GRID */
    unsigned grid_have;                    /* bit k: grid[k] set */
} ct__pred_marks;

typedef struct ct__predictor {
    int epochs;                       /* epochs added */
    double measured[CT__PRED_SERIES]; /* sum of the known values of all epochs */
    int gaps[CT__PRED_SERIES];        /* epochs whose value was unknown */
    /* ring of the last CT__PRED_WINDOW epochs: epoch number and the value used by the fit */
    int ring_epoch[CT__PRED_WINDOW];
    double ring_y[CT__PRED_WINDOW][CT__PRED_SERIES];
    /* Epoch 1 with progress marks: the excess spent before the steady rate began
     * (warm-up), and the mean such excess of later epochs with marks. */
    int has_warmup;
    double warmup[CT__PRED_SERIES];
    double later_excess_sum[CT__PRED_SERIES];
    int later_excess_n;
    /* steady rate (per whole epoch) seen in the marks of the last epoch that had marks */
    double prev_rate[CT__PRED_SERIES];
    int has_prev_rate;
    ct__pred_marks cur; /* the epoch in progress */
    /* fit cache */
    int fit_epochs; /* epochs when fit[] was computed; -1 none */
    ct__pred_fit fit[CT__PRED_SERIES];
} ct__predictor;

#endif /* CT_PREDICT_STATE_H */
