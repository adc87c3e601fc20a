/* JSON Lines records (docs/jsonl-schema.md), formatted from values into a
 * buffer; each leaves in one write (output/logfiles.c). */
#include "output/reporter.h"

#include <string.h>

static void key(ct__buf *b, const char *k) {
    ct__buf_json_string(b, k);
    ct__buf_putc(b, ':');
}

static void kv_str(ct__buf *b, const char *k, const char *v) {
    key(b, k);
    ct__buf_json_string(b, v);
    ct__buf_putc(b, ',');
}

static void kv_num(ct__buf *b, const char *k, double v) {
    key(b, k);
    ct__buf_json_number(b, v);
    ct__buf_putc(b, ',');
}

static void kv_int(ct__buf *b, const char *k, long long v) {
    key(b, k);
    ct__buf_printf(b, "%lld,", v);
}

static void kv_bool(ct__buf *b, const char *k, int v) {
    key(b, k);
    ct__buf_puts(b, v ? "true," : "false,");
}

/* {"cpu": x, "gpu": y} over the components present. */
static void per_component(ct__buf *b, const char *k, const int have[CT_COMPONENT_COUNT],
                          const double v[CT_COMPONENT_COUNT]) {
    key(b, k);
    ct__buf_putc(b, '{');
    int first = 1;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!have[c]) continue;
        if (!first) ct__buf_putc(b, ',');
        key(b, ct_component_name((ct_component)c));
        ct__buf_json_number(b, v[c]);
        first = 0;
    }
    ct__buf_puts(b, "},");
}

static void per_component_bool(ct__buf *b, const char *k, const int have[CT_COMPONENT_COUNT],
                               const int v[CT_COMPONENT_COUNT]) {
    key(b, k);
    ct__buf_putc(b, '{');
    int first = 1;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!have[c]) continue;
        if (!first) ct__buf_putc(b, ',');
        key(b, ct_component_name((ct_component)c));
        ct__buf_puts(b, v[c] ? "true" : "false");
        first = 0;
    }
    ct__buf_puts(b, "},");
}

/* Ends an object whose last member left a trailing comma. */
static void close_obj(ct__buf *b) {
    if (!b->oom && b->len > 0 && b->p[b->len - 1] == ',') b->p[b->len - 1] = '}';
    else ct__buf_putc(b, '}');
}

static void end_line(ct__buf *b) { ct__buf_putc(b, '\n'); }

void ct__record_header(ct__buf *b, const ct__run_header *h) {
    ct__buf_putc(b, '{');
    kv_str(b, "event", "header");
    kv_int(b, "schema", 1);
    kv_str(b, "version", CT_VERSION);
    kv_str(b, "host", h->host);
    kv_int(b, "pid", h->pid);
    kv_num(b, "start", h->start_unix_s);
    kv_str(b, "job_id", h->job_id);
    kv_int(b, "rank", h->rank);
    kv_int(b, "local_rank", h->local_rank);
    kv_int(b, "world_size", h->world_size);
    kv_str(b, "launcher", h->launcher);
    kv_bool(b, "measuring", h->measuring);
    kv_int(b, "epochs", h->epochs);
    kv_int(b, "epochs_before_pred", h->epochs_before_pred);
    kv_int(b, "monitor_epochs", h->monitor_epochs);
    kv_num(b, "pue", h->pue);
    key(b, "intensity");
    ct__buf_putc(b, '{');
    kv_num(b, "g_per_kwh", h->g_per_kwh);
    kv_str(b, "kind", ct_intensity_kind_name(h->kind));
    kv_str(b, "source", h->intensity_source);
    close_obj(b);
    ct__buf_putc(b, ',');
    key(b, "components");
    ct__buf_putc(b, '[');
    int first = 1;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!h->want[c] && !h->have[c]) continue;
        if (!first) ct__buf_putc(b, ',');
        first = 0;
        ct__buf_putc(b, '{');
        kv_str(b, "component", ct_component_name((ct_component)c));
        kv_bool(b, "available", h->have[c]);
        kv_bool(b, "estimated", h->estimated[c]);
        kv_str(b, "reason", h->have[c] ? "" : h->reason[c]);
        close_obj(b);
    }
    ct__buf_puts(b, "],");
    key(b, "devices");
    ct__buf_putc(b, '[');
    for (int d = 0; d < h->ndev; d++) {
        const ct_device_desc *dv = &h->devs[d];
        if (d) ct__buf_putc(b, ',');
        ct__buf_putc(b, '{');
        kv_str(b, "component", ct_component_name(dv->component));
        kv_str(b, "name", dv->name);
        kv_str(b, "uuid", dv->uuid);
        kv_str(b, "source", dv->source);
        kv_str(b, "method", dv->method);
        kv_bool(b, "estimated", dv->estimated);
        close_obj(b);
    }
    ct__buf_puts(b, "]}");
    end_line(b);
}

