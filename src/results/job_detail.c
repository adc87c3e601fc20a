/*
 * job_detail.c - one multi-node job read back for the report (issue 13):
 * the logs of every node and step combined into one run, with a row per
 * node and the nodes the job's node lists name that have no records.
 *
 * The one place of the rules of `carbontracker parse --job` (cli/job.c prints
 * this through the public ct_job_* API, job_api.c):
 *  - DIR/JOBID/NODE.STEP_PID.RANDOM_TIME_carbontracker.jsonl (the SLURM
 *    plugin's, one per node and step) and its NODE.STEP.nodes host lists;
 *  - the DIR/..._carbontracker.jsonl files whose header has job_id JOBID (a training's
 *    own log per node and rank); the node is the header's host.
 * Per node, a step inside another step's time (an srun step inside the batch
 * step: one that starts within it) measured the same node-level counters and
 * is listed but not counted again; two ranks' logs overlapping on one host
 * measured the same node: the larger counts. Sums over epochs (as far as
 * written), like parse --job.
 */
#include "results_internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct item {
    ct_run_detail d;
    char node[128], step[64], path[1024];
    double start, end; /* Unix s; NaN unknown */
    double j[CT_COMPONENT_COUNT], co2, dur;
    int covered, rank_file, finished;
} item;

typedef struct acc {
    item *it;
    int n, cap;
    char **exp;
    int nexp, capexp;
    ct_job_detail *out;
} acc;

static void note(ct_job_detail *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ct_job_detail *j, const char *fmt, ...) {
    if (j->nnotes >= 8) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->notes[j->nnotes++], sizeof j->notes[0], fmt, ap);
    va_end(ap);
}

int ct__job_id_valid(const char *s) {
    if (!s || !*s || strlen(s) > 63 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void add_expected(acc *a, const char *name) {
    for (int i = 0; i < a->nexp; i++)
        if (strcmp(a->exp[i], name) == 0) return;
    if (ct__grow((void **)&a->exp, &a->capexp, a->nexp + 1, sizeof *a->exp)) return;
    char *d = strdup(name);
    if (d) a->exp[a->nexp++] = d;
}

/* A SLURM host list ("n[1-3,7],gpu01"): one bracket group per name. */
static void expand_hostlist(acc *a, const char *list) {
    char buf[4096];
    ct__strlcpy(buf, list, sizeof buf);
    char *p = buf;
    while (*p) {
        char *start = p;
        int depth = 0;
        while (*p && (depth || *p != ',')) {
            if (*p == '[') depth++;
            else if (*p == ']') depth--;
            p++;
        }
        if (*p) *p++ = '\0';
        char *lb = strchr(start, '[');
        char *rb = lb ? strchr(lb, ']') : NULL;
        if (!lb || !rb) {
            if (*start) add_expected(a, start);
            continue;
        }
        *lb = '\0';
        *rb = '\0';
        const char *suffix = rb + 1;
        char *save = NULL;
        for (char *r = strtok_r(lb + 1, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
            char *dash = strchr(r, '-');
            int width = (int)(dash ? (size_t)(dash - r) : strlen(r));
            long x = strtol(r, NULL, 10), y = dash ? strtol(dash + 1, NULL, 10) : x;
            if (y < x || y - x > 100000) continue;
            for (long k = x; k <= y; k++) {
                char name[256];
                snprintf(name, sizeof name, "%s%0*ld%s", start, width, k, suffix);
                add_expected(a, name);
            }
        }
    }
}

/* "NODE.STEP_PID.RANDOM_TIME_carbontracker.jsonl": the plugin's name; 0 when it is not one. */
static int plugin_name(const char *file, char *node, size_t nlen, char *step, size_t slen) {
    const char *us = strchr(file, '_');
    if (!us) return 0;
    char head[256];
    snprintf(head, sizeof head, "%.*s", (int)(us - file), file);
    char *dot = strrchr(head, '.');
    if (!dot || dot == head || !dot[1]) return 0;
    int digits = 1; /* a plain run's head is PID.RANDOM */
    for (const char *q = head; *q; q++)
        if (*q != '.' && (*q < '0' || *q > '9')) digits = 0;
    if (digits) return 0;
    *dot = '\0';
    ct__strlcpy(node, head, nlen);
    ct__strlcpy(step, dot + 1, slen);
    return 1;
}

static int add_item(acc *a, const char *dir, const char *name, int plugin_dir) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    item it;
    memset(&it, 0, sizeof it);
    ct__strlcpy(it.path, path, sizeof it.path);
    int rc = ct__run_detail_load_any(path, &it.d);
    if (rc == CT_ENOMEM) return rc;
    if (rc) {
        if (plugin_dir) note(a->out, "%s: %s; skipped", name, ct_last_error_message());
        return 0;
    }
    if (!plugin_dir && strcmp(it.d.job_id, a->out->job_id) != 0) {
        ct__run_detail_free(&it.d);
        return 0;
    }
    if (!(plugin_dir && plugin_name(name, it.node, sizeof it.node, it.step, sizeof it.step))) {
        it.rank_file = 1;
        ct__strlcpy(it.node, it.d.host[0] ? it.d.host : "unknown", sizeof it.node);
        if (it.d.rank >= 0) snprintf(it.step, sizeof it.step, "rank%d", it.d.rank);
        else snprintf(it.step, sizeof it.step, "%.60s", name);
    }
    it.start = it.d.start_unix_s;
    it.end = it.start;
    it.co2 = 0;
    for (int e = 0; e < it.d.nepochs; e++) {
        const ct_run_epoch *ep = &it.d.epochs[e];
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) it.j[c] += ep->energy_j[c];
        if (isfinite(ep->co2eq_g)) it.co2 += ep->co2eq_g;
        it.dur += ep->duration_s;
        if (isfinite(it.start) && isfinite(ep->end_s) && it.start + ep->end_s > it.end) it.end = it.start + ep->end_s;
    }
    if (isfinite(it.d.end_unix_s) && !(it.end >= it.d.end_unix_s)) it.end = it.d.end_unix_s;
    it.finished = it.d.actual.valid;
    if (!it.finished)
        note(a->out, "%s: no final record (the step is still running or was killed); counted as far as written", name);
    if (ct__grow((void **)&a->it, &a->cap, a->n + 1, sizeof *a->it)) {
        ct__run_detail_free(&it.d);
        return CT_ENOMEM;
    }
    a->it[a->n++] = it;
    return 0;
}

static int read_dir(acc *a, const char *dir, int plugin_dir) {
    DIR *d = opendir(dir);
    if (!d) return CT_EIO;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d)) != NULL) {
        if (ends_with(e->d_name, "_carbontracker.jsonl")) {
            rc = add_item(a, dir, e->d_name, plugin_dir);
        } else if (plugin_dir && ends_with(e->d_name, ".nodes")) {
            char path[2048], line[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            FILE *f = fopen(path, "re");
            if (f && fgets(line, sizeof line, f)) {
                line[strcspn(line, "\r\n")] = '\0';
                expand_hostlist(a, line);
            }
            if (f) fclose(f);
        }
    }
    closedir(d);
    return rc;
}

