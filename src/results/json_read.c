/*
 * json_read.c - a small JSON reader for our own JSON Lines records.
 *
 * Why not jansson: the core library must need only libc, and this reads the
 * records we write ourselves (docs/jsonl-schema.md). It is strict on syntax
 * (RFC 8259 values; a damaged line is rejected whole, never half-read) and
 * bounded: recursion depth is limited, nodes come from an arena reused from
 * line to line.
 */
#include "results_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ct_arena_chunk {
    struct ct_arena_chunk *next;
    size_t size, used;
    /* data follows, max_align_t aligned */
} ct_arena_chunk;

struct ct_json_doc {
    ct_arena_chunk *first; /* chunks are kept and reused */
    ct_arena_chunk *cur;
};

typedef struct parser {
    ct_json_doc *doc;
    const char *p, *start, *end;
    int depth;
    char *err;
    size_t errlen;
    int failed;
} parser;

#define ALIGN_UP(n) (((n) + 15u) & ~(size_t)15u)
#define CHUNK_HDR ALIGN_UP(sizeof(ct_arena_chunk))

ct_json_doc *ct__json_doc_new(void) { return calloc(1, sizeof(ct_json_doc)); }

void ct__json_doc_free(ct_json_doc *doc) {
    if (!doc) return;
    ct_arena_chunk *c = doc->first;
    while (c) {
        ct_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    free(doc);
}

static void *arena_alloc(ct_json_doc *doc, size_t n) {
    n = ALIGN_UP(n);
    ct_arena_chunk *c = doc->cur;
    while (c && c->used + n > c->size) c = c->next;
    if (c) {
        /* Later chunks are empty after a reset; skipping a too-small chunk
         * only wastes it for this parse. */
        doc->cur = c;
        void *r = (char *)c + CHUNK_HDR + c->used;
        c->used += n;
        return r;
    }
    size_t size = n > 65536 ? n : 65536;
    c = malloc(CHUNK_HDR + size);
    if (!c) return NULL;
    c->next = NULL;
    c->size = size;
    c->used = n;
    if (!doc->first) {
        doc->first = c;
    } else {
        ct_arena_chunk *last = doc->first;
        while (last->next) last = last->next;
        last->next = c;
    }
    doc->cur = c;
    return (char *)c + CHUNK_HDR;
}

static void arena_reset(ct_json_doc *doc) {
    for (ct_arena_chunk *c = doc->first; c; c = c->next) c->used = 0;
    doc->cur = doc->first;
}

static void fail(parser *ps, const char *what) {
    if (ps->failed) return;
    ps->failed = 1;
    if (ps->err && ps->errlen) snprintf(ps->err, ps->errlen, "%s at byte %zu", what, (size_t)(ps->p - ps->start));
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static ct_json *new_node(parser *ps, ct_json_type t) {
    ct_json *n = arena_alloc(ps->doc, sizeof(ct_json));
    if (!n) {
        fail(ps, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->type = t;
    return n;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* At the opening quote. Returns a NUL-terminated copy in the arena. */
static const char *parse_string(parser *ps) {
    ps->p++; /* quote */
    const char *s = ps->p;
    /* Find the end first to size the copy (escapes only shrink). */
    const char *q = s;
    while (q < ps->end && *q != '"') {
        if (*q == '\\') q++;
        q++;
    }
    if (q >= ps->end) {
        fail(ps, "unterminated string");
        return NULL;
    }
    char *out = arena_alloc(ps->doc, (size_t)(q - s) + 1);
    if (!out) {
        fail(ps, "out of memory");
        return NULL;
    }
    size_t o = 0;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            fail(ps, "control character in string");
            return NULL;
        }
        if (c != '\\') {
            out[o++] = (char)c;
            ps->p++;
            continue;
        }
        ps->p++;
        char e = *ps->p++;
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (q - ps->p < 4 || hex4(ps->p, &cp)) {
                fail(ps, "bad \\u escape");
                return NULL;
            }
            ps->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' && !hex4(ps->p + 2, &lo) && lo >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    ps->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            if (cp == 0) cp = 0xFFFD; /* keep strings NUL-terminated and whole */
            /* "\uXXXX" is 6 bytes and yields at most 4 (a pair: 12 -> 4). */
            o += put_utf8(out + o, cp);
            break;
        }
        default: fail(ps, "bad escape in string"); return NULL;
        }
    }
    out[o] = '\0';
    ps->p = q + 1;
    return out;
}

static ct_json *parse_value(parser *ps);

static ct_json *parse_number(parser *ps) {
    const char *s = ps->p;
    const char *q = s;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end || !(*q >= '0' && *q <= '9')) {
        fail(ps, "invalid value");
        return NULL;
    }
    if (*q == '0') q++;
    else
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) {
            fail(ps, "bad number");
            return NULL;
        }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) {
            fail(ps, "bad number");
            return NULL;
        }
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    char tmp[64];
    size_t n = (size_t)(q - s);
    ct_json *node = new_node(ps, CT_JSON_NUMBER);
    if (!node) return NULL;
    if (n < sizeof tmp) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        node->num = strtod(tmp, NULL);
    } else {
        char *big = arena_alloc(ps->doc, n + 1);
        if (!big) {
            fail(ps, "out of memory");
            return NULL;
        }
        memcpy(big, s, n);
        big[n] = '\0';
        node->num = strtod(big, NULL);
    }
    ps->p = q;
    return node;
}

