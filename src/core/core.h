/* core.h - options and ranks of the core (internal); the prediction is
 * src/predict/ (the per-epoch model) through core/progress.c. */
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
/* Epochs                                                              */
/* ------------------------------------------------------------------ */
/* One finished epoch as the tracker keeps it (56 bytes; ct_get_epoch copies
 * it out as a ct_epoch_info). label: the intensity kind that covered most
 * of its energy (top 4 bits) and the index of its intensity-source text in
 * the tracker's table of distinct texts (the rest): one copy of each text
 * per run, not one per epoch. */
typedef struct ct__epoch_rec {
    int epoch; /* 1-based */
    uint32_t label;
    double start_unix_s, end_unix_s, duration_s;
    double energy_j[CT_COMPONENT_COUNT]; /* J, WITHOUT PUE */
    double co2eq_g;                      /* g, WITH PUE */
} ct__epoch_rec;
#define CT__LABEL_KIND_SHIFT 28
#define CT__LABEL_SOURCE_MASK 0x0fffffffu

/* Raw power samples taken in the current epoch (for bench/bench_core.c). */
double ct__tracker_samples_in_epoch(ct_tracker *t);

#endif /* CT_CORE_H */
