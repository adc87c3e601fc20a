/* The tracker: lifecycle, epoch boundaries, the measurement thread,
 * prediction, and what is printed when. */
#include "core/tracker_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static __thread char last_error[CT__MSG_LEN];

const char *ct_last_error_message(void) { return last_error; }

const char *ct_tracker_message(const ct_tracker *t) { return t ? t->msg : last_error; }

/* ------------------------------------------------------------------ */
/* Printing and notices                                                */
/* ------------------------------------------------------------------ */

/* The live status line: drawn on stderr by the measurement thread, cleared
 * before anything else is printed. Called with t->mu held. */
static void status_clear(ct_tracker *t) {
    /* Atomic: output() clears it from the training thread without t->mu. */
    if (!__atomic_exchange_n(&t->status_drawn, 0, __ATOMIC_ACQ_REL)) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

static void refresh_refined(ct_tracker *t);

/* The live view from the running totals and the epoch in progress (t->mu held). */
static void fill_status(const ct_tracker *t, ct_status *st) {
    memset(st, 0, sizeof *st);
    double now = ct__monotonic_s();
    st->elapsed_s = now - t->t0_mono;
    st->epoch = t->epoch_no;
    st->epochs = t->cfg.epochs;
    st->in_epoch = t->in_epoch;
    double co2 = t->sum_co2_g, done_s = t->sum_duration_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        st->power_w[c] = t->power_w[c];
        st->energy_j[c] = t->sum_energy_j[c];
    }
    if (t->in_epoch) {
        for (int d = 0; d < t->ndev; d++)
            if (t->cum_j[d] > t->epoch0_j[d]) st->energy_j[t->devs[d].component] += t->cum_j[d] - t->epoch0_j[d];
        co2 += t->epoch_co2_g * t->cfg.pue;
        done_s += now - t->epoch_start_mono;
    }
    st->energy_kwh = ct__j_to_kwh(st->energy_j[0] + st->energy_j[1]) * t->cfg.pue;
    st->co2eq_g = co2;
    if (t->has_prediction) {
        st->has_prediction = 1;
        const ct_result *pr = t->has_refined ? &t->refined : &t->predicted;
        st->predicted_energy_kwh = pr->energy_kwh;
        st->predicted_co2eq_g = pr->co2eq_g;
        st->predicted_remaining_s = pr->duration_s > done_s ? pr->duration_s - done_s : 0;
    }
    st->budget_exceeded = t->budget_exceeded;
}

static void status_draw(ct_tracker *t) {
    if (!t->status_enabled || t->finished) return;
    ct_status st;
    fill_status(t, &st);
    char line[512];
    if (ct__status_line_render(&st, line, sizeof line) <= 0) return;
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    __atomic_store_n(&t->status_drawn, 1, __ATOMIC_RELEASE);
}

/* Console + output log, as the original's logger.output(msg, verbose_level). */
static void output(ct_tracker *t, const char *text, int level) {
    ct__log_out(&t->logs, text);
    if (t->cfg.verbose >= level) {
        status_clear(t);
        fprintf(stdout, "CarbonTracker: %s\n", text);
        fflush(stdout);
    }
}

static void warn(ct_tracker *t, const char *text) {
    char line[1100];
    snprintf(line, sizeof line, "WARNING - %s", text);
    output(t, line, 1);
    ct__log_err(&t->logs, text);
    ct__record_warning(t, text);
}

/* Notices from sources and the intensity service (any thread, lock may be held). */
static void on_notice(void *user, int level, const char *msg) {
    ct_tracker *t = user;
    if (level >= 1) {
        warn(t, msg);
    } else {
        output(t, msg, 2);
        ct__log_std(&t->logs, "%s", msg);
    }
}