void ct__record_warning(ct__buf *b, double unix_s, const char *message) {
    ct__buf_putc(b, '{');
    kv_str(b, "event", "warning");
    kv_num(b, "time", unix_s);
    kv_str(b, "message", message);
    close_obj(b);
    end_line(b);
}

void ct__record_intensity(ct__buf *b, double unix_s, double g_per_kwh, ct_intensity_kind kind, const char *source) {
    ct__buf_putc(b, '{');
    kv_str(b, "event", "intensity");
    kv_num(b, "time", unix_s);
    kv_num(b, "g_per_kwh", g_per_kwh);
    kv_str(b, "kind", ct_intensity_kind_name(kind));
    kv_str(b, "source", source);
    close_obj(b);
    end_line(b);
}

void ct__record_epoch(ct__buf *b, const ct__epoch_report *e) {
    const ct_epoch_info *in = e->info;
    ct__buf_putc(b, '{');
    kv_str(b, "event", "epoch");
    kv_int(b, "epoch", in->epoch);
    kv_num(b, "start", in->start_unix_s);
    kv_num(b, "end", in->end_unix_s);
    kv_num(b, "duration_s", in->duration_s);
    per_component(b, "energy_j", e->have, in->energy_j);
    per_component(b, "power_w", e->have, e->power_w);
    per_component_bool(b, "estimated", e->have, e->estimated);
    kv_num(b, "energy_kwh", e->energy_kwh);
    kv_num(b, "co2eq_g", in->co2eq_g);
    kv_num(b, "intensity_g_per_kwh", e->intensity_g_per_kwh);
    kv_str(b, "intensity_kind", ct_intensity_kind_name(e->intensity_kind));
    kv_str(b, "intensity_source", e->intensity_source);
    key(b, "devices");
    ct__buf_putc(b, '[');
    for (int d = 0; d < e->ndev; d++) {
        const ct_device_desc *dv = &e->devs[d];
        if (d) ct__buf_putc(b, ',');
        ct__buf_putc(b, '{');
        kv_str(b, "component", ct_component_name(dv->component));
        kv_str(b, "name", dv->name);
        kv_str(b, "uuid", dv->uuid);
        kv_num(b, "energy_j", e->dev_energy_j ? e->dev_energy_j[d] : 0.0 / 0.0);
        kv_str(b, "method", dv->method);
        kv_bool(b, "lost", dv->lost);
        close_obj(b);
    }
    ct__buf_puts(b, "],");
    key(b, "power_series");
    ct__buf_putc(b, '{');
    key(b, "t");
    ct__buf_putc(b, '[');
    const ct__series *s = e->series;
    for (int i = 0; i < s->n; i++) ct__buf_printf(b, i ? ",%.3f" : "%.3f", s->t[i]);
    ct__buf_putc(b, ']');
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!e->have[c]) continue;
        ct__buf_putc(b, ',');
        key(b, ct_component_name((ct_component)c));
        ct__buf_putc(b, '[');
        for (int i = 0; i < s->n; i++) ct__buf_printf(b, i ? ",%.3f" : "%.3f", s->p[i][c]);
        ct__buf_putc(b, ']');
    }
    ct__buf_puts(b, "}}");
    end_line(b);
}