static int by_node_time(const void *x0, const void *y0) {
    const item *x = x0, *y = y0;
    int c = strcmp(x->node, y->node);
    if (c) return c;
    double xs = isnan(x->start) ? 0 : x->start, ys = isnan(y->start) ? 0 : y->start;
    if (xs != ys) return xs < ys ? -1 : 1;
    return strcmp(x->step, y->step);
}

/* Steps inside another step of the same node are not counted again. */
static void resolve_overlaps(acc *a) {
    for (int i = 0; i < a->n; i++) {
        item *x = &a->it[i];
        for (int k = 0; k < a->n && !x->covered; k++) {
            item *y = &a->it[k];
            if (i == k || strcmp(x->node, y->node) != 0 || y->covered) continue;
            double xs = x->start, xe = x->end, ys = y->start, ye = y->end;
            if (isnan(xs) || isnan(ys)) continue;
            int inside = ys <= xs && xe <= ye;
            if (!x->rank_file && !y->rank_file && strcmp(y->step, "batch") == 0 && strcmp(x->step, "batch") != 0 &&
                ys <= xs && xs <= ye)
                inside = 1;
            int same = ys == xs && xe == ye;
            int partly = xs < ye && ys < xe && !inside && !(xs <= ys && ye <= xe);
            double xj = x->j[0] + x->j[1], yj = y->j[0] + y->j[1];
            if (inside && (!same || k < i)) x->covered = k + 1;
            else if (partly && x->rank_file && y->rank_file && (xj < yj || (xj == yj && k < i))) {
                x->covered = k + 1;
                note(a->out, "node %s: %s and %s both measured the node at the same time; counted once (%s)", x->node,
                     x->step, y->step, y->step);
            } else if (partly && k > i && !(x->rank_file && y->rank_file))
                note(a->out,
                     "node %s: steps %s and %s overlap in time; node-level energy of the overlap is counted in both",
                     x->node, x->step, y->step);
        }
    }
}