static void set_msg(ct_tracker *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(ct_tracker *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Reading the sources (t->mu held)                                    */
/* ------------------------------------------------------------------ */

/* Reads the sources selected by `due` (NULL = all) at monotonic time now.
 * Energy of each device since its previous reading is charged to the
 * current epoch's CO2eq at the intensity of this moment. */
static void read_sources(ct_tracker *t, double now_mono, const int *due) {
    for (int i = 0; i < t->nsrc; i++) {
        ct_source_inst *s = &t->src[i];
        if ((due && !due[i]) || s->failed) continue;
        if (s->ops->read(s->state, now_mono, t->cum_j + s->dev0) != 0) {
            s->failed = 1;
            char m[400];
            snprintf(m, sizeof m, "the %s energy source failed; its devices keep the energy measured so far",
                     s->ops->name);
            for (int d = 0; d < s->ndev; d++) t->devs[s->dev0 + d].lost = 1;
            on_notice(t, 1, m);
        }
        s->last_read_mono = now_mono;
    }
    double delta_j = 0;
    for (int d = 0; d < t->ndev; d++) {
        double dj = t->cum_j[d] - t->prev_j[d];
        if (dj > 0) delta_j += dj;
        t->prev_j[d] = t->cum_j[d];
    }
    if (t->in_epoch && delta_j > 0) {
        ct_intensity_value iv;
        ct__intensity_now(t->intensity, t->t0_unix + (now_mono - t->t0_mono), &iv);
        t->epoch_co2_g += ct__j_to_kwh(delta_j) * iv.g_per_kwh;
        if ((unsigned)iv.kind < CT__INTENSITY_KINDS) {
            t->epoch_kind_j[iv.kind] += delta_j;
            ct__strlcpy(t->kind_source[iv.kind], iv.source, sizeof t->kind_source[0]);
        }
    }
}

/* Copies the sources' own view of their devices (a device lost mid-run). */
static void refresh_devices(ct_tracker *t) {
    for (int i = 0; i < t->nsrc; i++) {
        ct_source_inst *s = &t->src[i];
        for (int d = 0; d < s->ndev; d++) {
            ct_device_desc *dv = &t->devs[s->dev0 + d];
            int lost = dv->lost;
            s->ops->describe(s->state, d, dv);
            dv->component = s->ops->component;
            dv->lost = dv->lost || lost;
        }
    }
}

/* The intensity kind that covered the most energy in j[] (-1 if none). */
static int dominant_kind(const double j[CT__INTENSITY_KINDS]) {
    int best = -1;
    for (int k = 0; k < CT__INTENSITY_KINDS; k++)
        if (j[k] > 0 && (best < 0 || j[k] > j[best])) best = k;
    return best;
}

/* A power sample: average power per component since the last sample. */
static void take_sample(ct_tracker *t, double now_mono) {
    double dt = now_mono - t->sample0_mono;
    if (dt <= 0) return;
    double p[CT_COMPONENT_COUNT] = {0, 0};
    for (int d = 0; d < t->ndev; d++) {
        p[t->devs[d].component] += (t->cum_j[d] - t->sample0_j[d]) / dt;
        t->sample0_j[d] = t->cum_j[d];
    }
    t->sample0_mono = now_mono;
    memcpy(t->power_w, p, sizeof p);
    if (t->in_epoch) ct__series_add(&t->series, now_mono - t->t0_mono, p);
}

/* ------------------------------------------------------------------ */
/* The measurement thread                                              */
/* ------------------------------------------------------------------ */

/* A new carbon intensity (a live value arriving, a refresh, a fallback) is
 * one "intensity" record in the JSON Lines log (t->mu held). */
static void log_intensity_change(ct_tracker *t, double now_mono) {
    ct_intensity_value iv;
    ct__intensity_now(t->intensity, t->t0_unix + (now_mono - t->t0_mono), &iv);
    const ct_intensity_value *last = &t->intensity_logged;
    if (iv.kind == last->kind && iv.g_per_kwh == last->g_per_kwh && strcmp(iv.source, last->source) == 0) return;
    t->intensity_logged = iv;
    ct__record_intensity(t, &iv);
}

static void *measure_main(void *arg) {
    ct_tracker *t = arg;
    pthread_mutex_lock(&t->mu);
    double next_sample = ct__monotonic_s() + t->cfg.update_interval;
    while (!t->thread_stop) {
        double now = ct__monotonic_s();
        double wake = next_sample;
        for (int i = 0; i < t->nsrc; i++) {
            /* Asked every time: a source may need faster reads later (a GPU that starts being polled). */
            double iv = t->src[i].max_interval = t->src[i].ops->max_read_interval(t->src[i].state);
            if (iv > 0 && !t->src[i].failed && t->src[i].last_read_mono + iv < wake)
                wake = t->src[i].last_read_mono + iv;
        }
        if (wake > now) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            double d = wake - now;
            ts.tv_sec += (time_t)d;
            ts.tv_nsec += (long)((d - floor(d)) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&t->cv, &t->mu, &ts);
            continue; /* re-evaluate: woken early, stopped, or due */
        }
        if (now >= next_sample) {
            read_sources(t, now, NULL);
            take_sample(t, now);
            log_intensity_change(t, now);
            /* the refined prediction is refitted here, off the training thread (issue 12) */
            if (t->has_prediction && t->pred_stale && ct__prediction_wanted_now(t)) refresh_refined(t);
            status_draw(t);
            next_sample += t->cfg.update_interval;
            if (next_sample < now) next_sample = now + t->cfg.update_interval; /* we were late: do not burst */
        } else {
            int due[CT__MAX_SOURCES] = {0};
            for (int i = 0; i < t->nsrc; i++) {
                double iv = t->src[i].max_interval;
                due[i] = iv > 0 && t->src[i].last_read_mono + iv <= now;
            }
            read_sources(t, now, due);
        }
        pthread_mutex_unlock(&t->mu);
        ct__intensity_tick(t->intensity, ct__unix_s());
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Creating the tracker                                                */
/* ------------------------------------------------------------------ */

static int add_source(ct_tracker *t, const ct_source_ops *ops, char *why, size_t whylen) {
    if (t->nsrc >= CT__MAX_SOURCES) return CT_ENOSOURCE;
    void *state = NULL;
    why[0] = '\0';
    int rc = ops->open(&t->ctx, &state, why, whylen);
    if (rc != 0) return rc;
    int n = ops->device_count(state);
    if (n <= 0) {
        if (!why[0]) snprintf(why, whylen, "%s: no devices found", ops->name);
        ops->close(state);
        return CT_ENOSOURCE;
    }
    ct_device_desc *devs = realloc(t->devs, (size_t)(t->ndev + n) * sizeof *devs);
    if (!devs) {
        ops->close(state);
        return CT_ENOMEM;
    }
    t->devs = devs;
    ct_source_inst *s = &t->src[t->nsrc++];
    s->ops = ops;
    s->state = state;
    s->ndev = n;
    s->dev0 = t->ndev;
    s->max_interval = ops->max_read_interval(state);
    for (int i = 0; i < n; i++) {
        memset(&t->devs[t->ndev + i], 0, sizeof *t->devs);
        ops->describe(state, i, &t->devs[t->ndev + i]);
        t->devs[t->ndev + i].component = ops->component;
        if (t->devs[t->ndev + i].estimated) t->estimated[ops->component] = 1;
    }
    t->ndev += n;
    t->have[ops->component] = 1;
    return 0;
}

/* Opens the sources of one component in the documented order. */
static int open_component(ct_tracker *t, ct_component c) {
    const ct_source_ops *cpu_order[] = {&ct__source_rapl, &ct__source_tdp};
    const ct_source_ops *gpu_order[] = {&ct__source_nvml, &ct__source_amdgpu};
    const ct_source_ops **order = c == CT_COMPONENT_CPU ? cpu_order : gpu_order;
    int norder = 2, first_only = c == CT_COMPONENT_CPU;
    const char *sim = c == CT_COMPONENT_CPU ? t->cfg.sim_cpu : t->cfg.sim_gpu;
    const ct_source_ops *sim_ops = c == CT_COMPONENT_CPU ? &ct__source_sim_cpu : &ct__source_sim_gpu;
    char why[1024], all[sizeof t->reason[0]] = "";
    if (sim) {
        int rc = add_source(t, sim_ops, why, sizeof why);
        if (rc == CT_ENOMEM) return rc;
        if (rc) ct__strlcpy(t->reason[c], why, sizeof t->reason[c]);
        return 0;
    }
    for (int i = 0; i < norder; i++) {
        int rc = add_source(t, order[i], why, sizeof why);
        if (rc == CT_ENOMEM) return rc;
        if (rc == 0) {
            if (first_only) break;
            continue;
        }
        size_t n = strlen(all);
        snprintf(all + n, sizeof all - n, "%s%s", n ? "; " : "", why);
        /* The permission message names the exact fix: show it, once. */
        if (strstr(why, "chmod")) on_notice(t, 1, why);
        else {
            char m[1200];
            snprintf(m, sizeof m, "%s energy source not used: %s", order[i]->name, why);
            on_notice(t, 0, m);
        }
    }
    if (!t->have[c]) ct__strlcpy(t->reason[c], all, sizeof t->reason[c]);
    return 0;
}

static void components_line(ct_tracker *t, char *buf, size_t len) {
    size_t n = (size_t)snprintf(buf, len, "The following components were found:");
    const ct_component order[] = {CT_COMPONENT_GPU, CT_COMPONENT_CPU};
    for (int k = 0; k < 2 && n < len; k++) {
        ct_component c = order[k];
        if (!t->have[c]) continue;
        n += (size_t)snprintf(buf + n, len - n, " %s with device(s) ", c == CT_COMPONENT_GPU ? "GPU" : "CPU");
        int first = 1;
        for (int d = 0; d < t->ndev && n < len; d++) {
            if (t->devs[d].component != c) continue;
            n += (size_t)snprintf(buf + n, len - n, "%s%s", first ? "" : ", ", t->devs[d].name);
            first = 0;
        }
        if (n < len) n += (size_t)snprintf(buf + n, len - n, ".");
    }
}

static void fail_new(ct_tracker *t, int rc) {
    ct__strlcpy(last_error, t->msg, sizeof last_error);
    (void)rc;
    ct_tracker_free(t);
}

int ct_tracker_new(const ct_config *cfg, ct_tracker **out) {
    if (!out) return CT_EINVAL;
    *out = NULL;
    last_error[0] = '\0';
    if (!cfg) {
        ct__strlcpy(last_error, "no configuration given", sizeof last_error);
        return CT_EINVAL;
    }
    ct_tracker *t = calloc(1, sizeof *t);
    if (!t) {
        ct__strlcpy(last_error, "out of memory", sizeof last_error);
        return CT_ENOMEM;
    }
    ct__predictor_init(&t->pred);
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->finished = 1; /* until fully set up: ct_tracker_free must not report */
    ct__logfiles_open(&t->logs, NULL, NULL, 0, t->msg, sizeof t->msg);
    int rc = ct__config_resolve(cfg, &t->cfg, t->msg, sizeof t->msg);
    if (rc) {
        fail_new(t, rc);
        return rc;
    }
    t->t0_mono = ct__monotonic_s();
    t->t0_unix = ct__unix_s();
    t->ctx.cfg = &t->cfg;
    t->ctx.notice = on_notice;
    t->ctx.user = t;
    if (gethostname(t->host, sizeof t->host) != 0) ct__strlcpy(t->host, "unknown", sizeof t->host);
    t->host[sizeof t->host - 1] = '\0';
    ct__series_reset(&t->series);

    /* Logs first, so every later message is in them. An unwritable log_dir
     * costs the logs, never the training. */
    if (t->cfg.log_dir) {
        ct__logfiles_close(&t->logs);
        char m[600];
        if (ct__logfiles_open(&t->logs, t->cfg.log_dir, t->cfg.log_file_prefix, t->t0_unix, m, sizeof m) != 0) {
            set_msg(t, "%s", m);
            if (t->cfg.verbose >= 1) {
                fprintf(stdout, "CarbonTracker: WARNING - %s\n", m);
                fflush(stdout);
            }
        }
    }
    ct__log_std(&t->logs, "carbontracker version %s", CT_VERSION);
    ct__log_std(&t->logs,
                "Only predicted and actual consumptions are multiplied by a PUE coefficient of %g "
                "(set with the pue option; 1.58 is the 2023 Uptime Institute average).",
                t->cfg.pue);

    ct__parse_components(t->cfg.components, t->want, t->msg, sizeof t->msg);
    ct__ranks_detect(&t->ranks);
    ct__log_std(&t->logs, "Host: %s, pid: %d, job: %s, rank: %d, local rank: %d, world size: %d.", t->host,
                (int)getpid(), t->ranks.job_id[0] ? t->ranks.job_id : "none", t->ranks.rank, t->ranks.local_rank,
                t->ranks.world_size);
    t->measuring = 1;
    if (t->ranks.local_rank > 0 && !t->cfg.all_ranks) {
        /* The node's CPU (and its GPUs, unless each rank takes its own) are
         * measured by local rank 0: measuring them again double counts. */
        t->want[CT_COMPONENT_CPU] = 0;
        if (!t->cfg.devices_by_pid) t->want[CT_COMPONENT_GPU] = 0;
        t->measuring = t->want[CT_COMPONENT_GPU];
        char m[300];
        snprintf(m, sizeof m,
                 "Rank %d (local rank %d, %s): the node's %s measured by local rank 0 only; this rank measures %s.",
                 t->ranks.rank, t->ranks.local_rank, t->ranks.launcher[0] ? t->ranks.launcher : "launcher",
                 t->cfg.devices_by_pid ? "CPU is" : "devices are", t->measuring ? "its own GPUs" : "nothing");
        on_notice(t, 0, m);
    }
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!t->want[c]) continue;
        rc = open_component(t, (ct_component)c);
        if (rc) {
            set_msg(t, "out of memory opening energy sources");
            fail_new(t, rc);
            return rc;
        }
    }
    /* An explicitly requested component that is missing is an error; with
     * "all" a missing component is reported and the others go on. */
    int explicit_request = strcmp(t->cfg.components, "all") != 0;
    int any = 0;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!t->want[c]) continue;
        if (t->have[c]) {
            any = 1;
            continue;
        }
        if (explicit_request) {
            set_msg(t, "component \"%s\" was requested but no %s energy source is available: %s", ct_component_name(c),
                    ct_component_name(c), t->reason[c][0] ? t->reason[c] : "none found");
            fail_new(t, CT_ENOSOURCE);
            return CT_ENOSOURCE;
        }
        char m[600];
        snprintf(m, sizeof m, "No %s energy source available (%s); %s energy is not included.",
                 c == CT_COMPONENT_CPU ? "CPU" : "GPU", t->reason[c][0] ? t->reason[c] : "none found",
                 c == CT_COMPONENT_CPU ? "CPU" : "GPU");
        on_notice(t, c == CT_COMPONENT_GPU ? 0 : 1, m);
    }
    if (!any && t->measuring) {
        set_msg(t, "no energy source is available: cpu: %s; gpu: %s", t->reason[0][0] ? t->reason[0] : "not requested",
                t->reason[1][0] ? t->reason[1] : "not requested");
        fail_new(t, CT_ENOSOURCE);
        return CT_ENOSOURCE;
    }

    size_t nd = (size_t)(t->ndev > 0 ? t->ndev : 1);
    t->cum_j = calloc(nd, sizeof(double));
    t->prev_j = calloc(nd, sizeof(double));
    t->epoch0_j = calloc(nd, sizeof(double));
    t->sample0_j = calloc(nd, sizeof(double));
    if (!t->cum_j || !t->prev_j || !t->epoch0_j || !t->sample0_j) {
        set_msg(t, "out of memory");
        fail_new(t, CT_ENOMEM);
        return CT_ENOMEM;
    }

    char why[320] = "";
    rc = ct__intensity_open(&t->cfg, &t->ctx, &t->intensity, why, sizeof why);
    if (rc) {
        set_msg(t, "carbon intensity: %s", why);
        fail_new(t, rc);
        return rc;
    }
    ct__intensity_now(t->intensity, t->t0_unix, &t->intensity_start);
    t->intensity_logged = t->intensity_start; /* in the header */

    char line[2048];
    components_line(t, line, sizeof line);
    ct__log_std(&t->logs, "%s", line);
    output(t, line, 1);
    snprintf(line, sizeof line, "Carbon intensity at start: %.2f gCO2eq/kWh (%s: %s).", t->intensity_start.g_per_kwh,
             ct__intensity_kind_name(t->intensity_start.kind), t->intensity_start.source);
    ct__log_std(&t->logs, "%s", line);
    output(t, line, 2);

    /* First readings, then the thread. */
    double now = ct__monotonic_s();
    pthread_mutex_lock(&t->mu);
    read_sources(t, now, NULL);
    memcpy(t->sample0_j, t->cum_j, nd * sizeof(double));
    t->sample0_mono = now;
    t->finished = 0;
    t->status_enabled = t->cfg.status_line == 1 || (t->cfg.status_line == -1 && t->cfg.verbose >= 1 && isatty(2));
    pthread_mutex_unlock(&t->mu);
    ct__record_header(t);

    if (t->nsrc > 0) {
        if (pthread_create(&t->thread, NULL, measure_main, t) != 0) {
            set_msg(t, "could not start the measurement thread: %s", strerror(errno));
            t->finished = 1;
            fail_new(t, CT_ETHREAD);
            return CT_ETHREAD;
        }
        t->thread_started = 1;
    }
    *out = t;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

