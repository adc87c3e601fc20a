/*
 * run_detail.c - one run in detail for the report: from our JSON Lines file
 * (epochs with their power series; streamed, so any length) or from the
 * original's standard text log (epoch durations and average power per
 * epoch; the output log next to it, when present, gives the totals). Both
 * through the one reader of each format (jsonl_read.c, text_log.c).
 */
#include "results_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_TEXT_BYTES ((size_t)1024 * 1024 * 1024)

/* "path: cannot read: <the detail set by the reader>" (copied first: same buffer). */
static int cannot_read(int rc, const char *path) {
    char detail[512];
    ct__printable(ct_last_error_message(), detail, sizeof detail);
    return ct__fail(rc, "%s: cannot read: %s", path, detail);
}

static int component_index(const char *name) {
    if (!name) return -1;
    if (strcasecmp(name, "cpu") == 0) return CT_COMPONENT_CPU;
    if (strcasecmp(name, "gpu") == 0) return CT_COMPONENT_GPU;
    return -1;
}


static void init_detail(ct_run_detail *d, const char *path) {
    memset(d, 0, sizeof *d);
    ct__strlcpy(d->path, path, sizeof d->path);
    d->start_unix_s = NAN;
    d->pue = NAN;
    d->intensity_g_per_kwh = NAN;
    d->measurement = CT__MEAS_UNKNOWN;
    d->actual.intensity_g_per_kwh = d->predicted.intensity_g_per_kwh = NAN;
    d->rank = -1;
    d->end_unix_s = NAN;
}

void ct__run_detail_free(ct_run_detail *d) {
    if (!d) return;
    free(d->devices);
    free(d->epochs);
    free(d->points);
    free(d->preds);
    d->devices = NULL;
    d->epochs = NULL;
    d->points = NULL;
    d->preds = NULL;
    d->ndevices = d->nepochs = d->npoints = d->npreds = 0;
}

static int is_dram(const char *name) { return strncasecmp(name, "dram", 4) == 0 || strstr(name, "DRAM") != NULL; }

/* ---- JSON Lines --------------------------------------------------------- */

typedef struct caps {
    int e, p, d, q; /* q: prediction records */
} caps;

static int jsonl_header(const ct_json *j, ct_run_detail *d, caps *cp) {
    ct__strlcpy(d->host, ct__json_str(ct__json_get(j, "host"), ""), sizeof d->host);
    ct__strlcpy(d->version, ct__json_str(ct__json_get(j, "version"), ""), sizeof d->version);
    d->start_unix_s = ct__json_num(ct__json_get(j, "start"), NAN);
    d->epochs_planned = ct__json_int(ct__json_get(j, "epochs"), 0);
    ct__strlcpy(d->job_id, ct__json_str(ct__json_get(j, "job_id"), ""), sizeof d->job_id);
    d->rank = ct__json_int(ct__json_get(j, "rank"), -1);
    d->pue = ct__json_num(ct__json_get(j, "pue"), NAN);
    const ct_json *in = ct__json_get(j, "intensity");
    d->intensity_g_per_kwh = ct__json_num(ct__json_get(in, "g_per_kwh"), NAN);
    ct__strlcpy(d->intensity_source, ct__json_str(ct__json_get(in, "source"), ""), sizeof d->intensity_source);
    ct__strlcpy(d->intensity_kind, ct__json_str(ct__json_get(in, "kind"), ""), sizeof d->intensity_kind);
    const ct_json *devs = ct__json_get(j, "devices");
    d->measurement = ct__jsonl_devices_measurement(devs);
    if (!devs || devs->type != CT_JSON_ARRAY) return 0;
    for (const ct_json *v = devs->child; v; v = v->next) {
        if (ct__grow((void **)&d->devices, &cp->d, d->ndevices + 1, sizeof *d->devices)) return CT_ENOMEM;
        ct_run_device *dv = &d->devices[d->ndevices++];
        memset(dv, 0, sizeof *dv);
        ct__strlcpy(dv->component, ct__json_str(ct__json_get(v, "component"), ""), sizeof dv->component);
        ct__strlcpy(dv->name, ct__json_str(ct__json_get(v, "name"), ""), sizeof dv->name);
        ct__strlcpy(dv->uuid, ct__json_str(ct__json_get(v, "uuid"), ""), sizeof dv->uuid);
        ct__strlcpy(dv->method, ct__json_str(ct__json_get(v, "method"), ""), sizeof dv->method);
        ct__strlcpy(dv->source, ct__json_str(ct__json_get(v, "source"), ""), sizeof dv->source);
        dv->estimated = ct__json_bool(ct__json_get(v, "estimated"), 0);
        int c = component_index(dv->component);
        if (c >= 0) d->has_component[c] = 1;
        if (c == CT_COMPONENT_CPU && is_dram(dv->name)) d->dram = 1;
    }
    return 0;
}

