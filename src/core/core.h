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

#endif /* CT_CORE_H */
