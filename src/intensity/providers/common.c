/* What the providers share: the piecewise-constant series, ISO 8601 times,
 * choosing a service for a location. Pure code, no I/O. */
#include "providers.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <strings.h>
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
        if (t < s->p[mid].t0) hi = mid - 1;
        else if (t >= s->p[mid].t1) lo = mid + 1;
        else return mid;
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

int ct__iseries_timeline(const ct__iseries *measured, const ct__iseries *forecast, double max_gap_s, ct__iseries *out) {
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

int ct__scrub_copy(char *dst, size_t dstlen, const char *src, const char *secret) {
    if (!dst || !dstlen) return src && *src;
    if (!src) src = "";
    size_t n = 0, sl = secret ? strlen(secret) : 0;
    int cut = 0;
    /* One pass over src: every step consumes at least one byte of it, and
     * nothing is written at or past dst[dstlen - 1]. */
    while (*src && n + 1 < dstlen) {
        if (sl && strncmp(src, secret, sl) == 0) {
            for (const char *r = "***"; *r; r++) {
                if (n + 1 >= dstlen) {
                    cut = 1;
                    break;
                }
                dst[n++] = *r;
            }
            src += sl;
        } else {
            dst[n++] = *src++;
        }
    }
    dst[n] = '\0';
    return cut || *src != '\0';
}

void ct__scrub_secret(char *buf, size_t size, const char *secret) {
    if (!buf || !size || !secret || !*secret) return;
    buf[size - 1] = '\0';
    if (!strstr(buf, secret)) return;
    char *copy = ct__strdup(buf);
    if (!copy) {
        ct__strlcpy(buf, "(message withheld: it held the key)", size);
        return;
    }
    ct__scrub_copy(buf, size, copy, secret);
    free(copy);
}

void ct__intensity_data_free(ct__intensity_data *d) {
    if (!d) return;
    ct__iseries_free(&d->measured);
    ct__iseries_free(&d->forecast);
}

void ct__provider_base(const ct__provider *p, char *buf, size_t len) {
    const char *env = ct__env(p->url_env);
    ct__strlcpy(buf, env ? env : p->default_base, len);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '/') buf[--n] = '\0';
}

