/*
 * metrics.c - the Prometheus text exposition of `carbontracker exporter`
 * (issue 13): the node's device counters (from a tracker, public API) and the
 * runs logged as JSON Lines in the run directories.
 *
 * Runs are read incrementally: each known file keeps its inode and the offset
 * after its last complete line; a scrape reads only lines added since (a line
 * still being written, without its '\n', waits for the next scrape). A file
 * that disappears drops its run; a file replaced (new inode) or truncated is
 * read again from the start.
 */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Text buffer                                                         */
/* ------------------------------------------------------------------ */

void ct_sbuf_reset(ct_sbuf *b) {
    b->len = 0;
    b->oom = 0;
    if (b->s) b->s[0] = '\0';
}

void ct_sbuf_free(ct_sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

static int sbuf_reserve(ct_sbuf *b, size_t extra) {
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void ct_sbuf_add(ct_sbuf *b, const char *s, size_t n) {
    if (sbuf_reserve(b, n) != 0) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void ct_sbuf_printf(ct_sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        ct_sbuf_add(b, tmp, (size_t)n);
        return;
    }
    if (sbuf_reserve(b, (size_t)n) != 0) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ct_sbuf_label(ct_sbuf *b, const char *s) {
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        if (!esc) continue;
        ct_sbuf_add(b, run, (size_t)(s - run));
        ct_sbuf_add(b, esc, 2);
        run = s + 1;
    }
    ct_sbuf_add(b, run, (size_t)(s - run));
}

/* A sample value: integers and finite numbers as Prometheus reads them. */
static void sbuf_value(ct_sbuf *b, double v) {
    if (isnan(v)) ct_sbuf_add(b, "NaN", 3);
    else if (isinf(v)) ct_sbuf_printf(b, "%s", v > 0 ? "+Inf" : "-Inf");
    else ct_sbuf_printf(b, "%.17g", v);
}

/* ------------------------------------------------------------------ */
/* A small JSON reader: top-level keys of one object per line          */
/* ------------------------------------------------------------------ */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}

/* End of the string starting at p (on its opening quote), after the closing quote; NULL if unterminated. */
static const char *skip_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

/* End of the JSON value at p; NULL when malformed or cut. */
static const char *skip_value(const char *p, const char *end) {
    p = skip_ws(p, end);
    if (p >= end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; p < end; p++) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (!p) return NULL;
                p--;
            } else if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') p++;
    return p;
}

/* Finds key at the top level of the object [obj, end); *val = start of its value. */
static int json_get(const char *obj, const char *end, const char *key, const char **val, const char **vend) {
    const char *p = skip_ws(obj, end);
    if (p >= end || *p != '{') return -1;
    p++;
    size_t klen = strlen(key);
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"') return -1;
        const char *ks = p + 1;
        const char *ke = skip_string(p, end);
        if (!ke) return -1;
        p = skip_ws(ke, end);
        if (p >= end || *p != ':') return -1;
        p = skip_ws(p + 1, end);
        const char *ve = skip_value(p, end);
        if (!ve) return -1;
        if ((size_t)(ke - 1 - ks) == klen && memcmp(ks, key, klen) == 0) {
            *val = p;
            if (vend) *vend = ve;
            return 0;
        }
        p = skip_ws(ve, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        return -1;
    }
}

static int json_num(const char *obj, const char *end, const char *key, double *out) {
    const char *v, *ve;
    if (json_get(obj, end, key, &v, &ve) != 0) return -1;
    char tmp[64];
    size_t n = (size_t)(ve - v);
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *e = NULL;
    double d = strtod(tmp, &e);
    if (e == tmp || *e) return -1;
    *out = d;
    return 0;
}

static int json_bool(const char *obj, const char *end, const char *key) {
    const char *v, *ve;
    if (json_get(obj, end, key, &v, &ve) != 0) return -1;
    return (ve - v == 4 && memcmp(v, "true", 4) == 0) ? 1 : 0;
}

/* A string value, decoded (\uXXXX outside ASCII becomes '?'). */
static int json_str(const char *obj, const char *end, const char *key, char *buf, size_t len) {
    const char *v, *ve;
    if (json_get(obj, end, key, &v, &ve) != 0 || *v != '"' || len == 0) return -1;
    size_t o = 0;
    for (const char *p = v + 1; p < ve - 1 && o + 1 < len; p++) {
        char c = *p;
        if (c == '\\' && p + 1 < ve - 1) {
            c = *++p;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned cp = 0;
                if (ve - 1 - p > 4 && sscanf(p + 1, "%4x", &cp) == 1) p += 4;
                c = cp < 0x80 && cp >= 0x20 ? (char)cp : '?';
                break;
            }
            default: break; /* \" \\ \/ */
            }
        }
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 0;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */
/* ------------------------------------------------------------------ */

