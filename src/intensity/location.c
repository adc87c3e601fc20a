/* Where the training runs and which key it may use: options first, then
 * their environment variables. Never the network (IP geolocation is in
 * providers/ipinfo.c and runs on the fetch thread). */
#include "providers/providers.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 1024

int ct__offline(const ct_config *cfg) {
    if (cfg && cfg->offline) return 1;
    const char *e = ct__env(CT__ENV_OFFLINE);
    return e && strcmp(e, "0") != 0;
}

static const char *opt(const char *field, ct__env_id env) { return field ? field : ct__env(env); }

static int parse_degrees(const char *s, double lim, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || fabs(v) > lim) return CT_EINVAL;
    *out = v;
    return 0;
}

/* UK outward code: the part before the space of a full postcode; letters then
 * digits, optionally one more letter or digit (SW1, RG10, EC1A). */
static int outward_postcode(const char *in, char *out, size_t len) {
    size_t n = 0;
    const char *p = in;
    while (*p == ' ') p++;
    for (; *p && *p != ' '; p++) {
        if (!isalnum((unsigned char)*p) || n + 1 >= len || n >= 4) return CT_EINVAL;
        out[n++] = (char)toupper((unsigned char)*p);
    }
    out[n] = '\0';
    if (n < 2 || !isalpha((unsigned char)out[0])) return CT_EINVAL;
    int digit = 0;
    for (size_t i = 0; i < n; i++) digit |= isdigit((unsigned char)out[i]) != 0;
    return digit ? 0 : CT_EINVAL;
}