static int by_time(const void *x0, const void *y0) {
    double x = ((const ct_run_point *)x0)->t_s, y = ((const ct_run_point *)y0)->t_s;
    return x < y ? -1 : x > y;
}

static int meas_join(int m, int n) {
    if (m == CT__MEAS_UNKNOWN) return n;
    if (n == CT__MEAS_UNKNOWN || n == m) return m;
    return CT__MEAS_PARTLY;
}

/* The counted records as one run: epochs by number, power summed over time, devices by node. */
static int combine_run(acc *a, ct_job_detail *j, const char *dir) {
    ct_run_detail *r = &j->run;
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%.440s/%s", dir, j->job_id);
    ct__strlcpy(r->format, "jsonl", sizeof r->format);
    r->start_unix_s = r->pue = r->intensity_g_per_kwh = NAN;
    r->actual.intensity_g_per_kwh = r->predicted.intensity_g_per_kwh = NAN;
    r->measurement = CT__MEAS_UNKNOWN;
    r->rank = -1;
    r->end_unix_s = NAN;
    ct__strlcpy(r->job_id, j->job_id, sizeof r->job_id);
    int ce = 0, cd = 0, cp = 0, npt = 0;
    for (int i = 0; i < a->n; i++) {
        item *it = &a->it[i];
        if (it->covered) continue;
        if (!(r->start_unix_s <= it->start)) r->start_unix_s = it->start;
        npt += it->d.npoints;
    }
    for (int i = 0; i < a->n; i++) {
        item *it = &a->it[i];
        if (it->covered) continue;
        const ct_run_detail *d = &it->d;
        if (!r->version[0]) {
            ct__strlcpy(r->version, d->version, sizeof r->version);
            r->pue = d->pue;
            r->intensity_g_per_kwh = d->intensity_g_per_kwh;
            ct__strlcpy(r->intensity_source, d->intensity_source, sizeof r->intensity_source);
            ct__strlcpy(r->intensity_kind, d->intensity_kind, sizeof r->intensity_kind);
        }
        if (d->epochs_planned > r->epochs_planned) r->epochs_planned = d->epochs_planned;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) r->has_component[c] |= d->has_component[c];
        r->dram |= d->dram;
        r->measurement = meas_join(r->measurement, d->measurement);
        r->gaps += d->gaps;
        r->gap_epochs += d->gap_epochs;
        r->early_stop |= d->early_stop;
        double off = isfinite(it->start - r->start_unix_s) ? it->start - r->start_unix_s : 0;
        for (int k = 0; k < d->ndevices; k++) {
            if (ct__grow((void **)&r->devices, &cd, r->ndevices + 1, sizeof *r->devices)) return CT_ENOMEM;
            ct_run_device *dv = &r->devices[r->ndevices++];
            *dv = d->devices[k];
            snprintf(dv->name, sizeof dv->name, "%.60s %.60s", it->node, d->devices[k].name);
        }
        for (int e = 0; e < d->nepochs; e++) {
            const ct_run_epoch *src = &d->epochs[e];
            int at = -1;
            for (int m = 0; m < r->nepochs && at < 0; m++)
                if (r->epochs[m].epoch == src->epoch) at = m;
            if (at < 0) {
                if (ct__grow((void **)&r->epochs, &ce, r->nepochs + 1, sizeof *r->epochs)) return CT_ENOMEM;
                at = r->nepochs++;
                r->epochs[at] = *src;
                r->epochs[at].start_s += off;
                r->epochs[at].end_s += off;
                continue;
            }
            ct_run_epoch *dst = &r->epochs[at];
            if (src->start_s + off < dst->start_s) dst->start_s = src->start_s + off;
            if (src->end_s + off > dst->end_s) dst->end_s = src->end_s + off;
            dst->duration_s = dst->end_s - dst->start_s;
            dst->co2eq_g = isfinite(src->co2eq_g) ? (isfinite(dst->co2eq_g) ? dst->co2eq_g : 0) + src->co2eq_g
                                                  : dst->co2eq_g;
            for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
                dst->energy_j[c] += src->energy_j[c];
                dst->has[c] |= src->has[c];
                dst->power_w[c] += src->power_w[c];
            }
        }
        if (d->actual.valid) {
            r->actual.valid = 1;
            if (d->actual.epochs > r->actual.epochs) r->actual.epochs = d->actual.epochs;
        }
        if (d->predicted.valid) {
            r->predicted.valid = 1;
            r->predicted.energy_kwh += d->predicted.energy_kwh;
            r->predicted.co2eq_g += d->predicted.co2eq_g;
            if (d->predicted.duration_s > r->predicted.duration_s) r->predicted.duration_s = d->predicted.duration_s;
            if (d->predicted.epochs > r->predicted.epochs) r->predicted.epochs = d->predicted.epochs;
        }
    }
    /* the job's power: each record's series held from one point to the next, summed at every point's time */
    if (npt > 0 && ct__grow((void **)&r->points, &cp, npt, sizeof *r->points)) return CT_ENOMEM;
    for (int i = 0; i < a->n; i++) {
        item *it = &a->it[i];
        double off = isfinite(it->start - r->start_unix_s) ? it->start - r->start_unix_s : 0;
        for (int k = 0; !it->covered && k < it->d.npoints; k++) r->points[r->npoints++].t_s = it->d.points[k].t_s + off;
    }
    if (r->npoints > 1) qsort(r->points, (size_t)r->npoints, sizeof *r->points, by_time);
    for (int p = 0; p < r->npoints; p++)
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) r->points[p].p_w[c] = NAN;
    for (int i = 0; i < a->n; i++) {
        item *it = &a->it[i];
        if (it->covered) continue;
        double off = isfinite(it->start - r->start_unix_s) ? it->start - r->start_unix_s : 0;
        int k = -1; /* the record's last point at or before the time */
        for (int p = 0; p < r->npoints; p++) {
            ct_run_point *pt = &r->points[p];
            while (k + 1 < it->d.npoints && it->d.points[k + 1].t_s + off <= pt->t_s) k++;
            if (k < 0 || (k == it->d.npoints - 1 && isfinite(it->end) && pt->t_s > it->end - r->start_unix_s))
                continue; /* before its first point or after its end */
            for (int c = 0; c < CT_COMPONENT_COUNT; c++)
                if (isfinite(it->d.points[k].p_w[c]))
                    pt->p_w[c] = (isfinite(pt->p_w[c]) ? pt->p_w[c] : 0) + it->d.points[k].p_w[c];
        }
    }
    r->actual.energy_kwh = j->energy_kwh;
    r->actual.co2eq_g = j->co2eq_g;
    r->actual.duration_s = j->duration_s;
    r->actual.measurement = j->measurement;
    return 0;
}