typedef ct_jsonl_run run;

struct ct_metrics {
    pthread_mutex_t mu;
    ct_tracker *t;
    char **dirs;
    int ndirs;
    char host[256];
    run *runs;
    int nruns, cap;
    double *base_j;          /* per device: power estimate state */
    double *last_j, *power_w;
    double last_mono;
    int ndev;
    ct_device_desc desc[64]; /* device descriptions, refreshed at most once a second */
    double desc_mono;
    double max_age_s;        /* 0 = keep all */
    char *line;              /* scratch for reading */
    size_t line_cap;
};

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_reset(run *r) {
    char path[1024], id[256];
    memcpy(path, r->path, sizeof path);
    memcpy(id, r->run_id, sizeof id);
    memset(r, 0, sizeof *r);
    memcpy(r->path, path, sizeof path);
    memcpy(r->run_id, id, sizeof id);
    r->rank = -1;
    r->start_unix_s = r->end_unix_s = NAN;
    r->pue = NAN;
}

/* Adds the per-component numbers of an object {"cpu": x, "gpu": y}. */
static void per_component(const char *obj, const char *end, double *sum, int *has) {
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        double v;
        if (json_num(obj, end, ct_component_name((ct_component)c), &v) == 0 && isfinite(v)) {
            sum[c] += v;
            if (has) has[c] = 1;
        }
    }
}

static void run_line(run *r, const char *s, const char *end) {
    char ev[32];
    if (json_str(s, end, "event", ev, sizeof ev) != 0) return; /* not ours or damaged: ignored */
    const char *v, *ve;
    if (strcmp(ev, "header") == 0) {
        r->has_header = 1;
        json_str(s, end, "host", r->host, sizeof r->host);
        json_str(s, end, "job_id", r->job_id, sizeof r->job_id);
        double rank;
        if (json_num(s, end, "rank", &rank) == 0 && rank >= 0 && rank < 1e9) r->rank = (int)rank;
        json_num(s, end, "start", &r->start_unix_s);
        json_num(s, end, "pue", &r->pue);
    } else if (strcmp(ev, "epoch") == 0) {
        if (json_get(s, end, "energy_j", &v, &ve) == 0) per_component(v, ve, r->energy_j, r->has_component);
        double co2, x;
        if (json_num(s, end, "co2eq_g", &co2) == 0 && isfinite(co2)) r->co2eq_g += co2;
        if (json_num(s, end, "duration_s", &x) == 0 && isfinite(x)) r->duration_s += x;
        if (json_num(s, end, "end", &x) == 0 && isfinite(x)) r->end_unix_s = x;
        r->epochs++;
        if (json_get(s, end, "estimated", &v, &ve) == 0)
            for (int c = 0; c < CT_COMPONENT_COUNT; c++)
                if (json_bool(v, ve, ct_component_name((ct_component)c)) == 1) r->estimated[c] = 1;
    } else if (strcmp(ev, "prediction") == 0) {
        double j[CT_COMPONENT_COUNT] = {0, 0};
        if (json_get(s, end, "energy_j", &v, &ve) == 0) per_component(v, ve, j, NULL);
        r->has_prediction = 1;
        r->predicted_j = j[0] + j[1];
        double co2;
        if (json_num(s, end, "co2eq_g", &co2) == 0) r->predicted_co2eq_g = co2;
    } else if (strcmp(ev, "final") == 0) {
        r->finished = 1;
        double x;
        if (json_num(s, end, "end", &x) == 0 && isfinite(x)) r->end_unix_s = x;
    }
}

