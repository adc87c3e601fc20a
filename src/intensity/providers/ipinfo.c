/* IP geolocation (ipinfo.io): only when the user gave no location and allows
 * the network. Gives a country (and coordinates) so the right table or
 * service can serve; a location given by the user always wins. */
#include "providers.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IPINFO_NAME "IP geolocation (ipinfo.io)"

#if CT_HAVE_JANSSON
int ct__ipinfo_parse(const char *body, size_t len, ct__location *loc, char *why, size_t whylen) {
    json_t *root = ct__provider_json_parse(body, len, IPINFO_NAME, why, whylen);
    if (!root) return CT_EPARSE;
    const json_t *c = json_object_get(root, "country");
    const char *cs = json_is_string(c) ? json_string_value(c) : NULL;
    int rc = 0;
    if (!cs || strlen(cs) != 2 || !isalpha((unsigned char)cs[0]) || !isalpha((unsigned char)cs[1])) {
        snprintf(why, whylen, IPINFO_NAME ": no country in the answer");
        rc = CT_ENODATA;
    } else {
        loc->country[0] = (char)toupper((unsigned char)cs[0]);
        loc->country[1] = (char)toupper((unsigned char)cs[1]);
        loc->country[2] = '\0';
        const json_t *l = json_object_get(root, "loc");
        double lat, lon;
        if (json_is_string(l) && sscanf(json_string_value(l), "%lf,%lf", &lat, &lon) == 2 && fabs(lat) <= 90 &&
            fabs(lon) <= 180) {
            loc->lat = lat;
            loc->lon = lon;
        }
        snprintf(loc->origin, sizeof loc->origin, "country %s from IP geolocation", loc->country);
    }
    json_decref(root);
    return rc;
}
#endif

#if CT__HAVE_LIVE
int ct__ipinfo_locate(const atomic_int *abort_flag, ct__location *loc, char *why, size_t whylen) {
    const char *env = ct__env(CT__ENV_IPINFO_URL);
    char base[512], url[600];
    ct__strlcpy(base, env ? env : "https://ipinfo.io", sizeof base);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') base[--n] = '\0';
    snprintf(url, sizeof url, "%s/json", base);
    char *body = NULL;
    size_t blen = 0;
    int rc = ct__provider_get(IPINFO_NAME, url, NULL, NULL, abort_flag, &body, &blen, NULL, why, whylen);
    if (rc) return rc;
    rc = ct__ipinfo_parse(body, blen, loc, why, whylen);
    free(body);
    return rc;
}
#else
int ct__ipinfo_locate(const atomic_int *abort_flag, ct__location *loc, char *why, size_t whylen) {
    (void)abort_flag;
    (void)loc;
    snprintf(why, whylen, IPINFO_NAME ": built without libcurl and jansson");
    return CT_ENOTSUP;
}
#endif
