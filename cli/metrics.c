/*
 * metrics.c - the Prometheus text exposition of `carbontracker exporter`
 * (issue 13): the node's device counters (from a tracker, public API) and the
 * runs logged as JSON Lines in the run directories.
 *
 * Runs are read incrementally (run_logs.c): each known file keeps its inode
 * and the offset after its last complete line; a scrape reads only lines
 * added since (a line still being written, without its '\n', waits for the
 * next scrape). A file that disappears drops its run; a file replaced (new
 * inode) or truncated is read again from the start.
 */
#include "metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
    double *base_j; /* per device: power estimate state */
    double *last_j, *power_w;
    double last_mono;
    int ndev;
    ct_device_desc desc[64]; /* device descriptions, refreshed at most once a second */
    double desc_mono;
    double max_age_s; /* 0 = keep all */
    char *line;       /* scratch for reading */
    size_t line_cap;
};

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static run *find_run(ct_metrics *m, const char *path) {
    for (int i = 0; i < m->nruns; i++)
        if (strcmp(m->runs[i].path, path) == 0) return &m->runs[i];
    return NULL;
}

static void scan_dir(ct_metrics *m, const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        int is_log = ct_jsonl_log_name(e->d_name);
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
            ct_jsonl_run_start(r, path);
            r->dev = st.st_dev;
            r->ino = st.st_ino;
        }
        r->seen = 1;
        ct_jsonl_run_update(r, &st, &m->line, &m->line_cap);
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
            if (m->last_mono > 0)
                m->power_w[i] = e[i] >= m->last_j[i] ? (e[i] - m->last_j[i]) / (now - m->last_mono) : 0;
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
        help(b, "carbontracker_power_watts", "gauge",
             "Average power of a device over the last second or more, in watts.");
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
