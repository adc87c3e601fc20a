/* Energi Data Service (Denmark; no key): CO2Emis (measured, 5-minute) for
 * now, CO2EmisProg (prognosis) for the forecast. DK1 is western Denmark, DK2
 * eastern; without a price area both are asked for and averaged per time. */
#include "providers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EDS_NAME "Energi Data Service"
#define EDS_STEP_S 300.0

const char *ct__energidata_area(const ct__location *loc) {
    if (strcmp(loc->zone, "DK-DK1") == 0 || strcmp(loc->zone, "DK1") == 0) return "DK1";
    if (strcmp(loc->zone, "DK-DK2") == 0 || strcmp(loc->zone, "DK2") == 0) return "DK2";
    /* The Great Belt (about 11 degrees east) separates the two price areas;
     * Bornholm (east of 14.5) belongs to DK2. */
    if (isfinite(loc->lon) && isfinite(loc->lat)) return loc->lon < 11.0 ? "DK1" : "DK2";
    return NULL;
}

#if CT_HAVE_JANSSON
int ct__energidata_parse(const char *body, size_t len, const char *area, ct__iseries *out, char *why, size_t whylen) {
    json_t *root = ct__provider_json_parse(body, len, EDS_NAME, why, whylen);
    if (!root) return CT_EPARSE;
    const json_t *records = json_object_get(root, "records");
    int rc = 0, used = 0;
    if (!json_is_array(records)) {
        snprintf(why, whylen, EDS_NAME ": no \"records\" list in the answer");
        json_decref(root);
        return CT_EPARSE;
    }
    size_t i;
    const json_t *r;
    json_array_foreach(records, i, r) {
        const json_t *pa = json_object_get(r, "PriceArea"), *ts = json_object_get(r, "Minutes5UTC");
        double g = ct__provider_json_number(r, "CO2Emission"), t;
        if (!json_is_string(pa) || !json_is_string(ts) || isnan(g)) continue;
        const char *a = json_string_value(pa);
        if (area ? strcmp(a, area) != 0 : (strcmp(a, "DK1") != 0 && strcmp(a, "DK2") != 0)) continue;
        if (ct__parse_iso8601(json_string_value(ts), &t)) continue;
        if (ct__iseries_add(out, t, t + EDS_STEP_S, g)) {
            rc = CT_ENOMEM;
            break;
        }
        used++;
    }
    if (!rc && !used) {
        snprintf(why, whylen, EDS_NAME ": no usable CO2Emission values for %s", area ? area : "DK1/DK2");
        rc = CT_ENODATA;
    }
    ct__iseries_normalize(out);
    json_decref(root);
    return rc;
}
#endif

#if CT__HAVE_LIVE
#include "../http.h"

int ct__energidata_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why,
                         size_t whylen) {
    const char *area = ct__energidata_area(req->loc);
    char filter[128], url[1024];
    snprintf(filter, sizeof filter, "{\"PriceArea\":[%s]}",
             area ? (strcmp(area, "DK1") ? "\"DK2\"" : "\"DK1\"") : "\"DK1\",\"DK2\"");
    char fesc[256];
    ct__url_escape(filter, fesc, sizeof fesc);
    ct__strlcpy(out->provider, EDS_NAME, sizeof out->provider);
    ct__strlcpy(out->area, area ? area : "DK1+DK2", sizeof out->area);

    /* The newest hour of measurements (12 five-minute records per area). */
    snprintf(url, sizeof url, "%s/dataset/CO2Emis?filter=%s&sort=Minutes5UTC%%20DESC&limit=24", base, fesc);
    char *body = NULL;
    size_t blen = 0;
    int rc = ct__provider_get(EDS_NAME " CO2Emis", url, NULL, NULL, req->abort_flag, &body, &blen, NULL, why, whylen);
    if (!rc) {
        rc = ct__energidata_parse(body, blen, area, &out->measured, why, whylen);
        free(body);
    }
    if (rc) return rc;

    if (req->want_forecast) {
        snprintf(url, sizeof url, "%s/dataset/CO2EmisProg?start=now-PT1H&filter=%s&sort=Minutes5UTC%%20ASC&limit=2000",
                 base, fesc);
        char sub[512];
        int frc = ct__provider_get(EDS_NAME " CO2EmisProg", url, NULL, NULL, req->abort_flag, &body, &blen, NULL, sub,
                                   sizeof sub);
        if (!frc) {
            frc = ct__energidata_parse(body, blen, area, &out->forecast, sub, sizeof sub);
            free(body);
        }
        if (frc) ct__strlcpy(out->note, sub, sizeof out->note);
    }
    return 0;
}
#else
int ct__energidata_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why,
                         size_t whylen) {
    (void)req;
    (void)base;
    (void)out;
    snprintf(why, whylen, EDS_NAME ": built without libcurl and jansson");
    return CT_ENOTSUP;
}
#endif