/* A prediction record: one point of the prediction's history (issue 12). */
static int jsonl_prediction(const ct_json *j, ct_run_detail *d, caps *cp) {
    double after = ct__json_num(ct__json_get(j, "after_epochs"), NAN);
    double kwh = ct__json_num(ct__json_get(j, "energy_kwh"), NAN);
    if (!isfinite(after) || !isfinite(kwh)) return 0; /* nothing to draw */
    if (ct__grow((void **)&d->preds, &cp->q, d->npreds + 1, sizeof *d->preds)) return CT_ENOMEM;
    double f = ct__json_num(ct__json_get(j, "progress"), 0);
    ct_run_pred *p = &d->preds[d->npreds++];
    p->at_epochs = after + (isfinite(f) && f > 0 && f <= 1 ? f : 0);
    p->energy_kwh = kwh;
    p->energy_kwh_low = ct__json_num(ct__json_get(j, "energy_kwh_low"), NAN);
    p->energy_kwh_high = ct__json_num(ct__json_get(j, "energy_kwh_high"), NAN);
    return 0;
}

static int jsonl_epoch(const ct_json *j, ct_run_detail *d, caps *cp) {
    if (ct__grow((void **)&d->epochs, &cp->e, d->nepochs + 1, sizeof *d->epochs)) return CT_ENOMEM;
    ct_run_epoch *e = &d->epochs[d->nepochs];
    memset(e, 0, sizeof *e);
    e->epoch = ct__json_int(ct__json_get(j, "epoch"), d->nepochs + 1);
    double st = ct__json_num(ct__json_get(j, "start"), NAN);
    double en = ct__json_num(ct__json_get(j, "end"), NAN);
    e->duration_s = ct__json_num(ct__json_get(j, "duration_s"), isfinite(en - st) ? en - st : 0);
    double t0 = isfinite(d->start_unix_s) ? d->start_unix_s : st;
    e->start_s = isfinite(st - t0) ? st - t0 : (d->nepochs ? d->epochs[d->nepochs - 1].end_s : 0);
    e->end_s = isfinite(en - t0) ? en - t0 : e->start_s + e->duration_s;
    e->co2eq_g = ct__json_num(ct__json_get(j, "co2eq_g"), NAN);
    const ct_json *ej = ct__json_get(j, "energy_j");
    const ct_json *pw = ct__json_get(j, "power_w");
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        const char *cn = ct_component_name((ct_component)c);
        const ct_json *v = ct__json_get(ej, cn);
        if (v && v->type == CT_JSON_NUMBER && isfinite(v->num)) {
            e->has[c] = 1;
            d->has_component[c] = 1;
            e->energy_j[c] = v->num;
        }
        e->power_w[c] = ct__json_num(ct__json_get(pw, cn), e->duration_s > 0 ? e->energy_j[c] / e->duration_s : 0);
    }
    const ct_json *devs = ct__json_get(j, "devices");
    if (devs && devs->type == CT_JSON_ARRAY)
        for (const ct_json *v = devs->child; v; v = v->next)
            if (component_index(ct__json_str(ct__json_get(v, "component"), "")) == CT_COMPONENT_CPU &&
                is_dram(ct__json_str(ct__json_get(v, "name"), "")))
                d->dram = 1;
    d->nepochs++;
    const ct_json *ps = ct__json_get(j, "power_series");
    const ct_json *ts = ct__json_get(ps, "t");
    if (ts && ts->type == CT_JSON_ARRAY) {
        const ct_json *cs[CT_COMPONENT_COUNT];
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            cs[c] = ct__json_get(ps, ct_component_name((ct_component)c));
            cs[c] = (cs[c] && cs[c]->type == CT_JSON_ARRAY && cs[c]->count == ts->count) ? cs[c]->child : NULL;
        }
        if (ct__grow((void **)&d->points, &cp->p, d->npoints + ts->count, sizeof *d->points)) return CT_ENOMEM;
        for (const ct_json *t = ts->child; t; t = t->next) {
            ct_run_point *p = &d->points[d->npoints];
            p->t_s = ct__json_num(t, NAN);
            for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
                p->p_w[c] = cs[c] ? ct__json_num(cs[c], NAN) : NAN;
                if (cs[c]) cs[c] = cs[c]->next;
            }
            if (isfinite(p->t_s)) d->npoints++;
        }
    }
    return 0;
}