/* 1 when code (two letters) is in the space-separated list. */
static int in_list(const char *list, const char *code) {
    size_t n = strlen(code);
    for (const char *p = list; n && *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, code, n) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

int ct__provider_serves(const ct__provider *p, const ct__location *loc) {
    int coords = isfinite(loc->lat) && isfinite(loc->lon);
    if ((p->serves & CT__SERVES_POSTCODE) && loc->postcode[0]) return 1;
    if (p->countries) return (p->serves & CT__SERVES_COUNTRY) && loc->country[0] && in_list(p->countries, loc->country);
    /* any country: whatever form of location the service takes */
    return ((p->serves & CT__SERVES_COUNTRY) && loc->country[0]) || ((p->serves & CT__SERVES_ZONE) && loc->zone[0]) ||
           ((p->serves & CT__SERVES_COORDINATES) && coords);
}

const ct__provider *ct__provider_choose(const ct__location *loc, int have_key, char *why, size_t whylen) {
    const ct__provider *needs_key = NULL;
    for (int i = 0; i < ct__nproviders; i++) {
        const ct__provider *p = &ct__providers[i];
        if (!ct__provider_serves(p, loc)) continue;
        if (p->needs_key && !have_key) {
            if (!needs_key) needs_key = p;
            continue;
        }
        return p;
    }
    if (!loc->country[0] && !loc->zone[0] && !loc->postcode[0] && !(isfinite(loc->lat) && isfinite(loc->lon))) {
        snprintf(why, whylen, "no location known");
    } else if (needs_key) {
        /* "... outside GB and DK": the countries the services without a key cover */
        char free_list[128] = "";
        for (int i = 0; i < ct__nproviders; i++) {
            const ct__provider *p = &ct__providers[i];
            if (p->needs_key || !p->countries) continue;
            size_t n = strlen(free_list);
            snprintf(free_list + n, sizeof free_list - n, "%s%s", n ? " and " : "", p->countries);
        }
        snprintf(why, whylen, "no live service without an %s key%s%s", needs_key->name, free_list[0] ? " outside " : "",
                 free_list);
    } else {
        snprintf(why, whylen, "no live service for this location");
    }
    return NULL;
}

/* The host of an http(s) URL into buf (brackets of an IPv6 literal removed,
 * user information skipped); scheme gets "http", "https" or what it was. */
static int url_host(const char *url, char *scheme, size_t slen, char *host, size_t hlen, char *hostport, size_t hplen) {
    const char *sep = strstr(url, "://");
    if (!sep || (size_t)(sep - url) >= slen) return CT_EINVAL;
    for (size_t i = 0; url + i < sep; i++) scheme[i] = (char)tolower((unsigned char)url[i]);
    scheme[sep - url] = '\0';
    const char *a = sep + 3, *end = a + strcspn(a, "/?#");
    for (const char *p = a; p < end; p++) /* the last '@' of the authority ends the user information */
        if (*p == '@') a = p + 1;
    if ((size_t)(end - a) >= hplen) return CT_EINVAL;
    memcpy(hostport, a, (size_t)(end - a));
    hostport[end - a] = '\0';
    const char *h = a, *he;
    if (*h == '[') {
        h++;
        he = memchr(h, ']', (size_t)(end - h));
        if (!he) return CT_EINVAL;
    } else {
        he = memchr(h, ':', (size_t)(end - h));
        if (!he) he = end;
    }
    if ((size_t)(he - h) >= hlen || he == h) return CT_EINVAL;
    memcpy(host, h, (size_t)(he - h));
    host[he - h] = '\0';
    return 0;
}

int ct__url_is_loopback(const char *url) {
    char scheme[16], host[256], hostport[300];
    if (url_host(url, scheme, sizeof scheme, host, sizeof host, hostport, sizeof hostport)) return 0;
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0) return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

int ct__provider_key_transport(const ct__provider *p, const char *base, int *plain_loopback, char *why, size_t whylen) {
    *plain_loopback = 0;
    if (!p->needs_key) return 0;
    char scheme[16] = "", host[256] = "", hostport[300] = "";
    int bad = url_host(base, scheme, sizeof scheme, host, sizeof host, hostport, sizeof hostport);
    if (!bad && strcmp(scheme, "https") == 0) return 0;
    if (!bad && strcmp(scheme, "http") == 0) {
        if (ct__url_is_loopback(base)) {
            *plain_loopback = 1;
            snprintf(why, whylen,
                     "the %s key goes over plain http to this machine (%s=http://%s); use https outside tests", p->name,
                     ct__env_name(p->url_env), hostport);
            return 0;
        }
        snprintf(why, whylen, "%s (host %s) is plain http to another machine: the %s key is not sent; use https",
                 ct__env_name(p->url_env), host, p->name);
        return CT_EINVAL;
    }
    snprintf(why, whylen, "%s is not an https URL: the %s key is not sent", ct__env_name(p->url_env), p->name);
    return CT_EINVAL;
}

#if CT_HAVE_JANSSON
json_t *ct__provider_json_parse(const char *body, size_t len, const char *what, char *why, size_t whylen) {
    json_error_t err;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        /* jansson quotes the text near the error ("near 'abc'"), cut to its
         * own length: it could show part of a key a server echoed, which
         * scrubbing the whole key cannot find. The position says enough. */
        char *near = strstr(err.text, " near '");
        if (near) *near = '\0';
        snprintf(why, whylen, "malformed JSON from %s: %s (line %d, column %d)", what, err.text, err.line, err.column);
    }
    return root;
}

double ct__provider_json_number(const json_t *obj, const char *key) {
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}
#endif

#if CT__HAVE_LIVE
#include "../http.h"

/* The server's own error text: the key scrubbed from the WHOLE text first,
 * then cut to CT__SERVER_TEXT_MAX characters and made printable. */
#define CT__SERVER_TEXT_MAX 160
static void server_message(const char *body, size_t len, const char *secret, char *buf, size_t buflen) {
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
        size_t cap = buflen < CT__SERVER_TEXT_MAX + 1 ? buflen : CT__SERVER_TEXT_MAX + 1;
        int cut = ct__scrub_copy(buf, cap, msg, secret);
        for (char *p = buf; *p; p++)
            if (*p < 32 || *p >= 127) *p = '?';
        if (cut) {
            size_t n = strlen(buf);
            snprintf(buf + n, buflen - n, "...");
        }
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

int ct__provider_get(const char *what, const char *url, char *const *headers, const char *secret,
                     const atomic_int *abort_flag, char **body, size_t *len, long *http_status, char *why,
                     size_t whylen) {
    *body = NULL;
    *len = 0;
    if (http_status) *http_status = 0;
    ct__http_response r;
    char reason[512];
    int rc = ct__http_get(url, headers, abort_flag, &r, reason, sizeof reason);
    if (rc) {
        ct__scrub_secret(reason, sizeof reason, secret); /* curl's text never holds headers; no harm */
        snprintf(why, whylen, "%s: %s", what, reason);
        return rc;
    }
    if (http_status) *http_status = r.status;
    if (r.status < 200 || r.status > 299) {
        char msg[200];
        server_message(r.body, r.len, secret, msg, sizeof msg);
        snprintf(why, whylen, "%s: HTTP %ld %s%s%s%s", what, r.status, status_text(r.status), msg[0] ? " (" : "", msg,
                 msg[0] ? ")" : "");
        ct__http_response_free(&r);
        return CT_ENETWORK;
    }
    *body = r.body;
    *len = r.len;
    return 0;
}
#endif