/* Reads the lines added to r's file since the last scan. */
static void run_read(ct_metrics *m, run *r, const struct stat *st) {
    if (r->dev != st->st_dev || r->ino != st->st_ino || st->st_size < r->offset) {
        run_reset(r);
        r->dev = st->st_dev;
        r->ino = st->st_ino;
    }
    if (st->st_size == r->offset) return;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t want = (size_t)(st->st_size - r->offset);
    if (want > m->line_cap) {
        char *nl = realloc(m->line, want + 1);
        if (!nl) {
            close(fd);
            return;
        }
        m->line = nl;
        m->line_cap = want;
    }
    ssize_t n = pread(fd, m->line, want, r->offset);
    close(fd);
    if (n <= 0) return;
    const char *p = m->line, *end = m->line + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break; /* a line still being written: next time */
        run_line(r, p, nl);
        r->offset += nl + 1 - p;
        p = nl + 1;
    }
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static run *find_run(ct_metrics *m, const char *path) {
    for (int i = 0; i < m->nruns; i++)
        if (strcmp(m->runs[i].path, path) == 0) return &m->runs[i];
    return NULL;
}

static const char SUFFIX[] = "_carbontracker.jsonl";

static void scan_dir(ct_metrics *m, const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        int is_log = ends_with(e->d_name, SUFFIX);
        if (!is_log && depth == 0 && (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)) {
            scan_dir(m, path, 1);
            continue;
        }
        if (!is_log) continue;
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue; /* vanished meanwhile */
        if (m->max_age_s > 0 && (double)time(NULL) - (double)st.st_mtime > m->max_age_s) continue;
        run *r = find_run(m, path);
        if (!r) {
            if (m->nruns == m->cap) {
                int cap = m->cap ? m->cap * 2 : 16;
                run *nr = realloc(m->runs, (size_t)cap * sizeof *nr);
                if (!nr) continue;
                m->runs = nr;
                m->cap = cap;
            }
            r = &m->runs[m->nruns++];
            memset(r, 0, sizeof *r);
            snprintf(r->path, sizeof r->path, "%s", path);
            run_reset(r);
            size_t idl = strlen(e->d_name) - (sizeof SUFFIX - 1);
            if (idl >= sizeof r->run_id) idl = sizeof r->run_id - 1;
            memcpy(r->run_id, e->d_name, idl);
            r->run_id[idl] = '\0';
            r->dev = st.st_dev;
            r->ino = st.st_ino;
        }
        r->seen = 1;
        run_read(m, r, &st);
    }
    closedir(d);
}