static int load_jsonl(const char *path, ct_run_detail *d) {
    ct_jsonl_file f;
    int rc = ct__jsonl_open(&f, path);
    if (rc) return rc == CT_ENOMEM ? rc : cannot_read(rc, d->path);
    ct_json_doc *doc = ct__json_doc_new();
    if (!doc) {
        ct__jsonl_close(&f);
        return ct__fail(CT_ENOMEM, "out of memory");
    }
    caps cp = {0, 0, 0, 0};
    int header = 0;
    const char *line;
    size_t len;
    while ((rc = ct__jsonl_next(&f, &line, &len)) == 1) {
        const ct_json *j = len ? ct__json_parse(doc, line, len, NULL, 0) : NULL;
        rc = 0;
        switch (ct__jsonl_kind(j)) { /* a damaged line is left out: the rest still draws */
        case CT__REC_HEADER:
            header = 1;
            rc = jsonl_header(j, d, &cp);
            break;
        case CT__REC_EPOCH: rc = jsonl_epoch(j, d, &cp); break;
        case CT__REC_PREDICTION:
            ct__jsonl_total(j, &d->predicted);
            rc = jsonl_prediction(j, d, &cp);
            break;
        case CT__REC_GAP:
            d->gaps++;
            d->gap_epochs += ct__jsonl_gap_epochs(j);
            break;
        case CT__REC_FINAL: {
            ct__jsonl_total(ct__json_get(j, "actual"), &d->actual);
            ct_run_total p;
            ct__jsonl_total(ct__json_get(j, "predicted"), &p);
            if (p.valid) d->predicted = p;
            d->early_stop = ct__json_bool(ct__json_get(j, "early_stop"), 0);
            d->end_unix_s = ct__json_num(ct__json_get(j, "end"), NAN);
            break;
        }
        default: break;
        }
        if (rc) break;
        rc = 1;
    }
    ct__jsonl_close(&f);
    ct__json_doc_free(doc);
    if (rc == CT_ENOMEM) return ct__fail(CT_ENOMEM, "out of memory");
    if (rc < 0) return cannot_read(rc, d->path);
    if (!header) return ct__fail(CT_EPARSE, "%s: not a carbontracker JSON Lines file (no header record)", d->path);
    return 0;
}

/* ---- the original's standard log ----------------------------------------- */