/* Actual consumption over the recorded epochs (t->mu held). */
static void compute_actual(const ct_tracker *t, ct_result *r) {
    memset(r, 0, sizeof *r);
    r->duration_s = t->sum_duration_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) r->energy_j[c] = t->sum_energy_j[c];
    r->epochs = t->nepochs;
    r->energy_kwh = ct__j_to_kwh(r->energy_j[0] + r->energy_j[1]) * t->cfg.pue;
    r->co2eq_g = t->sum_co2_g;
    r->intensity_g_per_kwh = r->energy_kwh > 0 ? r->co2eq_g / r->energy_kwh : t->intensity_start.g_per_kwh;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        r->has_component[c] = t->have[c];
        r->estimated[c] = t->estimated[c];
    }
    int k = dominant_kind(t->sum_kind_j);
    if (k >= 0) {
        r->intensity_kind = (ct_intensity_kind)k;
        ct__strlcpy(r->intensity_source, t->kind_source[k], sizeof r->intensity_source);
    } else {
        ct_intensity_value iv;
        ct__intensity_now(t->intensity, ct__unix_s(), &iv);
        r->intensity_kind = iv.kind;
        ct__strlcpy(r->intensity_source, iv.source, sizeof r->intensity_source);
    }
    r->energy_kwh_low = r->energy_kwh_high = r->energy_kwh;
    r->duration_s_low = r->duration_s_high = r->duration_s;
    r->co2eq_g_low = r->co2eq_g_high = r->co2eq_g;
}

