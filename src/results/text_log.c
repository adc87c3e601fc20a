/*
 * text_log.c - the one reader of the original's text logs: the standard log
 * (`..._carbontracker.log`: version, PUE, devices, one "Epoch N:",
 * "Duration:" and "Average power usage (W) for ...:" group per epoch,
 * intensity, "Training was interrupted") and the output log
 * (`..._carbontracker_output.log`: the "Actual"/"Predicted consumption"
 * blocks). Written by the Python carbontracker and, in the same wording, by
 * this library.
 *
 * One pass per file, line by line, no regular expressions: the cost is linear
 * in the file (the regex version spent 68 % of `parse` in the engine and was
 * quadratic for the report). What the patterns of the original's parser
 * accept is accepted here (docs/parse-formats.md lists the lines). Without
 * CT__TL_DETAIL nothing is allocated: aggregation keeps a few numbers per run.
 */
#include "results_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ct__measurement_name(int meas) {
    switch (meas) {
    case CT__MEAS_MEASURED: return "measured";
    case CT__MEAS_PARTLY: return "partly estimated";
    case CT__MEAS_ESTIMATED: return "estimated";
    default: return "not stated";
    }
}

double ct__parse_hms(const char *s) {
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    char *e;
    errno = 0;
    long h = strtol(s, &e, 10);
    if (e == s || *e != ':' || h < 0 || errno || !isdigit((unsigned char)*s)) return -1;
    const char *m = e + 1;
    if (!(m[0] >= '0' && m[0] <= '9' && m[1] >= '0' && m[1] <= '9' && m[2] == ':')) return -1;
    if (!isdigit((unsigned char)m[3])) return -1;
    double sec = strtod(m + 3, &e);
    if (e == m + 3 || sec < 0 || sec >= 61) return -1;
    return (double)h * 3600.0 + ((m[0] - '0') * 10 + (m[1] - '0')) * 60.0 + sec;
}

/* ---- small scanning helpers ------------------------------------------ */

/* Case-insensitive search of an ASCII needle in [s, s+n). */
static const char *ci_find(const char *s, size_t n, const char *needle) {
    size_t k = strlen(needle);
    if (k == 0 || n < k) return NULL;
    unsigned char f0 = (unsigned char)tolower((unsigned char)needle[0]);
    for (size_t i = 0; i + k <= n; i++) {
        if ((unsigned char)tolower((unsigned char)s[i]) != f0) continue;
        if (strncasecmp(s + i, needle, k) == 0) return s + i;
    }
    return NULL;
}

static const char *find(const char *s, size_t n, const char *needle) { return memmem(s, n, needle, strlen(needle)); }

static int starts(const char *s, const char *e, const char *prefix) {
    size_t k = strlen(prefix);
    return (size_t)(e - s) >= k && memcmp(s, prefix, k) == 0;
}

static int starts_ci(const char *s, const char *e, const char *prefix) {
    size_t k = strlen(prefix);
    return (size_t)(e - s) >= k && strncasecmp(s, prefix, k) == 0;
}

static const char *skip_ws(const char *s, const char *e) {
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' || *s == '\v')) s++;
    return s;
}

static const char *trim_end(const char *s, const char *e) {
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\f' || e[-1] == '\v')) e--;
    return e;
}

/* A copy of [s,e) NUL-terminated into buf (truncated). */
static void copy_span(char *buf, size_t len, const char *s, const char *e) {
    size_t n = (size_t)(e - s);
    if (n >= len) n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

/* The whole token [s,e) as a double, else NaN (the original's float() of a field). */
static double token_num(const char *s, const char *e) {
    char tmp[64];
    if (e <= s || (size_t)(e - s) >= sizeof tmp) return NAN;
    copy_span(tmp, sizeof tmp, s, e);
    char *end;
    double v = strtod(tmp, &end);
    return (end != tmp && *end == '\0') ? v : NAN;
}

/* A number at s (strtod prefix) or NaN. */
static double lead_num(const char *s, const char *e) {
    char tmp[64];
    s = skip_ws(s, e);
    copy_span(tmp, sizeof tmp, s, e);
    char *end;
    double v = strtod(tmp, &end);
    return end != tmp ? v : NAN;
}

/* "YYYY-MM-DD" at s: a log line's timestamp. */
static int dated(const char *s, const char *e) {
    if (e - s < 10) return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-') return 0;
        } else if (!isdigit((unsigned char)s[i])) return 0;
    }
    return 1;
}