static int load_text(const char *std, size_t stdn, const char *out, size_t outn, ct_run_detail *d) {
    ct_text_log tl;
    if (ct__text_log_read(std, stdn, out, outn, CT__TL_DETAIL, &tl)) return ct__fail(CT_ENOMEM, "out of memory");
    ct__strlcpy(d->version, tl.version, sizeof d->version);
    d->pue = tl.pue;
    d->early_stop = tl.early_stop;
    d->dram = tl.dram;
    d->measurement = ct__text_log_measurement(&tl);
    d->actual = tl.actual;
    d->predicted = tl.predicted;
    if (d->predicted.valid) d->epochs_planned = d->predicted.epochs;
    ct__strlcpy(d->intensity_source, tl.intensity_source, sizeof d->intensity_source);
    /* the intensity the log records: ours at start, or the original's average */
    d->intensity_g_per_kwh = isfinite(tl.intensity_start) ? tl.intensity_start : tl.intensity_avg;
    int rc = 0, cap_d = 0, cap_e = 0;
    for (int i = 0; i < tl.ndevices; i++) {
        if ((rc = ct__grow((void **)&d->devices, &cap_d, d->ndevices + 1, sizeof *d->devices))) goto out;
        ct_run_device *dv = &d->devices[d->ndevices++];
        memset(dv, 0, sizeof *dv);
        ct__strlcpy(dv->component, tl.comp_names[tl.devices[i].comp], sizeof dv->component);
        ct__strlcpy(dv->name, tl.devices[i].name, sizeof dv->name);
        ct__strlcpy(dv->method, "power-sampling", sizeof dv->method);
        dv->estimated = -1;
        int c = component_index(dv->component);
        if (c >= 0) d->has_component[c] = 1;
    }
    /* Epochs: one per duration; the k-th power line of a component is its k-th epoch. */
    if (tl.ndurations > 0) {
        if ((rc = ct__grow((void **)&d->epochs, &cap_e, tl.ndurations, sizeof *d->epochs))) goto out;
        for (int i = 0; i < tl.ndurations; i++) {
            ct_run_epoch *e = &d->epochs[i];
            memset(e, 0, sizeof *e);
            e->epoch = i + 1;
            e->duration_s = tl.durations[i];
            e->start_s = i ? d->epochs[i - 1].end_s : 0;
            e->end_s = e->start_s + e->duration_s;
            e->co2eq_g = NAN;
        }
        d->nepochs = tl.ndurations;
        int seen[8] = {0};
        for (int k = 0; k < tl.npower; k++) {
            const ct_text_power *p = &tl.power[k];
            int idx = seen[p->comp]++;
            int c = component_index(tl.comp_names[p->comp]);
            if (c < 0 || idx >= d->nepochs) continue;
            double sum = 0; /* one value per device: summed */
            for (int v = 0; v < p->nvalues; v++)
                if (isfinite(tl.values[p->value0 + v])) sum += tl.values[p->value0 + v];
            ct_run_epoch *e = &d->epochs[idx];
            e->has[c] = 1;
            d->has_component[c] = 1;
            e->power_w[c] = sum;
            e->energy_j[c] = sum * e->duration_s;
        }
        d->points = malloc((size_t)d->nepochs * 2 * sizeof *d->points);
        if (!d->points) {
            rc = CT_ENOMEM;
            goto out;
        }
        for (int i = 0; i < d->nepochs; i++) {
            const ct_run_epoch *e = &d->epochs[i];
            for (int k = 0; k < 2; k++) {
                ct_run_point *pt = &d->points[d->npoints++];
                pt->t_s = k ? e->end_s : e->start_s;
                for (int c = 0; c < CT_COMPONENT_COUNT; c++) pt->p_w[c] = e->has[c] ? e->power_w[c] : NAN;
            }
        }
    }
    /* CO2eq per epoch from the run's mean intensity, when the totals say it. */
    if (d->actual.valid && d->actual.energy_kwh > 0 && isfinite(d->actual.co2eq_g)) {
        double g_per_kwh_pue = d->actual.co2eq_g / d->actual.energy_kwh;
        double pue = isfinite(d->pue) ? d->pue : 1.0;
        for (int i = 0; i < d->nepochs; i++) {
            double j = 0;
            for (int c = 0; c < CT_COMPONENT_COUNT; c++) j += d->epochs[i].energy_j[c];
            d->epochs[i].co2eq_g = ct__j_to_kwh(j) * pue * g_per_kwh_pue;
        }
    }
out:
    ct__text_log_free(&tl);
    return rc ? ct__fail(CT_ENOMEM, "out of memory") : 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* The first non-blank byte of a regular file, or 0. */
static int first_byte(const char *path) {
    off_t size = 0;
    int fd = ct__open_regular(path, 0, &size);
    if (fd < 0) return fd;
    char b[256];
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    for (ssize_t i = 0; i < n; i++)
        if (b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') return (unsigned char)b[i];
    return 0;
}

static int load_detail(const char *path, ct_run_detail *d, int allow_empty) {
    if (!path || !d) return ct__fail(CT_EINVAL, "no input path");
    init_detail(d, path);
    char pp[600];
    ct__printable(path, pp, sizeof pp);
    ct__strlcpy(d->path, pp, sizeof d->path);
    int fb = first_byte(path);
    if (fb < 0) return cannot_read(fb, pp);
    int rc;
    if (fb == '{' || ends_with(path, ".jsonl")) {
        ct__strlcpy(d->format, "jsonl", sizeof d->format);
        rc = load_jsonl(path, d);
    } else {
        ct__strlcpy(d->format, "text", sizeof d->format);
        char *buf = NULL, *ob = NULL;
        size_t n = 0, on = 0;
        rc = ct__read_file(path, MAX_TEXT_BYTES, &buf, &n);
        if (rc) return cannot_read(rc, pp);
        const char *suf = "_carbontracker.log";
        if (ends_with(path, suf)) {
            /* The output log next to it has the totals. */
            size_t bl = strlen(path) - strlen(suf);
            char *out_path = malloc(bl + 32);
            if (out_path) {
                snprintf(out_path, bl + 32, "%.*s_carbontracker_output.log", (int)bl, path);
                if (ct__read_file(out_path, MAX_TEXT_BYTES, &ob, &on) != 0) ob = NULL;
                free(out_path);
            }
            rc = load_text(buf, n, ob, on, d);
        } else {
            /* given the output log itself (or a log of both) */
            rc = load_text(buf, n, buf, n, d);
        }
        free(ob);
        free(buf);
    }
    if (!rc && d->nepochs == 0 && !allow_empty)
        rc = ct__fail(CT_EPARSE, "%s: no epochs recorded (nothing to plot)", pp);
    if (rc) ct__run_detail_free(d);
    return rc;
}

int ct__run_detail_load(const char *path, ct_run_detail *d) { return load_detail(path, d, 0); }

int ct__run_detail_load_any(const char *path, ct_run_detail *d) { return load_detail(path, d, 1); }
