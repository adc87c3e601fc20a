/*
 * aggregate.c - reads back many runs (our JSON Lines and the original's text
 * logs) and totals them: `carbontracker parse PATH...`. Which files make a
 * run is scan.c's; reading one run is runs_read.c's; combining the ranks
 * of a job is ranks_merge.c's; how the list is written is runs_format.c's.
 *
 * Rules (docs/parse-formats.md says the same for users):
 *  - Files are grouped by the part of their name before `_carbontracker`. A
 *    group with a `.jsonl` is read from it (the text logs of the same run are
 *    the same numbers and count once); else the `.log` + `_output.log` pair.
 *  - Per run: the actual consumption when the run finished (actual epochs >=
 *    predicted epochs) or stopped early, else the prediction, as the original
 *    states. The epoch count of the actual block is read from that block.
 *  - Ranks of one distributed job (same job_id, rank >= 0, overlapping in
 *    time) are one run: ranks with measuring=false add nothing; measuring
 *    ranks on different hosts are summed; two measuring ranks on one host
 *    measured the same node and count once (the larger).
 *  - Damaged files: one warning each; what is readable still counts. A JSON
 *    Lines gap record (written when the disk was full) is reported.
 * Memory: one file (or one line of a JSON Lines file) at a time; a compact
 * record per run otherwise.
 */
#include "runs_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int run_cmp(const void *a, const void *b) {
    const run_rec *x = a, *y = b;
    int fx = isfinite(x->start), fy = isfinite(y->start);
    if (fx != fy) return fx ? -1 : 1;
    if (fx && x->start != y->start) return x->start < y->start ? -1 : 1;
    return strcmp(x->file, y->file);
}

/* ------------------------------------------------------------------ */
/* Public                                                               */
/* ------------------------------------------------------------------ */

int ct_parse_paths(const char *const *paths, int npaths, unsigned flags, ct_runs **out) {
    ct__fail_clear();
    if (!out) return ct__fail(CT_EINVAL, "no place for the result (out is NULL)");
    *out = NULL;
    if (!paths || npaths <= 0) return ct__fail(CT_EINVAL, "no directory or file given");
    for (int i = 0; i < npaths; i++)
        if (!paths[i]) return ct__fail(CT_EINVAL, "path %d is NULL", i);
    ct_runs *r = calloc(1, sizeof *r);
    ct_json_doc *doc = ct__json_doc_new();
    int rc = 0;
    if (!r || !doc) {
        rc = CT_ENOMEM;
        goto fail;
    }
    rc = ct__runs_collect(r, paths, npaths, flags, doc);
    if (rc) goto fail;
    rc = ct__runs_combine_ranks(r);
    if (rc) goto fail;
    if (r->n > 1) qsort(r->runs, (size_t)r->n, sizeof *r->runs, run_cmp);
    ct__json_doc_free(doc);
    ct__fail_clear();
    *out = r;
    return 0;
fail:
    if (rc == CT_ENOMEM) ct__fail(CT_ENOMEM, "out of memory");
    ct__json_doc_free(doc);
    ct_runs_free(r);
    return rc;
}

int ct_parse_dirs(const char *const *dirs, int ndirs, ct_runs **out) { return ct_parse_paths(dirs, ndirs, 0, out); }

int ct_runs_count(const ct_runs *runs) { return runs ? runs->n : 0; }

int ct_runs_get(const ct_runs *runs, int index, ct_run_info *out) {
    if (!runs || !out || index < 0 || index >= runs->n) return CT_EINVAL;
    const run_rec *a = &runs->runs[index];
    memset(out, 0, sizeof *out);
    ct__strlcpy(out->file, a->file, sizeof out->file);
    ct__strlcpy(out->format, a->format == 'j' ? "jsonl" : "text", sizeof out->format);
    ct__strlcpy(out->host, a->host, sizeof out->host);
    ct__strlcpy(out->job_id, a->job_id, sizeof out->job_id);
    ct__strlcpy(out->intensity_source, a->source, sizeof out->intensity_source);
    out->rank = a->rank;
    out->start_unix_s = a->start;
    out->end_unix_s = a->end;
    out->epochs = a->epochs;
    out->epochs_planned = a->epochs_planned;
    out->duration_s = a->duration_s;
    out->energy_kwh = a->energy_kwh;
    out->co2eq_g = a->co2eq_g;
    out->estimated = a->measurement == CT__MEAS_UNKNOWN ? -1 : a->measurement == CT__MEAS_MEASURED ? 0 : 1;
    out->predicted = a->predicted;
    out->early_stop = a->early_stop;
    out->complete = a->complete;
    out->files = a->files;
    return 0;
}

int ct_runs_totals(const ct_runs *runs, ct_runs_total *out) {
    if (!runs || !out) return CT_EINVAL;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < runs->n; i++) {
        const run_rec *a = &runs->runs[i];
        out->runs++;
        out->energy_kwh += a->energy_kwh;
        out->co2eq_g += a->co2eq_g;
        out->duration_s += a->duration_s;
    }
    out->car_km = ct_car_km(out->co2eq_g);
    return 0;
}

int ct_runs_warning_count(const ct_runs *runs) { return runs ? runs->nw : 0; }

const char *ct_runs_warning(const ct_runs *runs, int index) {
    if (!runs || index < 0 || index >= runs->nw) return NULL;
    return runs->warnings[index];
}