/* The message of a log line: after "YYYY-MM-DD HH:MM:SS - ", else the line. */
static const char *message(const char *s, const char *e) {
    if (dated(s, e)) {
        const char *d = find(s, (size_t)(e - s), " - ");
        if (d && d - s <= 32) return d + 3;
    }
    return s;
}

/* ---- growing arrays (detail only) ------------------------------------- */


typedef struct caps {
    int dev, dur, pow, val;
} caps;

static int comp_index(ct_text_log *tl, const char *s, const char *e) {
    char name[32];
    s = skip_ws(s, e);
    e = trim_end(s, e);
    copy_span(name, sizeof name, s, e);
    for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
    for (int i = 0; i < tl->ncomp; i++)
        if (strcmp(tl->comp_names[i], name) == 0) return i;
    if (tl->ncomp == (int)(sizeof tl->comp_names / sizeof tl->comp_names[0])) return -1;
    memcpy(tl->comp_names[tl->ncomp], name, sizeof name);
    return tl->ncomp++;
}

static int known_comp(const char *s, const char *e) {
    s = skip_ws(s, e);
    e = trim_end(s, e);
    if (e - s == 3 && strncasecmp(s, "cpu", 3) == 0) return CT_COMPONENT_CPU;
    if (e - s == 3 && strncasecmp(s, "gpu", 3) == 0) return CT_COMPONENT_GPU;
    return -1;
}

/* ---- the standard log ------------------------------------------------ */

/* "... found: GPU with device(s) Tesla T4, Tesla T4. CPU with device(s) cpu:0, dram:0." */
static int read_devices(ct_text_log *tl, const char *s, const char *e, unsigned flags, caps *cp) {
    static const char marker[] = " with device(s) ";
    const size_t ml = sizeof marker - 1;
    e = trim_end(s, e);
    const char *m = find(s, (size_t)(e - s), marker);
    while (m) {
        /* the component: the word before the marker */
        const char *w = m;
        while (w > s && (isalnum((unsigned char)w[-1]) || w[-1] == '_')) w--;
        const char *list = m + ml;
        const char *next = find(list, (size_t)(e - list), marker);
        const char *lend;
        if (next) {
            /* the list ends at the "." before " WORD with device(s) " */
            const char *nw = next;
            while (nw > list && (isalnum((unsigned char)nw[-1]) || nw[-1] == '_')) nw--;
            lend = nw > list && nw[-1] == ' ' ? nw - 1 : nw;
        } else {
            lend = e;
        }
        if (lend > list && lend[-1] == '.') lend--;
        if (w < m) {
            char comp[16];
            copy_span(comp, sizeof comp, w, m);
            int is_cpu = strcasecmp(comp, "cpu") == 0;
            if (is_cpu && find(list, (size_t)(lend - list), "dram")) tl->dram = 1;
            if (flags & CT__TL_DETAIL) {
                int ci = comp_index(tl, w, m);
                const char *p = list;
                for (;;) {
                    const char *c = memchr(p, ',', (size_t)(lend - p));
                    const char *de = c ? c : lend;
                    if (ct__grow((void **)&tl->devices, &cp->dev, tl->ndevices + 1, sizeof *tl->devices))
                        return CT_ENOMEM;
                    ct_text_device *d = &tl->devices[tl->ndevices++];
                    d->comp = ci;
                    const char *ds = skip_ws(p, de);
                    copy_span(d->name, sizeof d->name, ds, trim_end(ds, de));
                    if (!c) break;
                    p = c + 1;
                }
            }
        }
        m = next;
    }
    return 0;
}

