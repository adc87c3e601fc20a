/* Static tables embedded from data/ for the intensity layer (the CPU tables
 * belong to sources/): per-country carbon intensity (Our World
 * in Data), cloud regions (Google Cloud via CodeCarbon), car equivalents (EEA).
 * The CSVs are parsed on lookup: a lookup happens once per tracker. */
#include "intensity/intensity.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Splits one CSV line (no quoted commas in our files) into at most max fields,
 * in place. Returns the number of fields. */
static int split_csv(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

/* Calls fn for every data line (header skipped) of an embedded CSV. fn returns
 * non-zero to stop; that value is returned. */
static int each_row(const char *csv, int max_fields, int (*fn)(char **f, int n, void *u), void *u) {
    const char *p = strchr(csv, '\n');
    if (!p) return 0;
    p++;
    char line[512];
    char *fields[16];
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0 && p[n - 1] == '\r') n--;
        if (n < sizeof line) {
            memcpy(line, p, n);
            line[n] = '\0';
            int nf = split_csv(line, fields, max_fields > 16 ? 16 : max_fields);
            int r = fn(fields, nf, u);
            if (r) return r;
        }
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

struct country_q {
    const char *code;
    double value;
    int year;
    char *name;
    size_t namelen;
};

static int country_row(char **f, int n, void *u) {
    struct country_q *q = u;
    /* alpha-2,Entity,Code,Year,Carbon intensity of electricity (gCO2/kWh) */
    if (n < 5 || strcasecmp(f[0], q->code) != 0) return 0;
    char *end = NULL;
    double v = strtod(f[4], &end);
    if (end == f[4] || !(v >= 0)) return 0;
    q->value = v;
    q->year = atoi(f[3]);
    if (q->name) ct__strlcpy(q->name, f[1], q->namelen);
    return 1;
}

int ct__country_intensity(const char *alpha2, double *g_per_kwh, int *year, char *name, size_t namelen) {
    if (!alpha2 || strlen(alpha2) != 2) return CT_ENODATA;
    struct country_q q = {alpha2, 0, 0, name, namelen};
    if (!each_row(ct__data_country_csv, 5, country_row, &q)) return CT_ENODATA;
    *g_per_kwh = q.value;
    if (year) *year = q.year;
    return 0;
}

/* alpha-3 to alpha-2 through the country table (its Code column). */
struct a3_q {
    const char *a3;
    char a2[3];
};
static int a3_row(char **f, int n, void *u) {
    struct a3_q *q = u;
    if (n < 3 || strcasecmp(f[2], q->a3) != 0) return 0;
    ct__strlcpy(q->a2, f[0], sizeof q->a2);
    return 1;
}

struct cloud_q {
    const char *provider, *region;
    double value;
    char a3[8];
};
static int cloud_row(char **f, int n, void *u) {
    struct cloud_q *q = u;
    /* provider,providerName,offsetRatio,region,regionName,country_name,countryIsoCode,state,city,impact,... */
    if (n < 10 || strcasecmp(f[0], q->provider) != 0 || strcasecmp(f[3], q->region) != 0) return 0;
    char *end = NULL;
    double v = strtod(f[9], &end);
    if (end == f[9] || !(v >= 0)) return 0;
    q->value = v;
    ct__strlcpy(q->a3, f[6], sizeof q->a3);
    return 1;
}

int ct__cloud_region_intensity(const char *provider, const char *region, double *g_per_kwh, char *country2,
                               size_t c2len) {
    if (!provider || !region) return CT_ENODATA;
    struct cloud_q q = {provider, region, 0, {0}};
    if (!each_row(ct__data_cloud_csv, 12, cloud_row, &q)) return CT_ENODATA;
    *g_per_kwh = q.value;
    if (country2) {
        struct a3_q a = {q.a3, {0}};
        each_row(ct__data_country_csv, 5, a3_row, &a);
        ct__strlcpy(country2, a.a2, c2len);
    }
    return 0;
}

struct car_q {
    double value;
    char source[200];
};
static int car_row(char **f, int n, void *u) {
    struct car_q *q = u;
    /* name,gco2eq_per_unit,unit,source: the newest row wins (file is in year order) */
    if (n < 4) return 0;
    char *end = NULL;
    double v = strtod(f[1], &end);
    if (end == f[1] || !(v > 0)) return 0;
    q->value = v;
    ct__strlcpy(q->source, f[3], sizeof q->source);
    return 0;
}

static struct car_q car_cached;
static pthread_once_t car_once = PTHREAD_ONCE_INIT;

static void car_load(void) {
    each_row(ct__data_co2eq_csv, 4, car_row, &car_cached);
    if (!(car_cached.value > 0)) {
        car_cached.value = 107.5;
        ct__strlcpy(car_cached.source, "EEA CO2 performance of new passenger cars in the EU (2020)",
                    sizeof car_cached.source);
    }
}

double ct__car_g_per_km(const char **source) {
    pthread_once(&car_once, car_load);
    if (source) *source = car_cached.source;
    return car_cached.value;
}

/* Public (carbontracker.h); here, beside its figure, so that output/ formats
 * the "equivalent to" line without including the intensity layer. */
double ct_car_km(double co2eq_g) { return co2eq_g / ct__car_g_per_km(NULL); }
