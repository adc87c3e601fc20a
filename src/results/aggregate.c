/*
 * aggregate.c - reads back many runs (our JSON Lines and the original's text
 * logs) and totals them: `carbontracker parse DIR...`.
 *
 * Rules (docs/parse-formats.md says the same for users):
 *  - Files are grouped by the part of their name before `_carbontracker`. A
 *    group with a `.jsonl` is read from it (the text logs of the same run are
 *    the same numbers and count once); else the `.log` + `_output.log` pair.
 *  - Per run: the actual consumption when the run finished (actual epochs ==
 *    predicted epochs) or stopped early, else the prediction, as the original
 *    states. Unlike the original's parser, the epoch count of the actual
 *    block is read from that block ("Actual consumption for N epoch(s)"),
 *    so finished runs are counted with what they really used.
 *  - Ranks of one distributed job (same job_id, rank >= 0, overlapping in
 *    time) are one run: ranks with measuring=false add nothing; measuring
 *    ranks on different hosts are summed; two measuring ranks on one host
 *    measured the same node and count once (the larger).
 *  - Damaged files: one warning each; what is readable still counts.
 * Memory: one file in memory at a time; O(runs) otherwise.
 */
#include "results_internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define MAX_LOG_BYTES ((size_t)512 * 1024 * 1024)

typedef struct run_rec {
    ct_run_info info;
    int measuring; /* 0 for a rank that left the node to local rank 0 */
    int dropped;   /* merged into another record */
} run_rec;