/* "46.2", "[61.2 55.3]", "[12.5, 3.25]", "None", "7.5 (estimated)". */
static int read_power(ct_text_log *tl, const char *name_s, const char *name_e, const char *v, const char *e,
                      unsigned flags, caps *cp) {
    int kc = known_comp(name_s, name_e);
    int est = find(v, (size_t)(e - v), "(estimated)") != NULL;
    if (kc >= 0) {
        tl->power_lines[kc]++;
        if (est) tl->estimated_lines[kc]++;
    }
    if (!(flags & CT__TL_DETAIL)) return 0;
    int ci = comp_index(tl, name_s, name_e);
    if (ci < 0) return 0;
    if (ct__grow((void **)&tl->power, &cp->pow, tl->npower + 1, sizeof *tl->power)) return CT_ENOMEM;
    ct_text_power *pw = &tl->power[tl->npower++];
    pw->comp = ci;
    pw->value0 = tl->nvalues;
    pw->nvalues = 0;
    pw->estimated = est;
    v = skip_ws(v, e);
    e = trim_end(v, e);
    double one[1];
    int nv = 0;
    const char *p = NULL, *pe = NULL;
    if (v == e || starts(v, e, "None")) {
        one[0] = 0.0;
        nv = 1;
    } else if (*v == '[' && memchr(v, ']', (size_t)(e - v))) {
        p = v + 1;
        pe = memchr(v, ']', (size_t)(e - v));
    } else {
        one[0] = lead_num(v, e);
        nv = 1;
    }
    if (p) {
        /* values split at commas and blanks */
        while (p < pe) {
            while (p < pe && (*p == ' ' || *p == ',' || *p == '\t')) p++;
            if (p >= pe) break;
            const char *te = p;
            while (te < pe && *te != ' ' && *te != ',' && *te != '\t') te++;
            if (ct__grow((void **)&tl->values, &cp->val, tl->nvalues + 1, sizeof *tl->values)) return CT_ENOMEM;
            tl->values[tl->nvalues++] = token_num(p, te);
            pw->nvalues++;
            p = te;
        }
        if (pw->nvalues == 0) {
            one[0] = NAN;
            nv = 1;
        }
    }
    for (int i = 0; i < nv; i++) {
        if (ct__grow((void **)&tl->values, &cp->val, tl->nvalues + 1, sizeof *tl->values)) return CT_ENOMEM;
        tl->values[tl->nvalues++] = one[i];
        pw->nvalues++;
    }
    return 0;
}

/* "- Epoch 12:" (only blanks after the colon). */
static int epoch_line(const char *m, const char *e) {
    if (!starts(m, e, "Epoch ")) return 0;
    const char *p = m + 6;
    if (p >= e || !isdigit((unsigned char)*p)) return 0;
    while (p < e && isdigit((unsigned char)*p)) p++;
    if (p >= e || *p != ':') return 0;
    return skip_ws(p + 1, e) == e;
}

