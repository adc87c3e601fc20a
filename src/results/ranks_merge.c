/*
 * ranks_merge.c - ranks of one distributed job read back as one run: same job_id,
 * rank >= 0, overlapping in time. Ranks with measuring=false add nothing;
 * measuring ranks on different hosts are summed; two measuring ranks on one
 * host measured the same node and count once (the larger). A rank that
 * measured nothing and has no partner is warned about and not counted.
 */
#include "runs_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int job_cmp(const void *a, const void *b) {
    const run_rec *x = *(run_rec *const *)a, *y = *(run_rec *const *)b;
    int c = strcmp(x->job_id, y->job_id);
    if (c) return c;
    if (x->start < y->start) return -1;
    if (x->start > y->start) return 1;
    return x->rank - y->rank;
}

static double run_end(const run_rec *r) {
    if (isfinite(r->end)) return r->end;
    if (isfinite(r->start)) return r->start + r->duration_s;
    return NAN;
}

static void append_host(char *hosts, size_t len, const char *h) {
    if (!h[0]) return;
    size_t hl = strlen(h);
    for (const char *p = hosts; (p = strstr(p, h)) != NULL; p += hl)
        if ((p == hosts || p[-1] == ',') && (p[hl] == '\0' || p[hl] == ',')) return;
    size_t cur = strlen(hosts);
    if (cur + (cur ? 1 : 0) + hl + 1 > len) return;
    if (cur) hosts[cur++] = ',';
    memcpy(hosts + cur, h, hl + 1);
}

static int merge_group(ct_runs *r, run_rec **g, int n) {
    run_rec *keep = NULL;
    run_rec sum;
    memset(&sum, 0, sizeof sum);
    sum.start = sum.end = NAN;
    sum.measurement = CT__MEAS_UNKNOWN;
    sum.complete = 1;
    char hosts[512] = "";
    int counted_hosts = 0, files = 0, rc = 0;
    for (int i = 0; i < n; i++) files += g[i]->files;
    for (int i = 0; i < n; i++) {
        run_rec *a = g[i];
        if (!a->measuring) continue;
        int dup_of = -1;
        for (int k = 0; k < n; k++) {
            if (k == i || !g[k]->measuring || strcmp(g[k]->host, a->host) != 0) continue;
            /* the larger energy wins; ties to the lower rank */
            if (g[k]->energy_kwh > a->energy_kwh || (g[k]->energy_kwh == a->energy_kwh && k < i)) {
                dup_of = k;
                break;
            }
        }
        if (dup_of >= 0) {
            char pp[1100];
            ct__printable(g[dup_of]->file, pp, sizeof pp);
            if ((rc = ct__runs_warn(r, "job %s: ranks %d and %d both measured host %s; counted once (%s)", a->job_id,
                                    g[dup_of]->rank, a->rank, a->host[0] ? a->host : "?", pp)))
                return rc;
            continue;
        }
        counted_hosts++;
        if (!keep || a->rank < keep->rank) keep = a;
        sum.energy_kwh += a->energy_kwh;
        sum.co2eq_g += a->co2eq_g;
        if (a->duration_s > sum.duration_s) sum.duration_s = a->duration_s;
        if (a->epochs > sum.epochs) sum.epochs = a->epochs;
        if (a->epochs_planned > sum.epochs_planned) sum.epochs_planned = a->epochs_planned;
        if (a->predicted) sum.predicted = 1;
        if (a->early_stop) sum.early_stop = 1;
        if (!a->complete) sum.complete = 0;
        sum.gaps += a->gaps;
        sum.gap_epochs += a->gap_epochs;
        /* measured + estimated ranks: partly estimated */
        if (sum.measurement == CT__MEAS_UNKNOWN) sum.measurement = a->measurement;
        else if (a->measurement != CT__MEAS_UNKNOWN && a->measurement != sum.measurement)
            sum.measurement = CT__MEAS_PARTLY;
        append_host(hosts, sizeof hosts, a->host);
    }
    for (int i = 0; i < n; i++) {
        double s = g[i]->start;
        if (isfinite(s) && !(sum.start <= s)) sum.start = s;
        double e = run_end(g[i]);
        if (isfinite(e) && !(sum.end >= e)) sum.end = e;
    }
    if (!keep) {
        rc = ct__runs_warn(r,
                           "job %s: %d rank(s) found, none of them measured (measuring=false); "
                           "is the log of local rank 0 in another directory?",
                           g[0]->job_id, n);
        for (int i = 0; i < n; i++) g[i]->dropped = 1;
        return rc;
    }
    keep->energy_kwh = sum.energy_kwh;
    keep->co2eq_g = sum.co2eq_g;
    keep->intensity = sum.energy_kwh > 0 ? sum.co2eq_g / sum.energy_kwh : NAN;
    keep->duration_s = sum.duration_s;
    keep->epochs = sum.epochs;
    keep->epochs_planned = sum.epochs_planned;
    keep->predicted = sum.predicted;
    keep->early_stop = sum.early_stop;
    keep->complete = sum.complete;
    keep->measurement = sum.measurement;
    keep->gaps = sum.gaps;
    keep->gap_epochs = sum.gap_epochs;
    keep->start = sum.start;
    keep->end = sum.end;
    keep->files = (short)files;
    if (counted_hosts > 1) {
        const char *h = ct__runs_intern(r, hosts);
        if (!h) return CT_ENOMEM;
        keep->host = h;
    }
    for (int i = 0; i < n; i++)
        if (g[i] != keep) g[i]->dropped = 1;
    return 0;
}

int ct__runs_combine_ranks(ct_runs *r) {
    int m = 0, rc = 0;
    for (int i = 0; i < r->n; i++)
        if (r->runs[i].job_id[0] && r->runs[i].rank >= 0) m++;
    if (m > 0) {
        run_rec **v = malloc((size_t)m * sizeof *v);
        if (!v) return CT_ENOMEM;
        m = 0;
        for (int i = 0; i < r->n; i++)
            if (r->runs[i].job_id[0] && r->runs[i].rank >= 0) v[m++] = &r->runs[i];
        qsort(v, (size_t)m, sizeof *v, job_cmp);
        for (int i = 0; i < m && !rc;) {
            int j = i + 1;
            double gend = run_end(v[i]);
            while (j < m && strcmp(v[j]->job_id, v[i]->job_id) == 0) {
                /* overlapping in time with the group so far: the same launch */
                double s = v[j]->start;
                if (isfinite(s) && isfinite(gend) && s > gend) break;
                double e = run_end(v[j]);
                if (isfinite(e) && !(gend >= e)) gend = e;
                j++;
            }
            if (j - i > 1) rc = merge_group(r, v + i, j - i);
            i = j;
        }
        free(v);
        if (rc) return rc;
    }
    /* A rank that measured nothing and has no partner here. */
    for (int i = 0; i < r->n && !rc; i++) {
        run_rec *a = &r->runs[i];
        if (!a->dropped && !a->measuring) {
            char pp[1100];
            ct__printable(a->file, pp, sizeof pp);
            rc = ct__runs_warn(r,
                               "%s: rank %d measured nothing (measuring=false) and no measuring rank of its job was "
                               "found; not counted",
                               pp, a->rank);
            a->dropped = 1;
        }
    }
    int w = 0;
    for (int i = 0; i < r->n; i++) {
        if (!r->runs[i].dropped) r->runs[w++] = r->runs[i];
        else free(r->runs[i].file);
    }
    r->n = w;
    return rc;
}
