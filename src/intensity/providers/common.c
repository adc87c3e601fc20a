/* What the providers share: the piecewise-constant series, ISO 8601 times,
 * choosing a service for a location. Pure code, no I/O. */
#include "providers.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ct__iseries_add(ct__iseries *s, double t0, double t1, double g) {
    if (!(t1 > t0) || !(g >= 0) || !isfinite(g) || !isfinite(t0) || !isfinite(t1)) return 0;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        if (cap > 1000000) return CT_ENOMEM;
        ct__ipoint *np = realloc(s->p, (size_t)cap * sizeof *np);
        if (!np) return CT_ENOMEM;
        s->p = np;
        s->cap = cap;
    }
    s->p[s->n++] = (ct__ipoint){t0, t1, g};
    return 0;
}

void ct__iseries_free(ct__iseries *s) {
    if (!s) return;
    free(s->p);
    s->p = NULL;
    s->n = s->cap = 0;
}

int ct__iseries_copy(ct__iseries *dst, const ct__iseries *src) {
    ct__iseries_free(dst);
    for (int i = 0; i < src->n; i++)
        if (ct__iseries_add(dst, src->p[i].t0, src->p[i].t1, src->p[i].g)) return CT_ENOMEM;
    return 0;
}

static int cmp_t0(const void *a, const void *b) {
    const ct__ipoint *x = a, *y = b;
    return (x->t0 > y->t0) - (x->t0 < y->t0);
}

void ct__iseries_normalize(ct__iseries *s) {
    if (s->n == 0) return;
    qsort(s->p, (size_t)s->n, sizeof *s->p, cmp_t0);
    int out = 0;
    for (int i = 0; i < s->n;) {
        int j = i;
        double sum = 0, t1 = s->p[i].t1;
        while (j < s->n && s->p[j].t0 == s->p[i].t0) {
            sum += s->p[j].g;
            if (s->p[j].t1 < t1) t1 = s->p[j].t1;
            j++;
        }
        s->p[out] = (ct__ipoint){s->p[i].t0, t1, sum / (j - i)};
        out++;
        i = j;
    }
    s->n = out;
    for (int i = 0; i + 1 < s->n; i++)
        if (s->p[i].t1 > s->p[i + 1].t0) s->p[i].t1 = s->p[i + 1].t0;
}

int ct__iseries_find(const ct__iseries *s, double t) {
    int lo = 0, hi = s->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (t < s->p[mid].t0)
            hi = mid - 1;
        else if (t >= s->p[mid].t1)
            lo = mid + 1;
        else
            return mid;
    }
    return -1;
}

double ct__iseries_mean(const ct__iseries *s, double from, double to, double *covered_s) {
    double area = 0, cov = 0;
    for (int i = 0; i < s->n; i++) {
        double a = s->p[i].t0 > from ? s->p[i].t0 : from;
        double b = s->p[i].t1 < to ? s->p[i].t1 : to;
        if (b > a) {
            area += (b - a) * s->p[i].g;
            cov += b - a;
        }
    }
    if (covered_s) *covered_s = cov;
    return cov > 0 ? area / cov : 0;
}

int ct__iseries_timeline(const ct__iseries *measured, const ct__iseries *forecast, double max_gap_s,
                         ct__iseries *out) {
    ct__iseries_free(out);
    double last = -INFINITY;
    for (int i = 0; i < measured->n; i++) {
        if (ct__iseries_add(out, measured->p[i].t0, measured->p[i].t1, measured->p[i].g)) return CT_ENOMEM;
        if (measured->p[i].t1 > last) last = measured->p[i].t1;
    }
    for (int i = 0; i < forecast->n; i++) {
        double t0 = forecast->p[i].t0 < last ? last : forecast->p[i].t0;
        if (ct__iseries_add(out, t0, forecast->p[i].t1, forecast->p[i].g)) return CT_ENOMEM;
    }
    ct__iseries_normalize(out);
    for (int i = 0; i + 1 < out->n; i++) {
        double gap = out->p[i + 1].t0 - out->p[i].t1;
        if (gap > 0 && gap < max_gap_s) out->p[i].t1 = out->p[i + 1].t0;
    }
    return 0;
}

void ct__scrub_secret(char *s, const char *secret) {
    if (!s || !secret || !*secret) return;
    size_t sl = strlen(secret);
    char *hit;
    while ((hit = strstr(s, secret))) {
        memmove(hit + 3, hit + sl, strlen(hit + sl) + 1);
        memcpy(hit, "***", 3);
    }
}