/* The refined prediction for all epochs (src/core/progress.c, issue 12),
 * recomputed when an epoch or a progress mark came since the last time. */
static void refresh_refined(ct_tracker *t) {
    if (t->has_refined && !t->pred_stale) return;
    t->has_refined = ct__tracker_prediction(t, &t->refined) == 0;
    t->pred_stale = 0;
}

/* The prediction printed after epochs_before_pred epochs: the refined one of that moment. */
static void compute_prediction(ct_tracker *t) {
    t->pred_stale = 1;
    refresh_refined(t);
    if (!t->has_refined) return;
    t->predicted = t->refined;
    t->has_prediction = 1;
}

static int any_estimated(const ct_result *r) {
    return (r->has_component[0] && r->estimated[0]) || (r->has_component[1] && r->estimated[1]);
}

static void print_result(ct_tracker *t, const char *what, const ct_result *r) {
    char desc[96], block[1024];
    snprintf(desc, sizeof desc, "%s consumption for %d epoch(s):", what, r->epochs);
    ct__format_consumption(block, sizeof block, desc, r->duration_s, r->energy_kwh, r->co2eq_g,
                           t->cfg.decimal_precision, t->cfg.interpretable);
    output(t, block, 1);
    if (any_estimated(r)) {
        char m[300];
        snprintf(m, sizeof m, "The %s consumption above is partly estimated (%s%s%s energy), not measured.",
                 strcmp(what, "Predicted") == 0 ? "predicted" : "actual",
                 r->estimated[CT_COMPONENT_CPU] && r->has_component[0] ? "CPU" : "",
                 r->estimated[0] && r->has_component[0] && r->estimated[1] && r->has_component[1] ? " and " : "",
                 r->estimated[CT_COMPONENT_GPU] && r->has_component[1] ? "GPU" : "");
        output(t, m, 1);
    }
    char m[400];
    snprintf(m, sizeof m, "%s carbon intensity: %.2f gCO2eq/kWh (%s: %s).",
             strcmp(what, "Predicted") == 0 ? "Predicted average" : "Average", r->intensity_g_per_kwh,
             ct__intensity_kind_name(r->intensity_kind), r->intensity_source);
    output(t, m, 2);
}

