/* Our JSON Lines logs read back: the input is one *_carbontracker.jsonl in a
 * log directory, read by ct_parse_dirs (aggregation, the path of `parse` and
 * the Python package) and by the report's run reader; and the JSON parser
 * underneath on the raw bytes. */
#include "fuzz_common.h"
#include "results/results_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_clear();
    const char *path = fz_write("123.456789_2026-11-20T101500Z_carbontracker.jsonl", data, size);
    if (!path) return 0;
    char p[1024];
    strncpy(p, path, sizeof p - 1);
    p[sizeof p - 1] = '\0';
    const char *dirs[] = {fz_scratch()};
    ct_runs *runs = NULL;
    if (ct_parse_dirs(dirs, 1, &runs) == 0) {
        ct_runs_total tot;
        ct_runs_totals(runs, &tot);
        char buf[2048];
        ct_runs_sentence(runs, buf, sizeof buf);
        for (int i = 0; i < ct_runs_count(runs); i++) {
            ct_run_info ri;
            ct_runs_get(runs, i, &ri);
        }
    }
    ct_runs_free(runs);
    ct_run_detail d;
    if (ct__run_detail_load(p, &d) == 0) ct__run_detail_free(&d);
    ct_json_doc *doc = ct__json_doc_new();
    if (doc) {
        char err[256];
        ct__json_parse(doc, (const char *)data, size, err, sizeof err);
        ct__json_doc_free(doc);
    }
    return 0;
}
