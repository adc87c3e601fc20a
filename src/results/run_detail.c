/*
 * run_detail.c - one run in detail for the report: from our JSON Lines file
 * (epochs with their power series) or from the original's standard text log
 * (epoch durations and average power per epoch; the output log next to it,
 * when present, gives the actual and predicted totals).
 */
#include "results_internal.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RUN_BYTES ((size_t)1024 * 1024 * 1024)


static int component_index(const char *name) {
    if (!name) return -1;
    if (strcasecmp(name, "cpu") == 0) return CT_COMPONENT_CPU;
    if (strcasecmp(name, "gpu") == 0) return CT_COMPONENT_GPU;
    return -1;
}

static int grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return CT_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

static void init_detail(ct_run_detail *d, const char *path) {
    memset(d, 0, sizeof *d);
    ct__strlcpy(d->path, path, sizeof d->path);
    d->start_unix_s = NAN;
    d->pue = NAN;
    d->intensity_g_per_kwh = NAN;
}

void ct__run_detail_free(ct_run_detail *d) {
    if (!d) return;
    free(d->devices);
    free(d->epochs);
    free(d->points);
    d->devices = NULL;
    d->epochs = NULL;
    d->points = NULL;
    d->ndevices = d->nepochs = d->npoints = 0;
}

static void total_from_json(const ct_json *o, ct_run_total *t) {
    memset(t, 0, sizeof *t);
    if (!o || o->type != CT_JSON_OBJECT) return;
    t->epochs = ct__json_int(ct__json_get(o, "epochs"), 0);
    t->duration_s = ct__json_num(ct__json_get(o, "duration_s"), 0);
    t->energy_kwh = ct__json_num(ct__json_get(o, "energy_kwh"), NAN);
    t->co2eq_g = ct__json_num(ct__json_get(o, "co2eq_g"), NAN);
    t->intensity_g_per_kwh = ct__json_num(ct__json_get(o, "intensity_g_per_kwh"), NAN);
    ct__strlcpy(t->intensity_source, ct__json_str(ct__json_get(o, "intensity_source"), ""),
                sizeof t->intensity_source);
    t->valid = isfinite(t->energy_kwh);
}