/* Ends monitoring (t->mu NOT held). */
static void finish(ct_tracker *t, const char *reason) {
    pthread_mutex_lock(&t->mu);
    if (t->finished) {
        pthread_mutex_unlock(&t->mu);
        return;
    }
    t->finished = 1;
    t->thread_stop = 1;
    status_clear(t);
    pthread_cond_signal(&t->cv);
    ct_result a;
    compute_actual(t, &a);
    int early = t->nepochs < t->cfg.monitor_epochs;
    pthread_mutex_unlock(&t->mu);
    if (t->thread_started) {
        pthread_join(t->thread, NULL);
        t->thread_started = 0;
    }
    if (early)
        ct__log_std(&t->logs, "Training was interrupted before all %d epochs were monitored.", t->cfg.monitor_epochs);
    if (t->nepochs > 0) print_result(t, "Actual", &a);
    ct__record_final(t, &a, reason, early);
    ct__log_std(&t->logs, "Monitoring thread ended.");
    output(t, "Finished monitoring.", 1);
}

/* ------------------------------------------------------------------ */
/* Epochs                                                              */
/* ------------------------------------------------------------------ */

static int soft_error(ct_tracker *t, int rc) { return t->cfg.ignore_errors ? 0 : rc; }

int ct_epoch_start(ct_tracker *t) {
    if (!t) return CT_EINVAL;
    pthread_mutex_lock(&t->mu);
    if (t->finished) {
        pthread_mutex_unlock(&t->mu);
        set_msg(t, "monitoring has ended; epoch_start ignored");
        return CT_ESTOPPED;
    }
    if (t->in_epoch) {
        pthread_mutex_unlock(&t->mu);
        set_msg(t, "epoch_start called twice without epoch_end (epoch %d is still running)", t->epoch_no);
        return soft_error(t, CT_ESTATE);
    }
    double now = ct__monotonic_s();
    read_sources(t, now, NULL); /* energy before this moment is not the epoch's */
    memcpy(t->epoch0_j, t->cum_j, (size_t)t->ndev * sizeof(double));
    t->in_epoch = 1;
    t->epoch_no++;
    t->epoch_start_mono = now;
    t->epoch_start_unix = t->t0_unix + (now - t->t0_mono);
    t->epoch_co2_g = 0;
    memset(t->epoch_kind_j, 0, sizeof t->epoch_kind_j);
    ct__series_reset(&t->series);
    ct__predictor_begin_epoch(&t->pred);
    pthread_mutex_unlock(&t->mu);
    return 0;
}

