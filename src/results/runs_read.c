/*
 * runs_read.c - reads the files of one run (scan.c grouped them) into one
 * record of the list: our JSON Lines when the group has it (the text logs of
 * the same run are the same numbers and count once), else the original's
 * `.log` + `_output.log` pair. Damaged files: one warning each; what is
 * readable still counts. A JSON Lines gap record (written when the disk was
 * full) is reported. The rules for users are in docs/parse-formats.md.
 * Memory: one file (or one line of a JSON Lines file) at a time.
 */
#include "runs_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TEXT_BYTES ((size_t)1024 * 1024 * 1024)

/* The names of a run's files: its base path and one of these (scan.c groups by them). */
const char *const ct__kind_suffix[CT__K_COUNT] = {"_carbontracker.jsonl", "_carbontracker.log",
                                                  "_carbontracker_output.log"};

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* Drops the last record (skipped after all). */
static void drop_last(ct_runs *r) {
    free(r->runs[r->n - 1].file);
    r->n--;
}

/* This thread's error detail, escaped: it may quote a path with control bytes. */
static const char *why(char *buf, size_t len) { return ct__printable(ct_last_error_message(), buf, len); }

static int set_file(run_rec *rec, const char *path) {
    rec->file = ct__strdup(path);
    return rec->file ? 0 : CT_ENOMEM;
}

static int set_str(ct_runs *r, const char **dst, const char *s) {
    const char *i = ct__runs_intern(r, s);
    if (!i) return CT_ENOMEM;
    *dst = i;
    return 0;
}

/* "..._2026-11-26T143241Z" at the end of a base name -> Unix s, else NaN. */
static double name_timestamp(const char *base) {
    size_t n = strlen(base);
    if (n < 18) return NAN;
    const char *s = base + n - 18; /* YYYY-MM-DDTHHMMSSZ is 18 chars */
    /* as base's ISO-8601 parser reads it: YYYY-MM-DDTHH:MM:SSZ */
    char iso[24];
    snprintf(iso, sizeof iso, "%.13s:%.2s:%.3s", s, s + 13, s + 15);
    double t;
    return ct__parse_iso8601(iso, &t) == 0 ? t : NAN;
}

static int file_is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

/* The intensity the CO2eq used: as recorded, else CO2eq / kWh. */
static double used_intensity(double recorded, double co2, double kwh) {
    if (isfinite(recorded) && recorded >= 0) return recorded;
    return kwh > 0 && isfinite(co2) ? co2 / kwh : NAN;
}

/* ------------------------------------------------------------------ */
/* The original's text logs                                             */
/* ------------------------------------------------------------------ */

