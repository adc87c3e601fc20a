/* The reporter: every line the tracker prints or logs, in the original's
 * wording, and the JSON Lines records (output/reporter.h). */
#include "output/reporter.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ct__console_msg {
    struct ct__console_msg *next;
    int level;
    char text[];
};

void ct__reporter_init(ct__reporter *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->deliver_mu, NULL);
    ct__logfiles_open(&r->logs, NULL, NULL, 0, NULL, 0);
}

void ct__reporter_configure(ct__reporter *r, int verbose, int precision, int interpretable, double car_g_per_km) {
    r->verbose = verbose;
    r->car_g_per_km = car_g_per_km;
    r->precision = precision;
    r->interpretable = interpretable;
}

void ct__reporter_set_output(ct__reporter *r, ct_output_fn fn, void *user) {
    r->out_fn = fn;
    r->out_user = user;
}

/* One console message: stdout, or queued for the output function (control
 * characters other than newline and tab shown as \xNN, as on stdout). */
static void console(ct__reporter *r, int level, const char *text) {
    if (r->verbose < level) return;
    if (!r->out_fn) {
        ct__report_status_clear(r);
        fputs("CarbonTracker: ", stdout);
        ct__fput_clean(stdout, text); /* names from outside may hold escape codes */
        fputc('\n', stdout);
        fflush(stdout);
        return;
    }
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        n += (c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t' ? 1 : 4;
    }
    struct ct__console_msg *m = malloc(sizeof *m + n + 1);
    if (!m) return; /* out of memory: the text is still in the output log */
    static const char hex[] = "0123456789abcdef";
    char *o = m->text;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t') {
            *o++ = (char)c;
        } else {
            *o++ = '\\', *o++ = 'x', *o++ = hex[c >> 4], *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    m->level = level;
    m->next = NULL;
    pthread_mutex_lock(&r->mu);
    if (r->q_tail) r->q_tail->next = m;
    else r->q_head = m;
    r->q_tail = m;
    pthread_mutex_unlock(&r->mu);
}

void ct__reporter_flush(ct__reporter *r) {
    if (!r->out_fn) return;
    pthread_mutex_lock(&r->deliver_mu);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        struct ct__console_msg *m = r->q_head;
        if (m) {
            r->q_head = m->next;
            if (!r->q_head) r->q_tail = NULL;
        }
        pthread_mutex_unlock(&r->mu);
        if (!m) break;
        ct__report_status_clear(r); /* a status line on the terminal goes first, as before stdout text */
        r->out_fn(r->out_user, m->level, m->text);
        free(m);
    }
    pthread_mutex_unlock(&r->deliver_mu);
}

int ct__reporter_open_logs(ct__reporter *r, const char *dir, const char *prefix, double unix_s, char *msg, size_t len) {
    ct__logfiles_close(&r->logs);
    int rc = ct__logfiles_open(&r->logs, dir, prefix, unix_s, msg, len);
    if (rc != 0) {
        char line[1100];
        snprintf(line, sizeof line, "WARNING - %s", msg);
        console(r, 1, line);
        ct__reporter_flush(r);
    }
    return rc;
}

void ct__reporter_close(ct__reporter *r) {
    ct__reporter_flush(r);
    ct__logfiles_close(&r->logs);
    pthread_mutex_destroy(&r->deliver_mu);
    pthread_mutex_destroy(&r->mu);
}

const char *ct__reporter_log_path(const ct__reporter *r) { return r->logs.enabled ? r->logs.std_path : NULL; }

const char *ct__reporter_jsonl_path(const ct__reporter *r) { return r->logs.enabled ? r->logs.jsonl_path : NULL; }

/* ------------------------------------------------------------------ */
/* Console and messages                                                */
/* ------------------------------------------------------------------ */

