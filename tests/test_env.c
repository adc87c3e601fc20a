/* Environment variables read in one place (issue 9 item 5): the table in
 * base/env.c and docs/environment.md list the same CT_ names, and ct__env
 * treats empty as unset. (tests/CMakeLists.txt also checks that no file of
 * src/ but base/env.c calls getenv with a CT_ name.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"
#include "test_support.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_table_matches_docs(void **state) {
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/../docs/environment.md", ts_env("CT_TEST_SOURCE_DIR"));
    char *doc = ts_read(path);
    assert_non_null(doc);
    /* The library's section: from its heading to the next one. */
    char *sec = strstr(doc, "## Read by the library");
    assert_non_null(sec);
    char *end = strstr(sec + 3, "\n## ");
    if (end) *end = '\0';
    /* Every table name is documented there... */
    for (int i = 0; i < CT__ENV_COUNT; i++) {
        char quoted[80];
        snprintf(quoted, sizeof quoted, "`%s`", ct__env_name((ct__env_id)i));
        if (!strstr(sec, quoted)) {
            fprintf(stderr, "%s is in base/env.c but not in docs/environment.md\n", ct__env_name((ct__env_id)i));
            fail();
        }
        assert_non_null(ct__env_doc((ct__env_id)i));
    }
    /* ...and every CT_ name there is in the table. */
    for (char *p = sec; (p = strstr(p, "`CT_")) != NULL; p++) {
        char name[80];
        size_t n = 0;
        for (const char *q = p + 1;
             (isupper((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_') && n + 1 < sizeof name; q++)
            name[n++] = *q;
        name[n] = '\0';
        int found = 0;
        for (int i = 0; i < CT__ENV_COUNT; i++) found |= strcmp(name, ct__env_name((ct__env_id)i)) == 0;
        if (!found) {
            fprintf(stderr, "%s is in docs/environment.md but not in base/env.c\n", name);
            fail();
        }
    }
    free(doc);
}

static void test_accessor(void **state) {
    (void)state;
    setenv("CT_ZONE", "DK-DK1", 1);
    assert_string_equal(ct__env(CT__ENV_ZONE), "DK-DK1");
    setenv("CT_ZONE", "", 1);
    assert_null(ct__env(CT__ENV_ZONE)); /* empty = unset */
    unsetenv("CT_ZONE");
    assert_null(ct__env(CT__ENV_ZONE));
    assert_null(ct__env(CT__ENV_COUNT));
    assert_null(ct__env_name((ct__env_id)-1));
    assert_string_equal(ct__env_name(CT__ENV_NVML_LIBRARY), "CT_NVML_LIBRARY");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_docs),
        cmocka_unit_test(test_accessor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