static int read_text_run(ct_runs *r, const char *std_path, const char *out_path, const char *base) {
    char *std = NULL, *out = NULL, wb[1200];
    size_t stdn = 0, outn = 0;
    char pp[1100];
    int rc = std_path ? ct__read_file(std_path, MAX_TEXT_BYTES, &std, &stdn) : 0;
    if (rc) {
        if (rc == CT_ENOMEM) return rc;
        ct__printable(std_path, pp, sizeof pp);
        return ct__runs_warn(r, "%s: skipped: %s", pp, why(wb, sizeof wb));
    }
    rc = ct__read_file(out_path, MAX_TEXT_BYTES, &out, &outn);
    if (rc) {
        free(std);
        if (rc == CT_ENOMEM) return rc;
        ct__printable(out_path, pp, sizeof pp);
        return ct__runs_warn(r, "%s: skipped: %s", pp, why(wb, sizeof wb));
    }
    ct__printable(out_path, pp, sizeof pp);
    if (file_is_blank(out, outn)) {
        rc = ct__runs_warn(r, "%s: skipped: empty output log", pp);
        goto done;
    }
    ct_text_log tl;
    ct__text_log_read(std, stdn, out, outn, 0, &tl);
    int has_a = tl.actual.valid, has_p = tl.predicted.valid;
    if (!has_a && !has_p) {
        rc = ct__runs_warn(r, "%s: skipped: no \"Actual\" or \"Predicted consumption\" block (corrupt or truncated)",
                           pp);
        goto done;
    }
    const ct_run_total *use;
    if (!has_p) use = &tl.actual;
    else if (!has_a) use = &tl.predicted;
    else use = (tl.early_stop || tl.actual.epochs >= tl.predicted.epochs) ? &tl.actual : &tl.predicted;
    if (!(use->energy_kwh >= 0) || !isfinite(use->energy_kwh)) {
        rc = ct__runs_warn(r, "%s: skipped: energy is not a number >= 0", pp);
        goto done;
    }
    run_rec *rec = ct__runs_new(r);
    if (!rec || set_file(rec, std_path ? std_path : out_path)) {
        if (rec) drop_last(r);
        rc = CT_ENOMEM;
        goto done;
    }
    rec->format = 't';
    rec->start = name_timestamp(base);
    rec->early_stop = (unsigned char)tl.early_stop;
    rec->complete = (unsigned char)(tl.finished || tl.early_stop);
    rec->epochs_planned = has_p ? tl.predicted.epochs : 0;
    rec->files = std_path ? 2 : 1;
    rec->predicted = use == &tl.predicted;
    rec->epochs = use->epochs > 0 ? use->epochs : 0;
    rec->duration_s = use->duration_s >= 0 ? use->duration_s : 0;
    rec->energy_kwh = use->energy_kwh;
    rec->co2eq_g = isfinite(use->co2eq_g) ? use->co2eq_g : 0; /* the original skips a NaN CO2eq too */
    rec->intensity = used_intensity(use->intensity_g_per_kwh, rec->co2eq_g, rec->energy_kwh);
    rec->measurement = (signed char)use->measurement;
    if (isfinite(rec->start) && has_a && tl.actual.duration_s >= 0) rec->end = rec->start + tl.actual.duration_s;
    const char *src = use->intensity_source[0] ? use->intensity_source : tl.intensity_source;
    rc = set_str(r, &rec->source, src);
done:
    free(std);
    free(out);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Our JSON Lines                                                       */
/* ------------------------------------------------------------------ */

typedef struct jsonl_state {
    int have_final, have_pred, have_printed;
    double pue;
    ct_run_total pred;
    int nepochs, est_comp[CT_COMPONENT_COUNT], seen_comp[CT_COMPONENT_COUNT];
    double sum_j, sum_co2, sum_dur, last_end;
    char source[160];
} jsonl_state;

static int apply_header(ct_runs *r, const ct_json *h, run_rec *rec, jsonl_state *st) {
    rec->rank = ct__json_int(ct__json_get(h, "rank"), -1);
    rec->measuring = (unsigned char)ct__json_bool(ct__json_get(h, "measuring"), 1);
    rec->start = ct__json_num(ct__json_get(h, "start"), NAN);
    rec->epochs_planned = ct__json_int(ct__json_get(h, "epochs"), 0);
    st->pue = ct__json_num(ct__json_get(h, "pue"), NAN);
    rec->measurement = (signed char)ct__jsonl_devices_measurement(ct__json_get(h, "devices"));
    ct__strlcpy(st->source, ct__json_str(ct__json_get(ct__json_get(h, "intensity"), "source"), ""), sizeof st->source);
    if (set_str(r, &rec->host, ct__json_str(ct__json_get(h, "host"), ""))) return CT_ENOMEM;
    return set_str(r, &rec->job_id, ct__json_str(ct__json_get(h, "job_id"), ""));
}

static void apply_record(const ct_json *j, ct_rec_kind kind, run_rec *rec, jsonl_state *st) {
    if (kind == CT__REC_EPOCH) {
        st->nepochs++;
        const ct_json *ej = ct__json_get(j, "energy_j");
        if (ej && ej->type == CT_JSON_OBJECT)
            for (const ct_json *c = ej->child; c; c = c->next) st->sum_j += ct__json_num(c, 0);
        st->sum_co2 += ct__json_num(ct__json_get(j, "co2eq_g"), 0);
        st->sum_dur += ct__json_num(ct__json_get(j, "duration_s"), 0);
        double end = ct__json_num(ct__json_get(j, "end"), NAN);
        if (isfinite(end)) st->last_end = end;
        const ct_json *es = ct__json_get(j, "estimated");
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            int b = ct__json_bool(ct__json_get(es, ct_component_name((ct_component)c)), -1);
            if (b >= 0) st->seen_comp[c] = 1;
            if (b == 1) st->est_comp[c] = 1;
        }
        if (!st->source[0])
            ct__strlcpy(st->source, ct__json_str(ct__json_get(j, "intensity_source"), ""), sizeof st->source);
    } else if (kind == CT__REC_PREDICTION) {
        ct_run_total t;
        ct__jsonl_total(j, &t);
        /* The run's prediction is the printed one (the Predicted block, which
         * the final record and the original's parser carry too); the later
         * refinements are the report's history. Logs without the mark: the last. */
        int printed = ct__json_bool(ct__json_get(j, "printed"), 0) == 1;
        if (t.valid && (printed || !st->have_printed)) {
            st->pred = t;
            st->have_pred = 1;
            st->have_printed |= printed;
        }
    } else if (kind == CT__REC_GAP) {
        rec->gaps++;
        rec->gap_epochs += ct__jsonl_gap_epochs(j);
    } else if (kind == CT__REC_FINAL) {
        ct_run_total actual, pred;
        ct__jsonl_total(ct__json_get(j, "actual"), &actual);
        ct__jsonl_total(ct__json_get(j, "predicted"), &pred);
        if (!actual.valid && !pred.valid) return; /* unusable: treat as if absent */
        st->have_final = 1;
        rec->end = ct__json_num(ct__json_get(j, "end"), NAN);
        rec->early_stop = (unsigned char)ct__json_bool(ct__json_get(j, "early_stop"), 0);
        rec->complete = 1;
        const ct_run_total *use;
        if (!pred.valid) use = &actual;
        else if (!actual.valid) use = &pred;
        else if (rec->early_stop || actual.epochs >= pred.epochs) use = &actual;
        else use = &pred;
        rec->predicted = use == &pred;
        rec->epochs = use->epochs;
        rec->duration_s = use->duration_s;
        rec->energy_kwh = use->energy_kwh;
        rec->co2eq_g = isfinite(use->co2eq_g) ? use->co2eq_g : 0;
        rec->intensity = used_intensity(use->intensity_g_per_kwh, rec->co2eq_g, rec->energy_kwh);
        if (use->intensity_source[0]) ct__strlcpy(st->source, use->intensity_source, sizeof st->source);
        /* the total's "estimated" says only whether any part was; the devices say how much */
        if (use->measurement == CT__MEAS_MEASURED) rec->measurement = CT__MEAS_MEASURED;
        else if (use->measurement == CT__MEAS_PARTLY && rec->measurement != CT__MEAS_ESTIMATED)
            rec->measurement = CT__MEAS_PARTLY;
        if (pred.valid && pred.epochs > 0) rec->epochs_planned = pred.epochs;
    }
}