void ct__report_status_clear(ct__reporter *r) {
    /* Atomic: the training thread clears what the measurement thread drew. */
    if (!__atomic_exchange_n(&r->status_drawn, 0, __ATOMIC_ACQ_REL)) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

void ct__report_status(ct__reporter *r, const ct_status *st) {
    char line[512];
    if (ct__status_line_render(st, line, sizeof line) <= 0) return;
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    __atomic_store_n(&r->status_drawn, 1, __ATOMIC_RELEASE);
}

void ct__report_output(ct__reporter *r, const char *text, int level) {
    ct__log_out(&r->logs, text);
    console(r, level, text);
}

/* Console and the error log, without a JSON Lines record. */
static void warn_text(ct__reporter *r, const char *text) {
    char line[1100];
    snprintf(line, sizeof line, "WARNING - %s", text);
    ct__report_output(r, line, 1);
    ct__log_err(&r->logs, text);
}

/* One JSON Lines record from b; the user hears once that records are lost. */
static void jsonl(ct__reporter *r, ct__buf *b, int epoch, double now) {
    if (b->len > 0 || b->oom) {
        int err = 0;
        int rc = ct__jsonl_write(&r->logs, b->oom ? NULL : b->p, b->oom ? 0 : b->len, epoch, now, &err);
        if (rc == CT__JSONL_LOST_FIRST) {
            pthread_mutex_lock(&r->mu);
            int tell = !r->jsonl_told;
            r->jsonl_told = 1;
            pthread_mutex_unlock(&r->mu);
            if (tell) {
                char m[PATH_MAX + 300];
                snprintf(m, sizeof m,
                         "cannot write the JSON Lines log %s: %s; records are left out until it can be written "
                         "again, then a \"gap\" record lists what is missing",
                         r->logs.jsonl_path, strerror(err));
                warn_text(r, m);
            }
        }
    }
    ct__buf_free(b);
}

void ct__report_warning(ct__reporter *r, const char *text) {
    warn_text(r, text);
    pthread_mutex_lock(&r->mu);
    if (!r->header_written) {
        if (r->npending < CT__REPORT_PENDING) ct__strlcpy(r->pending[r->npending++], text, sizeof r->pending[0]);
        pthread_mutex_unlock(&r->mu);
        return;
    }
    pthread_mutex_unlock(&r->mu);
    double now = ct__unix_s();
    ct__buf b = {0};
    ct__record_warning(&b, now, text);
    jsonl(r, &b, 0, now);
}

void ct__report_notice(ct__reporter *r, int level, const char *text) {
    if (level >= 1) {
        ct__report_warning(r, text);
    } else {
        ct__report_output(r, text, 2);
        ct__log_std(&r->logs, "%s", text);
    }
}

void ct__report_rank_share(ct__reporter *r, int rank, int local_rank, const char *launcher, int devices_by_pid,
                           int measuring) {
    char m[300];
    snprintf(m, sizeof m,
             "Rank %d (local rank %d, %s): the node's %s measured by local rank 0 only; this rank measures %s.", rank,
             local_rank, launcher && launcher[0] ? launcher : "launcher", devices_by_pid ? "CPU is" : "devices are",
             measuring ? "its own GPUs" : "nothing");
    ct__report_notice(r, 0, m);
}

void ct__report_component_missing(ct__reporter *r, ct_component c, const char *reason) {
    const char *name = c == CT_COMPONENT_CPU ? "CPU" : "GPU";
    char m[600];
    snprintf(m, sizeof m, "No %s energy source available (%s); %s energy is not included.", name,
             reason && reason[0] ? reason : "none found", name);
    ct__report_notice(r, c == CT_COMPONENT_GPU ? 0 : 1, m);
}

void ct__report_source_failed(ct__reporter *r, const char *source_name) {
    char m[400];
    snprintf(m, sizeof m, "the %s energy source failed; its devices keep the energy measured so far", source_name);
    ct__report_warning(r, m);
}

/* ------------------------------------------------------------------ */
/* The run                                                             */
/* ------------------------------------------------------------------ */

void ct__report_opening(ct__reporter *r, const ct__run_header *h) {
    ct__log_std(&r->logs, "carbontracker version %s", CT_VERSION);
    ct__log_std(&r->logs,
                "Only predicted and actual consumptions are multiplied by a PUE coefficient of %g "
                "(set with the pue option; 1.58 is the 2023 Uptime Institute average).",
                h->pue);
    ct__log_std(&r->logs, "Host: %s, pid: %d, job: %s, rank: %d, local rank: %d, world size: %d.", h->host, h->pid,
                h->job_id[0] ? h->job_id : "none", h->rank, h->local_rank, h->world_size);
}

static void components_line(const ct__run_header *h, char *buf, size_t len) {
    size_t n = (size_t)snprintf(buf, len, "The following components were found:");
    const ct_component order[] = {CT_COMPONENT_GPU, CT_COMPONENT_CPU};
    for (int k = 0; k < 2 && n < len; k++) {
        ct_component c = order[k];
        if (!h->have[c]) continue;
        n += (size_t)snprintf(buf + n, len - n, " %s with device(s) ", c == CT_COMPONENT_GPU ? "GPU" : "CPU");
        int first = 1;
        for (int d = 0; d < h->ndev && n < len; d++) {
            if (h->devs[d].component != c) continue;
            n += (size_t)snprintf(buf + n, len - n, "%s%s", first ? "" : ", ", h->devs[d].name);
            first = 0;
        }
        if (n < len) n += (size_t)snprintf(buf + n, len - n, ".");
    }
}

void ct__report_header(ct__reporter *r, const ct__run_header *h) {
    r->no_prediction = h->epochs_before_pred == 0;
    char line[2048];
    components_line(h, line, sizeof line);
    ct__log_std(&r->logs, "%s", line);
    ct__report_output(r, line, 1);
    snprintf(line, sizeof line, "Carbon intensity at start: %.2f gCO2eq/kWh (%s: %s).", h->g_per_kwh,
             ct_intensity_kind_name(h->kind), h->intensity_source);
    ct__log_std(&r->logs, "%s", line);
    ct__report_output(r, line, 2);

    ct__buf b = {0};
    ct__record_header(&b, h);
    jsonl(r, &b, 0, h->start_unix_s);
    /* Warnings that came before the header. */
    pthread_mutex_lock(&r->mu);
    int n = r->npending;
    r->header_written = 1;
    r->npending = 0;
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < n; i++) {
        double now = ct__unix_s();
        ct__record_warning(&b, now, r->pending[i]);
        jsonl(r, &b, 0, now);
    }
    ct__reporter_flush(r);
}