static int load_jsonl(const char *buf, size_t n, ct_run_detail *d, char *err, size_t errlen) {
    ct_json_doc *doc = ct__json_doc_new();
    if (!doc) return CT_ENOMEM;
    int cap_e = 0, cap_p = 0, cap_d = 0, rc = 0, header = 0, lineno = 0;
    const char *end = buf + n;
    char perr[160];
    for (const char *s = buf; s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        lineno++;
        const ct_json *j = le > s ? ct__json_parse(doc, s, (size_t)(le - s), perr, sizeof perr) : NULL;
        s = nl ? nl + 1 : end;
        if (!j || j->type != CT_JSON_OBJECT) continue; /* damaged line: the rest still draws */
        const char *ev = ct__json_str(ct__json_get(j, "event"), "");
        if (strcmp(ev, "header") == 0) {
            header = 1;
            ct__strlcpy(d->host, ct__json_str(ct__json_get(j, "host"), ""), sizeof d->host);
            ct__strlcpy(d->version, ct__json_str(ct__json_get(j, "version"), ""), sizeof d->version);
            d->start_unix_s = ct__json_num(ct__json_get(j, "start"), NAN);
            d->epochs_planned = ct__json_int(ct__json_get(j, "epochs"), 0);
            d->pue = ct__json_num(ct__json_get(j, "pue"), NAN);
            const ct_json *in = ct__json_get(j, "intensity");
            d->intensity_g_per_kwh = ct__json_num(ct__json_get(in, "g_per_kwh"), NAN);
            ct__strlcpy(d->intensity_source, ct__json_str(ct__json_get(in, "source"), ""),
                        sizeof d->intensity_source);
            ct__strlcpy(d->intensity_kind, ct__json_str(ct__json_get(in, "kind"), ""), sizeof d->intensity_kind);
            const ct_json *devs = ct__json_get(j, "devices");
            if (devs && devs->type == CT_JSON_ARRAY) {
                for (const ct_json *v = devs->child; v; v = v->next) {
                    if ((rc = grow((void **)&d->devices, &cap_d, d->ndevices + 1, sizeof *d->devices))) goto out;
                    ct_run_device *dv = &d->devices[d->ndevices++];
                    memset(dv, 0, sizeof *dv);
                    ct__strlcpy(dv->component, ct__json_str(ct__json_get(v, "component"), ""), sizeof dv->component);
                    ct__strlcpy(dv->name, ct__json_str(ct__json_get(v, "name"), ""), sizeof dv->name);
                    ct__strlcpy(dv->method, ct__json_str(ct__json_get(v, "method"), ""), sizeof dv->method);
                    ct__strlcpy(dv->source, ct__json_str(ct__json_get(v, "source"), ""), sizeof dv->source);
                    dv->estimated = ct__json_bool(ct__json_get(v, "estimated"), 0);
                    int c = component_index(dv->component);
                    if (c >= 0) d->has_component[c] = 1;
                }
            }
        } else if (strcmp(ev, "epoch") == 0) {
            if ((rc = grow((void **)&d->epochs, &cap_e, d->nepochs + 1, sizeof *d->epochs))) goto out;
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
                if (v && v->type == CT_JSON_NUMBER) {
                    e->has[c] = 1;
                    d->has_component[c] = 1;
                    e->energy_j[c] = v->num;
                }
                e->power_w[c] = ct__json_num(ct__json_get(pw, cn),
                                             e->duration_s > 0 ? e->energy_j[c] / e->duration_s : 0);
            }
            d->nepochs++;
            const ct_json *ps = ct__json_get(j, "power_series");
            const ct_json *ts = ct__json_get(ps, "t");
            if (ts && ts->type == CT_JSON_ARRAY) {
                const ct_json *cs[CT_COMPONENT_COUNT];
                for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
                    cs[c] = ct__json_get(ps, ct_component_name((ct_component)c));
                    cs[c] = (cs[c] && cs[c]->type == CT_JSON_ARRAY && cs[c]->count == ts->count) ? cs[c]->child : NULL;
                }
                if ((rc = grow((void **)&d->points, &cap_p, d->npoints + ts->count, sizeof *d->points))) goto out;
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
        } else if (strcmp(ev, "prediction") == 0) {
            ct_run_total *t = &d->predicted;
            memset(t, 0, sizeof *t);
            t->epochs = ct__json_int(ct__json_get(j, "epochs"), 0);
            t->duration_s = ct__json_num(ct__json_get(j, "duration_s"), 0);
            t->energy_kwh = ct__json_num(ct__json_get(j, "energy_kwh"), NAN);
            t->co2eq_g = ct__json_num(ct__json_get(j, "co2eq_g"), NAN);
            t->intensity_g_per_kwh = ct__json_num(ct__json_get(j, "intensity_g_per_kwh"), NAN);
            ct__strlcpy(t->intensity_source, ct__json_str(ct__json_get(j, "intensity_source"), ""),
                        sizeof t->intensity_source);
            t->valid = isfinite(t->energy_kwh);
        } else if (strcmp(ev, "final") == 0) {
            total_from_json(ct__json_get(j, "actual"), &d->actual);
            ct_run_total p;
            total_from_json(ct__json_get(j, "predicted"), &p);
            if (p.valid) d->predicted = p;
            d->early_stop = ct__json_bool(ct__json_get(j, "early_stop"), 0);
        }
    }
    if (!header) {
        ct__msgf(err, errlen, "%s: not a carbontracker JSON Lines file (no header record)", d->path);
        rc = CT_EPARSE;
    }
out:
    ct__json_doc_free(doc);
    if (rc == CT_ENOMEM) ct__msgf(err, errlen, "out of memory");
    return rc;
}

/* ---- the original's standard log ------------------------------------ */