static void free_acc(acc *a) {
    for (int i = 0; i < a->n; i++) ct__run_detail_free(&a->it[i].d);
    free(a->it);
    for (int i = 0; i < a->nexp; i++) free(a->exp[i]);
    free(a->exp);
}

static int summarise(acc *a, ct_job_detail *j) {
    int cap = 0;
    j->measurement = CT__MEAS_UNKNOWN;
    if (a->n > 0 && !(j->recs = calloc((size_t)a->n, sizeof *j->recs))) return CT_ENOMEM;
    for (int i = 0; i < a->n; i++) {
        const item *it = &a->it[i];
        struct ct_job_rec *rec = &j->recs[j->nrecs++];
        ct__strlcpy(rec->node, it->node, sizeof rec->node);
        ct__strlcpy(rec->step, it->step, sizeof rec->step);
        ct__strlcpy(rec->file, it->path, sizeof rec->file);
        if (it->covered) ct__strlcpy(rec->within, a->it[it->covered - 1].step, sizeof rec->within);
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) rec->energy_j[c] = it->j[c];
        rec->counted = !it->covered;
        rec->complete = it->finished;
    }
    for (int i = 0; i < a->n; i++) {
        item *it = &a->it[i];
        if (j->nnodes == 0 || strcmp(j->nodes[j->nnodes - 1].node, it->node) != 0) {
            if (ct__grow((void **)&j->nodes, &cap, j->nnodes + 1, sizeof *j->nodes)) return CT_ENOMEM;
            ct_job_node *nd = &j->nodes[j->nnodes++];
            memset(nd, 0, sizeof *nd);
            ct__strlcpy(nd->node, it->node, sizeof nd->node);
            nd->measurement = CT__MEAS_UNKNOWN;
            nd->complete = 1;
        }
        ct_job_node *nd = &j->nodes[j->nnodes - 1];
        nd->nsteps++;
        size_t l = strlen(nd->steps);
        if (it->covered)
            snprintf(nd->steps + l, sizeof nd->steps - l, "%s%s (within %s)", l ? ", " : "", it->step,
                     a->it[it->covered - 1].step);
        else snprintf(nd->steps + l, sizeof nd->steps - l, "%s%s", l ? ", " : "", it->step);
        if (!it->finished) nd->complete = 0;
        if (it->covered) continue;
        nd->counted++;
        double pue = isfinite(it->d.pue) && it->d.pue >= 1 ? it->d.pue : 1.0;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) nd->energy_j[c] += it->j[c];
        nd->energy_kwh += (it->j[0] + it->j[1]) * pue / 3.6e6;
        nd->co2eq_g += it->co2;
        if (it->dur > nd->duration_s) nd->duration_s = it->dur;
        nd->measurement = meas_join(nd->measurement, it->d.measurement);
    }
    for (int i = 0; i < j->nnodes; i++) {
        const ct_job_node *nd = &j->nodes[i];
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) j->energy_j[c] += nd->energy_j[c];
        j->energy_kwh += nd->energy_kwh;
        j->co2eq_g += nd->co2eq_g;
        if (nd->duration_s > j->duration_s) j->duration_s = nd->duration_s;
        j->measurement = meas_join(j->measurement, nd->measurement);
    }
    int found = j->nnodes;
    for (int e = 0; e < a->nexp; e++) {
        int have = 0;
        for (int i = 0; i < found && !have; i++) have = strcmp(j->nodes[i].node, a->exp[e]) == 0;
        if (have) continue;
        if (ct__grow((void **)&j->nodes, &cap, j->nnodes + 1, sizeof *j->nodes)) return CT_ENOMEM;
        ct_job_node *nd = &j->nodes[j->nnodes++];
        memset(nd, 0, sizeof *nd);
        ct__strlcpy(nd->node, a->exp[e], sizeof nd->node);
        nd->measurement = CT__MEAS_UNKNOWN;
        nd->missing = 1;
        j->nmissing++;
    }
    j->nfiles = a->n;
    return 0;
}

