/* json_out.c - the JSON string the subcommands print (plan --format json,
 * parse --job --format json): quotes, backslashes and control bytes escaped. */
#include "cli.h"

void ct_cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}
