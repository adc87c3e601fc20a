/* JSON Lines records (docs/jsonl-schema.md). Each record is one line, flushed. */
#include "core/tracker_impl.h"

#include <string.h>
#include <unistd.h>

static void key(FILE *f, const char *k) {
    ct__json_string(f, k);
    fputc(':', f);
}

static void kv_str(FILE *f, const char *k, const char *v) {
    key(f, k);
    ct__json_string(f, v);
    fputc(',', f);
}

static void kv_num(FILE *f, const char *k, double v) {
    key(f, k);
    ct__json_number(f, v);
    fputc(',', f);
}

static void kv_int(FILE *f, const char *k, long long v) {
    key(f, k);
    fprintf(f, "%lld,", v);
}

static void kv_bool(FILE *f, const char *k, int v) {
    key(f, k);
    fputs(v ? "true," : "false,", f);
}

/* {"cpu": x, "gpu": y} over the components present. */
static void per_component(FILE *f, const char *k, const int have[CT_COMPONENT_COUNT], const double v[CT_COMPONENT_COUNT]) {
    key(f, k);
    fputc('{', f);
    int first = 1;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!have[c]) continue;
        if (!first) fputc(',', f);
        key(f, ct_component_name((ct_component)c));
        ct__json_number(f, v[c]);
        first = 0;
    }
    fputs("},", f);
}

static void per_component_bool(FILE *f, const char *k, const int have[CT_COMPONENT_COUNT],
                               const int v[CT_COMPONENT_COUNT]) {
    key(f, k);
    fputc('{', f);
    int first = 1;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!have[c]) continue;
        if (!first) fputc(',', f);
        key(f, ct_component_name((ct_component)c));
        fputs(v[c] ? "true" : "false", f);
        first = 0;
    }
    fputs("},", f);
}

/* Ends an object whose last member left a trailing comma. */
static void close_obj(FILE *f) {
    fseek(f, -1, SEEK_CUR);
    fputc('}', f);
}

void ct__record_header(ct_tracker *t) {
    FILE *f = ct__jsonl_begin(&t->logs);
    if (!f) return;
    fputc('{', f);
    kv_str(f, "event", "header");
    kv_int(f, "schema", 1);
    kv_str(f, "version", CT_VERSION);
    kv_str(f, "host", t->host);
    kv_int(f, "pid", (long long)getpid());
    kv_num(f, "start", t->t0_unix);
    kv_str(f, "job_id", t->ranks.job_id);
    kv_int(f, "rank", t->ranks.rank);
    kv_int(f, "local_rank", t->ranks.local_rank);
    kv_int(f, "world_size", t->ranks.world_size);
    kv_str(f, "launcher", t->ranks.launcher);
    kv_bool(f, "measuring", t->measuring);
    kv_int(f, "epochs", t->cfg.epochs);
    kv_int(f, "epochs_before_pred", t->cfg.epochs_before_pred);
    kv_int(f, "monitor_epochs", t->cfg.monitor_epochs);
    kv_num(f, "pue", t->cfg.pue);
    key(f, "intensity");
    fputc('{', f);
    kv_num(f, "g_per_kwh", t->intensity_start.g_per_kwh);
    kv_str(f, "kind", ct_intensity_kind_name(t->intensity_start.kind));
    kv_str(f, "source", t->intensity_start.source);
    close_obj(f);
    fputc(',', f);
    key(f, "components");
    fputc('[', f);
    int first = 1;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!t->want[c] && !t->have[c]) continue;
        if (!first) fputc(',', f);
        first = 0;
        fputc('{', f);
        kv_str(f, "component", ct_component_name((ct_component)c));
        kv_bool(f, "available", t->have[c]);
        kv_bool(f, "estimated", t->estimated[c]);
        kv_str(f, "reason", t->have[c] ? "" : t->reason[c]);
        close_obj(f);
    }
    fputs("],", f);
    key(f, "devices");
    fputc('[', f);
    for (int d = 0; d < t->ndev; d++) {
        const ct_device_desc *dv = &t->devs[d];
        if (d) fputc(',', f);
        fputc('{', f);
        kv_str(f, "component", ct_component_name(dv->component));
        kv_str(f, "name", dv->name);
        kv_str(f, "uuid", dv->uuid);
        kv_str(f, "source", dv->source);
        kv_str(f, "method", dv->method);
        kv_bool(f, "estimated", dv->estimated);
        close_obj(f);
    }
    fputs("]}", f);
    ct__jsonl_end(&t->logs);
    /* Warnings that came before the header. */
    int n = t->npending;
    t->header_written = 1;
    for (int i = 0; i < n; i++) ct__record_warning(t, t->pending[i]);
    t->npending = 0;
}

void ct__record_warning(ct_tracker *t, const char *message) {
    if (!t->header_written) {
        if (t->npending < CT__MAX_PENDING) ct__strlcpy(t->pending[t->npending++], message, sizeof t->pending[0]);
        return;
    }
    FILE *f = ct__jsonl_begin(&t->logs);
    if (!f) return;
    fputc('{', f);
    kv_str(f, "event", "warning");
    kv_num(f, "time", ct__unix_s());
    kv_str(f, "message", message);
    close_obj(f);
    ct__jsonl_end(&t->logs);
}