static int read_std(ct_text_log *tl, const char *text, size_t n, unsigned flags, caps *cp) {
    static const char pow_prefix[] = "Average power usage (W) for ";
    const char *end = text + n;
    int have_devices = 0;
    char location[128] = "";
    for (const char *s = text; s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *m = message(s, e);
        size_t ml = (size_t)(e - m);
        /* the lines of every epoch first */
        if (starts(m, e, "Duration: ")) {
            double d = ct__parse_hms(m + 10);
            if (d >= 0) {
                if ((flags & CT__TL_DETAIL) &&
                    ct__grow((void **)&tl->durations, &cp->dur, tl->ndurations + 1, sizeof *tl->durations))
                    return CT_ENOMEM;
                if (flags & CT__TL_DETAIL) tl->durations[tl->ndurations] = d;
                tl->ndurations++;
            }
        } else if (starts(m, e, pow_prefix)) {
            const char *name = m + sizeof pow_prefix - 1;
            /* the name runs to the last ": " of the line */
            const char *colon = NULL;
            for (const char *q = name; q + 1 < e; q++)
                if (q[0] == ':' && q[1] == ' ') colon = q;
            if (!colon && e > name && e[-1] == ':') colon = e - 1;
            if (colon && colon > name && read_power(tl, name, colon, colon + (colon + 1 < e ? 2 : 1), e, flags, cp))
                return CT_ENOMEM;
        } else if (epoch_line(m, e)) {
            tl->epoch_lines++;
        } else {
            const char *f;
            if (!tl->version[0] && (f = ci_find(m, ml, "carbontracker version ")) != NULL) {
                const char *v = f + 22, *ve = v;
                while (ve < e && *ve != ' ' && *ve != '\r') ve++;
                copy_span(tl->version, sizeof tl->version, v, ve);
            }
            if (isnan(tl->pue) && (f = find(m, ml, "PUE coefficient of ")) != NULL) tl->pue = lead_num(f + 19, e);
            if (!have_devices && (f = find(m, ml, "The following components were found:")) != NULL) {
                have_devices = 1;
                if (read_devices(tl, f + 36, e, flags, cp)) return CT_ENOMEM;
            }
            if (!tl->early_stop && ci_find(m, ml, "training was interrupted")) tl->early_stop = 1;
            if ((f = ci_find(m, ml, "average carbon intensity during training was ")) != NULL)
                tl->intensity_avg = lead_num(f + 45, e);
            if (!tl->intensity_source[0] && ci_find(m, ml, "carbon intensity") &&
                (f = find(m, ml, "gCO2eq/kWh (")) != NULL) {
                /* ours: "Carbon intensity at start: 151.65 gCO2eq/kWh (static: Denmark ...)." */
                const char *src = f + 12;
                const char *se = trim_end(src, e);
                if (se > src && se[-1] == '.') se--;
                if (se > src && se[-1] == ')') {
                    copy_span(tl->intensity_source, sizeof tl->intensity_source, src, se - 1);
                    const char *c = f;
                    while (c > m && c[-1] != ':') c--;
                    if (ci_find(m, (size_t)(f - m), "at start")) tl->intensity_start = lead_num(c, f);
                }
            }
            if (!location[0] && (f = find(m, ml, "at detected location: ")) != NULL) {
                const char *l = f + 22, *le = l;
                while (le < e && *le != '[') le++;
                while (le > l && (le[-1] == ' ' || le[-1] == ':' || le[-1] == '\r')) le--;
                copy_span(location, sizeof location, l, le);
            }
        }
        s = nl ? nl + 1 : end;
    }
    if (!tl->intensity_source[0] && location[0])
        snprintf(tl->intensity_source, sizeof tl->intensity_source, "detected location: %s", location);
    return 0;
}

/* ---- the output log --------------------------------------------------- */

/* "Actual consumption for 3 epoch(s):" / "Predicted consumption:" anywhere
 * in the line, only blanks after the colon. Returns 1 actual, 2 predicted. */
static int block_head(const char *s, const char *e, int *epochs) {
    const char *f = ci_find(s, (size_t)(e - s), " consumption");
    while (f) {
        int kind = 0;
        if (f - s >= 6 && strncasecmp(f - 6, "actual", 6) == 0) kind = 1;
        else if (f - s >= 9 && strncasecmp(f - 9, "predicted", 9) == 0) kind = 2;
        const char *p = f + 12;
        *epochs = -1;
        if (kind && starts(p, e, " for ")) {
            p += 5;
            const char *d = p;
            while (p < e && isdigit((unsigned char)*p)) p++;
            if (p > d && starts(p, e, " epoch(s)")) {
                *epochs = (int)strtol(d, NULL, 10);
                p += 9;
            } else {
                kind = 0;
            }
        }
        if (kind && p < e && *p == ':' && skip_ws(p + 1, e) == e) return kind;
        f = ci_find(f + 1, (size_t)(e - f - 1), " consumption");
    }
    return 0;
}