static int literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
        ps->p += n;
        return 1;
    }
    return 0;
}

static ct_json *parse_container(parser *ps, int is_object) {
    if (++ps->depth > CT__JSON_MAX_DEPTH) {
        fail(ps, "nesting too deep");
        return NULL;
    }
    ct_json *node = new_node(ps, is_object ? CT_JSON_OBJECT : CT_JSON_ARRAY);
    if (!node) return NULL;
    ps->p++; /* [ or { */
    skip_ws(ps);
    char close = is_object ? '}' : ']';
    ct_json *last = NULL;
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return node;
    }
    for (;;) {
        const char *key = NULL;
        skip_ws(ps);
        if (is_object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, ps->p >= ps->end ? "unexpected end of input" : "expected a member name");
                return NULL;
            }
            key = parse_string(ps);
            if (!key) return NULL;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                fail(ps, ps->p >= ps->end ? "unexpected end of input" : "expected ':'");
                return NULL;
            }
            ps->p++;
        }
        ct_json *v = parse_value(ps);
        if (!v) return NULL;
        v->key = key;
        if (last) last->next = v;
        else node->child = v;
        last = v;
        node->count++;
        skip_ws(ps);
        if (ps->p >= ps->end) {
            fail(ps, "unexpected end of input");
            return NULL;
        }
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            break;
        }
        fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        return NULL;
    }
    ps->depth--;
    return node;
}

static ct_json *parse_value(parser *ps) {
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    switch (*ps->p) {
    case '{': return parse_container(ps, 1);
    case '[': return parse_container(ps, 0);
    case '"': {
        ct_json *n = new_node(ps, CT_JSON_STRING);
        if (!n) return NULL;
        n->str = parse_string(ps);
        return n->str ? n : NULL;
    }
    case 't':
        if (literal(ps, "true")) return new_node(ps, CT_JSON_TRUE);
        break;
    case 'f':
        if (literal(ps, "false")) return new_node(ps, CT_JSON_FALSE);
        break;
    case 'n':
        if (literal(ps, "null")) return new_node(ps, CT_JSON_NULL);
        break;
    default: return parse_number(ps);
    }
    fail(ps, "invalid value");
    return NULL;
}

const ct_json *ct__json_parse(ct_json_doc *doc, const char *text, size_t len, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!doc || !text) {
        if (err && errlen) snprintf(err, errlen, "no input");
        return NULL;
    }
    arena_reset(doc);
    parser ps = {.doc = doc, .p = text, .start = text, .end = text + len, .err = err, .errlen = errlen};
    ct_json *root = parse_value(&ps);
    if (!root) return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "trailing characters");
        return NULL;
    }
    return root;
}

const ct_json *ct__json_get(const ct_json *obj, const char *key) {
    if (!obj || obj->type != CT_JSON_OBJECT || !key) return NULL;
    const ct_json *found = NULL;
    for (const ct_json *c = obj->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0) found = c; /* last duplicate wins, like most readers */
    return found;
}

double ct__json_num(const ct_json *v, double fallback) { return (v && v->type == CT_JSON_NUMBER) ? v->num : fallback; }

int ct__json_int(const ct_json *v, int fallback) {
    if (!v || v->type != CT_JSON_NUMBER || !isfinite(v->num) || v->num > 2147483647.0 || v->num < -2147483648.0)
        return fallback;
    return (int)v->num;
}

int ct__json_bool(const ct_json *v, int fallback) {
    if (!v) return fallback;
    if (v->type == CT_JSON_TRUE) return 1;
    if (v->type == CT_JSON_FALSE) return 0;
    return fallback;
}

const char *ct__json_str(const ct_json *v, const char *fallback) {
    return (v && v->type == CT_JSON_STRING) ? v->str : fallback;
}
