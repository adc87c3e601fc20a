/* The original's text logs read back: the input holds a standard log, then
 * (after a line "=====") an output log; both go into a log directory read by
 * ct_parse_dirs and the report's run reader; the text-log reader and the
 * h:mm:ss parser get the raw text too. */
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
    if (ct_parse_dirs(dirs, 1, &runs) == 0) {
        ct_runs_total tot;
        ct_runs_totals(runs, &tot);
        char buf[2048];
        ct_runs_sentence(runs, buf, sizeof buf);
    }
    ct_runs_free(runs);
    ct_run_detail d;
    if (ct__run_detail_load(std_path, &d) == 0) ct__run_detail_free(&d);

    /* the one text-log reader on the raw bytes: the whole input as the
     * output log, then as the standard log */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ct_text_log tl;
    if (ct__text_log_read(NULL, 0, text, size, CT__TL_DETAIL, &tl) == 0) ct__text_log_free(&tl);
    if (ct__text_log_read(text, size, NULL, 0, CT__TL_DETAIL, &tl) == 0) ct__text_log_free(&tl);
    char *line = strchr(text, '\t');
    ct__parse_hms(line ? line + 1 : text);
    free(text);
    return 0;
}