/* A result's members (each followed by a comma). */
static void result_members(ct__buf *b, const ct_result *r) {
    kv_int(b, "epochs", r->epochs);
    kv_num(b, "duration_s", r->duration_s);
    kv_num(b, "energy_kwh", r->energy_kwh);
    per_component(b, "energy_j", r->has_component, r->energy_j);
    kv_num(b, "co2eq_g", r->co2eq_g);
    /* the 90 % interval (issue 12; equal to the value for actual results) */
    kv_num(b, "energy_kwh_low", r->energy_kwh_low);
    kv_num(b, "energy_kwh_high", r->energy_kwh_high);
    kv_num(b, "duration_s_low", r->duration_s_low);
    kv_num(b, "duration_s_high", r->duration_s_high);
    kv_num(b, "co2eq_g_low", r->co2eq_g_low);
    kv_num(b, "co2eq_g_high", r->co2eq_g_high);
    kv_num(b, "intensity_g_per_kwh", r->intensity_g_per_kwh);
    kv_str(b, "intensity_kind", ct_intensity_kind_name(r->intensity_kind));
    kv_str(b, "intensity_source", r->intensity_source);
    kv_bool(b, "estimated", (r->has_component[0] && r->estimated[0]) || (r->has_component[1] && r->estimated[1]));
}

static void result_obj(ct__buf *b, const ct_result *r) {
    ct__buf_putc(b, '{');
    result_members(b, r);
    close_obj(b);
}

void ct__record_prediction(ct__buf *b, const ct_result *predicted, int after_epochs, double progress, int printed) {
    ct__buf_putc(b, '{');
    kv_str(b, "event", "prediction");
    kv_int(b, "after_epochs", after_epochs);
    if (printed) kv_bool(b, "printed", 1);              /* the one printed as the Predicted block */
    if (progress >= 0) kv_num(b, "progress", progress); /* of epoch after_epochs + 1 (issue 12) */
    result_members(b, predicted);
    close_obj(b);
    end_line(b);
}

void ct__record_final(ct__buf *b, const ct__run_finish *f) {
    ct__buf_putc(b, '{');
    kv_str(b, "event", "final");
    kv_num(b, "end", f->end_unix_s);
    kv_str(b, "reason", f->reason);
    kv_bool(b, "early_stop", f->early_stop);
    key(b, "actual");
    result_obj(b, f->actual);
    ct__buf_putc(b, ',');
    key(b, "predicted");
    if (f->predicted) result_obj(b, f->predicted);
    else ct__buf_puts(b, "null");
    ct__buf_putc(b, '}');
    end_line(b);
}

/* Records that could not be written (a full disk), said when writing works
 * again: {"event":"gap","time":...,"from":...,"to":...,"records_missing":N,
 * "epochs_missing":[...],"reason":"..."}. */
void ct__record_gap(ct__buf *b, const ct__logfiles *lf, double now) {
    ct__buf_putc(b, '{');
    kv_str(b, "event", "gap");
    kv_num(b, "time", now);
    kv_num(b, "from", lf->lost_from);
    kv_num(b, "to", lf->lost_to);
    kv_int(b, "records_missing", lf->lost_records);
    key(b, "epochs_missing");
    ct__buf_putc(b, '[');
    for (int i = 0; i < lf->nlost_epochs; i++) ct__buf_printf(b, i ? ",%d" : "%d", lf->lost_epochs[i]);
    ct__buf_puts(b, "],");
    kv_bool(b, "epochs_missing_complete", !lf->lost_epochs_incomplete);
    kv_str(b, "reason", strerror(lf->jsonl_errno));
    close_obj(b);
}