void ct__intensity_data_free(ct__intensity_data *d) {
    if (!d) return;
    ct__iseries_free(&d->measured);
    ct__iseries_free(&d->forecast);
}

void ct__provider_base(const ct__provider *p, char *buf, size_t len) {
    const char *env = ct__getenv(p->url_env);
    ct__strlcpy(buf, env ? env : p->default_base, len);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '/') buf[--n] = '\0';
}

const ct__provider *ct__provider_choose(const ct__location *loc, int have_key, char *why, size_t whylen) {
    int gb = strcmp(loc->country, "GB") == 0 || loc->postcode[0];
    int dk = strcmp(loc->country, "DK") == 0;
    /* An explicit Electricity Maps zone with a key is the user's choice of service,
     * except for GB/DK zones which the free services cover. */
    if (gb) return &ct__provider_ukgrid;
    if (dk) return &ct__provider_energidata;
    if (have_key && (loc->zone[0] || loc->country[0] || (isfinite(loc->lat) && isfinite(loc->lon))))
        return &ct__provider_electricitymaps;
    if (!loc->country[0] && !loc->zone[0] && !(isfinite(loc->lat) && isfinite(loc->lon)))
        snprintf(why, whylen, "no location known");
    else if (!have_key)
        snprintf(why, whylen, "no live service without an Electricity Maps key outside GB and DK");
    else
        snprintf(why, whylen, "no live service for this location");
    return NULL;
}

#if CT_HAVE_JANSSON
json_t *ct__provider_json_parse(const char *body, size_t len, const char *what, char *why, size_t whylen) {
    json_error_t err;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &err);
    if (!root) snprintf(why, whylen, "malformed JSON from %s: %s (line %d)", what, err.text, err.line);
    return root;
}

double ct__provider_json_number(const json_t *obj, const char *key) {
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}
#endif

#if CT__HAVE_LIVE
#include "../http.h"

/* The server's own error text, made printable and short. */
static void server_message(const char *body, size_t len, char *buf, size_t buflen) {
    buf[0] = '\0';
    json_error_t err;
    json_t *root = body ? json_loadb(body, len, 0, &err) : NULL;
    const char *msg = NULL;
    if (root) {
        json_t *e = json_object_get(root, "error");
        if (json_is_string(e)) msg = json_string_value(e);
        else if (json_is_object(e) && json_is_string(json_object_get(e, "message")))
            msg = json_string_value(json_object_get(e, "message"));
        else if (json_is_string(json_object_get(root, "message")))
            msg = json_string_value(json_object_get(root, "message"));
    }
    if (msg) {
        size_t n = 0;
        for (const char *p = msg; *p && n + 1 < buflen && n < 160; p++)
            buf[n++] = (*p >= 32 && *p < 127) ? *p : '?';
        buf[n] = '\0';
    }
    json_decref(root);
}

static const char *status_text(long status) {
    switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized (key missing or refused)";
    case 403: return "forbidden (not in this plan or key)";
    case 404: return "not found";
    case 429: return "rate limited";
    default: return status >= 500 ? "server error" : "unexpected status";
    }
}

int ct__provider_get(const char *what, const char *url, const char *const *headers, const char *secret,
                     const atomic_int *abort_flag, char **body, size_t *len, long *http_status, char *why,
                     size_t whylen) {
    *body = NULL;
    *len = 0;
    if (http_status) *http_status = 0;
    ct__http_response r;
    char reason[512];
    int rc = ct__http_get(url, headers, abort_flag, &r, reason, sizeof reason);
    if (rc) {
        snprintf(why, whylen, "%s: %s", what, reason);
        ct__scrub_secret(why, secret);
        return rc;
    }
    if (http_status) *http_status = r.status;
    if (r.status < 200 || r.status > 299) {
        char msg[200];
        server_message(r.body, r.len, msg, sizeof msg);
        snprintf(why, whylen, "%s: HTTP %ld %s%s%s%s", what, r.status, status_text(r.status), msg[0] ? " (" : "",
                 msg, msg[0] ? ")" : "");
        ct__scrub_secret(why, secret);
        ct__http_response_free(&r);
        return CT_ENETWORK;
    }
    *body = r.body;
    *len = r.len;
    return 0;
}
#endif
