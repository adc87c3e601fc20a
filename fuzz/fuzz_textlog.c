/* The original's text logs read back: the input holds a standard log, then
 * (after a line "=====") an output log; both go into a log directory read by
 * ct_parse_dirs and the report's run reader; the output-log block parser and
 * the h:mm:ss parser get the raw text too. */
#include "fuzz_common.h"
#include "results/results_internal.h"

#include <stdlib.h>
#include <string.h>

#define STD_NAME "train_77.abcdef12_2026-11-20T101500Z_carbontracker.log"
#define OUT_NAME "train_77.abcdef12_2026-11-20T101500Z_carbontracker_output.log"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_clear();
    size_t cut = size, rest = size;
    for (size_t i = 0; i + 6 <= size; i++) {
        if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, "=====\n", 6) == 0) {
            cut = i;
            rest = i + 6;
            break;
        }
    }
    const char *sp = fz_write(STD_NAME, data, cut);
    if (!sp) return 0;
    char std_path[1024];
    strncpy(std_path, sp, sizeof std_path - 1);
    std_path[sizeof std_path - 1] = '\0';
    if (rest <= size && cut < size) fz_write(OUT_NAME, data + rest, size - rest);
    const char *dirs[] = {fz_scratch()};
    ct_runs *runs = NULL;
    char err[256];
    if (ct_parse_dirs(dirs, 1, &runs, err, sizeof err) == 0) {
        ct_runs_total tot;
        ct_runs_totals(runs, &tot);
        char buf[2048];
        ct_runs_sentence(runs, buf, sizeof buf);
    }
    ct_runs_free(runs);
    ct_run_detail d;
    if (ct__run_detail_load(std_path, &d, err, sizeof err) == 0) ct__run_detail_free(&d);

    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    ct_run_total t;
    memset(&t, 0, sizeof t);
    ct__output_log_block(text, "Actual consumption", &t);
    ct__output_log_block(text, "Predicted consumption", &t);
    char *line = strchr(text, '\t');
    ct__parse_hms(line ? line + 1 : text);
    free(text);
    return 0;
}