int ct_set_confirm_fn(ct_tracker *t, ct_confirm_fn fn, void *user) {
    if (!t) return CT_EINVAL;
    t->confirm = fn;
    t->confirm_user = user;
    return 0;
}

static int ask_to_continue(ct_tracker *t) {
    if (t->confirm) return t->confirm(t->confirm_user) != 0;
    fprintf(stdout, "CarbonTracker: Continue training (y/n)? ");
    fflush(stdout);
    char line[64];
    for (;;) {
        if (!fgets(line, sizeof line, stdin)) {
            output(t, "No answer (end of input): training continues.", 1);
            return 1;
        }
        if (line[0] == 'y' || line[0] == 'Y') return 1;
        if (line[0] == 'n' || line[0] == 'N') return 0;
        fprintf(stdout, "CarbonTracker: Please answer y or n: ");
        fflush(stdout);
    }
}

/* Budgets: the prediction (or the actual so far) against the limits. */
static int check_budgets(ct_tracker *t, const ct_result *actual) {
    const double lim[2] = {t->cfg.max_energy_kwh, t->cfg.max_co2_g};
    const char *names[2] = {"energy", "CO2eq"}, *units[2] = {"kWh", "g"};
    int exceeded = 0;
    for (int k = 0; k < 2; k++) {
        if (!(lim[k] > 0)) continue;
        double act = k == 0 ? actual->energy_kwh : actual->co2eq_g;
        const ct_result *pr = t->has_refined ? &t->refined : &t->predicted;
        double pred = t->has_prediction ? (k == 0 ? pr->energy_kwh : pr->co2eq_g) : 0;
        const char *which = NULL;
        double v = 0;
        if (act > lim[k]) which = "actual", v = act;
        else if (pred > lim[k]) which = "predicted", v = pred;
        if (!which) continue;
        exceeded = 1;
        t->budget_exceeded |= 1 << k;
        set_msg(t, "%s %s %.6g %s exceeds the %s budget of %.6g %s by %.1f %%", which, names[k], v, units[k], names[k],
                lim[k], units[k], (v / lim[k] - 1.0) * 100.0);
        if (!t->budget_warned[k]) {
            t->budget_warned[k] = 1;
            warn(t, t->msg);
        }
    }
    return exceeded ? CT_EBUDGET : 0;
}

