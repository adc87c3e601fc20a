/*
 * cpu_model.c - which processor this is and what it is rated for.
 *
 * Tables (embedded from data/, see data/README.md for sources and licences):
 *   cpu-specs.csv        quattor CPU templates: cpuinfo name, cores, threads, TDP, codename (Apache-2.0)
 *   cpu-cloud-parts.csv  cloud providers' custom parts and their microarchitecture (cited per row)
 *   cpu-tdp.csv          CodeCarbon's TDP table (MIT): name, TDP
 *   cpu-vcpu-power.csv   Cloud Carbon Footprint per-vCPU min/max W by microarchitecture (Apache-2.0)
 *
 * Names are matched after normalisation (normalise_model): lower case,
 * trademarks and the "@ 2.20GHz" tail dropped, the words cpu, processor,
 * intel, amd dropped, and the old spellings /proc/cpuinfo still shows
 * rewritten to the vendors' names: "i7 CPU 870" -> "i7-870", "i5 CPU M 560"
 * -> "i5-560m", "i7 CPU Q 740" -> "i7-740qm", "E31230" -> "e3-1230", "E7- 4850" -> "e7-4850",
 * "FX(tm)-8350" -> "fx-8350", "Core(TM)2 CPU 6320" -> "core 2 duo e6320".
 * A table name matches when it is the whole name or the longest table name
 * inside it at word boundaries, and only within one vendor: CodeCarbon's
 * AMD rows that are a bare number ("965", "6320") never match an Intel name.
 */
#include "sources/cpu_host.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const char ct__data_cpu_specs_csv[];
extern const char ct__data_cpu_cloud_csv[];
extern const char ct__data_cpu_vcpu_csv[];

#define NAME_LEN 160
#define MAX_FIELDS 8

/* ------------------------------------------------------------------ */
/* Normalisation                                                        */
/* ------------------------------------------------------------------ */

static int is_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

/* Length of a trademark mark at s ("(r)", "(tm)", "(c)", UTF-8 (R) and TM), 0 none. */
static size_t mark_len(const char *s) {
    static const char *const marks[] = {"(r)", "(tm)", "(c)"};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
        if (strncasecmp(s, marks[m], strlen(marks[m])) == 0) return strlen(marks[m]);
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] == 0xC2 && u[1] == 0xAE) return 2;
    if (u[0] == 0xE2 && u[1] == 0x84 && u[2] == 0xA2) return 3;
    return 0;
}

