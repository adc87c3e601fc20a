/* Electricity Maps (api.electricitymap.org/v3): latest, history, forecast.
 * The key travels only in the auth-token header; it is scrubbed from every
 * message. The forecast is a paid feature: a 401/403 on it is remembered
 * (forecast_denied) and the latest value still serves. */
#include "providers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EM_NAME "Electricity Maps"
#define EM_STEP_S 3600.0 /* the service's values are hourly */

#if CT_HAVE_JANSSON
static int add_entry(const json_t *e, ct__iseries *out) {
    double g = ct__provider_json_number(e, "carbonIntensity");
    const json_t *dt = json_object_get(e, "datetime");
    double t;
    if (isnan(g) || !json_is_string(dt) || ct__parse_iso8601(json_string_value(dt), &t)) return 1; /* skipped */
    return ct__iseries_add(out, t, t + EM_STEP_S, g) ? -1 : 0;
}

int ct__em_parse_latest(const char *body, size_t len, ct__iseries *measured, char *zone, size_t zonelen, char *why,
                        size_t whylen) {
    json_t *root = ct__provider_json_parse(body, len, EM_NAME, why, whylen);
    if (!root) return CT_EPARSE;
    int rc = 0;
    if (!json_is_object(root)) {
        snprintf(why, whylen, EM_NAME ": answer is not a JSON object");
        rc = CT_EPARSE;
    } else {
        const json_t *z = json_object_get(root, "zone");
        if (zone && json_is_string(z)) ct__strlcpy(zone, json_string_value(z), zonelen);
        int r = add_entry(root, measured);
        if (r < 0) rc = CT_ENOMEM;
        else if (r > 0) {
            snprintf(why, whylen, EM_NAME ": no carbonIntensity/datetime in the latest value");
            rc = CT_ENODATA;
        }
    }
    json_decref(root);
    return rc;
}

int ct__em_parse_list(const char *body, size_t len, const char *list_key, ct__iseries *out, char *why, size_t whylen) {
    json_t *root = ct__provider_json_parse(body, len, EM_NAME, why, whylen);
    if (!root) return CT_EPARSE;
    const json_t *list = json_object_get(root, list_key);
    int rc = 0, added = 0;
    if (!json_is_array(list)) {
        snprintf(why, whylen, EM_NAME ": no \"%s\" list in the answer", list_key);
        rc = CT_EPARSE;
    } else {
        size_t i;
        const json_t *e;
        json_array_foreach(list, i, e) {
            int r = add_entry(e, out);
            if (r < 0) {
                rc = CT_ENOMEM;
                break;
            }
            if (r == 0) added++;
        }
        if (!rc && !added) {
            snprintf(why, whylen, EM_NAME ": the %s list has no usable values", list_key);
            rc = CT_ENODATA;
        }
    }
    json_decref(root);
    ct__iseries_normalize(out);
    return rc;
}
#endif

#if CT__HAVE_LIVE
#include "../http.h"

static int location_query(const ct__location *loc, char *buf, size_t len) {
    char esc[160];
    const char *zone = loc->zone[0] ? loc->zone : loc->country[0] ? loc->country : NULL;
    if (zone) {
        if (ct__url_escape(zone, esc, sizeof esc)) return CT_EINVAL;
        snprintf(buf, len, "zone=%s", esc);
    } else if (isfinite(loc->lat) && isfinite(loc->lon)) {
        snprintf(buf, len, "lat=%.4f&lon=%.4f", loc->lat, loc->lon);
    } else {
        return CT_EINVAL;
    }
    return 0;
}

int ct__em_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why, size_t whylen) {
    char q[200], url[1024];
    ct__secret *sec = req->key;
    if (!sec || !sec->key[0]) {
        snprintf(why, whylen, EM_NAME ": no API key");
        return CT_EINVAL;
    }
    if (location_query(req->loc, q, sizeof q)) {
        snprintf(why, whylen, EM_NAME ": no zone or coordinates to ask for");
        return CT_EINVAL;
    }
    /* The header is built in the key's own page and handed to libcurl as it
     * is (no copy on the heap or the stack). */
    snprintf(sec->header, sizeof sec->header, "auth-token: %s", sec->key);
    char *const headers[] = {sec->header, NULL};
    const char *key = sec->key;
    ct__strlcpy(out->provider, EM_NAME, sizeof out->provider);
    snprintf(out->area, sizeof out->area, "zone %s",
             req->loc->zone[0]      ? req->loc->zone
             : req->loc->country[0] ? req->loc->country
                                    : "at coordinates");

    char *body = NULL;
    size_t blen = 0;
    long status = 0;
    snprintf(url, sizeof url, "%s/carbon-intensity/latest?%s", base, q);
    int rc = ct__provider_get(EM_NAME, url, headers, key, req->abort_flag, &body, &blen, &status, why, whylen);
    if (!rc) {
        char zone[48] = "";
        rc = ct__em_parse_latest(body, blen, &out->measured, zone, sizeof zone, why, whylen);
        if (rc) ct__scrub_secret(why, whylen, key); /* a parse error may quote the body */
        if (!rc && zone[0]) snprintf(out->area, sizeof out->area, "zone %s", zone);
        free(body);
    }
    if (rc) goto out;

    char sub[512];
    if (req->want_history) {
        snprintf(url, sizeof url, "%s/carbon-intensity/history?%s", base, q);
        if (ct__provider_get(EM_NAME " history", url, headers, key, req->abort_flag, &body, &blen, &status, sub,
                             sizeof sub) == 0) {
            ct__em_parse_list(body, blen, "history", &out->measured, sub, sizeof sub);
            free(body);
        }
    }
    if (req->want_forecast) {
        snprintf(url, sizeof url, "%s/carbon-intensity/forecast?%s", base, q);
        int frc = ct__provider_get(EM_NAME " forecast", url, headers, key, req->abort_flag, &body, &blen, &status, sub,
                                   sizeof sub);
        if (frc == 0) {
            frc = ct__em_parse_list(body, blen, "forecast", &out->forecast, sub, sizeof sub);
            if (frc) ct__scrub_secret(sub, sizeof sub, key);
            free(body);
        } else if (status == 401 || status == 403) {
            out->forecast_denied = 1;
        }
        if (frc) ct__strlcpy(out->note, sub, sizeof out->note);
    }
    ct__iseries_normalize(&out->measured);
out:
    ct__explicit_zero(sec->header, sizeof sec->header);
    return rc;
}
#else
int ct__em_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why, size_t whylen) {
    (void)req;
    (void)base;
    (void)out;
    snprintf(why, whylen, EM_NAME ": built without libcurl and jansson");
    return CT_ENOTSUP;
}
#endif
