/* UK Carbon Intensity API (National Grid ESO; no key): national, or regional
 * by outward postcode; the current half hour and 48 h of forecast. The
 * regional from/to call has been seen answering "data" as an object rather
 * than a one-element list; both are accepted. */
#include "providers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define UK_NAME "UK Carbon Intensity API"
#define UK_HORIZON_S (48.0 * 3600.0)

#if CT_HAVE_JANSSON
/* Adds one half-hour period; returns 1 if it was usable, 0 if skipped, <0 on ENOMEM. */
static int add_period(const json_t *e, double now, ct__iseries *measured, ct__iseries *forecast) {
    const json_t *from = json_object_get(e, "from"), *to = json_object_get(e, "to");
    const json_t *in = json_object_get(e, "intensity");
    double t0, t1;
    if (!json_is_string(from) || !json_is_string(to) || !json_is_object(in)) return 0;
    if (ct__parse_iso8601(json_string_value(from), &t0) || ct__parse_iso8601(json_string_value(to), &t1)) return 0;
    double actual = ct__provider_json_number(in, "actual"), fc = ct__provider_json_number(in, "forecast");
    int started = t0 <= now;
    double g = started && !isnan(actual) ? actual : fc;
    if (isnan(g)) g = actual; /* a past period with only "actual" */
    if (isnan(g) || g < 0) return 0;
    if (ct__iseries_add(started ? measured : forecast, t0, t1, g)) return -1;
    return 1;
}

static int add_periods(const json_t *list, double now, ct__iseries *measured, ct__iseries *forecast) {
    int used = 0;
    if (json_is_object(list)) return add_period(list, now, measured, forecast);
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
        int r = add_period(e, now, measured, forecast);
        if (r < 0) return r;
        used += r;
    }
    return used;
}

int ct__ukgrid_parse(const char *body, size_t len, double now_unix_s, ct__iseries *measured, ct__iseries *forecast,
                     char *why, size_t whylen) {
    json_t *root = ct__provider_json_parse(body, len, UK_NAME, why, whylen);
    if (!root) return CT_EPARSE;
    const json_t *data = json_object_get(root, "data");
    int rc = 0, used = 0;
    if (!json_is_array(data) && !json_is_object(data)) {
        const json_t *err = json_object_get(root, "error");
        const json_t *msg = json_is_object(err) ? json_object_get(err, "message") : NULL;
        snprintf(why, whylen, UK_NAME ": no \"data\" in the answer%s%.160s%s", json_is_string(msg) ? " (" : "",
                 json_is_string(msg) ? json_string_value(msg) : "", json_is_string(msg) ? ")" : "");
        json_decref(root);
        return CT_EPARSE;
    }
    /* Regions hold their periods under their own "data"; national periods are direct. */
    const json_t *first = json_is_object(data) ? data : json_array_get(data, 0);
    int regional = first && json_object_get(first, "data") != NULL;
    if (regional) {
        if (json_is_object(data)) {
            used = add_periods(json_object_get(data, "data"), now_unix_s, measured, forecast);
        } else {
            size_t i;
            const json_t *region;
            json_array_foreach(data, i, region) {
                int r = add_periods(json_object_get(region, "data"), now_unix_s, measured, forecast);
                if (r < 0) {
                    used = r;
                    break;
                }
                used += r;
            }
        }
    } else {
        used = add_periods(data, now_unix_s, measured, forecast);
    }
    if (used < 0) {
        rc = CT_ENOMEM;
    } else if (used == 0) {
        snprintf(why, whylen, UK_NAME ": the answer has no usable intensity values");
        rc = CT_ENODATA;
    }
    ct__iseries_normalize(measured);
    ct__iseries_normalize(forecast);
    json_decref(root);
    return rc;
}
#endif

#if CT__HAVE_LIVE
#include "../http.h"

int ct__ukgrid_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why, size_t whylen) {
    char url[1024], pc[48] = "", from[32], to[32];
    const ct__location *loc = req->loc;
    if (loc->postcode[0] && ct__url_escape(loc->postcode, pc, sizeof pc)) {
        snprintf(why, whylen, UK_NAME ": bad postcode");
        return CT_EINVAL;
    }
    ct__strlcpy(out->provider, UK_NAME, sizeof out->provider);
    if (pc[0]) snprintf(out->area, sizeof out->area, "postcode %s", loc->postcode);
    else ct__strlcpy(out->area, "national", sizeof out->area);

    if (pc[0]) snprintf(url, sizeof url, "%s/regional/postcode/%s", base, pc);
    else snprintf(url, sizeof url, "%s/intensity", base);
    char *body = NULL;
    size_t blen = 0;
    int rc = ct__provider_get(UK_NAME, url, NULL, NULL, req->abort_flag, &body, &blen, NULL, why, whylen);
    if (!rc) {
        rc = ct__ukgrid_parse(body, blen, req->now_unix_s, &out->measured, &out->forecast, why, whylen);
        free(body);
    }
    if (rc) return rc;

    if (req->want_forecast) {
        double start = floor(req->now_unix_s / 1800.0) * 1800.0;
        ct__format_iso8601_minutes(start, from, sizeof from);
        ct__format_iso8601_minutes(start + UK_HORIZON_S, to, sizeof to);
        if (pc[0]) snprintf(url, sizeof url, "%s/regional/intensity/%s/%s/postcode/%s", base, from, to, pc);
        else snprintf(url, sizeof url, "%s/intensity/%s/fw48h", base, from);
        char sub[512];
        int frc = ct__provider_get(UK_NAME " forecast", url, NULL, NULL, req->abort_flag, &body, &blen, NULL, sub,
                                   sizeof sub);
        if (!frc) {
            /* The forecast call repeats the current period: keep the first answer's. */
            ct__iseries cur = {0};
            frc = ct__ukgrid_parse(body, blen, req->now_unix_s, &cur, &out->forecast, sub, sizeof sub);
            ct__iseries_free(&cur);
            free(body);
        }
        if (frc) ct__strlcpy(out->note, sub, sizeof out->note);
    }
    return 0;
}
#else
int ct__ukgrid_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why, size_t whylen) {
    (void)req;
    (void)base;
    (void)out;
    snprintf(why, whylen, UK_NAME ": built without libcurl and jansson");
    return CT_ENOTSUP;
}
#endif