static void scan_runs(ct_metrics *m) {
    for (int i = 0; i < m->nruns; i++) m->runs[i].seen = 0;
    for (int i = 0; i < m->ndirs; i++) scan_dir(m, m->dirs[i], 0);
    /* Runs whose file disappeared are dropped. */
    int o = 0;
    for (int i = 0; i < m->nruns; i++)
        if (m->runs[i].seen) m->runs[o++] = m->runs[i];
    m->nruns = o;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

static void help(ct_sbuf *b, const char *name, const char *type, const char *text) {
    ct_sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void lbl(ct_sbuf *b, const char *name, const char *value, int first) {
    ct_sbuf_printf(b, "%s%s=\"", first ? "" : ",", name);
    ct_sbuf_label(b, value);
    ct_sbuf_add(b, "\"", 1);
}

static void device_labels(ct_sbuf *b, const ct_device_desc *d, int index, const char *host) {
    char idx[16];
    snprintf(idx, sizeof idx, "%d", index);
    ct_sbuf_add(b, "{", 1);
    lbl(b, "component", ct_component_name(d->component), 1);
    lbl(b, "device", d->name, 0);
    lbl(b, "index", idx, 0);
    lbl(b, "source", d->source, 0);
    lbl(b, "measurement", d->estimated ? "estimated" : "measured", 0);
    lbl(b, "host", host, 0);
    ct_sbuf_add(b, "} ", 2);
}

static void run_labels(ct_sbuf *b, const run *r, const char *host) {
    char rank[16];
    snprintf(rank, sizeof rank, "%d", r->rank);
    ct_sbuf_add(b, "{", 1);
    lbl(b, "run_id", r->run_id, 1);
    lbl(b, "job_id", r->job_id, 0);
    lbl(b, "rank", rank, 0);
    lbl(b, "host", r->host[0] ? r->host : host, 0);
}

static void render_node(ct_metrics *m, ct_sbuf *b) {
    ct_tracker *t = m->t;
    int n = t ? ct_device_count(t) : 0;
    if (n < 0) n = 0;
    if (n != m->ndev) {
        free(m->last_j);
        free(m->power_w);
        m->last_j = calloc((size_t)(n ? n : 1), sizeof(double));
        m->power_w = calloc((size_t)(n ? n : 1), sizeof(double));
        m->ndev = m->last_j && m->power_w ? n : 0;
        m->last_mono = 0;
        m->desc_mono = 0;
        n = m->ndev;
    }
    ct_device_desc *d = m->desc;
    double e[64];
    if (n > 64) n = 64;
    double now = mono_s();
    int update_power = m->last_mono == 0 || now - m->last_mono >= 1.0;
    int update_desc = m->desc_mono == 0 || now - m->desc_mono >= 1.0;
    if (update_desc) m->desc_mono = now;
    for (int i = 0; i < n; i++) {
        if (update_desc && ct_get_device(t, i, &d[i]) != 0) memset(&d[i], 0, sizeof d[i]);
        if (ct_get_device_energy(t, i, &e[i]) != 0) e[i] = NAN;
        if (update_power && isfinite(e[i])) {
            if (m->last_mono > 0) m->power_w[i] = e[i] >= m->last_j[i] ? (e[i] - m->last_j[i]) / (now - m->last_mono) : 0;
            m->last_j[i] = e[i];
        }
    }
    if (update_power) m->last_mono = now;
    if (n > 0) {
        help(b, "carbontracker_energy_joules_total", "counter",
             "Energy used by a device since the exporter started, in joules, without PUE.");
        for (int i = 0; i < n; i++) {
            if (!isfinite(e[i])) continue;
            ct_sbuf_add(b, "carbontracker_energy_joules_total", 33);
            device_labels(b, &d[i], i, m->host);
            sbuf_value(b, e[i]);
            ct_sbuf_add(b, "\n", 1);
        }
        help(b, "carbontracker_power_watts", "gauge", "Average power of a device over the last second or more, in watts.");
        for (int i = 0; i < n; i++) {
            if (!isfinite(e[i])) continue;
            ct_sbuf_add(b, "carbontracker_power_watts", 25);
            device_labels(b, &d[i], i, m->host);
            sbuf_value(b, m->power_w[i]);
            ct_sbuf_add(b, "\n", 1);
        }
    }
    double g;
    ct_intensity_kind kind;
    char src[160];
    if (t && ct_get_intensity_now(t, &g, &kind, src, sizeof src) == 0) {
        static const char *const kinds[] = {"default", "static", "fixed", "live", "forecast"};
        help(b, "carbontracker_carbon_intensity_grams_per_kwh", "gauge",
             "Carbon intensity of the electricity in effect now, in gCO2eq per kWh.");
        ct_sbuf_add(b, "carbontracker_carbon_intensity_grams_per_kwh{", 45);
        lbl(b, "source", src, 1);
        lbl(b, "kind", (unsigned)kind < 5 ? kinds[kind] : "unknown", 0);
        lbl(b, "host", m->host, 0);
        ct_sbuf_add(b, "} ", 2);
        sbuf_value(b, g);
        ct_sbuf_add(b, "\n", 1);
    }
}

static void render_runs(ct_metrics *m, ct_sbuf *b) {
    help(b, "carbontracker_runs", "gauge", "Runs whose JSON Lines logs are in the exporter's run directories.");
    ct_sbuf_printf(b, "carbontracker_runs{host=\"");
    ct_sbuf_label(b, m->host);
    ct_sbuf_printf(b, "\"} %d\n", m->nruns);
    if (m->nruns == 0) return;
    help(b, "carbontracker_run_energy_joules_total", "counter",
         "Energy of a run's finished epochs, per component, in joules, without PUE.");
    for (int i = 0; i < m->nruns; i++) {
        const run *r = &m->runs[i];
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            if (!r->has_component[c]) continue;
            ct_sbuf_add(b, "carbontracker_run_energy_joules_total", 37);
            run_labels(b, r, m->host);
            lbl(b, "component", ct_component_name((ct_component)c), 0);
            lbl(b, "measurement", r->estimated[c] ? "estimated" : "measured", 0);
            ct_sbuf_add(b, "} ", 2);
            sbuf_value(b, r->energy_j[c]);
            ct_sbuf_add(b, "\n", 1);
        }
    }
    help(b, "carbontracker_run_emissions_grams_total", "counter",
         "CO2eq of a run's finished epochs, in grams, with PUE.");
    for (int i = 0; i < m->nruns; i++) {
        const run *r = &m->runs[i];
        ct_sbuf_add(b, "carbontracker_run_emissions_grams_total", 39);
        run_labels(b, r, m->host);
        ct_sbuf_add(b, "} ", 2);
        sbuf_value(b, r->co2eq_g);
        ct_sbuf_add(b, "\n", 1);
    }
    help(b, "carbontracker_run_predicted_energy_joules", "gauge",
         "Predicted energy of a run's planned epochs, in joules, without PUE.");
    for (int i = 0; i < m->nruns; i++) {
        const run *r = &m->runs[i];
        if (!r->has_prediction) continue;
        ct_sbuf_add(b, "carbontracker_run_predicted_energy_joules", 41);
        run_labels(b, r, m->host);
        ct_sbuf_add(b, "} ", 2);
        sbuf_value(b, r->predicted_j);
        ct_sbuf_add(b, "\n", 1);
    }
    help(b, "carbontracker_run_finished", "gauge", "1 when the run wrote its final record, else 0.");
    for (int i = 0; i < m->nruns; i++) {
        const run *r = &m->runs[i];
        ct_sbuf_add(b, "carbontracker_run_finished", 26);
        run_labels(b, r, m->host);
        ct_sbuf_printf(b, "} %d\n", r->finished);
    }
}

ct_metrics *ct_metrics_new(ct_tracker *t, const char *const *run_dirs, int nrun_dirs, const char *host) {
    ct_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->t = t;
    snprintf(m->host, sizeof m->host, "%s", host ? host : "");
    if (nrun_dirs > 0) {
        m->dirs = calloc((size_t)nrun_dirs, sizeof *m->dirs);
        if (!m->dirs) {
            ct_metrics_free(m);
            return NULL;
        }
        for (int i = 0; i < nrun_dirs; i++) {
            m->dirs[i] = strdup(run_dirs[i]);
            if (!m->dirs[i]) {
                ct_metrics_free(m);
                return NULL;
            }
            m->ndirs++;
        }
    }
    return m;
}

void ct_metrics_free(ct_metrics *m) {
    if (!m) return;
    for (int i = 0; i < m->ndirs; i++) free(m->dirs[i]);
    free(m->dirs);
    free(m->runs);
    free(m->last_j);
    free(m->power_w);
    free(m->line);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int ct_metrics_render(ct_metrics *m, ct_sbuf *out) {
    if (!m || !out) return CT_EINVAL;
    pthread_mutex_lock(&m->mu);
    ct_sbuf_reset(out);
    render_node(m, out);
    if (m->ndirs > 0) {
        scan_runs(m);
        render_runs(m, out);
    }
    pthread_mutex_unlock(&m->mu);
    return out->oom ? CT_ENOMEM : 0;
}

void ct_metrics_set_max_age(ct_metrics *m, double max_age_s) {
    pthread_mutex_lock(&m->mu);
    m->max_age_s = max_age_s > 0 ? max_age_s : 0;
    pthread_mutex_unlock(&m->mu);
}

int ct_metrics_run_count(ct_metrics *m) {
    pthread_mutex_lock(&m->mu);
    int n = m->nruns;
    pthread_mutex_unlock(&m->mu);
    return n;
}

int ct_jsonl_run_read(const char *path, ct_jsonl_run *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t idl = strlen(base);
    if (ends_with(base, SUFFIX)) idl -= sizeof SUFFIX - 1;
    if (idl >= sizeof out->run_id) idl = sizeof out->run_id - 1;
    memcpy(out->run_id, base, idl);
    out->run_id[idl] = '\0';
    run_reset(out);
    struct stat st;
    if (stat(path, &st) != 0) return CT_EIO;
    ct_metrics m;
    memset(&m, 0, sizeof m);
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    run_read(&m, out, &st);
    free(m.line);
    return out->has_header ? 0 : CT_EPARSE;
}

int ct_attribution_read(ct_jsonl_run *r) {
    size_t n = strlen(r->path);
    if (n < sizeof SUFFIX - 1 || strcmp(r->path + n - (sizeof SUFFIX - 1), SUFFIX) != 0) return CT_EINVAL;
    char path[1100];
    snprintf(path, sizeof path, "%.*s_attribution.json", (int)(n - (sizeof SUFFIX - 1)), r->path);
    FILE *f = fopen(path, "re");
    if (!f) return CT_ENODATA;
    char buf[2048];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    if (json_num(buf, buf + len, "share", &r->share) != 0 ||
        json_num(buf, buf + len, "cpu_j_attributed", &r->cpu_j_attributed) != 0)
        return CT_EPARSE;
    r->attributed = 1;
    return 0;
}