int ct__job_detail_load(const char *dir, const char *job_id, ct_job_detail *j) {
    return ct__job_detail_load_dirs(&dir, 1, job_id, j);
}

int ct__job_detail_load_dirs(const char *const *dirs, int ndirs, const char *job_id, ct_job_detail *j) {
    if (!j) return ct__fail(CT_EINVAL, "no job given");
    memset(j, 0, sizeof *j);
    if (!dirs || ndirs < 1) return ct__fail(CT_EINVAL, "no log directory given");
    for (int i = 0; i < ndirs; i++)
        if (!dirs[i]) return ct__fail(CT_EINVAL, "no log directory given");
    char pd[600];
    ct__printable(dirs[0], pd, sizeof pd);
    if (!ct__job_id_valid(job_id)) {
        char pj[200];
        ct__printable(job_id ? job_id : "", pj, sizeof pj);
        return ct__fail(CT_EINVAL, "the job id must be 1-63 of A-Z a-z 0-9 _ - . (got \"%s\")", pj);
    }
    ct__strlcpy(j->job_id, job_id, sizeof j->job_id);
    acc a;
    memset(&a, 0, sizeof a);
    a.out = j;
    int rc = 0;
    for (int i = 0; !rc && i < ndirs; i++) {
        char sub[4200], pi[600];
        snprintf(sub, sizeof sub, "%.4000s/%s", dirs[i], job_id);
        ct__printable(dirs[i], pi, sizeof pi);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) rc = read_dir(&a, sub, 1);
        if (!rc) {
            rc = read_dir(&a, dirs[i], 0);
            if (rc == CT_EIO) rc = ct__fail_errno(errno, "%s: cannot read", pi);
        } else if (rc == CT_EIO) rc = ct__fail_errno(errno, "%s/%s: cannot read", pi, job_id);
    }
    if (!rc && a.n > 1) qsort(a.it, (size_t)a.n, sizeof *a.it, by_node_time);
    if (!rc) resolve_overlaps(&a);
    if (!rc) rc = summarise(&a, j);
    if (!rc) rc = combine_run(&a, j, pd);
    if (rc == CT_ENOMEM) ct__fail(CT_ENOMEM, "out of memory");
    if (!rc && a.n == 0) rc = ct__fail(CT_ENODATA, "%s: no records of job %s found", pd, job_id);
    free_acc(&a);
    if (rc) ct__job_detail_free(j);
    return rc;
}

void ct__job_detail_free(ct_job_detail *j) {
    if (!j) return;
    ct__run_detail_free(&j->run);
    free(j->nodes);
    j->nodes = NULL;
    j->nnodes = 0;
    free(j->recs);
    j->recs = NULL;
    j->nrecs = 0;
}
