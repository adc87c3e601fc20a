/* The tracker: lifecycle, epoch boundaries, results and the getters. It
 * computes every number once and hands the values to the reporter
 * (output/reporter.h), which writes every channel; the measurement thread
 * is core/measure.c, the prediction's arithmetic core/predict.c. */
#include "core/tracker_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *ct_tracker_message(const ct_tracker *t) { return t ? t->msg : ct_last_error_message(); }

/* ------------------------------------------------------------------ */
/* Printing and notices                                                */
/* ------------------------------------------------------------------ */

/* Notices from sources and the intensity service (any thread, lock may be held). */
static void on_notice(void *user, int level, const char *msg) {
    ct_tracker *t = user;
    ct__report_notice(&t->rep, level, msg);
}

static void set_msg(ct_tracker *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The detail of a failure (or of the warning just given): the calling
 * thread's ct_last_error_message() and the tracker's ct_tracker_message(). */
static void set_msg(ct_tracker *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    ct__fail(0, "%s", t->msg);
}

/* ------------------------------------------------------------------ */
/* Creating the tracker                                                */
/* ------------------------------------------------------------------ */

static int add_source(ct_tracker *t, const ct__source_ops *ops, char *why, size_t whylen) {
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
    ct__source_inst *s = &t->src[t->nsrc++];
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

/* Opens the sources of one component: the table and its order live in
 * sources/registry.c; the tracker keeps what opens and says what did not. */
static int open_row(void *user, const ct__source_ops *ops, char *why, size_t whylen) {
    return add_source(user, ops, why, whylen);
}

static void skipped_row(void *user, const ct_source_row *row, const char *why) {
    ct_tracker *t = user;
    if (row->simulated) return; /* the reason says it */
    /* The permission message names the exact fix: show it, once. */
    if (strstr(why, "chmod")) {
        on_notice(t, 1, why);
        return;
    }
    char m[1200];
    snprintf(m, sizeof m, "%s energy source not used: %s", row->ops->name, why);
    on_notice(t, 0, m);
}

static int open_component(ct_tracker *t, ct_component c) {
    const char *sim = c == CT_COMPONENT_CPU ? t->cfg.sim_cpu : t->cfg.sim_gpu;
    const ct_source_opener op = {open_row, skipped_row, t};
    char all[sizeof t->reason[0]];
    int opened = 0;
    int rc = ct__sources_open(c, sim != NULL, &op, &opened, all, sizeof all);
    if (rc) return rc;
    if (!t->have[c]) ct__strlcpy(t->reason[c], all, sizeof t->reason[c]);
    return 0;
}

/* What the reporter needs to head the logs (values of this moment). */
static void fill_header(const ct_tracker *t, ct__run_header *h) {
    memset(h, 0, sizeof *h);
    h->host = t->host;
    h->pid = (int)getpid();
    h->start_unix_s = t->t0_unix;
    h->job_id = t->ranks.job_id;
    h->launcher = t->ranks.launcher;
    h->rank = t->ranks.rank;
    h->local_rank = t->ranks.local_rank;
    h->world_size = t->ranks.world_size;
    h->measuring = t->measuring;
    h->epochs = t->cfg.epochs;
    h->epochs_before_pred = t->cfg.epochs_before_pred;
    h->monitor_epochs = t->cfg.monitor_epochs;
    h->pue = t->cfg.pue;
    h->g_per_kwh = t->intensity_start.g_per_kwh;
    h->kind = t->intensity_start.kind;
    h->intensity_source = t->intensity_start.source;
    h->want = t->want;
    h->have = t->have;
    h->estimated = t->estimated;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) h->reason[c] = t->reason[c];
    h->devs = t->devs;
    h->ndev = t->ndev;
}

static void fail_new(ct_tracker *t, int rc) {
    ct__fail(rc, "%s", t->msg);
    (void)rc;
    ct_tracker_free(t);
}

int ct_tracker_new(const ct_config *cfg, ct_tracker **out) {
    if (!out) return ct__fail(CT_EINVAL, "ct_tracker_new: no place for the tracker (out is NULL)");
    *out = NULL;
    ct__fail_clear();
    if (!cfg) {
        ct__fail(CT_EINVAL, "no configuration given");
        return CT_EINVAL;
    }
    ct_tracker *t = calloc(1, sizeof *t);
    if (!t) {
        ct__fail(CT_ENOMEM, "out of memory");
        return CT_ENOMEM;
    }
    ct__predictor_init(&t->pred);
    pthread_mutex_init(&t->mu, NULL);
    t->lock = &t->mu;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->finished = 1; /* until fully set up: ct_tracker_free must not report */
    ct__reporter_init(&t->rep);
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
    ct__reporter_configure(&t->rep, t->cfg.verbose, t->cfg.decimal_precision, t->cfg.interpretable,
                           ct__car_g_per_km(NULL));
    ct__reporter_set_output(&t->rep, t->cfg.output_fn, t->cfg.output_user);
    if (t->cfg.log_dir) {
        char m[600];
        if (ct__reporter_open_logs(&t->rep, t->cfg.log_dir, t->cfg.log_file_prefix, t->t0_unix, m, sizeof m) != 0)
            set_msg(t, "%s", m);
    }

    ct__parse_components(t->cfg.components, t->want, t->msg, sizeof t->msg);
    ct__ranks_detect(&t->ranks);
    ct__run_header h;
    fill_header(t, &h);
    ct__report_opening(&t->rep, &h);
    t->measuring = 1;
    if (t->ranks.local_rank > 0 && !t->cfg.all_ranks) {
        /* The node's CPU (and its GPUs, unless each rank takes its own) are
         * measured by local rank 0: measuring them again double counts. */
        t->want[CT_COMPONENT_CPU] = 0;
        if (!t->cfg.devices_by_pid) t->want[CT_COMPONENT_GPU] = 0;
        t->measuring = t->want[CT_COMPONENT_GPU];
        ct__report_rank_share(&t->rep, t->ranks.rank, t->ranks.local_rank, t->ranks.launcher, t->cfg.devices_by_pid,
                              t->measuring);
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
        ct__report_component_missing(&t->rep, (ct_component)c, t->reason[c]);
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
    t->cfg.electricitymaps_key = NULL; /* borrowed from the caller: read, now dropped */
    if (rc) {
        set_msg(t, "carbon intensity: %s", why);
        fail_new(t, rc);
        return rc;
    }
    ct__intensity_now(t->intensity, t->t0_unix, &t->intensity_start);
    t->intensity_logged = t->intensity_start; /* in the header */

    fill_header(t, &h);
    ct__report_header(&t->rep, &h);

    /* First readings, then the thread. */
    double now = ct__monotonic_s();
    pthread_mutex_lock(&t->mu);
    ct__read_sources(t, now, NULL);
    memcpy(t->sample0_j, t->cum_j, nd * sizeof(double));
    t->sample0_mono = now;
    t->finished = 0;
    t->status_enabled = t->cfg.status_line == 1 || (t->cfg.status_line == -1 && t->cfg.verbose >= 1 && isatty(2));
    pthread_mutex_unlock(&t->mu);

    if (t->nsrc > 0) {
        if (pthread_create(&t->thread, NULL, ct__measure_main, t) != 0) {
            set_msg(t, "could not start the measurement thread: %s", strerror(errno));
            t->finished = 1;
            fail_new(t, CT_ETHREAD);
            return CT_ETHREAD;
        }
        t->thread_started = 1;
    }
    ct__reporter_flush(&t->rep); /* what came under the lock (first readings) */
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
    r->energy_kwh = ct__energy_kwh(r->energy_j, t->cfg.pue);
    r->co2eq_g = t->sum_co2_g;
    r->intensity_g_per_kwh = r->energy_kwh > 0 ? r->co2eq_g / r->energy_kwh : t->intensity_start.g_per_kwh;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        r->has_component[c] = t->have[c];
        r->estimated[c] = t->estimated[c];
    }
    int k = ct__dominant_kind(t->sum_kind_j);
    if (k >= 0) {
        r->intensity_kind = (ct_intensity_kind)k;
        ct__strlcpy(r->intensity_source, t->kind_source[k], sizeof r->intensity_source);
    } else {
        ct__intensity_value iv;
        ct__intensity_now(t->intensity, ct__unix_s(), &iv);
        r->intensity_kind = iv.kind;
        ct__strlcpy(r->intensity_source, iv.source, sizeof r->intensity_source);
    }
    r->energy_kwh_low = r->energy_kwh_high = r->energy_kwh;
    r->duration_s_low = r->duration_s_high = r->duration_s;
    r->co2eq_g_low = r->co2eq_g_high = r->co2eq_g;
}

/* The prediction printed after epochs_before_pred epochs: the refined one of
 * that moment (src/core/progress.c, issue 12; t->mu held). It stays as printed
 * for the final record; ct_get_predicted, the status and the budgets follow
 * the refined one. */
static void compute_prediction(ct_tracker *t, const ct_result *a) {
    (void)a;
    t->pred_stale = 1;
    ct__tracker_refine(t, 0); /* its record is the block's (ct__report_prediction) */
    if (!t->has_refined) return;
    t->predicted = t->refined;
    t->has_prediction = 1;
    t->pred_rec_epochs = t->nepochs;
    t->pred_rec_progress = -1;
    t->pred_said_kwh = t->refined.energy_kwh;
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
    ct__report_status_clear(&t->rep);
    pthread_cond_signal(&t->cv);
    /* the last refinement, when the thread has not made it yet (issue 12) */
    if (t->has_prediction && t->pred_stale && ct__prediction_wanted_now(t)) ct__tracker_refine(t, 1);
    ct_result a;
    compute_actual(t, &a);
    ct__run_finish f = {
        &a, t->has_prediction ? &t->predicted : NULL, reason, t->nepochs < t->cfg.monitor_epochs, t->cfg.monitor_epochs,
        0};
    pthread_mutex_unlock(&t->mu);
    if (t->thread_started) {
        pthread_join(t->thread, NULL);
        t->thread_started = 0;
    }
    f.end_unix_s = ct__unix_s();
    ct__report_finish(&t->rep, &f);
}

/* ------------------------------------------------------------------ */
/* Epochs                                                              */
/* ------------------------------------------------------------------ */

static int soft_error(ct_tracker *t, int rc) { return t->cfg.ignore_errors ? 0 : rc; }

int ct_epoch_start(ct_tracker *t) {
    if (!t) return ct__fail(CT_EINVAL, "ct_epoch_start: no tracker");
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
    /* the refinement after the last epoch, when the measurement thread has not
     * made it yet (epochs shorter than update_interval): every epoch gets its
     * prediction record (issue 12). Only with a JSON Lines log, which already
     * costs a write per epoch: without one, the fit stays off this thread. */
    if (t->has_prediction && t->pred_stale && ct__reporter_jsonl_path(&t->rep)) ct__tracker_refine(t, 1);
    double now = ct__monotonic_s();
    ct__read_sources(t, now, NULL); /* energy before this moment is not the epoch's */
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
    ct__reporter_flush(&t->rep);
    return 0;
}

int ct_set_confirm_fn(ct_tracker *t, ct_confirm_fn fn, void *user) {
    if (!t) return ct__fail(CT_EINVAL, "ct_set_confirm_fn: no tracker");
    t->confirm = fn;
    t->confirm_user = user;
    return 0;
}

static int ask_to_continue(ct_tracker *t) {
    if (t->confirm) return t->confirm(t->confirm_user) != 0;
    return ct__report_ask_continue(&t->rep);
}

/* Budgets: the prediction (or the actual so far) against the limits. */
static int check_budgets(ct_tracker *t, const ct_result *actual) {
    const double lim[2] = {t->cfg.max_energy_kwh, t->cfg.max_co2_g};
    const char *names[2] = {"energy", "CO2eq"}, *units[2] = {"kWh", "g"};
    const int bits[2] = {CT_BUDGET_ENERGY, CT_BUDGET_CO2};
    int exceeded = 0;
    for (int k = 0; k < 2; k++) {
        if (!(lim[k] > 0)) continue;
        double act = k == 0 ? actual->energy_kwh : actual->co2eq_g;
        const ct_result *pr = t->has_refined ? &t->refined : &t->predicted; /* refitted by the thread */
        double pred = t->has_prediction ? (k == 0 ? pr->energy_kwh : pr->co2eq_g) : 0;
        const char *which = NULL;
        double v = 0;
        if (act > lim[k]) which = "actual", v = act;
        else if (pred > lim[k]) which = "predicted", v = pred;
        if (!which) continue;
        exceeded = 1;
        t->budget_exceeded |= bits[k];
        /* how sure: the prediction's 90 % interval (issue 12) */
        char sure[80] = "";
        double lo = k == 0 ? pr->energy_kwh_low : pr->co2eq_g_low, hi = k == 0 ? pr->energy_kwh_high : pr->co2eq_g_high;
        if (which[0] == 'p' && hi > lo)
            snprintf(sure, sizeof sure, hi >= 100 ? " (%.0f-%.0f)" : " (%.3g-%.3g)", lo, hi);
        set_msg(t, "%s %s %.6g %s%s exceeds the %s budget of %.6g %s by %.1f %%", which, names[k], v, units[k], sure,
                names[k], lim[k], units[k], (v / lim[k] - 1.0) * 100.0);
        if (!t->budget_warned[k]) {
            t->budget_warned[k] = 1;
            ct__report_warning(&t->rep, t->msg);
        }
    }
    return exceeded ? CT_EBUDGET : 0;
}

/* The index of text in the tracker's table of distinct intensity-source
 * texts, added if new; the last one added is the usual answer. -1 when out
 * of memory (t->mu held). */
static int intern_source(ct_tracker *t, const char *text) {
    for (int i = t->nsources - 1; i >= 0; i--)
        if (strcmp(t->sources[i], text) == 0) return i;
    if ((uint32_t)t->nsources >= CT__LABEL_SOURCE_MASK) return -1;
    if (t->nsources == t->cap_sources) {
        int cap = t->cap_sources ? t->cap_sources * 2 : 4;
        char **p = realloc(t->sources, (size_t)cap * sizeof *p);
        if (!p) return -1;
        t->sources = p;
        t->cap_sources = cap;
    }
    char *copy = ct__strdup(text);
    if (!copy) return -1;
    t->sources[t->nsources] = copy;
    return t->nsources++;
}

/* The public view of a kept epoch. */
static void epoch_info(const ct__epoch_rec *e, ct_epoch_info *out) {
    memset(out, 0, sizeof *out);
    out->epoch = e->epoch;
    out->start_unix_s = e->start_unix_s;
    out->end_unix_s = e->end_unix_s;
    out->duration_s = e->duration_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) out->energy_j[c] = e->energy_j[c];
    out->co2eq_g = e->co2eq_g;
}