/* A gap record starts {"type":"gap" or {"event":"gap": look before parsing. */
static int maybe_gap(const char *s, size_t n) { return memmem(s, n < 48 ? n : 48, "\"gap\"", 5) != NULL; }

static int read_jsonl_run(ct_runs *r, ct_json_doc *doc, const char *path, int *counted) {
    char err[256], pp[1100];
    *counted = 0;
    ct__printable(path, pp, sizeof pp);
    ct_jsonl_file f;
    int rc = ct__jsonl_open(&f, path);
    char wb[1200];
    if (rc) return rc == CT_ENOMEM ? rc : ct__runs_warn(r, "%s: skipped: cannot read: %s", pp, why(wb, sizeof wb));
    const char *line = NULL;
    size_t len = 0;
    /* the first non-blank line: the header */
    while ((rc = ct__jsonl_next(&f, &line, &len)) == 1 && file_is_blank(line, len)) {
    }
    if (rc != 1) {
        ct__jsonl_close(&f);
        if (rc == CT_ENOMEM) return rc;
        return ct__runs_warn(r, "%s: skipped: %s", pp, rc == 0 ? "empty file" : why(wb, sizeof wb));
    }
    const ct_json *j = ct__json_parse(doc, line, len, err, sizeof err);
    if (ct__jsonl_kind(j) != CT__REC_HEADER) {
        ct__jsonl_close(&f);
        return ct__runs_warn(r, "%s: skipped: not a carbontracker JSON Lines file (first line is not a header%s%s)", pp,
                             j ? "" : ": ", j ? "" : err);
    }
    run_rec *rec = ct__runs_new(r);
    if (!rec || set_file(rec, path)) {
        if (rec) drop_last(r);
        ct__jsonl_close(&f);
        return CT_ENOMEM;
    }
    rec->format = 'j';
    jsonl_state st;
    memset(&st, 0, sizeof st);
    st.last_end = NAN;
    if ((rc = apply_header(r, j, rec, &st))) goto fail;

    /* Fast path: a complete run ends with its final record, which holds all
     * we need; the body is then only looked through for gap records. */
    char *last = NULL;
    size_t lastlen = 0;
    rc = ct__jsonl_last_line(&f, &last, &lastlen);
    if (rc < 0) goto fail;
    if (rc == 1) {
        j = ct__json_parse(doc, last, lastlen, NULL, 0);
        if (ct__jsonl_kind(j) == CT__REC_FINAL) apply_record(j, CT__REC_FINAL, rec, &st);
    }
    free(last);
    int bad = 0, first_bad = 0, last_bad = 0;
    char first_err[160] = "";
    while ((rc = ct__jsonl_next(&f, &line, &len)) == 1) {
        if (st.have_final) {
            if (maybe_gap(line, len) && (j = ct__json_parse(doc, line, len, NULL, 0)) != NULL &&
                ct__jsonl_kind(j) == CT__REC_GAP)
                apply_record(j, CT__REC_GAP, rec, &st);
            continue;
        }
        if (file_is_blank(line, len)) continue;
        j = ct__json_parse(doc, line, len, err, sizeof err);
        if (!j || j->type != CT_JSON_OBJECT) {
            if (!bad) {
                first_bad = (int)f.lineno;
                ct__strlcpy(first_err, j ? "not an object" : err, sizeof first_err);
            }
            bad++;
            last_bad = 1;
            continue;
        }
        last_bad = 0;
        apply_record(j, ct__jsonl_kind(j), rec, &st);
    }
    if (rc < 0) goto fail;
    if (f.long_lines) {
        if (!bad) {
            first_bad = 0;
            ct__strlcpy(first_err, "a line over 64 MiB", sizeof first_err);
        }
        bad += (int)f.long_lines;
    }
    ct__jsonl_close(&f);
    if (st.have_final) {
        if (bad && first_bad)
            rc = ct__runs_warn(r, "%s: %d damaged line(s) ignored (line %d: %s)", pp, bad, first_bad, first_err);
        else if (bad) rc = ct__runs_warn(r, "%s: %d damaged line(s) ignored (%s)", pp, bad, first_err);
    } else if (!rec->measuring && st.nepochs == 0 && !st.have_pred) {
        rec->complete = 0; /* a rank that measured nothing: nothing to say about it here */
    } else if (st.have_pred) {
        rec->predicted = 1;
        rec->epochs = st.pred.epochs;
        rec->duration_s = st.pred.duration_s;
        rec->energy_kwh = st.pred.energy_kwh;
        rec->co2eq_g = isfinite(st.pred.co2eq_g) ? st.pred.co2eq_g : 0;
        rec->intensity = used_intensity(st.pred.intensity_g_per_kwh, rec->co2eq_g, rec->energy_kwh);
        if (st.pred.intensity_source[0]) ct__strlcpy(st.source, st.pred.intensity_source, sizeof st.source);
        rec->epochs_planned = st.pred.epochs;
        rec->end = st.last_end;
        rc = ct__runs_warn(r, "%s: no final record (%s); its prediction for %d epochs is used", pp,
                           bad ? (last_bad ? "truncated" : "damaged lines") : "crashed or still running",
                           st.pred.epochs);
    } else if (st.nepochs > 0) {
        double pue = isfinite(st.pue) && st.pue >= 1 ? st.pue : 1.0;
        rec->epochs = st.nepochs;
        rec->duration_s = st.sum_dur;
        rec->energy_kwh = ct__j_to_kwh(st.sum_j) * pue;
        rec->co2eq_g = st.sum_co2;
        rec->intensity = used_intensity(NAN, rec->co2eq_g, rec->energy_kwh);
        rec->end = st.last_end;
        rc = ct__runs_warn(r, "%s: no final record (%s); the %d recorded epoch(s) are used", pp,
                           bad ? (last_bad ? "truncated" : "damaged lines") : "crashed or still running", st.nepochs);
    } else {
        drop_last(r);
        return ct__runs_warn(r, "%s: skipped: no epoch, prediction or final record%s", pp,
                             bad ? " (damaged lines)" : "");
    }
    if (rc) return rc;
    /* the epochs' own flags refine a header without devices */
    if (rec->measurement == CT__MEAS_UNKNOWN && st.nepochs) {
        int seen = 0, est = 0;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            seen += st.seen_comp[c];
            est += st.est_comp[c];
        }
        if (seen) rec->measurement = est == 0 ? CT__MEAS_MEASURED : est == seen ? CT__MEAS_ESTIMATED : CT__MEAS_PARTLY;
    }
    if (rec->gaps) {
        char n[48] = "";
        if (rec->gap_epochs) snprintf(n, sizeof n, " (%d epoch(s))", rec->gap_epochs);
        rc = ct__runs_warn(r, "%s: epochs are missing%s: %d gap record(s), records were lost while the disk was full",
                           pp, n, rec->gaps);
    }
    if (rc) return rc;
    *counted = 1;
    return set_str(r, &rec->source, st.source);