void ct__report_intensity(ct__reporter *r, double unix_s, double g_per_kwh, ct_intensity_kind kind,
                          const char *source) {
    ct__buf b = {0};
    ct__record_intensity(&b, unix_s, g_per_kwh, kind, source);
    jsonl(r, &b, 0, unix_s);
}

void ct__report_epoch(ct__reporter *r, const ct__epoch_report *e) {
    const ct_epoch_info *in = e->info;
    char dur[48];
    ct_format_duration(in->duration_s, 1, dur, sizeof dur);
    ct__log_std(&r->logs, "Epoch %d:", in->epoch);
    ct__log_std(&r->logs, "Duration: %s", dur);
    for (int c = CT_COMPONENT_COUNT - 1; c >= 0; c--) {
        if (!e->have[c]) continue;
        char powers[1024] = "[";
        size_t n = 1;
        for (int d = 0; d < e->ndev && n < sizeof powers - 32; d++) {
            if (e->devs[d].component != (ct_component)c) continue;
            double pw = e->dev_energy_j && in->duration_s > 0 ? e->dev_energy_j[d] / in->duration_s : 0;
            n += (size_t)snprintf(powers + n, sizeof powers - n, "%s%.4f", n > 1 ? " " : "", pw);
        }
        snprintf(powers + n, sizeof powers - n, "]");
        ct__log_std(&r->logs, "Average power usage (W) for %s: %s%s", ct_component_name((ct_component)c), powers,
                    e->estimated[c] ? " (estimated)" : "");
    }
    ct__buf b = {0};
    ct__record_epoch(&b, e);
    jsonl(r, &b, in->epoch, in->end_unix_s);
}