int ct_epoch_end(ct_tracker *t) {
    if (!t) return CT_EINVAL;
    pthread_mutex_lock(&t->mu);
    if (t->finished) {
        pthread_mutex_unlock(&t->mu);
        set_msg(t, "monitoring has ended; epoch_end ignored");
        return CT_ESTOPPED;
    }
    if (!t->in_epoch) {
        pthread_mutex_unlock(&t->mu);
        set_msg(t, "epoch_end called without epoch_start");
        return soft_error(t, CT_ESTATE);
    }
    double now = ct__monotonic_s();
    read_sources(t, now, NULL);
    take_sample(t, now);
    refresh_devices(t);
    if (t->nepochs == t->cap_epochs) {
        int ncap = t->cap_epochs ? t->cap_epochs * 2 : 16;
        ct_epoch_rec *ne = realloc(t->epochs, (size_t)ncap * sizeof *ne);
        if (!ne) {
            t->in_epoch = 0;
            pthread_mutex_unlock(&t->mu);
            set_msg(t, "out of memory recording epoch %d", t->epoch_no);
            return soft_error(t, CT_ENOMEM);
        }
        t->epochs = ne;
        t->cap_epochs = ncap;
    }
    ct_epoch_rec *e = &t->epochs[t->nepochs];
    memset(e, 0, sizeof *e);
    e->info.epoch = t->epoch_no;
    e->info.start_unix_s = t->epoch_start_unix;
    e->info.end_unix_s = t->t0_unix + (now - t->t0_mono);
    e->info.duration_s = now - t->epoch_start_mono;
    double dev_j[256];
    double *devj = t->ndev <= 256 ? dev_j : malloc((size_t)t->ndev * sizeof(double));
    for (int d = 0; d < t->ndev; d++) {
        double dj = t->cum_j[d] - t->epoch0_j[d];
        if (dj < 0) dj = 0;
        if (devj) devj[d] = dj;
        e->info.energy_j[t->devs[d].component] += dj;
    }
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) e->has_component[c] = t->have[c];
    e->info.co2eq_g = t->epoch_co2_g * t->cfg.pue;
    t->sum_duration_s += e->info.duration_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) t->sum_energy_j[c] += e->info.energy_j[c];
    t->sum_co2_g += e->info.co2eq_g;
    int k = dominant_kind(t->epoch_kind_j);
    if (k >= 0) {
        e->intensity_kind = (ct_intensity_kind)k;
        ct__strlcpy(e->intensity_source, t->kind_source[k], sizeof e->intensity_source);
    } else {
        ct_intensity_value iv;
        ct__intensity_now(t->intensity, e->info.end_unix_s, &iv);
        e->intensity_kind = iv.kind;
        ct__strlcpy(e->intensity_source, iv.source, sizeof e->intensity_source);
    }
    for (int i = 0; i < CT__INTENSITY_KINDS; i++) t->sum_kind_j[i] += t->epoch_kind_j[i];
    t->nepochs++;
    t->in_epoch = 0;
    ct__predictor_add_epoch(&t->pred, e->info.duration_s, e->info.energy_j);
    t->pred_stale = 1;
    int make_prediction = t->cfg.epochs_before_pred > 0 && t->nepochs == t->cfg.epochs_before_pred;
    /* later refinements are refitted by the measurement thread at its next sample
     * (ct_epoch_end stays cheap); the budgets below use the latest one */
    if (make_prediction) compute_prediction(t);
    ct_result actual;
    compute_actual(t, &actual);
    int budget = check_budgets(t, &actual);

    /* Text logs in the original's formats, then the JSON Lines record. */
    char dur[48];
    ct_format_duration(e->info.duration_s, 1, dur, sizeof dur);
    ct__log_std(&t->logs, "Epoch %d:", e->info.epoch);
    ct__log_std(&t->logs, "Duration: %s", dur);
    for (int c = CT_COMPONENT_COUNT - 1; c >= 0; c--) {
        if (!t->have[c]) continue;
        char powers[1024] = "[";
        size_t n = 1;
        for (int d = 0; d < t->ndev && n < sizeof powers - 32; d++) {
            if (t->devs[d].component != (ct_component)c) continue;
            double pw = devj && e->info.duration_s > 0 ? devj[d] / e->info.duration_s : 0;
            n += (size_t)snprintf(powers + n, sizeof powers - n, "%s%.4f", n > 1 ? " " : "", pw);
        }
        snprintf(powers + n, sizeof powers - n, "]");
        ct__log_std(&t->logs, "Average power usage (W) for %s: %s%s", ct_component_name((ct_component)c), powers,
                    t->estimated[c] ? " (estimated)" : "");
    }
    ct__record_epoch(t, e, devj);
    pthread_mutex_unlock(&t->mu);
    if (devj != dev_j) free(devj);

    int rc = budget;
    if (make_prediction) {
        print_result(t, "Predicted", &t->predicted);
        ct__record_prediction(t);
        if (t->cfg.stop_and_confirm && !ask_to_continue(t)) {
            ct__log_std(&t->logs, "Session ended by user.");
            finish(t, "stopped");
            set_msg(t, "the user declined to continue after the prediction");
            return CT_EDECLINED;
        }
    }
    if (t->nepochs >= t->cfg.monitor_epochs) finish(t, "completed");
    return rc;
}