struct ct_runs {
    run_rec *runs;
    int n, cap;
    char **warnings;
    int nw, capw;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */


static int add_warning(ct_runs *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_warning(ct_runs *r, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (r->nw == r->capw) {
        int nc = r->capw ? r->capw * 2 : 16;
        char **nw = realloc(r->warnings, (size_t)nc * sizeof(char *));
        if (!nw) return CT_ENOMEM;
        r->warnings = nw;
        r->capw = nc;
    }
    char *s = ct__strdup(buf);
    if (!s) return CT_ENOMEM;
    r->warnings[r->nw++] = s;
    return 0;
}

static run_rec *new_run(ct_runs *r) {
    if (r->n == r->cap) {
        int nc = r->cap ? r->cap * 2 : 64;
        run_rec *nr = realloc(r->runs, (size_t)nc * sizeof(run_rec));
        if (!nr) return NULL;
        r->runs = nr;
        r->cap = nc;
    }
    run_rec *rec = &r->runs[r->n++];
    memset(rec, 0, sizeof *rec);
    rec->info.rank = -1;
    rec->info.start_unix_s = NAN;
    rec->info.end_unix_s = NAN;
    rec->info.estimated = -1;
    rec->info.files = 1;
    rec->measuring = 1;
    return rec;
}

int ct__results_read_file(const char *path, size_t max, char **out, size_t *outlen, char *err, size_t errlen) {
    *out = NULL;
    if (outlen) *outlen = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ct__msgf(err, errlen, "%s", strerror(errno));
        return CT_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ct__msgf(err, errlen, "not a regular file");
        close(fd);
        return CT_EIO;
    }
    if ((unsigned long long)st.st_size > max) {
        ct__msgf(err, errlen, "too big (%lld bytes, limit %zu)", (long long)st.st_size, max);
        close(fd);
        return CT_EIO;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return CT_ENOMEM;
    }
    while (n + 1 < cap) { /* the file may shrink or grow while we read it */
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k < 0) {
            if (errno == EINTR) continue;
            ct__msgf(err, errlen, "%s", strerror(errno));
            free(buf);
            close(fd);
            return CT_EIO;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    if (outlen) *outlen = n;
    return 0;
}

double ct__parse_hms(const char *s) {
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    char *e;
    errno = 0;
    long h = strtol(s, &e, 10);
    if (e == s || *e != ':' || h < 0 || errno) return -1;
    const char *m = e + 1;
    if (!(m[0] >= '0' && m[0] <= '9' && m[1] >= '0' && m[1] <= '9' && m[2] == ':')) return -1;
    double sec = strtod(m + 3, &e);
    if (e == m + 3 || sec < 0 || sec >= 61) return -1;
    return (double)h * 3600.0 + ((m[0] - '0') * 10 + (m[1] - '0')) * 60.0 + sec;
}

/* "..._2026-11-26T143241Z" at the end of a base name -> Unix s, else NaN. */
static double name_timestamp(const char *base) {
    size_t n = strlen(base);
    if (n < 18) return NAN;
    const char *s = base + n - 18; /* YYYY-MM-DDTHHMMSSZ is 18 chars */
    int Y, M, D, h, m, sec;
    char z;
    if (sscanf(s, "%4d-%2d-%2dT%2d%2d%2d%c", &Y, &M, &D, &h, &m, &sec, &z) != 7 || z != 'Z') return NAN;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    return (double)timegm(&tm);
}

/* ------------------------------------------------------------------ */
/* The original's text logs                                             */
/* ------------------------------------------------------------------ */

static regex_t re_block, re_interrupted, re_finished, re_our_intensity, re_location, re_estimated;
static int re_ok;
static pthread_once_t re_once = PTHREAD_ONCE_INIT;

static void re_compile(void) {
    /* The original's
     *   (?i)Actual consumption for (\d*) epoch\(s\):\n\s*(?i)Time:\s*(.*)\n\s*(?i)Energy:\s*(.*)\s+kWh\n\s*(?i)CO2eq:\s*(.*)\s+g
     * in POSIX ERE (no \d, \s, lazy or inline flags; "." here would cross
     * lines, hence [^\n]). A CR before the newline is accepted too. */
    static const char block[] = "(actual|predicted) consumption for ([0-9]*) epoch\\(s\\):\r?\n"
                                "[[:space:]]*time:[[:space:]]*([^\n]*)\n"
                                "[[:space:]]*energy:[[:space:]]*([^\n]*[^[:space:]])[[:space:]]+kwh\r?\n"
                                "[[:space:]]*co2eq:[[:space:]]*([^\n]*[^[:space:]])[[:space:]]+g";
    re_ok = regcomp(&re_block, block, REG_EXTENDED | REG_ICASE) == 0;
    re_ok = re_ok && regcomp(&re_interrupted, "training was interrupted", REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
    re_ok = re_ok && regcomp(&re_finished, "finished monitoring", REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
    /* ours: "Carbon intensity at start: 151.65 gCO2eq/kWh (static: Denmark (DK), ...)." */
    re_ok = re_ok && regcomp(&re_our_intensity, "carbon intensity[^\n]*gCO2eq/kWh \\(([^\n]*)\\)\\.?\r?$",
                             REG_EXTENDED | REG_ICASE | REG_NEWLINE) == 0;
    /* the Python tool's: "... fetched every 900 s at detected location: Copenhagen, ..., DK: [81.2]" */
    re_ok = re_ok && regcomp(&re_location, "at detected location: ([^[\n]*[^ :[\n])", REG_EXTENDED) == 0;
    re_ok = re_ok && regcomp(&re_estimated, "consumption above is [^\n]*estimated",
                             REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
}

static int regex_ready(void) {
    pthread_once(&re_once, re_compile);
    return re_ok;
}

static void copy_match(char *dst, size_t len, const char *base, const regmatch_t *m) {
    size_t n = (size_t)(m->rm_eo - m->rm_so);
    if (m->rm_so < 0) n = 0;
    if (n >= len) n = len - 1;
    memcpy(dst, base + (m->rm_so < 0 ? 0 : m->rm_so), n);
    dst[n] = '\0';
}

int ct__output_log_block(const char *text, const char *which, ct_run_total *total) {
    memset(total, 0, sizeof *total);
    if (!text || !regex_ready()) return CT_ENODATA;
    const char *p = text;
    regmatch_t m[6];
    int found = 0;
    while (*p && regexec(&re_block, p, 6, m, p == text ? 0 : REG_NOTBOL) == 0) {
        char kind[16], num[32], tstr[64], estr[64], cstr[64];
        copy_match(kind, sizeof kind, p, &m[1]);
        if (strcasecmp(kind, which) == 0) {
            copy_match(num, sizeof num, p, &m[2]);
            copy_match(tstr, sizeof tstr, p, &m[3]);
            copy_match(estr, sizeof estr, p, &m[4]);
            copy_match(cstr, sizeof cstr, p, &m[5]);
            char *e1, *e2;
            double energy = strtod(estr, &e1);
            double co2 = strtod(cstr, &e2);
            if (e1 != estr && e2 != cstr && *e1 == '\0' && *e2 == '\0') {
                total->valid = 1;
                total->epochs = atoi(num);
                total->duration_s = ct__parse_hms(tstr);
                total->energy_kwh = energy;
                total->co2eq_g = co2;
                total->intensity_g_per_kwh = NAN;
                found = 1; /* keep going: the last block is the most complete */
            }
        }
        p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
    }
    return found ? 0 : CT_ENODATA;
}

static int file_is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

/* Reads a std/output pair into a run; returns 1 when counted, 0 when skipped (warned). */
static int read_text_run(ct_runs *r, const char *std_path, const char *out_path, const char *base, int *oom) {
    char err[256];
    char *std = NULL, *out = NULL;
    size_t stdn = 0, outn = 0;
    int rc = ct__results_read_file(std_path, MAX_LOG_BYTES, &std, &stdn, err, sizeof err);
    if (rc) {
        if (rc == CT_ENOMEM) *oom = 1;
        else add_warning(r, "%s: skipped: cannot read: %s", std_path, err);
        return 0;
    }
    rc = ct__results_read_file(out_path, MAX_LOG_BYTES, &out, &outn, err, sizeof err);
    if (rc) {
        free(std);
        if (rc == CT_ENOMEM) *oom = 1;
        else add_warning(r, "%s: skipped: cannot read: %s", out_path, err);
        return 0;
    }
    int counted = 0;
    if (file_is_blank(out, outn)) {
        add_warning(r, "%s: skipped: empty output log (run %s)", out_path, base);
        goto done;
    }
    ct_run_total actual, pred;
    int has_a = ct__output_log_block(out, "actual", &actual) == 0;
    int has_p = ct__output_log_block(out, "predicted", &pred) == 0;
    if (!has_a && !has_p) {
        add_warning(r, "%s: skipped: no \"Actual\" or \"Predicted consumption\" block (corrupt or truncated)",
                    out_path);
        goto done;
    }
    int early = regex_ready() && regexec(&re_interrupted, std, 0, NULL, 0) == 0;
    int finished = regex_ready() && regexec(&re_finished, out, 0, NULL, 0) == 0;
    run_rec *rec = new_run(r);
    if (!rec) {
        *oom = 1;
        goto done;
    }
    ct_run_info *ri = &rec->info;
    ct__strlcpy(ri->file, std_path, sizeof ri->file);
    ct__strlcpy(ri->format, "text", sizeof ri->format);
    ri->start_unix_s = name_timestamp(base);
    ri->early_stop = early;
    ri->complete = finished || early;
    ri->epochs_planned = has_p ? pred.epochs : 0;
    ri->files = 2;
    const ct_run_total *use;
    if (!has_p) use = &actual;
    else if (!has_a) use = &pred;
    else use = (early || actual.epochs == pred.epochs) ? &actual : &pred;
    ri->predicted = use == &pred;
    ri->epochs = use->epochs;
    ri->duration_s = use->duration_s >= 0 ? use->duration_s : 0;
    ri->energy_kwh = use->energy_kwh;
    ri->co2eq_g = isfinite(use->co2eq_g) ? use->co2eq_g : 0; /* the original skips a NaN CO2eq too */
    regmatch_t m[2];
    if (regexec(&re_our_intensity, std, 2, m, 0) == 0)
        copy_match(ri->intensity_source, sizeof ri->intensity_source, std, &m[1]);
    else if (regexec(&re_location, std, 2, m, 0) == 0) {
        char loc[sizeof ri->intensity_source - 20];
        copy_match(loc, sizeof loc, std, &m[1]);
        snprintf(ri->intensity_source, sizeof ri->intensity_source, "detected location: %s", loc);
    }
    if (regexec(&re_estimated, out, 0, NULL, 0) == 0) ri->estimated = 1;
    if (isfinite(ri->start_unix_s) && has_a && actual.duration_s >= 0)
        ri->end_unix_s = ri->start_unix_s + actual.duration_s;
    if (!(ri->energy_kwh >= 0) || !isfinite(ri->energy_kwh)) {
        add_warning(r, "%s: skipped: energy is not a number >= 0", out_path);
        r->n--;
        goto done;
    }
    counted = 1;
done:
    free(std);
    free(out);
    return counted;
}

/* ------------------------------------------------------------------ */
/* Our JSON Lines                                                       */
/* ------------------------------------------------------------------ */

typedef struct jsonl_state {
    int have_header, have_final, have_pred;
    double pue;
    ct_run_total pred;
    int pred_estimated;
    int nepochs;
    double sum_j, sum_co2, sum_dur, last_end;
    int any_estimated;
} jsonl_state;

static void total_from(const ct_json *o, ct_run_total *t, int *estimated) {
    memset(t, 0, sizeof *t);
    if (!o || o->type != CT_JSON_OBJECT) return;
    t->valid = 1;
    t->epochs = ct__json_int(ct__json_get(o, "epochs"), 0);
    t->duration_s = ct__json_num(ct__json_get(o, "duration_s"), 0);
    t->energy_kwh = ct__json_num(ct__json_get(o, "energy_kwh"), NAN);
    t->co2eq_g = ct__json_num(ct__json_get(o, "co2eq_g"), NAN);
    t->intensity_g_per_kwh = ct__json_num(ct__json_get(o, "intensity_g_per_kwh"), NAN);
    ct__strlcpy(t->intensity_source, ct__json_str(ct__json_get(o, "intensity_source"), ""),
                sizeof t->intensity_source);
    if (estimated) *estimated = ct__json_bool(ct__json_get(o, "estimated"), -1);
    if (!isfinite(t->energy_kwh) || t->energy_kwh < 0) t->valid = 0;
}

static void apply_header(const ct_json *h, run_rec *rec, jsonl_state *st) {
    ct_run_info *ri = &rec->info;
    st->have_header = 1;
    ct__strlcpy(ri->host, ct__json_str(ct__json_get(h, "host"), ""), sizeof ri->host);
    ct__strlcpy(ri->job_id, ct__json_str(ct__json_get(h, "job_id"), ""), sizeof ri->job_id);
    ri->rank = ct__json_int(ct__json_get(h, "rank"), -1);
    rec->measuring = ct__json_bool(ct__json_get(h, "measuring"), 1);
    ri->start_unix_s = ct__json_num(ct__json_get(h, "start"), NAN);
    ri->epochs_planned = ct__json_int(ct__json_get(h, "epochs"), 0);
    st->pue = ct__json_num(ct__json_get(h, "pue"), NAN);
    const ct_json *in = ct__json_get(h, "intensity");
    ct__strlcpy(ri->intensity_source, ct__json_str(ct__json_get(in, "source"), ""), sizeof ri->intensity_source);
    const ct_json *devs = ct__json_get(h, "devices");
    if (devs && devs->type == CT_JSON_ARRAY) {
        ri->estimated = 0;
        for (const ct_json *d = devs->child; d; d = d->next)
            if (ct__json_bool(ct__json_get(d, "estimated"), 0)) ri->estimated = 1;
    }
}

static void apply_record(const ct_json *rec_json, run_rec *rec, jsonl_state *st) {
    const char *ev = ct__json_str(ct__json_get(rec_json, "event"), "");
    ct_run_info *ri = &rec->info;
    if (strcmp(ev, "epoch") == 0) {
        st->nepochs++;
        const ct_json *ej = ct__json_get(rec_json, "energy_j");
        if (ej && ej->type == CT_JSON_OBJECT)
            for (const ct_json *c = ej->child; c; c = c->next) st->sum_j += ct__json_num(c, 0);
        st->sum_co2 += ct__json_num(ct__json_get(rec_json, "co2eq_g"), 0);
        st->sum_dur += ct__json_num(ct__json_get(rec_json, "duration_s"), 0);
        double end = ct__json_num(ct__json_get(rec_json, "end"), NAN);
        if (isfinite(end)) st->last_end = end;
        const ct_json *es = ct__json_get(rec_json, "estimated");
        if (es && es->type == CT_JSON_OBJECT)
            for (const ct_json *c = es->child; c; c = c->next)
                if (ct__json_bool(c, 0)) st->any_estimated = 1;
        if (!ri->intensity_source[0])
            ct__strlcpy(ri->intensity_source, ct__json_str(ct__json_get(rec_json, "intensity_source"), ""),
                        sizeof ri->intensity_source);
    } else if (strcmp(ev, "prediction") == 0) {
        ct_run_total t;
        memset(&t, 0, sizeof t);
        t.valid = 1;
        t.epochs = ct__json_int(ct__json_get(rec_json, "epochs"), 0);
        t.duration_s = ct__json_num(ct__json_get(rec_json, "duration_s"), 0);
        t.energy_kwh = ct__json_num(ct__json_get(rec_json, "energy_kwh"), NAN);
        t.co2eq_g = ct__json_num(ct__json_get(rec_json, "co2eq_g"), NAN);
        ct__strlcpy(t.intensity_source, ct__json_str(ct__json_get(rec_json, "intensity_source"), ""),
                    sizeof t.intensity_source);
        if (isfinite(t.energy_kwh) && t.energy_kwh >= 0) {
            st->pred = t;
            st->have_pred = 1;
            st->pred_estimated = ct__json_bool(ct__json_get(rec_json, "estimated"), -1);
        }
    } else if (strcmp(ev, "final") == 0) {
        ct_run_total actual, pred;
        int est_a = -1, est_p = -1;
        total_from(ct__json_get(rec_json, "actual"), &actual, &est_a);
        total_from(ct__json_get(rec_json, "predicted"), &pred, &est_p);
        if (!actual.valid && !pred.valid) return; /* unusable: treat as if absent */
        st->have_final = 1;
        ri->end_unix_s = ct__json_num(ct__json_get(rec_json, "end"), NAN);
        ri->early_stop = ct__json_bool(ct__json_get(rec_json, "early_stop"), 0);
        ri->complete = 1;
        const ct_run_total *use;
        int est;
        if (!pred.valid) use = &actual, est = est_a;
        else if (!actual.valid) use = &pred, est = est_p;
        else if (ri->early_stop || actual.epochs == pred.epochs) use = &actual, est = est_a;
        else use = &pred, est = est_p;
        ri->predicted = use == &pred;
        ri->epochs = use->epochs;
        ri->duration_s = use->duration_s;
        ri->energy_kwh = use->energy_kwh;
        ri->co2eq_g = isfinite(use->co2eq_g) ? use->co2eq_g : 0;
        if (use->intensity_source[0])
            ct__strlcpy(ri->intensity_source, use->intensity_source, sizeof ri->intensity_source);
        if (est >= 0) ri->estimated = est;
        if (pred.valid && pred.epochs > 0) ri->epochs_planned = pred.epochs;
    }
}

static int is_event(const ct_json *j, const char *ev) {
    return j && j->type == CT_JSON_OBJECT && strcmp(ct__json_str(ct__json_get(j, "event"), ""), ev) == 0;
}

/* Returns 1 when counted, 0 when skipped (warned). */
static int read_jsonl_run(ct_runs *r, ct_json_doc *doc, const char *path, int *oom) {
    char err[256];
    char *buf = NULL;
    size_t n = 0;
    int rc = ct__results_read_file(path, MAX_LOG_BYTES, &buf, &n, err, sizeof err);
    if (rc) {
        if (rc == CT_ENOMEM) *oom = 1;
        else add_warning(r, "%s: skipped: cannot read: %s", path, err);
        return 0;
    }
    if (file_is_blank(buf, n)) {
        add_warning(r, "%s: skipped: empty file", path);
        free(buf);
        return 0;
    }
    run_rec *rec = new_run(r);
    if (!rec) {
        *oom = 1;
        free(buf);
        return 0;
    }
    ct_run_info *ri = &rec->info;
    ct__strlcpy(ri->file, path, sizeof ri->file);
    ct__strlcpy(ri->format, "jsonl", sizeof ri->format);
    jsonl_state st;
    memset(&st, 0, sizeof st);
    st.last_end = NAN;

    /* First non-blank line: the header. */
    const char *p = buf, *end = buf + n;
    while (p < end && (*p == '\n' || *p == '\r' || *p == ' ')) p++;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    const ct_json *j = ct__json_parse(doc, p, (size_t)(line_end - p), err, sizeof err);
    if (!is_event(j, "header")) {
        add_warning(r, "%s: skipped: not a carbontracker JSON Lines file (first line is not a header%s%s)", path,
                    j ? "" : ": ", j ? "" : err);
        r->n--;
        free(buf);
        return 0;
    }
    apply_header(j, rec, &st);
    const char *body = nl ? nl + 1 : end;

    /* Fast path: a complete run ends with its final record, which holds all
     * we need. */
    const char *q = end;
    while (q > body && (q[-1] == '\n' || q[-1] == '\r' || q[-1] == ' ')) q--;
    const char *last = q;
    while (last > body && last[-1] != '\n') last--;
    if (last < q) {
        j = ct__json_parse(doc, last, (size_t)(q - last), NULL, 0);
        if (is_event(j, "final")) apply_record(j, rec, &st);
    }
    if (!st.have_final) {
        /* Crashed, still running, or damaged: read every record. */
        int bad = 0, lineno = 1, first_bad = 0, last_bad = 0;
        char first_err[160] = "";
        for (const char *s = body; s < end;) {
            lineno++;
            const char *e = memchr(s, '\n', (size_t)(end - s));
            const char *le = e ? e : end;
            if (!file_is_blank(s, (size_t)(le - s))) {
                j = ct__json_parse(doc, s, (size_t)(le - s), err, sizeof err);
                if (!j || j->type != CT_JSON_OBJECT) {
                    if (!bad) {
                        first_bad = lineno;
                        ct__strlcpy(first_err, j ? "not an object" : err, sizeof first_err);
                    }
                    bad++;
                    last_bad = le >= q;
                } else {
                    apply_record(j, rec, &st);
                }
            }
            s = e ? e + 1 : end;
        }
        if (st.have_final) {
            add_warning(r, "%s: %d damaged line(s) ignored (line %d: %s)", path, bad, first_bad, first_err);
        } else if (!rec->measuring && st.nepochs == 0 && !st.have_pred) {
            /* A rank that measured nothing: nothing to say about it here. */
            ri->complete = 0;
        } else if (st.have_pred) {
            ri->predicted = 1;
            ri->epochs = st.pred.epochs;
            ri->duration_s = st.pred.duration_s;
            ri->energy_kwh = st.pred.energy_kwh;
            ri->co2eq_g = isfinite(st.pred.co2eq_g) ? st.pred.co2eq_g : 0;
            if (st.pred.intensity_source[0])
                ct__strlcpy(ri->intensity_source, st.pred.intensity_source, sizeof ri->intensity_source);
            if (st.pred_estimated >= 0) ri->estimated = st.pred_estimated;
            ri->epochs_planned = st.pred.epochs;
            ri->end_unix_s = st.last_end;
            add_warning(r, "%s: no final record (%s); its prediction for %d epochs is used", path,
                        bad ? (last_bad ? "truncated" : "damaged lines") : "crashed or still running",
                        st.pred.epochs);
        } else if (st.nepochs > 0) {
            double pue = isfinite(st.pue) && st.pue >= 1 ? st.pue : 1.0;
            ri->predicted = 0;
            ri->epochs = st.nepochs;
            ri->duration_s = st.sum_dur;
            ri->energy_kwh = ct__j_to_kwh(st.sum_j) * pue;
            ri->co2eq_g = st.sum_co2;
            ri->end_unix_s = st.last_end;
            if (st.any_estimated) ri->estimated = 1;
            add_warning(r, "%s: no final record (%s); the %d recorded epoch(s) are used", path,
                        bad ? (last_bad ? "truncated" : "damaged lines") : "crashed or still running", st.nepochs);
        } else {
            add_warning(r, "%s: skipped: no epoch, prediction or final record%s", path,
                        bad ? " (damaged lines)" : "");
            r->n--;
            free(buf);
            return 0;
        }
    }
    free(buf);
    return 1;
}

/* ------------------------------------------------------------------ */
/* Directory scan                                                       */
/* ------------------------------------------------------------------ */

enum { K_JSONL = 0, K_STD = 1, K_OUT = 2, K_COUNT = 3 };
static const char *const kind_suffix[K_COUNT] = {"_carbontracker.jsonl", "_carbontracker.log",
                                                 "_carbontracker_output.log"};

typedef struct entry {
    char *base; /* dir + "/" + name part before _carbontracker */
    int kind;
} entry;

static int entry_cmp(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = strcmp(x->base, y->base);
    return c ? c : x->kind - y->kind;
}

static int scan_dir(const char *dir, entry **ents, int *n, int *cap, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) {
        ct__msgf(err, errlen, "cannot read directory %s: %s", dir, strerror(errno));
        return CT_EIO;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        for (int k = 0; k < K_COUNT; k++) {
            size_t sl = strlen(kind_suffix[k]);
            if (len <= sl || strcmp(name + len - sl, kind_suffix[k]) != 0) continue;
            if (*n == *cap) {
                int nc = *cap ? *cap * 2 : 256;
                entry *ne = realloc(*ents, (size_t)nc * sizeof(entry));
                if (!ne) {
                    closedir(d);
                    return CT_ENOMEM;
                }
                *ents = ne;
                *cap = nc;
            }
            size_t dl = strlen(dir);
            size_t bl = len - sl;
            char *b = malloc(dl + 1 + bl + 1);
            if (!b) {
                closedir(d);
                return CT_ENOMEM;
            }
            memcpy(b, dir, dl);
            b[dl] = '/';
            memcpy(b + dl + 1, name, bl);
            b[dl + 1 + bl] = '\0';
            (*ents)[*n].base = b;
            (*ents)[*n].kind = k;
            (*n)++;
            break;
        }
    }
    closedir(d);
    return 0;
}

static int path_of(char *buf, size_t len, const char *base, int kind) {
    int w = snprintf(buf, len, "%s%s", base, kind_suffix[kind]);
    return (w < 0 || (size_t)w >= len) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Ranks of one job                                                     */
/* ------------------------------------------------------------------ */

static int job_cmp(const void *a, const void *b) {
    const run_rec *x = *(run_rec *const *)a, *y = *(run_rec *const *)b;
    int c = strcmp(x->info.job_id, y->info.job_id);
    if (c) return c;
    double sx = x->info.start_unix_s, sy = y->info.start_unix_s;
    if (sx < sy) return -1;
    if (sx > sy) return 1;
    return x->info.rank - y->info.rank;
}

static double run_end(const run_rec *r) {
    if (isfinite(r->info.end_unix_s)) return r->info.end_unix_s;
    if (isfinite(r->info.start_unix_s)) return r->info.start_unix_s + r->info.duration_s;
    return NAN;
}

static void append_host(char *hosts, size_t len, const char *h) {
    if (!h[0]) return;
    /* already there? (exact item match) */
    size_t hl = strlen(h);
    for (const char *p = hosts; (p = strstr(p, h)) != NULL; p += hl)
        if ((p == hosts || p[-1] == ',') && (p[hl] == '\0' || p[hl] == ',')) return;
    size_t cur = strlen(hosts);
    if (cur + (cur ? 1 : 0) + hl + 1 > len) return;
    if (cur) hosts[cur++] = ',';
    memcpy(hosts + cur, h, hl + 1);
}

static void merge_group(ct_runs *r, run_rec **g, int n) {
    /* Pick one measuring record per host: two measuring ranks on one host
     * (all_ranks) measured the same node. */
    run_rec *keep = NULL;
    ct_run_info sum;
    memset(&sum, 0, sizeof sum);
    sum.rank = -1;
    sum.start_unix_s = NAN;
    sum.end_unix_s = NAN;
    sum.estimated = -1;
    sum.complete = 1;
    int counted_hosts = 0, files = 0;
    for (int i = 0; i < n; i++) files += g[i]->info.files;
    for (int i = 0; i < n; i++) {
        run_rec *a = g[i];
        if (!a->measuring) continue;
        int dup_of = -1;
        for (int k = 0; k < n; k++) {
            if (k == i || !g[k]->measuring || strcmp(g[k]->info.host, a->info.host) != 0) continue;
            /* the larger energy wins; ties to the lower rank */
            if (g[k]->info.energy_kwh > a->info.energy_kwh ||
                (g[k]->info.energy_kwh == a->info.energy_kwh && k < i)) {
                dup_of = k;
                break;
            }
        }
        if (dup_of >= 0) {
            add_warning(r, "job %s: ranks %d and %d both measured host %s; counted once (%s)", a->info.job_id,
                        g[dup_of]->info.rank, a->info.rank, a->info.host[0] ? a->info.host : "?",
                        g[dup_of]->info.file);
            continue;
        }
        counted_hosts++;
        if (!keep || a->info.rank < keep->info.rank) keep = a;
        sum.energy_kwh += a->info.energy_kwh;
        sum.co2eq_g += a->info.co2eq_g;
        if (a->info.duration_s > sum.duration_s) sum.duration_s = a->info.duration_s;
        if (a->info.epochs > sum.epochs) sum.epochs = a->info.epochs;
        if (a->info.epochs_planned > sum.epochs_planned) sum.epochs_planned = a->info.epochs_planned;
        if (a->info.predicted) sum.predicted = 1;
        if (a->info.early_stop) sum.early_stop = 1;
        if (!a->info.complete) sum.complete = 0;
        if (a->info.estimated > sum.estimated) sum.estimated = a->info.estimated;
        append_host(sum.host, sizeof sum.host, a->info.host);
    }
    for (int i = 0; i < n; i++) {
        double s = g[i]->info.start_unix_s;
        if (isfinite(s) && !(sum.start_unix_s <= s)) sum.start_unix_s = s;
        double e = run_end(g[i]);
        if (isfinite(e) && !(sum.end_unix_s >= e)) sum.end_unix_s = e;
    }
    if (!keep) {
        /* Nobody measured: the measuring rank's log is elsewhere. */
        add_warning(r, "job %s: %d rank(s) found, none of them measured (measuring=false); "
                       "is the log of local rank 0 in another directory?",
                    g[0]->info.job_id, n);
        for (int i = 0; i < n; i++) g[i]->dropped = 1;
        return;
    }
    ct_run_info *k = &keep->info;
    k->energy_kwh = sum.energy_kwh;
    k->co2eq_g = sum.co2eq_g;
    k->duration_s = sum.duration_s;
    k->epochs = sum.epochs;
    k->epochs_planned = sum.epochs_planned;
    k->predicted = sum.predicted;
    k->early_stop = sum.early_stop;
    k->complete = sum.complete;
    k->estimated = sum.estimated;
    k->start_unix_s = sum.start_unix_s;
    k->end_unix_s = sum.end_unix_s;
    k->files = files;
    if (counted_hosts > 1) ct__strlcpy(k->host, sum.host, sizeof k->host);
    for (int i = 0; i < n; i++)
        if (g[i] != keep) g[i]->dropped = 1;
}

static int combine_ranks(ct_runs *r) {
    int m = 0;
    for (int i = 0; i < r->n; i++)
        if (r->runs[i].info.job_id[0] && r->runs[i].info.rank >= 0) m++;
    if (m == 0) goto lone;
    run_rec **v = malloc((size_t)m * sizeof *v);
    if (!v) return CT_ENOMEM;
    m = 0;
    for (int i = 0; i < r->n; i++)
        if (r->runs[i].info.job_id[0] && r->runs[i].info.rank >= 0) v[m++] = &r->runs[i];
    qsort(v, (size_t)m, sizeof *v, job_cmp);
    for (int i = 0; i < m;) {
        int j = i + 1;
        double gend = run_end(v[i]);
        while (j < m && strcmp(v[j]->info.job_id, v[i]->info.job_id) == 0) {
            /* overlapping in time with the group so far: the same launch */
            double s = v[j]->info.start_unix_s;
            if (isfinite(s) && isfinite(gend) && s > gend) break;
            double e = run_end(v[j]);
            if (isfinite(e) && !(gend >= e)) gend = e;
            j++;
        }
        if (j - i > 1) merge_group(r, v + i, j - i);
        i = j;
    }
    free(v);
lone:
    /* A rank that measured nothing and has no partner here. */
    for (int i = 0; i < r->n; i++) {
        run_rec *a = &r->runs[i];
        if (!a->dropped && !a->measuring) {
            add_warning(r, "%s: rank %d measured nothing (measuring=false) and no measuring rank of its job was found;"
                           " not counted",
                        a->info.file, a->info.rank);
            a->dropped = 1;
        }
    }
    int w = 0;
    for (int i = 0; i < r->n; i++)
        if (!r->runs[i].dropped) r->runs[w++] = r->runs[i];
    r->n = w;
    return 0;
}

static int run_cmp(const void *a, const void *b) {
    const run_rec *x = a, *y = b;
    double sx = x->info.start_unix_s, sy = y->info.start_unix_s;
    int fx = isfinite(sx), fy = isfinite(sy);
    if (fx != fy) return fx ? -1 : 1;
    if (fx && sx != sy) return sx < sy ? -1 : 1;
    return strcmp(x->info.file, y->info.file);
}

/* ------------------------------------------------------------------ */
/* Public                                                               */
/* ------------------------------------------------------------------ */

int ct_parse_dirs(const char *const *dirs, int ndirs, ct_runs **out, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!out) return CT_EINVAL;
    *out = NULL;
    if (!dirs || ndirs <= 0) {
        ct__msgf(err, errlen, "no directory given");
        return CT_EINVAL;
    }
    for (int i = 0; i < ndirs; i++)
        if (!dirs[i]) {
            ct__msgf(err, errlen, "directory %d is NULL", i);
            return CT_EINVAL;
        }
    if (!regex_ready()) {
        ct__msgf(err, errlen, "internal error: cannot compile the log patterns");
        return CT_ENOMEM;
    }
    ct_runs *r = calloc(1, sizeof *r);
    ct_json_doc *doc = ct__json_doc_new();
    entry *ents = NULL;
    int n = 0, cap = 0, rc = 0, oom = 0;
    if (!r || !doc) {
        rc = CT_ENOMEM;
        goto fail;
    }
    for (int i = 0; i < ndirs; i++) {
        /* The same directory twice would count its runs twice. */
        int dup = 0;
        for (int k = 0; k < i; k++) {
            struct stat a, b;
            if (stat(dirs[i], &a) == 0 && stat(dirs[k], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                dup = 1;
        }
        if (dup) {
            if (add_warning(r, "%s: given twice; read once", dirs[i])) {
                rc = CT_ENOMEM;
                goto fail;
            }
            continue;
        }
        rc = scan_dir(dirs[i], &ents, &n, &cap, err, errlen);
        if (rc) goto fail;
    }
    if (n > 1) qsort(ents, (size_t)n, sizeof *ents, entry_cmp);
    for (int i = 0; i < n && !oom;) {
        int j = i;
        int have[K_COUNT] = {0, 0, 0};
        while (j < n && strcmp(ents[j].base, ents[i].base) == 0) have[ents[j++].kind] = 1;
        const char *base = ents[i].base;
        char pj[4096], ps[4096], po[4096];
        if (path_of(pj, sizeof pj, base, K_JSONL) || path_of(ps, sizeof ps, base, K_STD) ||
            path_of(po, sizeof po, base, K_OUT)) {
            add_warning(r, "%s: skipped: path too long", base);
            i = j;
            continue;
        }
        const char *slash = strrchr(base, '/');
        const char *short_base = slash ? slash + 1 : base;
        int counted = 0;
        if (have[K_JSONL]) {
            counted = read_jsonl_run(r, doc, pj, &oom);
            if (counted && have[K_STD] && have[K_OUT]) r->runs[r->n - 1].info.files = 3;
        }
        if (!counted && !oom) {
            if (have[K_STD] && have[K_OUT]) {
                read_text_run(r, ps, po, short_base, &oom);
            } else if (!have[K_JSONL] && (have[K_STD] || have[K_OUT])) {
                add_warning(r, "%s: skipped: unpaired (no %s)", have[K_STD] ? ps : po,
                            have[K_STD] ? "_carbontracker_output.log" : "_carbontracker.log");
            }
        }
        i = j;
    }
    if (oom) {
        rc = CT_ENOMEM;
        goto fail;
    }
    rc = combine_ranks(r);
    if (rc) goto fail;
    if (r->n > 1) qsort(r->runs, (size_t)r->n, sizeof *r->runs, run_cmp);
    for (int i = 0; i < n; i++) free(ents[i].base);
    free(ents);
    ct__json_doc_free(doc);
    *out = r;
    return 0;
fail:
    if (rc == CT_ENOMEM && err && errlen && !err[0]) ct__msgf(err, errlen, "out of memory");
    for (int i = 0; i < n; i++) free(ents[i].base);
    free(ents);
    ct__json_doc_free(doc);
    ct_runs_free(r);
    return rc;
}

void ct_runs_free(ct_runs *runs) {
    if (!runs) return;
    for (int i = 0; i < runs->nw; i++) free(runs->warnings[i]);
    free(runs->warnings);
    free(runs->runs);
    free(runs);
}

int ct_runs_count(const ct_runs *runs) {
    return runs ? runs->n : 0;
}

int ct_runs_get(const ct_runs *runs, int index, ct_run_info *out) {
    if (!runs || !out || index < 0 || index >= runs->n) return CT_EINVAL;
    *out = runs->runs[index].info;
    return 0;
}

int ct_runs_totals(const ct_runs *runs, ct_runs_total *out) {
    if (!runs || !out) return CT_EINVAL;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < runs->n; i++) {
        const ct_run_info *ri = &runs->runs[i].info;
        out->runs++;
        out->energy_kwh += ri->energy_kwh;
        out->co2eq_g += ri->co2eq_g;
        out->duration_s += ri->duration_s;
    }
    double g_per_km = ct__car_g_per_km(NULL);
    out->car_km = g_per_km > 0 ? out->co2eq_g / g_per_km : 0;
    return 0;
}

int ct_runs_warning_count(const ct_runs *runs) {
    return runs ? runs->nw : 0;
}

const char *ct_runs_warning(const ct_runs *runs, int index) {
    if (!runs || index < 0 || index >= runs->nw) return NULL;
    return runs->warnings[index];
}

int ct_runs_sentence(const ct_runs *runs, char *buf, size_t len) {
    if (!runs || (!buf && len)) return CT_EINVAL;
    ct_runs_total t;
    ct_runs_totals(runs, &t);
    return snprintf(buf, len,
                    "The training of models in this work is estimated to use %.3f kWh of electricity contributing "
                    "to %.3f kg of CO2eq. This is equivalent to %.3f km travelled by car. Measured by carbontracker "
                    "(https://github.com/lfwa/carbontracker).",
                    t.energy_kwh, t.co2eq_g / 1000.0, t.car_km);
}