static int any_estimated(const ct_result *res) {
    return (res->has_component[0] && res->estimated[0]) || (res->has_component[1] && res->estimated[1]);
}

static void ct__report_prediction_interval(ct__reporter *r, const ct_result *p);

/* The consumption block, the estimate note and the mean intensity. */
static void print_result(ct__reporter *r, const char *what, const ct_result *res) {
    char desc[96], block[1024];
    snprintf(desc, sizeof desc, "%s consumption for %d epoch(s):", what, res->epochs);
    double km = r->interpretable && r->car_g_per_km > 0 ? res->co2eq_g / r->car_g_per_km : -1;
    ct__format_consumption(block, sizeof block, desc, res->duration_s, res->energy_kwh, res->co2eq_g, r->precision, km);
    if (r->no_prediction && strcmp(what, "Actual") == 0) {
        /* Without a prediction the original prints "Actual consumption:"; its
         * own parser cannot read that block (it wants "for N epoch(s)") and
         * would leave the run out of its totals, so the output log keeps the
         * count and only the console has the original's words. */
        ct__log_out(&r->logs, block);
        ct__format_consumption(block, sizeof block, "Actual consumption:", res->duration_s, res->energy_kwh,
                               res->co2eq_g, r->precision, km);
        console(r, 1, block);
    } else {
        ct__report_output(r, block, 1);
    }
    int predicted = strcmp(what, "Predicted") == 0;
    if (predicted) ct__report_prediction_interval(r, res);
    if (any_estimated(res)) {
        char m[300];
        snprintf(
            m, sizeof m, "The %s consumption above is partly estimated (%s%s%s energy), not measured.",
            predicted ? "predicted" : "actual", res->estimated[CT_COMPONENT_CPU] && res->has_component[0] ? "CPU" : "",
            res->estimated[0] && res->has_component[0] && res->estimated[1] && res->has_component[1] ? " and " : "",
            res->estimated[CT_COMPONENT_GPU] && res->has_component[1] ? "GPU" : "");
        ct__report_output(r, m, 1);
    }
    char m[400];
    snprintf(m, sizeof m, "%s carbon intensity: %.2f gCO2eq/kWh (%s: %s).", predicted ? "Predicted average" : "Average",
             res->intensity_g_per_kwh, ct_intensity_kind_name(res->intensity_kind), res->intensity_source);
    ct__report_output(r, m, 2);
}

void ct__report_prediction(ct__reporter *r, const ct_result *predicted, int after_epochs) {
    print_result(r, "Predicted", predicted); /* with its interval (issue 12) */
    ct__buf b = {0};
    ct__record_prediction(&b, predicted, after_epochs, -1, 1);
    jsonl(r, &b, 0, ct__unix_s());
    ct__reporter_flush(r);
}

int ct__report_ask_continue(ct__reporter *r) {
    fprintf(stdout, "CarbonTracker: Continue training (y/n)? ");
    fflush(stdout);
    char line[64];
    for (;;) {
        if (!fgets(line, sizeof line, stdin)) {
            ct__report_output(r, "No answer (end of input): training continues.", 1);
            return 1;
        }
        if (line[0] == 'y' || line[0] == 'Y') return 1;
        if (line[0] == 'n' || line[0] == 'N') return 0;
        fprintf(stdout, "CarbonTracker: Please answer y or n: ");
        fflush(stdout);
    }
}

void ct__report_declined(ct__reporter *r) { ct__log_std(&r->logs, "Session ended by user."); }