/* Room for one more epoch (t->mu held); CT_ENOMEM. */
static int grow_epochs(ct_tracker *t) {
    if (t->nepochs < t->cap_epochs) return 0;
    int ncap = t->cap_epochs ? t->cap_epochs * 2 : 16;
    ct__epoch_rec *ne = realloc(t->epochs, (size_t)ncap * sizeof *ne);
    if (!ne) return CT_ENOMEM;
    t->epochs = ne;
    t->cap_epochs = ncap;
    return 0;
}

int ct_epoch_end(ct_tracker *t) {
    if (!t) return ct__fail(CT_EINVAL, "ct_epoch_end: no tracker");
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
    ct__read_sources(t, now, NULL);
    ct__take_sample(t, now);
    ct__refresh_devices(t);
    if (grow_epochs(t) != 0) {
        t->in_epoch = 0;
        pthread_mutex_unlock(&t->mu);
        set_msg(t, "out of memory recording epoch %d", t->epoch_no);
        return soft_error(t, CT_ENOMEM);
    }
    ct__epoch_rec *e = &t->epochs[t->nepochs];
    memset(e, 0, sizeof *e);
    e->epoch = t->epoch_no;
    e->start_unix_s = t->epoch_start_unix;
    e->end_unix_s = t->t0_unix + (now - t->t0_mono);
    e->duration_s = now - t->epoch_start_mono;
    double dev_j[256];
    double *devj = t->ndev <= 256 ? dev_j : malloc((size_t)t->ndev * sizeof(double));
    for (int d = 0; d < t->ndev; d++) {
        double dj = t->cum_j[d] - t->epoch0_j[d];
        if (dj < 0) dj = 0;
        if (devj) devj[d] = dj;
        e->energy_j[t->devs[d].component] += dj;
    }
    e->co2eq_g = t->epoch_co2_g * t->cfg.pue;

    /* Every number of the epoch, once. */
    ct_epoch_info info;
    epoch_info(e, &info);
    ct__epoch_report rep = {.info = &info,
                            .have = t->have,
                            .estimated = t->estimated,
                            .devs = t->devs,
                            .dev_energy_j = devj,
                            .ndev = t->ndev,
                            .series = &t->series};
    rep.energy_kwh = ct__energy_kwh(e->energy_j, t->cfg.pue);
    for (int c = 0; c < CT_COMPONENT_COUNT; c++)
        rep.power_w[c] = e->duration_s > 0 ? e->energy_j[c] / e->duration_s : 0;
    ct__intensity_value iv = {0};
    int k = ct__dominant_kind(t->epoch_kind_j);
    if (k < 0 || !(rep.energy_kwh > 0)) ct__intensity_now(t->intensity, e->end_unix_s, &iv);
    if (k >= 0) {
        rep.intensity_kind = (ct_intensity_kind)k;
        rep.intensity_source = t->kind_source[k];
    } else {
        rep.intensity_kind = iv.kind;
        rep.intensity_source = iv.source;
    }
    rep.intensity_g_per_kwh = rep.energy_kwh > 0 ? e->co2eq_g / rep.energy_kwh : iv.g_per_kwh;
    int src = intern_source(t, rep.intensity_source);
    e->label = ((uint32_t)rep.intensity_kind << CT__LABEL_KIND_SHIFT) |
               (src >= 0 ? (uint32_t)src : CT__LABEL_SOURCE_MASK);

    t->sum_duration_s += e->duration_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) t->sum_energy_j[c] += e->energy_j[c];
    t->sum_co2_g += e->co2eq_g;
    for (int i = 0; i < CT__INTENSITY_KINDS; i++) t->sum_kind_j[i] += t->epoch_kind_j[i];
    t->nepochs++;
    t->in_epoch = 0;
    ct__predictor_add_epoch(&t->pred, e->duration_s, e->energy_j); /* O(1); refitted by the thread */
    t->pred_stale = 1;
    ct_result actual;
    compute_actual(t, &actual);
    int make_prediction = t->cfg.epochs_before_pred > 0 && t->nepochs == t->cfg.epochs_before_pred;
    if (make_prediction) compute_prediction(t, &actual);
    int budget = check_budgets(t, &actual);
    ct__report_epoch(&t->rep, &rep); /* under t->mu: it reads the power series */
    int after = t->nepochs;
    pthread_mutex_unlock(&t->mu);
    ct__reporter_flush(&t->rep); /* warnings reported under the lock (budgets, sources) */
    if (devj != dev_j) free(devj);

    int rc = budget;
    if (make_prediction) {
        ct__report_prediction(&t->rep, &t->predicted, after);
        if (t->cfg.stop_and_confirm && !ask_to_continue(t)) {
            ct__report_declined(&t->rep);
            finish(t, "stopped");
            set_msg(t, "the user declined to continue after the prediction");
            return CT_EDECLINED;
        }
    }
    if (t->nepochs >= t->cfg.monitor_epochs) finish(t, "completed");
    if (rc) ct__fail(rc, "%s", t->msg);
    return rc;
}