/* "\tEnergy:\t0.48 kWh": the one token before the unit, blanks around. */
static int unit_field(const char *s, const char *e, const char *unit, double *out) {
    e = trim_end(s, e);
    size_t ul = strlen(unit);
    if ((size_t)(e - s) <= ul || strncasecmp(e - ul, unit, ul) != 0) return 0;
    const char *ve = e - ul;
    if (ve <= s || (ve[-1] != ' ' && ve[-1] != '\t')) return 0;
    ve = trim_end(s, ve);
    const char *vs = ve;
    while (vs > s && vs[-1] != ' ' && vs[-1] != '\t' && vs[-1] != ':') vs--;
    if (vs == ve || skip_ws(s, vs) != vs) return 0;
    *out = token_num(vs, ve);
    return 1;
}

static const char *read_block(ct_text_log *tl, int kind, int epochs, const char *s, const char *end) {
    ct_run_total *t = kind == 1 ? &tl->actual : &tl->predicted;
    int first = !t->valid;
    ct_run_total b;
    memset(&b, 0, sizeof b);
    b.epochs = epochs;
    b.duration_s = -1;
    b.energy_kwh = b.co2eq_g = b.intensity_g_per_kwh = NAN;
    b.measurement = CT__MEAS_UNKNOWN;
    int has_e = 0, has_c = 0;
    const char *equiv = NULL, *p = s;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (dated(p, e) || starts(p, e, "CarbonTracker:")) break;
        if (!equiv) {
            const char *f = skip_ws(p, e);
            if (starts_ci(f, e, "Time:")) {
                char tmp[64];
                const char *v = skip_ws(f + 5, e);
                copy_span(tmp, sizeof tmp, v, trim_end(v, e));
                b.duration_s = ct__parse_hms(tmp);
            } else if (starts_ci(f, e, "Energy:")) {
                has_e = unit_field(f + 7, e, "kWh", &b.energy_kwh) || has_e;
            } else if (starts_ci(f, e, "CO2eq:")) {
                has_c = unit_field(f + 6, e, "g", &b.co2eq_g) || has_c;
            } else if (starts_ci(f, e, "This is equivalent to:")) {
                equiv = nl ? nl + 1 : end;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (first && has_e && has_c) {
        b.valid = 1;
        *t = b;
        const char **eq = kind == 1 ? &tl->actual_equiv : &tl->predicted_equiv;
        size_t *eql = kind == 1 ? &tl->actual_equiv_len : &tl->predicted_equiv_len;
        *eq = equiv;
        *eql = equiv ? (size_t)(p - equiv) : 0;
    }
    return p;
}

static void read_out(ct_text_log *tl, const char *text, size_t n) {
    const char *end = text + n;
    for (const char *s = text; s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        size_t l = (size_t)(e - s);
        int epochs, kind = ci_find(s, l, " consumption") ? block_head(s, e, &epochs) : 0;
        if (kind) {
            s = read_block(tl, kind, epochs, nl ? nl + 1 : end, end);
            continue;
        }
        const char *f;
        if (ci_find(s, l, "finished monitoring")) tl->finished = 1;
        if ((f = find(s, l, "consumption above is ")) != NULL) {
            int st = ci_find(f, (size_t)(e - f), "partly estimated") ? CT__MEAS_PARTLY
                     : ci_find(f, (size_t)(e - f), "estimated")      ? CT__MEAS_ESTIMATED
                     : ci_find(f, (size_t)(e - f), "measured")       ? CT__MEAS_MEASURED
                                                                     : CT__MEAS_UNKNOWN;
            if (st > tl->stated) tl->stated = st;
            ct_run_total *t = ci_find(s, (size_t)(f - s), "predicted") ? &tl->predicted : &tl->actual;
            if (t->valid) t->measurement = st;
        }
        /* ours: "Average carbon intensity: 151.65 gCO2eq/kWh (...)." (what the total used) */
        if ((f = find(s, l, "verage carbon intensity: ")) != NULL) {
            int pred = ci_find(s, (size_t)(f - s), "predicted") != NULL;
            ct_run_total *t = pred ? &tl->predicted : &tl->actual;
            t->intensity_g_per_kwh = lead_num(f + 25, e);
            const char *src = find(f, (size_t)(e - f), "gCO2eq/kWh (");
            if (src) {
                const char *se = trim_end(src, e);
                if (se > src && se[-1] == '.') se--;
                if (se > src + 12 && se[-1] == ')')
                    copy_span(t->intensity_source, sizeof t->intensity_source, src + 12, se - 1);
            }
        }
        s = nl ? nl + 1 : end;
    }
}

int ct__text_log_read(const char *std, size_t stdlen, const char *out, size_t outlen, unsigned flags, ct_text_log *tl) {
    memset(tl, 0, sizeof *tl);
    tl->pue = tl->intensity_start = tl->intensity_avg = NAN;
    tl->actual.epochs = tl->predicted.epochs = -1;
    tl->actual.intensity_g_per_kwh = tl->predicted.intensity_g_per_kwh = NAN;
    tl->actual.measurement = tl->predicted.measurement = CT__MEAS_UNKNOWN;
    tl->stated = CT__MEAS_UNKNOWN;
    caps cp = {0, 0, 0, 0};
    if (std && read_std(tl, std, stdlen, flags, &cp)) {
        ct__text_log_free(tl);
        return CT_ENOMEM;
    }
    if (out) read_out(tl, out, outlen);
    /* "Actual consumption:" without a count: the epochs the standard log recorded */
    if (std && tl->actual.valid && tl->actual.epochs < 0)
        tl->actual.epochs = tl->epoch_lines ? tl->epoch_lines : tl->ndurations;
    if (tl->actual.valid && isnan(tl->actual.intensity_g_per_kwh)) tl->actual.intensity_g_per_kwh = tl->intensity_avg;
    int meas = ct__text_log_measurement(tl);
    if (tl->actual.valid && tl->actual.measurement == CT__MEAS_UNKNOWN) tl->actual.measurement = meas;
    if (tl->predicted.valid && tl->predicted.measurement == CT__MEAS_UNKNOWN) tl->predicted.measurement = meas;
    return 0;
}

void ct__text_log_free(ct_text_log *tl) {
    if (!tl) return;
    free(tl->devices);
    free(tl->durations);
    free(tl->power);
    free(tl->values);
    tl->devices = NULL;
    tl->durations = NULL;
    tl->power = NULL;
    tl->values = NULL;
    tl->ndevices = tl->npower = tl->nvalues = 0;
}

int ct__text_log_measurement(const ct_text_log *tl) {
    /* our logs mark estimated power lines; the original's never do */
    int lines = 0, est = 0, comps = 0, est_comps = 0;
    for (int c = 0; c < 2; c++) {
        lines += tl->power_lines[c];
        est += tl->estimated_lines[c];
        if (tl->power_lines[c]) {
            comps++;
            if (tl->estimated_lines[c]) est_comps++;
        }
    }
    if (est > 0) return est_comps == comps && est == lines ? CT__MEAS_ESTIMATED : CT__MEAS_PARTLY;
    if (tl->stated != CT__MEAS_UNKNOWN) return tl->stated;
    if (strncmp(tl->version, "0.", 2) == 0 && lines > 0) return CT__MEAS_MEASURED; /* ours, nothing marked */
    return CT__MEAS_UNKNOWN;
}

/* ---- JSON for bindings ------------------------------------------------ */

static void equivalents_json(FILE *f, const char *s, size_t n) {
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('{', f);
    int first = 1;
    const char *end = s + n;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *a = skip_ws(s, e), *b = trim_end(a, e);
        const char *sp = memchr(a, ' ', (size_t)(b - a));
        if (sp) {
            double v = token_num(a, sp);
            const char *u = skip_ws(sp, b);
            if (!isnan(v) && u < b) {
                char unit[128];
                copy_span(unit, sizeof unit, u, b);
                if (!first) fputs(", ", f);
                first = 0;
                ct__json_string(f, unit);
                fputs(": ", f);
                ct__json_number(f, v);
            }
        }
        s = nl ? nl + 1 : end;
    }
    fputc('}', f);
}

static void total_json(FILE *f, const ct_run_total *t, const char *eq, size_t eqlen) {
    if (!t->valid) {
        fputs("null", f);
        return;
    }
    fputs("{\"epochs\": ", f);
    if (t->epochs >= 0) fprintf(f, "%d", t->epochs);
    else fputs("null", f);
    fputs(", \"duration_s\": ", f);
    ct__json_number(f, t->duration_s >= 0 ? t->duration_s : NAN);
    fputs(", \"energy_kwh\": ", f);
    ct__json_number(f, t->energy_kwh);
    fputs(", \"co2eq_g\": ", f);
    ct__json_number(f, t->co2eq_g);
    fputs(", \"intensity_g_per_kwh\": ", f);
    ct__json_number(f, t->intensity_g_per_kwh);
    fputs(", \"measurement\": ", f);
    ct__json_string(f, ct__measurement_name(t->measurement));
    fputs(", \"equivalents\": ", f);
    equivalents_json(f, eq, eqlen);
    fputc('}', f);
}

void ct__text_log_write_json(FILE *f, const ct_text_log *tl) {
    fputs("{\"version\": ", f);
    ct__json_string(f, tl->version);
    fputs(", \"pue\": ", f);
    ct__json_number(f, tl->pue);
    fprintf(f, ", \"early_stop\": %s, \"finished\": %s, \"epoch_lines\": %d, \"measurement\": ",
            tl->early_stop ? "true" : "false", tl->finished ? "true" : "false", tl->epoch_lines);
    ct__json_string(f, ct__measurement_name(ct__text_log_measurement(tl)));
    fputs(", \"intensity_source\": ", f);
    ct__json_string(f, tl->intensity_source);
    fputs(",\n \"devices\": {", f);
    for (int c = 0, nc = 0; c < tl->ncomp; c++) {
        int any = 0;
        for (int i = 0; i < tl->ndevices; i++)
            if (tl->devices[i].comp == c) {
                if (!any) {
                    fputs(nc++ ? ", " : "", f);
                    ct__json_string(f, tl->comp_names[c]);
                    fputs(": [", f);
                } else {
                    fputs(", ", f);
                }
                any = 1;
                ct__json_string(f, tl->devices[i].name);
            }
        if (any) fputc(']', f);
    }
    fputs("},\n \"durations\": [", f);
    for (int i = 0; i < tl->ndurations && tl->durations; i++) {
        if (i) fputs(", ", f);
        ct__json_number(f, tl->durations[i]);
    }
    fputs("],\n \"power\": {", f);
    for (int c = 0, nc = 0; c < tl->ncomp; c++) {
        int any = 0;
        for (int i = 0; i < tl->npower; i++) {
            const ct_text_power *p = &tl->power[i];
            if (p->comp != c) continue;
            if (!any) {
                fputs(nc++ ? ", " : "", f);
                ct__json_string(f, tl->comp_names[c]);
                fputs(": [", f);
            } else {
                fputs(", ", f);
            }
            any = 1;
            fputc('[', f);
            for (int k = 0; k < p->nvalues; k++) {
                if (k) fputs(", ", f);
                ct__json_number(f, tl->values[p->value0 + k]);
            }
            fputc(']', f);
        }
        if (any) fputc(']', f);
    }
    fputs("},\n \"actual\": ", f);
    total_json(f, &tl->actual, tl->actual_equiv, tl->actual_equiv_len);
    fputs(",\n \"predicted\": ", f);
    total_json(f, &tl->predicted, tl->predicted_equiv, tl->predicted_equiv_len);
    fputs("}\n", f);
}