static void normalise_model(const char *in, char *out, size_t outlen) {
    char tmp[256];
    size_t k = 0;
    if (outlen == 0) return;
    out[0] = '\0';
    for (size_t i = 0; in[i] && k + 1 < sizeof tmp; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '@') break; /* frequency tail */
        size_t ml = mark_len(in + i);
        if (ml) {
            i += ml - 1;
            /* "FX(tm)-8350": the mark joins; "Core(TM)2", "Xeon(R) CPU": a blank */
            if (in[i + 1] != '-') tmp[k++] = ' ';
            continue;
        }
        tmp[k++] = (char)(isspace(c) ? ' ' : tolower(c));
    }
    tmp[k] = '\0';

    /* tokens, with the dropped words removed and "e7- 4850" joined */
    char *tok[48];
    int nt = 0;
    char *save = NULL;
    static const char *const drop[] = {"cpu", "processor", "intel", "amd"};
    for (char *t = strtok_r(tmp, " ", &save); t && nt < 48; t = strtok_r(NULL, " ", &save)) {
        int skip = 0;
        for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
            if (strcmp(t, drop[d]) == 0) skip = 1;
        if (!skip) tok[nt++] = t;
    }
    char words[48][64];
    int nw = 0;
    for (int i = 0; i < nt && nw < 48; i++) {
        const char *t = tok[i];
        size_t tl = strlen(t);
        char *w = words[nw];
        if (tl > 0 && t[tl - 1] == '-' && i + 1 < nt) { /* "e7-" "4850" */
            snprintf(w, 64, "%s%s", t, tok[i + 1]);
            i++;
        } else if ((!strcmp(t, "i3") || !strcmp(t, "i5") || !strcmp(t, "i7") || !strcmp(t, "i9")) && i + 1 < nt) {
            /* "i7 870" -> "i7-870"; "i5 m 560" -> "i5-560m"; "i7 q 740" -> "i7-740qm" */
            if (strlen(tok[i + 1]) == 1 && isalpha((unsigned char)tok[i + 1][0]) && i + 2 < nt &&
                isdigit((unsigned char)tok[i + 2][0])) {
                snprintf(w, 64, "%s-%s%s", t, tok[i + 2], tok[i + 1][0] == 'q' ? "qm" : tok[i + 1]);
                i += 2;
            } else if (isdigit((unsigned char)tok[i + 1][0])) {
                snprintf(w, 64, "%s-%s", t, tok[i + 1]);
                i++;
            } else {
                snprintf(w, 64, "%s", t);
            }
        } else if (t[0] == 'e' && (t[1] == '3' || t[1] == '5' || t[1] == '7') && tl >= 6 &&
                   isdigit((unsigned char)t[2]) && isdigit((unsigned char)t[3]) && isdigit((unsigned char)t[4]) &&
                   isdigit((unsigned char)t[5])) {
            snprintf(w, 64, "%.2s-%s", t, t + 2); /* "e31230" -> "e3-1230" */
        } else if (!strcmp(t, "core") && i + 2 < nt && nw + 4 <= 48 && !strcmp(tok[i + 1], "2") &&
                   strlen(tok[i + 2]) == 4 && is_digits(tok[i + 2])) {
            /* "Core(TM)2 CPU 6320": the Core 2 Duo E6320 */
            snprintf(w, 64, "core");
            snprintf(words[++nw], 64, "2");
            snprintf(words[++nw], 64, "duo");
            snprintf(words[++nw], 64, "e%s", tok[i + 2]);
            i += 2;
        } else {
            snprintf(w, 64, "%s", t);
        }
        nw++;
    }
    size_t o = 0;
    for (int i = 0; i < nw; i++) {
        size_t wl = strlen(words[i]);
        if (o + wl + (o ? 1 : 0) + 1 > outlen) break;
        if (o) out[o++] = ' ';
        memcpy(out + o, words[i], wl);
        o += wl;
    }
    out[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* Vendors                                                              */
/* ------------------------------------------------------------------ */
enum { V_UNKNOWN = 0, V_INTEL, V_AMD, V_ARM };

static int vendor_of(const char *name) {
    static const char *const amd[] = {"amd",     "opteron", "athlon", "phenom", "ryzen", "epyc",
                                      "sempron", "turion",  "fx-",    "fx(",    "duron", "radeon"};
    static const char *const intel[] = {"intel", "xeon", "pentium", "celeron", "core(", "core i", "core 2", "atom"};
    static const char *const arm[] = {"ampere", "neoverse", "graviton", "cortex"};
    for (size_t i = 0; i < sizeof amd / sizeof amd[0]; i++)
        if (strcasestr(name, amd[i])) return V_AMD;
    for (size_t i = 0; i < sizeof intel / sizeof intel[0]; i++)
        if (strcasestr(name, intel[i])) return V_INTEL;
    for (size_t i = 0; i < sizeof arm / sizeof arm[0]; i++)
        if (strcasestr(name, arm[i])) return V_ARM;
    return V_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* CSV tables                                                           */
/* ------------------------------------------------------------------ */

/* Next CSV record: up to MAX_FIELDS fields (quotes handled), each cut to
 * NAME_LEN. Returns the position after the record, NULL at the end. */
static const char *csv_row(const char *p, char f[MAX_FIELDS][NAME_LEN], int *nf) {
    *nf = 0;
    if (!p || !*p) return NULL;
    for (;;) {
        size_t k = 0;
        char *dst = *nf < MAX_FIELDS ? f[*nf] : NULL;
        if (*p == '"') {
            p++;
            while (*p) {
                if (*p == '"') {
                    if (p[1] == '"') {
                        if (dst && k + 1 < NAME_LEN) dst[k++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (dst && k + 1 < NAME_LEN) dst[k++] = *p;
                p++;
            }
        }
        while (*p && *p != ',' && *p != '\n' && *p != '\r') {
            if (dst && k + 1 < NAME_LEN) dst[k++] = *p;
            p++;
        }
        if (dst) {
            dst[k] = '\0';
            (*nf)++;
        }
        if (*p == ',') {
            p++;
            continue;
        }
        break;
    }
    while (*p && *p != '\n') p++;
    if (*p == '\n') p++;
    return p;
}

/* Is needle found in hay at word boundaries (space or string ends)? */
static int contains_words(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    if (nl == 0) return 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        int start_ok = p == hay || p[-1] == ' ';
        int end_ok = p[nl] == '\0' || p[nl] == ' ';
        if (start_ok && end_ok) return 1;
    }
    return 0;
}

/* Cheap pre-filter (normalising every one of ~6,000 table names costs a few
 * ms): the first plain token of a table name that holds a digit (the model
 * number: "6326", "E5-2690", "7B13", "i7-965"), normalised alone, must be in
 * the wanted name, since a matching name's tokens all are. A name without
 * such a token is left to the full comparison. */
static int number_token_may_match(const char *name, const char *want) {
    const char *p = name;
    while (*p && *p != '@') {
        while (*p == ' ' || *p == '\t') p++;
        const char *start = p;
        int digit = 0, plain = 1;
        while (*p && *p != ' ' && *p != '\t' && *p != '@') {
            unsigned char c = (unsigned char)*p;
            if (isdigit(c)) digit = 1;
            if (!isalnum(c) && c != '-' && c != '+') plain = 0;
            p++;
        }
        size_t len = (size_t)(p - start);
        if (!digit || !plain || len == 0) continue;
        char tok[64];
        if (len + 2 >= sizeof tok) return 1;
        size_t k = 0;
        for (size_t i = 0; i < len; i++) {
            tok[k++] = (char)tolower((unsigned char)start[i]);
            /* the one rewrite inside a token: "e31230" -> "e3-1230" */
            if (i == 1 && len >= 6 && tok[0] == 'e' && (tok[1] == '3' || tok[1] == '5' || tok[1] == '7') &&
                isdigit((unsigned char)start[2]) && isdigit((unsigned char)start[5]))
                tok[k++] = '-';
        }
        tok[k] = '\0';
        return strstr(want, tok) != NULL;
    }
    return 1;
}

typedef struct table_hit {
    char f[MAX_FIELDS][NAME_LEN];
    int nf;
    size_t len;
    int exact;
} table_hit;

/* Finds model in an embedded table (name in the first field). rows_vendor:
 * the vendor of rows whose name does not say (CodeCarbon's bare AMD
 * numbers), V_UNKNOWN to take them as any. 1 when found. */
static int table_find(const char *csv, const char *model, int rows_vendor, table_hit *hit) {
    char want[256], norm[256];
    normalise_model(model, want, sizeof want);
    if (want[0] == '\0') return 0;
    int want_vendor = vendor_of(model);
    const char *p = strchr(csv, '\n');
    if (!p) return 0;
    p++;
    char f[MAX_FIELDS][NAME_LEN];
    int nf;
    memset(hit, 0, sizeof *hit);
    while (p && *p) {
        /* the name alone first (up to the first unquoted comma): most rows stop here */
        char name[NAME_LEN];
        size_t k = 0;
        const char *q = p;
        if (*q == '"') {
            p = csv_row(p, f, &nf); /* quoted names are rare: the full parse */
            if (nf < 1 || !number_token_may_match(f[0], want)) continue;
        } else {
            while (*q && *q != ',' && *q != '\n' && k + 1 < sizeof name) name[k++] = *q++;
            name[k] = '\0';
            if (!number_token_may_match(name, want)) {
                const char *nl = strchr(q, '\n');
                p = nl ? nl + 1 : NULL;
                continue;
            }
            p = csv_row(p, f, &nf);
        }
        if (nf < 1 || !f[0][0]) continue;
        int rv = vendor_of(f[0]);
        if (rv == V_UNKNOWN) rv = rows_vendor;
        if (want_vendor != V_UNKNOWN && rv != V_UNKNOWN && rv != want_vendor) continue;
        normalise_model(f[0], norm, sizeof norm);
        if (norm[0] == '\0') continue;
        size_t nl = strlen(norm);
        int exact = strcmp(norm, want) == 0;
        if (exact || (nl > hit->len && !hit->exact && contains_words(want, norm))) {
            memcpy(hit->f, f, sizeof f);
            hit->nf = nf;
            hit->len = nl;
            hit->exact = exact;
            if (exact) return 1;
        }
    }
    return hit->len > 0;
}

int ct__cpu_tdp_lookup(const char *model, double *tdp_w, char *matched, size_t mlen) {
    if (!model || !tdp_w) return CT_EINVAL;
    table_hit h;
    if (!table_find(ct__data_cpu_tdp_csv, model, V_AMD, &h) || h.nf < 2) return CT_ENODATA;
    char *end;
    double v = strtod(h.f[1], &end);
    if (end == h.f[1] || !(v > 0 && v < 10000)) return CT_ENODATA;
    *tdp_w = v;
    if (matched && mlen) ct__strlcpy(matched, h.f[0], mlen);
    return 0;
}

static double num(const char *s) {
    char *end;
    double v = strtod(s, &end);
    return end != s && v > 0 && v < 1e6 ? v : 0;
}

int ct__cpu_spec_lookup(const char *model, ct_cpu_spec *out) {
    memset(out, 0, sizeof *out);
    if (!model || !model[0]) return CT_ENODATA;
    table_hit h;
    /* name,cores,threads,tdp_w,codename,... in both spec tables */
    const char *tables[] = {ct__data_cpu_specs_csv, ct__data_cpu_cloud_csv};
    const char *labels[] = {"quattor CPU templates", "cloud parts table"};
    for (int t = 0; t < 2 && !out->name[0]; t++) {
        if (!table_find(tables[t], model, V_UNKNOWN, &h) || h.nf < 5) continue;
        ct__strlcpy(out->name, h.f[0], sizeof out->name);
        out->cores = (int)num(h.f[1]);
        out->threads = (int)num(h.f[2]);
        out->tdp_w = num(h.f[3]);
        ct__strlcpy(out->arch, h.f[4], sizeof out->arch);
        ct__strlcpy(out->source, labels[t], sizeof out->source);
    }
    if (out->tdp_w <= 0) {
        double tdp;
        char m[NAME_LEN];
        if (ct__cpu_tdp_lookup(model, &tdp, m, sizeof m) == 0) {
            out->tdp_w = tdp;
            if (!out->name[0]) {
                ct__strlcpy(out->name, m, sizeof out->name);
                ct__strlcpy(out->source, "CodeCarbon CPU table", sizeof out->source);
            } else {
                size_t n = strlen(out->source);
                snprintf(out->source + n, sizeof out->source - n, ", TDP from the CodeCarbon CPU table");
            }
        }
    }
    return out->name[0] ? 0 : CT_ENODATA;
}

/* ------------------------------------------------------------------ */
/* Per-vCPU power (Cloud Carbon Footprint)                               */
/* ------------------------------------------------------------------ */

/* CCF's architecture name for a codename of the spec tables. */
static const char *ccf_arch(const char *arch) {
    static const struct {
        const char *prefix, *ccf;
    } map[] = {
        {"sandy bridge", "Sandy Bridge"}, {"ivy bridge", "Ivy Bridge"}, {"haswell", "Haswell"},
        {"broadwell", "Broadwell"},       {"skylake", "Skylake"},       {"cascade lake", "Cascade Lake"},
        {"coffee lake", "Coffee Lake"},   {"zen2", "EPYC 2nd Gen"},     {"zen3", "EPYC 3rd Gen"},
        {"zen", "EPYC 1st Gen"},          {"graviton2", "Graviton2"},   {"graviton", "Graviton"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncasecmp(arch, map[i].prefix, strlen(map[i].prefix)) == 0) {
            /* "zen" must not take "zen4": only an exact "zen" is EPYC 1st Gen */
            if (!strcasecmp(map[i].prefix, "zen") && strcasecmp(arch, "zen") != 0) continue;
            return map[i].ccf;
        }
    return NULL;
}

static int same_arch(const char *a, const char *b) {
    /* AWS spells Skylake "Sky Lake" */
    char x[48], y[48];
    size_t i = 0, j = 0;
    for (; *a && i + 1 < sizeof x; a++)
        if (*a != ' ') x[i++] = (char)tolower((unsigned char)*a);
    for (; *b && j + 1 < sizeof y; b++)
        if (*b != ' ') y[j++] = (char)tolower((unsigned char)*b);
    x[i] = y[j] = '\0';
    return strcmp(x, y) == 0;
}

int ct__cpu_vcpu_power(const char *arch, const char *provider, double *min_w, double *max_w, char *matched,
                       size_t mlen) {
    if (!arch || !arch[0]) return CT_ENODATA;
    const char *want = ccf_arch(arch);
    if (!want) want = arch;
    const char *p = strchr(ct__data_cpu_vcpu_csv, '\n');
    char f[MAX_FIELDS][NAME_LEN];
    int nf, found = 0;
    while (p && (p = csv_row(p, f, &nf)) != NULL) {
        /* provider,architecture,min_w,max_w */
        if (nf < 4 || !same_arch(f[1], want)) continue;
        int mine = provider && provider[0] && strcasecmp(f[0], provider) == 0;
        if (found && !mine) continue;
        *min_w = num(f[2]);
        *max_w = num(f[3]);
        if (matched && mlen) snprintf(matched, mlen, "%s, %s", f[1], f[0]);
        found = 1;
        if (mine) break;
    }
    return found ? 0 : CT_ENODATA;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void ct__cpu_vcpu_default(double *min_w, double *max_w) {
    double mins[128], maxs[128];
    int n = 0;
    const char *p = strchr(ct__data_cpu_vcpu_csv, '\n');
    char f[MAX_FIELDS][NAME_LEN];
    int nf;
    while (p && n < 128 && (p = csv_row(p, f, &nf)) != NULL) {
        if (nf < 4 || !(num(f[3]) > 0)) continue;
        mins[n] = num(f[2]);
        maxs[n] = num(f[3]);
        n++;
    }
    if (n == 0) { /* cannot happen with the embedded table */
        *min_w = 0;
        *max_w = 4.0;
        return;
    }
    qsort(mins, (size_t)n, sizeof mins[0], cmp_double);
    qsort(maxs, (size_t)n, sizeof maxs[0], cmp_double);
    *min_w = n % 2 ? mins[n / 2] : (mins[n / 2 - 1] + mins[n / 2]) / 2;
    *max_w = n % 2 ? maxs[n / 2] : (maxs[n / 2 - 1] + maxs[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* The machine: /proc/cpuinfo and DMI                                    */
/* ------------------------------------------------------------------ */
#define MAX_PACKAGES 256

void ct__cpuinfo_parse(const char *text, ct_cpu_host *h) {
    int ids[MAX_PACKAGES];
    int nids = 0;
    h->model[0] = h->vendor_id[0] = '\0';
    h->family = h->model_no = h->stepping = -1;
    h->arm_implementer = h->arm_part = 0;
    h->logical = 0;
    h->hypervisor = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (colon) {
            size_t klen = (size_t)(colon - line);
            while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t')) klen--;
            const char *val = colon + 1;
            while (val < line + len && (*val == ' ' || *val == '\t')) val++;
            size_t vlen = (size_t)(line + len - val);
            while (vlen > 0 && isspace((unsigned char)val[vlen - 1])) vlen--;
            char v[256];
            size_t c = vlen < sizeof v - 1 ? vlen : sizeof v - 1;
            memcpy(v, val, c);
            v[c] = '\0';
#define KEY(s) (klen == sizeof(s) - 1 && strncmp(line, s, klen) == 0)
            if (KEY("processor") && isdigit((unsigned char)v[0])) {
                h->logical++;
            } else if (KEY("model name") && !h->model[0] && v[0]) {
                ct__strlcpy(h->model, v, sizeof h->model);
            } else if (KEY("vendor_id") && !h->vendor_id[0]) {
                ct__strlcpy(h->vendor_id, v, sizeof h->vendor_id);
            } else if (KEY("cpu family") && h->family < 0) {
                h->family = atoi(v);
            } else if (KEY("model") && h->model_no < 0 && isdigit((unsigned char)v[0])) {
                h->model_no = atoi(v);
            } else if (KEY("stepping") && h->stepping < 0 && isdigit((unsigned char)v[0])) {
                h->stepping = atoi(v);
            } else if (KEY("CPU implementer") && !h->arm_implementer) {
                h->arm_implementer = (unsigned)strtoul(v, NULL, 0);
            } else if (KEY("CPU part") && !h->arm_part) {
                h->arm_part = (unsigned)strtoul(v, NULL, 0);
            } else if (KEY("flags") && !h->hypervisor) {
                h->hypervisor = contains_words(v, "hypervisor");
                if (!h->hypervisor && vlen >= sizeof v - 1) { /* long flag lines: search the raw text */
                    for (const char *q = val; q + 10 <= val + vlen; q++)
                        if (strncmp(q, "hypervisor", 10) == 0 && (q == val || q[-1] == ' ') &&
                            (q + 10 == val + vlen || q[10] == ' ')) {
                            h->hypervisor = 1;
                            break;
                        }
                }
            } else if (KEY("physical id") && isdigit((unsigned char)v[0])) {
                int id = atoi(v), seen = 0;
                for (int i = 0; i < nids; i++)
                    if (ids[i] == id) seen = 1;
                if (!seen && nids < MAX_PACKAGES) ids[nids++] = id;
            }
#undef KEY
        }
        line = end ? end + 1 : NULL;
    }
    h->packages = nids > 0 ? nids : 1;
}

/* ARM cores by implementer and part (Linux arch/arm64/include/asm/cputype.h). */
static const char *arm_core(unsigned impl, unsigned part) {
    static const struct {
        unsigned impl, part;
        const char *name;
    } cores[] = {
        {0x41, 0xd0c, "Neoverse-N1"}, {0x41, 0xd40, "Neoverse-V1"}, {0x41, 0xd49, "Neoverse-N2"},
        {0x41, 0xd4f, "Neoverse-V2"}, {0x41, 0xd8e, "Neoverse-N3"}, {0x41, 0xd84, "Neoverse-V3"},
        {0xc0, 0xac3, "AmpereOne"},
    };
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++)
        if (cores[i].impl == impl && cores[i].part == part) return cores[i].name;
    return NULL;
}

const char *ct__cpu_arch_from_id(const ct_cpu_host *h) {
    if (h->arm_implementer) {
        const char *core = arm_core(h->arm_implementer, h->arm_part);
        if (!core) return "";
        /* AWS Graviton generations by core (AWS Graviton technical guide):
         * N1 = Graviton2, V1 = Graviton3, V2 = Graviton4 */
        if (!strcmp(h->provider, "aws")) {
            if (!strcmp(core, "Neoverse-N1")) return "Graviton2";
            if (!strcmp(core, "Neoverse-V1")) return "Graviton3";
            if (!strcmp(core, "Neoverse-V2")) return "Graviton4";
        }
        return core;
    }
    if (!strcmp(h->vendor_id, "GenuineIntel") && h->family == 6) {
        /* Linux arch/x86/include/asm/intel-family.h */
        switch (h->model_no) {
        case 42:
        case 45: return "sandy bridge";
        case 58:
        case 62: return "ivy bridge";
        case 60:
        case 63:
        case 69:
        case 70: return "haswell";
        case 61:
        case 71:
        case 79:
        case 86: return "broadwell";
        case 78:
        case 94: return "skylake";
        case 85: return h->stepping >= 10 ? "cooper lake" : h->stepping >= 5 ? "cascade lake" : "skylake";
        case 106:
        case 108: return "ice lake";
        case 143: return "sapphire rapids";
        case 207: return "emerald rapids";
        case 142:
        case 158: return "coffee lake";
        default: return "";
        }
    }
    if (!strcmp(h->vendor_id, "AuthenticAMD")) {
        if (h->family == 23 && h->model_no < 0x30) return "zen";
        if (h->family == 23) return "zen2";
        if (h->family == 25 && h->model_no < 0x10) return "zen3";
        if (h->family == 25) return "zen4";
        if (h->family == 26) return "zen5";
    }
    return "";
}

static void read_dmi(const char *root, const char *file, char *out, size_t len) {
    char path[1024], *buf = NULL;
    size_t n = 0;
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", root, file);
    if (ct__read_file(path, 4096, &buf, &n) != 0) return;
    buf[strcspn(buf, "\r\n")] = '\0';
    ct__strlcpy(out, buf, len);
    free(buf);
}

void ct__cpu_host_dmi(ct_cpu_host *h) {
    const char *root = ct__env(CT__ENV_DMI_ROOT);
    if (!root) root = "/sys/class/dmi/id";
    read_dmi(root, "sys_vendor", h->dmi_vendor, sizeof h->dmi_vendor);
    read_dmi(root, "product_name", h->dmi_product, sizeof h->dmi_product);
    h->provider[0] = '\0';
    if (strcasestr(h->dmi_vendor, "Amazon")) ct__strlcpy(h->provider, "aws", sizeof h->provider);
    else if (!strncasecmp(h->dmi_vendor, "Google", 6)) ct__strlcpy(h->provider, "gcp", sizeof h->provider);
    else if (strcasestr(h->dmi_vendor, "Microsoft")) ct__strlcpy(h->provider, "azure", sizeof h->provider);
    static const char *const vm_words[] = {"QEMU",     "KVM",       "VirtualBox", "VMware",        "Virtual Machine",
                                           "HVM domU", "Xen",       "Google",     "OpenStack",     "Bochs",
                                           "innotek",  "Parallels", "Amazon EC2", "Alibaba Cloud", "BHYVE"};
    int dmi_vm = 0;
    for (size_t i = 0; i < sizeof vm_words / sizeof vm_words[0]; i++)
        if (strcasestr(h->dmi_vendor, vm_words[i]) || strcasestr(h->dmi_product, vm_words[i])) dmi_vm = 1;
    if (strcasestr(h->dmi_product, "metal")) dmi_vm = 0; /* EC2 bare-metal instances */
    /* A Xen PV guest: old kernels show no hypervisor flag, but /proc/xen
     * exists and its capabilities lack "control_d" (dom0 has it). */
    int xen_guest = 0;
    const char *proc = ct__env(CT__ENV_PROC_ROOT);
    char path[1024], *buf = NULL;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/xen/capabilities", proc ? proc : "/proc");
    if (ct__read_file(path, 4096, &buf, &n) == 0) {
        xen_guest = strstr(buf, "control_d") == NULL;
        free(buf);
    }
    h->vm = h->hypervisor || dmi_vm || xen_guest;
    if (h->hypervisor) snprintf(h->vm_why, sizeof h->vm_why, "the hypervisor flag in cpuinfo");
    else if (xen_guest) snprintf(h->vm_why, sizeof h->vm_why, "a Xen guest: %.100s without control_d", path);
    else if (dmi_vm) snprintf(h->vm_why, sizeof h->vm_why, "DMI \"%.60s\" \"%.60s\"", h->dmi_vendor, h->dmi_product);
    else h->vm_why[0] = '\0';
    if (!h->model[0] && h->arm_implementer) {
        /* ARM servers have no model name: name the core, and the chip when DMI says */
        const char *core = arm_core(h->arm_implementer, h->arm_part);
        if (strcasestr(h->dmi_product, "Altra") || strcasestr(h->dmi_vendor, "Ampere"))
            snprintf(h->model, sizeof h->model, "Ampere(R) Altra(R) %sProcessor",
                     strcasestr(h->dmi_product, "Max") ? "Max " : "");
        else if (!strcmp(h->provider, "aws") && core)
            snprintf(h->model, sizeof h->model, "AWS %s (%s)", ct__cpu_arch_from_id(h), core);
        else if (core) snprintf(h->model, sizeof h->model, "ARM %s", core);
        else snprintf(h->model, sizeof h->model, "ARM implementer 0x%02x part 0x%03x", h->arm_implementer, h->arm_part);
    }
}

/* ------------------------------------------------------------------ */
/* DRAM estimate                                                         */
/* ------------------------------------------------------------------ */
int ct__dram_estimate_wanted(void) {
    const char *v = ct__env(CT__ENV_DRAM_ESTIMATE);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on"));
}

int ct__dram_gb(double *gb) {
    const char *root = ct__env(CT__ENV_PROC_ROOT);
    char path[1024], *buf = NULL;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/meminfo", root ? root : "/proc");
    if (ct__read_file(path, 1 << 20, &buf, &n) != 0) return CT_ENODATA;
    const char *p = strstr(buf, "MemTotal:");
    double kb = p ? strtod(p + 9, NULL) : 0;
    free(buf);
    if (!(kb > 0)) return CT_ENODATA;
    *gb = kb / (1024.0 * 1024.0);
    return 0;
}
