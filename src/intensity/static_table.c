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

/* ------------------------------------------------------------------ */
/* Country names and codes (data/iso3166-countries.csv: ISO 3166-1     */
/* alpha-2, alpha-3 and English names as kept by Debian's iso-codes).  */
/* ------------------------------------------------------------------ */
#define CT__NAME_MAX 96

/* Lower-case ASCII letters and digits, other bytes >= 0x80 kept as they are
 * (UTF-8 letters), everything else dropped: "Untied-Kingdom " -> "untiedkingdom". */
static size_t norm_name(const char *s, size_t n, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && s[i] && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') out[k++] = (char)(c + 32);
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) out[k++] = (char)c;
    }
    out[k] = '\0';
    return k;
}

/* Optimal string alignment distance (edits and adjacent swaps), capped inputs. */
static int osa_distance(const char *a, size_t na, const char *b, size_t nb) {
    int d0[CT__NAME_MAX + 1], d1[CT__NAME_MAX + 1], d2[CT__NAME_MAX + 1];
    int *pp = d0, *p = d1, *c = d2;
    for (size_t j = 0; j <= nb; j++) p[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        c[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = p[j] + 1;
            if (c[j - 1] + 1 < v) v = c[j - 1] + 1;
            if (p[j - 1] + cost < v) v = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v) v = pp[j - 2] + 1;
            c[j] = v;
        }
        int *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[nb];
}

/* Codes that ISO 3166 reserves for a country under another code: a near miss, not a code. */
static const struct {
    const char *code, *means, *name;
} reserved_codes[] = {{"UK", "GB", "United Kingdom"}, {"EL", "GR", "Greece"}};

int ct__country_resolve(const char *text, char a2[3], char *msg, size_t len) {
    a2[0] = '\0';
    char shown[64];
    ct__printable(text ? text : "", shown, sizeof shown);
    char in[CT__NAME_MAX];
    size_t nin = text && strlen(text) < sizeof in ? norm_name(text, strlen(text), in, sizeof in) : 0;
    /* Best near miss so far (names only; codes are too short to guess from). */
    int best = 1 + (int)(nin / 4 > 1 ? nin / 4 : 1);
    char best_a2[3] = "", best_name[CT__NAME_MAX] = "";
    const char *p = strchr(ct__data_iso3166_csv, '\n');
    while (nin > 0 && p && *++p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        /* alpha-2,alpha-3,names (names ';'-separated, the field quoted when it holds a comma) */
        if (n > 7 && p[2] == ',' && p[6] == ',') {
            char c2[3] = {(char)(p[0] | 32), (char)(p[1] | 32), 0},
                 c3[4] = {(char)(p[3] | 32), (char)(p[4] | 32), (char)(p[5] | 32), 0};
            int hit = (nin == 2 && memcmp(in, c2, 2) == 0) || (nin == 3 && memcmp(in, c3, 3) == 0);
            const char *q = p + 7, *end = p + n;
            if (q < end && *q == '"') q++, end = end[-1] == '"' ? end - 1 : end;
            while (!hit && q < end) {
                const char *semi = memchr(q, ';', (size_t)(end - q));
                const char *ne = semi ? semi : end;
                char nm[CT__NAME_MAX];
                size_t nn = norm_name(q, (size_t)(ne - q), nm, sizeof nm);
                if (nn == nin && memcmp(nm, in, nn) == 0) {
                    hit = 1;
                } else if (nin > 3 && nn > 0 && nn < CT__NAME_MAX - 1) {
                    int d = osa_distance(in, nin, nm, nn);
                    if (d < best) {
                        best = d;
                        best_a2[0] = p[0], best_a2[1] = p[1], best_a2[2] = '\0';
                        size_t l = (size_t)(ne - q) < sizeof best_name ? (size_t)(ne - q) : sizeof best_name - 1;
                        memcpy(best_name, q, l);
                        best_name[l] = '\0';
                    }
                }
                q = ne + 1;
            }
            if (hit) {
                a2[0] = p[0], a2[1] = p[1], a2[2] = '\0';
                return 0;
            }
        }
        if (!e) break;
        p = e;
    }
    for (size_t i = 0; nin == 2 && i < sizeof reserved_codes / sizeof reserved_codes[0]; i++)
        if ((in[0] & ~32) == reserved_codes[i].code[0] && (in[1] & ~32) == reserved_codes[i].code[1]) {
            ct__strlcpy(best_a2, reserved_codes[i].means, sizeof best_a2);
            ct__strlcpy(best_name, reserved_codes[i].name, sizeof best_name);
        }
    if (best_a2[0])
        snprintf(msg, len,
                 "unknown country \"%s\": did you mean \"%s\" (%s)? Give an ISO 3166-1 alpha-2 or alpha-3 code or "
                 "the English name, such as \"DK\", \"DNK\" or \"Denmark\"",
                 shown, best_name, best_a2);
    else
        snprintf(msg, len,
                 "unknown country \"%s\": give an ISO 3166-1 alpha-2 or alpha-3 code or the English name, such as "
                 "\"DK\", \"DNK\" or \"Denmark\"",
                 shown);
    return CT_EINVAL;
}