void ct__report_finish(ct__reporter *r, const ct__run_finish *f) {
    if (f->early_stop)
        ct__log_std(&r->logs, "Training was interrupted before all %d epochs were monitored.", f->monitor_epochs);
    if (f->actual->epochs > 0) print_result(r, "Actual", f->actual);
    ct__buf b = {0};
    ct__record_final(&b, f);
    jsonl(r, &b, 0, f->end_unix_s);
    ct__log_std(&r->logs, "Monitoring thread ended.");
    ct__report_output(r, "Finished monitoring.", 1);
    ct__reporter_flush(r);
}

/* ------------------------------------------------------------------ */
/* The refined prediction (issue 12)                                   */
/* ------------------------------------------------------------------ */

/* "0.80-0.88 kWh, 0:09:00-0:10:00, 300.1-330.2 g CO2eq" */
static void interval_text(const ct__reporter *r, const ct_result *p, char *buf, size_t len) {
    char d0[48], d1[48];
    ct_format_duration(p->duration_s_low, 0, d0, sizeof d0);
    ct_format_duration(p->duration_s_high, 0, d1, sizeof d1);
    snprintf(buf, len, "%.*f-%.*f kWh, %s-%s, %.*f-%.*f g CO2eq", r->precision, p->energy_kwh_low, r->precision,
             p->energy_kwh_high, d0, d1, r->precision, p->co2eq_g_low, r->precision, p->co2eq_g_high);
}

/* The lines under the "Predicted consumption" block: its 90 % interval and
 * the intensity its CO2eq used. A record of their own in the output log, after
 * the block and its equivalents, so that the original's expressions (which
 * read up to the next time stamp) still read the block. */
static void ct__report_prediction_interval(ct__reporter *r, const ct_result *p) {
    char iv[256], m[700];
    interval_text(r, p, iv, sizeof iv);
    if (p->intensity_kind == CT_INTENSITY_FORECAST)
        snprintf(m, sizeof m,
                 "\t90 %% interval:\t%s\n\tIntensity:\tthe forecast (%s) for the predicted remaining time, "
                 "%.2f gCO2eq/kWh on average",
                 iv, p->intensity_source, p->intensity_g_per_kwh);
    else
        snprintf(m, sizeof m,
                 "\t90 %% interval:\t%s\n\tIntensity:\tthe current value (%s: %s), no forecast; %.2f gCO2eq/kWh on "
                 "average",
                 iv, ct_intensity_kind_name(p->intensity_kind), p->intensity_source, p->intensity_g_per_kwh);
    ct__report_output(r, m, 1);
}

void ct__report_prediction_update(ct__reporter *r, const ct_result *predicted, int after_epochs, double progress,
                                  int announce) {
    if (announce && r->verbose >= 2) {
        /* "Prediction for 10 epoch(s) after 3 epoch(s): 0.84 kWh (0.80-0.88), 0:10:00, 331.2 g CO2eq." */
        char when[96], dur[48], m[500];
        const ct_result *p = predicted;
        if (progress >= 0)
            snprintf(when, sizeof when, "%d epoch(s) and %.0f %% of epoch %d", after_epochs, progress * 100.0,
                     after_epochs + 1);
        else snprintf(when, sizeof when, "%d epoch(s)", after_epochs);
        ct_format_duration(p->duration_s, 0, dur, sizeof dur);
        int d = r->precision;
        snprintf(m, sizeof m, "Prediction for %d epoch(s) after %s: %.*f kWh (%.*f-%.*f), %s, %.*f g CO2eq.", p->epochs,
                 when, d, p->energy_kwh, d, p->energy_kwh_low, d, p->energy_kwh_high, dur, d, p->co2eq_g);
        ct__report_output(r, m, 2);
    }
    ct__buf b = {0};
    ct__record_prediction(&b, predicted, after_epochs, progress, 0);
    jsonl(r, &b, 0, ct__unix_s());
}