static int load_text(const char *buf, ct_run_detail *d, char *err, size_t errlen) {
    regex_t re_dur, re_pow, re_comp, re_dev, re_pue, re_int, re_loc, re_ver, re_stop;
    int ok = regcomp(&re_dur, "Duration: ([0-9]+):([0-9]{2}):([0-9][0-9]?(.[0-9]{2})?)", REG_EXTENDED) == 0;
    ok &= regcomp(&re_pow, "Average power usage \\(W\\) for ([^\n:]+): (\\[[^]\n]*\\]|None|[-+0-9.eE]+)",
                  REG_EXTENDED) == 0;
    ok &= regcomp(&re_comp, "The following components were found:([^\n]*)", REG_EXTENDED) == 0;
    ok &= regcomp(&re_dev, " ([^ ]+) with device\\(s\\) ([^.\n]*)\\.", REG_EXTENDED) == 0;
    ok &= regcomp(&re_pue, "PUE coefficient of ([0-9.]+)", REG_EXTENDED) == 0;
    ok &= regcomp(&re_int, "average carbon intensity during training was ([0-9.]+) gCO2(eq)?/kWh([^\n]*)",
                  REG_EXTENDED | REG_ICASE) == 0;
    ok &= regcomp(&re_loc, "at detected location: ([^[\n]*[^ :[\n])", REG_EXTENDED) == 0;
    ok &= regcomp(&re_ver, "carbontracker version ([^ \n]+)", REG_EXTENDED | REG_ICASE) == 0;
    ok &= regcomp(&re_stop, "training was interrupted", REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
    if (!ok) {
        ct__msgf(err, errlen, "internal error: cannot compile the log patterns");
        return CT_ENOMEM; /* regfree of a failed regcomp is not allowed; leak-free enough for an impossible case */
    }
    int rc = 0, cap_e = 0, cap_d = 0;
    regmatch_t m[5];
    char tmp[1024];

    if (regexec(&re_ver, buf, 2, m, 0) == 0) {
        size_t l = (size_t)(m[1].rm_eo - m[1].rm_so);
        if (l >= sizeof d->version) l = sizeof d->version - 1;
        memcpy(d->version, buf + m[1].rm_so, l);
        d->version[l] = '\0';
    }
    if (regexec(&re_pue, buf, 2, m, 0) == 0) d->pue = strtod(buf + m[1].rm_so, NULL);
    if (regexec(&re_int, buf, 4, m, 0) == 0) {
        d->intensity_g_per_kwh = strtod(buf + m[1].rm_so, NULL);
        if (regexec(&re_loc, buf, 2, m, 0) == 0) {
            size_t l = (size_t)(m[1].rm_eo - m[1].rm_so);
            if (l >= sizeof d->intensity_source - 20) l = sizeof d->intensity_source - 21;
            memcpy(d->intensity_source, "detected location: ", 19);
            memcpy(d->intensity_source + 19, buf + m[1].rm_so, l);
            d->intensity_source[19 + l] = '\0';
        }
    }
    d->early_stop = regexec(&re_stop, buf, 0, NULL, 0) == 0;
    if (regexec(&re_comp, buf, 2, m, 0) == 0) {
        size_t l = (size_t)(m[1].rm_eo - m[1].rm_so);
        if (l >= sizeof tmp) l = sizeof tmp - 1;
        memcpy(tmp, buf + m[1].rm_so, l);
        tmp[l] = '\0';
        const char *p = tmp;
        while (regexec(&re_dev, p, 3, m, p == tmp ? 0 : REG_NOTBOL) == 0) {
            char comp[16];
            size_t cl = (size_t)(m[1].rm_eo - m[1].rm_so);
            if (cl >= sizeof comp) cl = sizeof comp - 1;
            memcpy(comp, p + m[1].rm_so, cl);
            comp[cl] = '\0';
            for (char *c = comp; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
            /* devices: a comma list */
            char list[512];
            size_t ll = (size_t)(m[2].rm_eo - m[2].rm_so);
            if (ll >= sizeof list) ll = sizeof list - 1;
            memcpy(list, p + m[2].rm_so, ll);
            list[ll] = '\0';
            char *save = NULL;
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ') tok++;
                if (!*tok) continue;
                if ((rc = grow((void **)&d->devices, &cap_d, d->ndevices + 1, sizeof *d->devices))) goto out;
                ct_run_device *dv = &d->devices[d->ndevices++];
                memset(dv, 0, sizeof *dv);
                ct__strlcpy(dv->component, comp, sizeof dv->component);
                ct__strlcpy(dv->name, tok, sizeof dv->name);
                ct__strlcpy(dv->method, "power-sampling", sizeof dv->method);
                dv->estimated = -1;
            }
            int c = component_index(comp);
            if (c >= 0) d->has_component[c] = 1;
            p += m[0].rm_eo;
        }
    }
    /* Epochs: each "Duration:" starts one; the power lines after it belong to it. */
    const char *p = buf;
    int cur = -1;
    for (;;) {
        regmatch_t md[5], mp[3];
        int hd = regexec(&re_dur, p, 5, md, p == buf ? 0 : REG_NOTBOL) == 0;
        int hp = regexec(&re_pow, p, 3, mp, p == buf ? 0 : REG_NOTBOL) == 0;
        if (!hd && !hp) break;
        if (hd && (!hp || md[0].rm_so < mp[0].rm_so)) {
            if ((rc = grow((void **)&d->epochs, &cap_e, d->nepochs + 1, sizeof *d->epochs))) goto out;
            ct_run_epoch *e = &d->epochs[d->nepochs];
            memset(e, 0, sizeof *e);
            e->epoch = d->nepochs + 1;
            size_t l = (size_t)(md[0].rm_eo - md[0].rm_so) - 10; /* after "Duration: " */
            if (l >= sizeof tmp) l = sizeof tmp - 1;
            memcpy(tmp, p + md[0].rm_so + 10, l);
            tmp[l] = '\0';
            e->duration_s = ct__parse_hms(tmp);
            if (e->duration_s < 0) e->duration_s = 0;
            e->start_s = d->nepochs ? d->epochs[d->nepochs - 1].end_s : 0;
            e->end_s = e->start_s + e->duration_s;
            e->co2eq_g = NAN;
            cur = d->nepochs++;
            p += md[0].rm_eo;
        } else {
            char comp[64], val[512];
            size_t cl = (size_t)(mp[1].rm_eo - mp[1].rm_so), vl = (size_t)(mp[2].rm_eo - mp[2].rm_so);
            if (cl >= sizeof comp) cl = sizeof comp - 1;
            if (vl >= sizeof val) vl = sizeof val - 1;
            memcpy(comp, p + mp[1].rm_so, cl);
            comp[cl] = '\0';
            memcpy(val, p + mp[2].rm_so, vl);
            val[vl] = '\0';
            int c = component_index(comp);
            if (c >= 0 && cur >= 0) {
                /* "[61.2 30.1]" (one per device: summed), "61.2" or "None" */
                double sum = 0;
                char *q = val;
                while (*q) {
                    if (*q == '[' || *q == ']' || *q == ' ' || *q == ',') {
                        q++;
                        continue;
                    }
                    char *e2;
                    double v = strtod(q, &e2);
                    if (e2 == q) break;
                    if (isfinite(v)) sum += v;
                    q = e2;
                }
                ct_run_epoch *e = &d->epochs[cur];
                e->has[c] = 1;
                d->has_component[c] = 1;
                e->power_w[c] = sum;
                e->energy_j[c] = sum * e->duration_s;
            }
            p += mp[0].rm_eo;
        }
    }
    /* Power over time: one step per epoch (average power). */
    if (d->nepochs) {
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
out:
    regfree(&re_dur);
    regfree(&re_pow);
    regfree(&re_comp);
    regfree(&re_dev);
    regfree(&re_pue);
    regfree(&re_int);
    regfree(&re_loc);
    regfree(&re_ver);
    regfree(&re_stop);
    if (rc == CT_ENOMEM) ct__msgf(err, errlen, "out of memory");
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int ct__run_detail_load(const char *path, ct_run_detail *d, char *err, size_t errlen) {
    if (!path || !d) return CT_EINVAL;
    init_detail(d, path);
    char *buf = NULL;
    size_t n = 0;
    char rerr[256];
    int rc = ct__results_read_file(path, MAX_RUN_BYTES, &buf, &n, rerr, sizeof rerr);
    if (rc) {
        if (rc == CT_ENOMEM) ct__msgf(err, errlen, "out of memory");
        else ct__msgf(err, errlen, "%s: cannot read: %s", path, rerr);
        return rc;
    }
    const char *s = buf;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') s++;
    if (*s == '{' || ends_with(path, ".jsonl")) {
        ct__strlcpy(d->format, "jsonl", sizeof d->format);
        rc = load_jsonl(buf, n, d, err, errlen);
    } else {
        ct__strlcpy(d->format, "text", sizeof d->format);
        rc = load_text(buf, d, err, errlen);
        if (!rc) {
            /* The output log next to it has the totals. */
            char out_path[4096];
            const char *suf = "_carbontracker.log";
            if (ends_with(path, suf) && strlen(path) + 8 < sizeof out_path) {
                size_t bl = strlen(path) - strlen(suf);
                memcpy(out_path, path, bl);
                snprintf(out_path + bl, sizeof out_path - bl, "_carbontracker_output.log");
                char *ob = NULL;
                if (ct__results_read_file(out_path, 64u * 1024 * 1024, &ob, NULL, rerr, sizeof rerr) == 0) {
                    ct__output_log_block(ob, "actual", &d->actual);
                    ct__output_log_block(ob, "predicted", &d->predicted);
                    free(ob);
                }
            } else if (strstr(buf, "consumption for")) {
                /* given the output log itself */
                ct__output_log_block(buf, "actual", &d->actual);
                ct__output_log_block(buf, "predicted", &d->predicted);
            }
            if (d->predicted.valid) d->epochs_planned = d->predicted.epochs;
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
        }
    }
    free(buf);
    if (!rc && d->nepochs == 0) {
        ct__msgf(err, errlen, "%s: no epochs recorded (nothing to plot)", path);
        rc = CT_EPARSE;
    }
    if (rc) ct__run_detail_free(d);
    return rc;
}