fail:
    ct__jsonl_close(&f);
    drop_last(r);
    if (rc == CT_ENOMEM) return rc;
    return ct__runs_warn(r, "%s: skipped: cannot read: %s", pp, why(wb, sizeof wb));
}

int ct__runs_read_group(ct_runs *r, ct_json_doc *doc, const char *base, const int have[3]) {
    size_t bl = strlen(base);
    char *pj = malloc(bl + 32), *ps = malloc(bl + 32), *po = malloc(bl + 32);
    int rc = 0;
    if (!pj || !ps || !po) {
        rc = CT_ENOMEM;
        goto out;
    }
    snprintf(pj, bl + 32, "%s%s", base, ct__kind_suffix[CT__K_JSONL]);
    snprintf(ps, bl + 32, "%s%s", base, ct__kind_suffix[CT__K_STD]);
    snprintf(po, bl + 32, "%s%s", base, ct__kind_suffix[CT__K_OUT]);
    const char *slash = strrchr(base, '/');
    const char *short_base = slash ? slash + 1 : base;
    int counted = 0;
    if (have[CT__K_JSONL]) {
        rc = read_jsonl_run(r, doc, pj, &counted);
        if (rc) goto out;
        if (counted && have[CT__K_STD] && have[CT__K_OUT]) r->runs[r->n - 1].files = 3;
    }
    if (!counted) {
        if (have[CT__K_STD] && have[CT__K_OUT]) {
            rc = read_text_run(r, ps, po, short_base);
        } else if (!have[CT__K_JSONL] && (have[CT__K_STD] || have[CT__K_OUT])) {
            char pp[1100];
            ct__printable(have[CT__K_STD] ? ps : po, pp, sizeof pp);
            rc = ct__runs_warn(r, "%s: skipped: unpaired (no matching %s log %s)", pp,
                               have[CT__K_STD] ? "output" : "standard",
                               have[CT__K_STD] ? "_carbontracker_output.log" : "_carbontracker.log");
        }
    }
out:
    free(pj);
    free(ps);
    free(po);
    return rc;
}