void ct__record_intensity(ct_tracker *t, const ct__intensity_value *iv) {
    FILE *f = ct__jsonl_begin(&t->logs);
    if (!f) return;
    fputc('{', f);
    kv_str(f, "event", "intensity");
    kv_num(f, "time", ct__unix_s());
    kv_num(f, "g_per_kwh", iv->g_per_kwh);
    kv_str(f, "kind", ct_intensity_kind_name(iv->kind));
    kv_str(f, "source", iv->source);
    close_obj(f);
    ct__jsonl_end(&t->logs);
}

void ct__record_epoch(ct_tracker *t, const ct__epoch_rec *e, const double *dev_energy_j) {
    FILE *f = ct__jsonl_begin(&t->logs);
    if (!f) return;
    const ct_epoch_info *in = &e->info;
    double power[CT_COMPONENT_COUNT];
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) power[c] = in->duration_s > 0 ? in->energy_j[c] / in->duration_s : 0;
    double kwh = ct__j_to_kwh(in->energy_j[0] + in->energy_j[1]) * t->cfg.pue;
    ct__intensity_value iv;
    ct__intensity_now(t->intensity, in->end_unix_s, &iv);
    fputc('{', f);
    kv_str(f, "event", "epoch");
    kv_int(f, "epoch", in->epoch);
    kv_num(f, "start", in->start_unix_s);
    kv_num(f, "end", in->end_unix_s);
    kv_num(f, "duration_s", in->duration_s);
    per_component(f, "energy_j", e->has_component, in->energy_j);
    per_component(f, "power_w", e->has_component, power);
    per_component_bool(f, "estimated", e->has_component, t->estimated);
    kv_num(f, "energy_kwh", kwh);
    kv_num(f, "co2eq_g", in->co2eq_g);
    kv_num(f, "intensity_g_per_kwh", kwh > 0 ? in->co2eq_g / kwh : iv.g_per_kwh);
    kv_str(f, "intensity_kind", ct_intensity_kind_name(e->intensity_kind));
    kv_str(f, "intensity_source", e->intensity_source);
    key(f, "devices");
    fputc('[', f);
    for (int d = 0; d < t->ndev; d++) {
        const ct_device_desc *dv = &t->devs[d];
        if (d) fputc(',', f);
        fputc('{', f);
        kv_str(f, "component", ct_component_name(dv->component));
        kv_str(f, "name", dv->name);
        kv_str(f, "uuid", dv->uuid);
        kv_num(f, "energy_j", dev_energy_j ? dev_energy_j[d] : 0.0 / 0.0);
        kv_str(f, "method", dv->method);
        kv_bool(f, "lost", dv->lost);
        close_obj(f);
    }
    fputs("],", f);
    key(f, "power_series");
    fputc('{', f);
    key(f, "t");
    fputc('[', f);
    for (int i = 0; i < t->series.n; i++) {
        if (i) fputc(',', f);
        fprintf(f, "%.3f", t->series.t[i]);
    }
    fputc(']', f);
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!e->has_component[c]) continue;
        fputc(',', f);
        key(f, ct_component_name((ct_component)c));
        fputc('[', f);
        for (int i = 0; i < t->series.n; i++) {
            if (i) fputc(',', f);
            fprintf(f, "%.3f", t->series.p[i][c]);
        }
        fputc(']', f);
    }
    fputs("}}", f);
    ct__jsonl_end(&t->logs);
}

/* A result's members (each followed by a comma). */
static void result_members(FILE *f, const ct_result *r) {
    kv_int(f, "epochs", r->epochs);
    kv_num(f, "duration_s", r->duration_s);
    kv_num(f, "energy_kwh", r->energy_kwh);
    per_component(f, "energy_j", r->has_component, r->energy_j);
    kv_num(f, "co2eq_g", r->co2eq_g);
    kv_num(f, "intensity_g_per_kwh", r->intensity_g_per_kwh);
    kv_str(f, "intensity_kind", ct_intensity_kind_name(r->intensity_kind));
    kv_str(f, "intensity_source", r->intensity_source);
    kv_bool(f, "estimated", (r->has_component[0] && r->estimated[0]) || (r->has_component[1] && r->estimated[1]));
}

static void result_obj(FILE *f, const ct_result *r) {
    fputc('{', f);
    result_members(f, r);
    close_obj(f);
}

void ct__record_prediction(ct_tracker *t) {
    FILE *f = ct__jsonl_begin(&t->logs);
    if (!f) return;
    fputc('{', f);
    kv_str(f, "event", "prediction");
    kv_int(f, "after_epochs", t->nepochs);
    result_members(f, &t->predicted);
    close_obj(f);
    ct__jsonl_end(&t->logs);
}

void ct__record_final(ct_tracker *t, const ct_result *actual, const char *reason, int early_stop) {
    FILE *f = ct__jsonl_begin(&t->logs);
    if (!f) return;
    fputc('{', f);
    kv_str(f, "event", "final");
    kv_num(f, "end", ct__unix_s());
    kv_str(f, "reason", reason);
    kv_bool(f, "early_stop", early_stop);
    key(f, "actual");
    result_obj(f, actual);
    fputc(',', f);
    key(f, "predicted");
    if (t->has_prediction)
        result_obj(f, &t->predicted);
    else
        fputs("null", f);
    fputc('}', f);
    ct__jsonl_end(&t->logs);
}
