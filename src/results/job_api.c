/*
 * job_api.c - the public ct_job_* API (carbontracker.h) over job_detail.c:
 * one multi-node job's logs combined, as `carbontracker parse --job` prints
 * them. A ct_job is read-only after ct_job_read_dirs.
 */
#include "results_internal.h"

#include <stdlib.h>
#include <string.h>

struct ct_job {
    ct_job_detail d;
};

int ct_job_read_dirs(const char *const *dirs, int ndirs, const char *job_id, ct_job **out) {
    if (!out) return ct__fail(CT_EINVAL, "ct_job_read: out is NULL");
    *out = NULL;
    ct_job *j = calloc(1, sizeof *j);
    if (!j) return ct__fail(CT_ENOMEM, "out of memory");
    int rc = ct__job_detail_load_dirs(dirs, ndirs, job_id, &j->d);
    if (rc) {
        free(j);
        return rc;
    }
    *out = j;
    return 0;
}

int ct_job_read(const char *dir, const char *job_id, ct_job **out) {
    if (!dir) {
        if (out) *out = NULL;
        return ct__fail(CT_EINVAL, "no log directory given");
    }
    return ct_job_read_dirs(&dir, 1, job_id, out);
}

void ct_job_free(ct_job *job) {
    if (!job) return;
    ct__job_detail_free(&job->d);
    free(job);
}

int ct_job_totals(const ct_job *job, ct_job_node_info *out) {
    if (!job || !out) return ct__fail(CT_EINVAL, "ct_job_totals: NULL argument");
    const ct_job_detail *d = &job->d;
    memset(out, 0, sizeof *out);
    out->nsteps = d->nrecs;
    for (int i = 0; i < d->nrecs; i++) out->counted += d->recs[i].counted;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) out->energy_j[c] = d->energy_j[c];
    out->energy_kwh = d->energy_kwh;
    out->co2eq_g = d->co2eq_g;
    out->duration_s = d->duration_s;
    out->measurement = d->measurement;
    out->complete = 1;
    for (int i = 0; i < d->nnodes; i++)
        if (!d->nodes[i].missing && !d->nodes[i].complete) out->complete = 0;
    out->missing = d->nmissing;
    out->nodes = d->nnodes - d->nmissing;
    return 0;
}

int ct_job_node_count(const ct_job *job) {
    if (!job) return ct__fail(CT_EINVAL, "ct_job_node_count: job is NULL");
    return job->d.nnodes;
}

int ct_job_node_get(const ct_job *job, int index, ct_job_node_info *out) {
    if (!job || !out) return ct__fail(CT_EINVAL, "ct_job_node_get: NULL argument");
    if (index < 0 || index >= job->d.nnodes)
        return ct__fail(CT_EINVAL, "ct_job_node_get: index %d out of range", index);
    const ct_job_node *n = &job->d.nodes[index];
    memset(out, 0, sizeof *out);
    ct__strlcpy(out->node, n->node, sizeof out->node);
    ct__strlcpy(out->steps, n->steps, sizeof out->steps);
    out->nsteps = n->nsteps;
    out->counted = n->counted;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) out->energy_j[c] = n->energy_j[c];
    out->energy_kwh = n->energy_kwh;
    out->co2eq_g = n->co2eq_g;
    out->duration_s = n->duration_s;
    out->measurement = n->measurement;
    out->complete = n->missing ? 0 : n->complete;
    out->missing = n->missing;
    out->nodes = !n->missing;
    return 0;
}

int ct_job_missing_count(const ct_job *job) {
    if (!job) return ct__fail(CT_EINVAL, "ct_job_missing_count: job is NULL");
    return job->d.nmissing;
}

const char *ct_job_missing(const ct_job *job, int index) {
    if (!job || index < 0 || index >= job->d.nmissing) return NULL;
    return job->d.nodes[job->d.nnodes - job->d.nmissing + index].node; /* missing nodes come last */
}

int ct_job_step_count(const ct_job *job) {
    if (!job) return ct__fail(CT_EINVAL, "ct_job_step_count: job is NULL");
    return job->d.nrecs;
}

int ct_job_step_get(const ct_job *job, int index, ct_job_step_info *out) {
    if (!job || !out) return ct__fail(CT_EINVAL, "ct_job_step_get: NULL argument");
    if (index < 0 || index >= job->d.nrecs) return ct__fail(CT_EINVAL, "ct_job_step_get: index %d out of range", index);
    const struct ct_job_rec *r = &job->d.recs[index];
    memset(out, 0, sizeof *out);
    ct__strlcpy(out->node, r->node, sizeof out->node);
    ct__strlcpy(out->step, r->step, sizeof out->step);
    ct__strlcpy(out->within, r->within, sizeof out->within);
    ct__strlcpy(out->file, r->file, sizeof out->file);
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) out->energy_j[c] = r->energy_j[c];
    out->counted = r->counted;
    out->complete = r->complete;
    return 0;
}

int ct_job_warning_count(const ct_job *job) {
    if (!job) return ct__fail(CT_EINVAL, "ct_job_warning_count: job is NULL");
    return job->d.nnotes;
}

const char *ct_job_warning(const ct_job *job, int index) {
    if (!job || index < 0 || index >= job->d.nnotes) return NULL;
    return job->d.notes[index];
}