static int valid_zone(const char *z) {
    size_t n = strlen(z);
    if (n < 2 || n > 40) return 0;
    for (const char *p = z; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') return 0;
    return isalpha((unsigned char)z[0]) && isalpha((unsigned char)z[1]);
}

static void set_country(ct__location *loc, const char *two) {
    loc->country[0] = (char)toupper((unsigned char)two[0]);
    loc->country[1] = (char)toupper((unsigned char)two[1]);
    loc->country[2] = '\0';
}

int ct__location_resolve(const ct_config *cfg, ct__location *loc, char *why, size_t whylen) {
    memset(loc, 0, sizeof *loc);
    loc->lat = loc->lon = NAN;
    loc->cloud_g_per_kwh = -1;
    const char *country = opt(cfg->country, CT__ENV_COUNTRY);
    const char *zone = opt(cfg->zone, CT__ENV_ZONE);
    const char *postcode = opt(cfg->postcode, CT__ENV_POSTCODE);
    const char *cprov = opt(cfg->cloud_provider, CT__ENV_CLOUD_PROVIDER);
    const char *cregion = opt(cfg->cloud_region, CT__ENV_CLOUD_REGION);

    if (country) {
        char a2[3]; /* alpha-2, alpha-3 or English name, as the tracker's options (static_table.c) */
        if (ct__country_resolve(country, a2, why, whylen) != 0) return CT_EINVAL;
        set_country(loc, a2);
        snprintf(loc->origin, sizeof loc->origin, "country %s", loc->country);
    }
    if (zone) {
        if (!valid_zone(zone)) {
            snprintf(why, whylen, "zone must be an Electricity Maps zone such as \"DE\" or \"DK-DK1\" (got \"%.40s\")",
                     zone);
            return CT_EINVAL;
        }
        ct__strlcpy(loc->zone, zone, sizeof loc->zone);
        for (char *p = loc->zone; *p; p++) *p = (char)toupper((unsigned char)*p);
        if (!loc->country[0]) set_country(loc, loc->zone);
        snprintf(loc->origin, sizeof loc->origin, "zone %s", loc->zone);
    }
    if (postcode) {
        if (outward_postcode(postcode, loc->postcode, sizeof loc->postcode)) {
            snprintf(why, whylen, "postcode must be a UK outward postcode such as \"RG10\" or \"SW1\" (got \"%.40s\")",
                     postcode);
            return CT_EINVAL;
        }
        if (loc->country[0] && strcmp(loc->country, "GB") != 0) {
            snprintf(why, whylen, "a UK postcode (%s) was given with country %s", loc->postcode, loc->country);
            return CT_EINVAL;
        }
        set_country(loc, "GB");
        snprintf(loc->origin, sizeof loc->origin, "postcode %s", loc->postcode);
    }

    double lat = cfg->latitude, lon = cfg->longitude;
    const char *elat = ct__env(CT__ENV_LATITUDE), *elon = ct__env(CT__ENV_LONGITUDE);
    if (isnan(lat) && elat && parse_degrees(elat, 90, &lat)) {
        snprintf(why, whylen, "CT_LATITUDE must be degrees between -90 and 90 (got \"%.40s\")", elat);
        return CT_EINVAL;
    }
    if (isnan(lon) && elon && parse_degrees(elon, 180, &lon)) {
        snprintf(why, whylen, "CT_LONGITUDE must be degrees between -180 and 180 (got \"%.40s\")", elon);
        return CT_EINVAL;
    }
    if (isnan(lat) != isnan(lon)) {
        snprintf(why, whylen, "latitude and longitude must be given together");
        return CT_EINVAL;
    }
    if (!isnan(lat)) {
        if (!(fabs(lat) <= 90) || !(fabs(lon) <= 180)) {
            snprintf(why, whylen, "latitude must be within [-90, 90] and longitude within [-180, 180]");
            return CT_EINVAL;
        }
        loc->lat = lat;
        loc->lon = lon;
        if (!loc->origin[0]) snprintf(loc->origin, sizeof loc->origin, "coordinates %.4f,%.4f", lat, lon);
    }

    if (cprov || cregion) {
        if (!cprov || !cregion) {
            snprintf(why, whylen, "a cloud location needs both a provider and a region (e.g. gcp:europe-west1)");
            return CT_EINVAL;
        }
        char c2[3] = "";
        double g;
        if (ct__cloud_region_intensity(cprov, cregion, &g, c2, sizeof c2) != 0) {
            snprintf(why, whylen, "unknown cloud region %.24s:%.48s (see data/cloud-region-intensity.csv)", cprov,
                     cregion);
            return CT_EINVAL;
        }
        ct__strlcpy(loc->cloud_provider, cprov, sizeof loc->cloud_provider);
        ct__strlcpy(loc->cloud_region, cregion, sizeof loc->cloud_region);
        loc->cloud_g_per_kwh = g;
        if (!loc->country[0] && strlen(c2) == 2) set_country(loc, c2);
        if (!loc->origin[0])
            snprintf(loc->origin, sizeof loc->origin, "cloud %s:%s", loc->cloud_provider, loc->cloud_region);
    }
    loc->given = loc->origin[0] != '\0';
    return 0;
}

/* A key goes into an HTTP header: printable ASCII without spaces only. */
static int valid_key(const char *k) {
    if (!*k || strlen(k) > 256) return 0;
    for (const char *p = k; *p; p++)
        if (*p <= 32 || *p >= 127) return 0;
    return 1;
}

static int key_from_file(const char *path, int must_exist, char *key, size_t keylen, char *why, size_t whylen) {
    /* Never blocks (a FIFO named as the key file must not hold up
     * ct_tracker_new) and keeps only a regular file: base's ct__open_regular. */
    int fd = ct__open_regular(path, 0, NULL);
    if (fd < 0) {
        int e = errno;
        if (!must_exist && e == ENOENT) return CT_ENODATA;
        if (e == EINVAL || e == EISDIR)
            snprintf(why, whylen, "Electricity Maps key file %s is not a regular file", path);
        else snprintf(why, whylen, "Electricity Maps key file %s cannot be read: %s", path, strerror(e));
        return CT_EINVAL;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "Electricity Maps key file %s cannot be read: %s", path, strerror(errno));
        rc = CT_EINVAL;
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(why, whylen,
                 "Electricity Maps key file %s is accessible by group or others (mode %04o); refusing to use it "
                 "(run: chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        rc = CT_EINVAL;
    } else {
        char buf[KEY_FILE_MAX + 1];
        ssize_t n = read(fd, buf, KEY_FILE_MAX);
        if (n < 0) {
            snprintf(why, whylen, "Electricity Maps key file %s cannot be read: %s", path, strerror(errno));
            rc = CT_EINVAL;
        } else {
            buf[n] = '\0';
            char *s = buf, *e = buf + n;
            while (s < e && isspace((unsigned char)*s)) s++;
            while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
            if (!valid_key(s) || strlen(s) + 1 > keylen) {
                snprintf(why, whylen, "Electricity Maps key file %s does not hold one key on one line", path);
                rc = CT_EINVAL;
            } else {
                ct__strlcpy(key, s, keylen);
            }
            ct__explicit_zero(buf, sizeof buf); /* a plain memset of a dead buffer may be dropped */
        }
    }
    close(fd);
    return rc;
}

int ct__key_resolve(const ct_config *cfg, char *key, size_t keylen, char *why, size_t whylen) {
    key[0] = '\0';
    const char *k = cfg->electricitymaps_key ? cfg->electricitymaps_key : ct__env(CT__ENV_ELECTRICITYMAPS_KEY);
    if (k) {
        if (!valid_key(k) || strlen(k) + 1 > keylen) {
            snprintf(why, whylen, "the Electricity Maps key is not a single printable token");
            return CT_EINVAL;
        }
        ct__strlcpy(key, k, keylen);
        return 0;
    }
    const char *path = cfg->electricitymaps_key_file ? cfg->electricitymaps_key_file
                                                     : ct__env(CT__ENV_ELECTRICITYMAPS_KEY_FILE);
    if (path) return key_from_file(path, 1, key, keylen, why, whylen);
    char def[1024];
    const char *xdg = ct__getenv("XDG_CONFIG_HOME"), *home = ct__getenv("HOME");
    if (xdg) snprintf(def, sizeof def, "%s/carbontracker/electricitymaps.key", xdg);
    else if (home) snprintf(def, sizeof def, "%s/.config/carbontracker/electricitymaps.key", home);
    else return CT_ENODATA;
    return key_from_file(def, 0, key, keylen, why, whylen);
}

int ct__key_resolve_secret(const ct_config *cfg, ct__secret **out, char *why, size_t whylen) {
    *out = NULL;
    ct__secret *s = ct__secret_new();
    if (!s) {
        snprintf(why, whylen, "out of memory for the Electricity Maps key");
        return CT_ENOMEM;
    }
    int rc = ct__key_resolve(cfg, s->key, sizeof s->key, why, whylen);
    if (rc) {
        ct__secret_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