int ct_stop(ct_tracker *t) {
    if (!t) return ct__fail(CT_EINVAL, "ct_stop: no tracker");
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
    ct__reporter_close(&t->rep);
    ct__config_free(&t->cfg);
    free(t->devs);
    free(t->cum_j);
    free(t->prev_j);
    free(t->epoch0_j);
    free(t->sample0_j);
    free(t->epochs);
    for (int i = 0; i < t->nsources; i++) free(t->sources[i]);
    free(t->sources);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* ------------------------------------------------------------------ */
/* Accessors: each locks through t->lock (a const tracker is read, never written) */
/* ------------------------------------------------------------------ */

int ct_get_actual(const ct_tracker *t, ct_result *out) {
    if (!t || !out) return ct__fail(CT_EINVAL, "ct_get_actual: no tracker or no output");
    pthread_mutex_lock(t->lock);
    int n = t->nepochs;
    if (n > 0) compute_actual(t, out);
    pthread_mutex_unlock(t->lock);
    return n > 0 ? 0 : ct__fail(CT_ENODATA, "no epoch has ended yet");
}

int ct_get_predicted(const ct_tracker *t, ct_result *out) {
    if (!t || !out) return ct__fail(CT_EINVAL, "ct_get_predicted: no tracker or no output");
    pthread_mutex_lock(t->lock);
    int rc = ct__tracker_prediction(t, out); /* the refined prediction, from epoch 1 or 3 marks on */
    pthread_mutex_unlock(t->lock);
    if (rc == 0) return 0;
    return ct__fail(CT_ENODATA, "nothing to predict from yet (no epoch ended, fewer than 3 progress marks)");
}

int ct_epoch_count(const ct_tracker *t) {
    if (!t) return ct__fail(CT_EINVAL, "ct_epoch_count: no tracker");
    pthread_mutex_lock(t->lock);
    int n = t->nepochs;
    pthread_mutex_unlock(t->lock);
    return n;
}

int ct_get_epoch(const ct_tracker *t, int index, ct_epoch_info *out) {
    if (!t || !out) return ct__fail(CT_EINVAL, "ct_get_epoch: no tracker or no output");
    pthread_mutex_lock(t->lock);
    int ok = index >= 0 && index < t->nepochs;
    if (ok) epoch_info(&t->epochs[index], out);
    int n = t->nepochs;
    pthread_mutex_unlock(t->lock);
    return ok ? 0 : ct__fail(CT_ENODATA, "no epoch at index %d (%d recorded)", index, n);
}

int ct_get_status(const ct_tracker *t, ct_status *out) {
    if (!t || !out) return ct__fail(CT_EINVAL, "ct_get_status: no tracker or no output");
    pthread_mutex_lock(t->lock);
    ct__fill_status(t, out);
    pthread_mutex_unlock(t->lock);
    return 0;
}

int ct_device_count(const ct_tracker *t) { return t ? t->ndev : ct__fail(CT_EINVAL, "ct_device_count: no tracker"); }

int ct_get_device(const ct_tracker *t, int index, ct_device_desc *out) {
    if (!t || !out) return ct__fail(CT_EINVAL, "ct_get_device: no tracker or no output");
    if (index < 0 || index >= t->ndev)
        return ct__fail(CT_ENODATA, "no device at index %d (%d measured)", index, t->ndev);
    pthread_mutex_lock(t->lock);
    ct__refresh_devices(t);
    *out = t->devs[index];
    pthread_mutex_unlock(t->lock);
    return 0;
}

double ct__tracker_samples_in_epoch(ct_tracker *t) {
    pthread_mutex_lock(&t->mu);
    double n = (double)t->series.n * t->series.stride + t->series.pending;
    pthread_mutex_unlock(&t->mu);
    return n;
}

const char *ct_log_path(const ct_tracker *t) { return t ? ct__reporter_log_path(&t->rep) : NULL; }

const char *ct_jsonl_path(const ct_tracker *t) { return t ? ct__reporter_jsonl_path(&t->rep) : NULL; }