int ct_stop(ct_tracker *t) {
    if (!t) return CT_EINVAL;
    pthread_mutex_lock(&t->mu);
    int open_epoch = t->in_epoch && !t->finished;
    pthread_mutex_unlock(&t->mu);
    if (open_epoch) ct_epoch_end(t); /* close the epoch in progress; its budget code is not an error here */
    finish(t, "stopped");
    return 0;
}

void ct_tracker_free(ct_tracker *t) {
    if (!t) return;
    finish(t, "stopped");
    if (t->thread_started) pthread_join(t->thread, NULL);
    for (int i = 0; i < t->nsrc; i++) t->src[i].ops->close(t->src[i].state);
    if (t->intensity) ct__intensity_close(t->intensity);
    ct__logfiles_close(&t->logs);
    ct__config_free(&t->cfg);
    free(t->devs);
    free(t->cum_j);
    free(t->prev_j);
    free(t->epoch0_j);
    free(t->sample0_j);
    free(t->epochs);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

int ct_get_actual(const ct_tracker *t, ct_result *out) {
    if (!t || !out) return CT_EINVAL;
    ct_tracker *m = (ct_tracker *)t;
    pthread_mutex_lock(&m->mu);
    int n = t->nepochs;
    if (n > 0) compute_actual(t, out);
    pthread_mutex_unlock(&m->mu);
    return n > 0 ? 0 : CT_ENODATA;
}

int ct_get_predicted(const ct_tracker *t, ct_result *out) {
    if (!t || !out) return CT_EINVAL;
    ct_tracker *m = (ct_tracker *)t;
    pthread_mutex_lock(&m->mu);
    int rc;
    refresh_refined(m);
    rc = m->has_refined ? 0 : CT_ENODATA;
    if (rc == 0) *out = m->refined;
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int ct_epoch_count(const ct_tracker *t) {
    if (!t) return CT_EINVAL;
    ct_tracker *m = (ct_tracker *)t;
    pthread_mutex_lock(&m->mu);
    int n = t->nepochs;
    pthread_mutex_unlock(&m->mu);
    return n;
}

int ct_get_epoch(const ct_tracker *t, int index, ct_epoch_info *out) {
    if (!t || !out) return CT_EINVAL;
    ct_tracker *m = (ct_tracker *)t;
    pthread_mutex_lock(&m->mu);
    int ok = index >= 0 && index < t->nepochs;
    if (ok) *out = t->epochs[index].info;
    pthread_mutex_unlock(&m->mu);
    return ok ? 0 : CT_ENODATA;
}

int ct_get_status(ct_tracker *t, ct_status *out) {
    if (!t || !out) return CT_EINVAL;
    pthread_mutex_lock(&t->mu);
    if (t->has_prediction) refresh_refined(t);
    fill_status(t, out);
    pthread_mutex_unlock(&t->mu);
    return 0;
}

int ct_device_count(const ct_tracker *t) { return t ? t->ndev : CT_EINVAL; }

int ct_get_device(const ct_tracker *t, int index, ct_device_desc *out) {
    if (!t || !out) return CT_EINVAL;
    if (index < 0 || index >= t->ndev) return CT_ENODATA;
    ct_tracker *m = (ct_tracker *)t;
    pthread_mutex_lock(&m->mu);
    refresh_devices(m);
    *out = t->devs[index];
    pthread_mutex_unlock(&m->mu);
    return 0;
}

const char *ct_log_path(const ct_tracker *t) { return t && t->logs.enabled ? t->logs.std_path : NULL; }

const char *ct_jsonl_path(const ct_tracker *t) { return t && t->logs.enabled ? t->logs.jsonl_path : NULL; }
