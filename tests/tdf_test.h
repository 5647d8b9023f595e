/*
 * tdf_test.h — the unit tests' framework: one header, one program per file.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR_CONTAINS(s, "text"); }
 *   int main(void) { return tdf_test_main(); }
 *
 * TEST registers the function at load time (constructor); tdf_test_main runs
 * them in file order, prints every failing check with file:line, and ends
 * with exactly the line "N passed, M failed" (checks, read by ctest and CI).
 * The exit code is 0 only if M == 0.
 */
#ifndef TDF_TEST_H
#define TDF_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TDF_TEST_MAX 128

typedef void tdf_test_fn(void);

static struct {
    const char *names[TDF_TEST_MAX];
    tdf_test_fn *fns[TDF_TEST_MAX];
    unsigned count;
    const char *current;
    unsigned passed, failed;
} tdf_test_state;

static inline void tdf_test_register(const char *name, tdf_test_fn *fn)
{
    if (tdf_test_state.count >= TDF_TEST_MAX) {
        fprintf(stderr, "tdf_test.h: more than %d tests\n", TDF_TEST_MAX);
        abort();
    }
    tdf_test_state.names[tdf_test_state.count] = name;
    tdf_test_state.fns[tdf_test_state.count++] = fn;
}

#define TEST(name)                                                                              \
    static void test_##name(void);                                                              \
    __attribute__((constructor)) static void register_##name(void) { tdf_test_register(#name, test_##name); } \
    static void test_##name(void)

/* Returns the condition, so a test can stop early when later checks would be
 * meaningless: if (!CHECK(p)) return; */
static inline int tdf_check(int ok, const char *file, int line, const char *text)
{
    if (ok) {
        tdf_test_state.passed++;
    } else {
        tdf_test_state.failed++;
        printf("%s:%d: FAIL in %s: %s\n", file, line, tdf_test_state.current ? tdf_test_state.current : "?", text);
    }
    return ok;
}

#define CHECK(cond) tdf_check(!!(cond), __FILE__, __LINE__, #cond)

static inline int tdf_check_str_contains(const char *hay, const char *needle, const char *file, int line, const char *text)
{
    int ok = hay && needle && strstr(hay, needle) != NULL;
    if (!tdf_check(ok, file, line, text))
        printf("    haystack: \"%s\"\n    needle:   \"%s\"\n", hay ? hay : "(null)", needle ? needle : "(null)");
    return ok;
}

#define CHECK_STR_CONTAINS(hay, needle) \
    tdf_check_str_contains((hay), (needle), __FILE__, __LINE__, "CHECK_STR_CONTAINS(" #hay ", " #needle ")")

/* Integer equality that prints both values on failure; returns the result. */
static inline int tdf_check_eq(long long a, long long b, const char *file, int line, const char *ta, const char *tb)
{
    char text[256];
    snprintf(text, sizeof text, "%s == %s", ta, tb);
    int ok = tdf_check(a == b, file, line, text);
    if (!ok)
        printf("    %s = %lld, %s = %lld\n", ta, a, tb, b);
    return ok;
}

#define CHECK_EQ(a, b) tdf_check_eq((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)

static inline int tdf_test_main(void)
{
    for (unsigned i = 0; i < tdf_test_state.count; i++) {
        unsigned failed_before = tdf_test_state.failed;
        tdf_test_state.current = tdf_test_state.names[i];
        tdf_test_state.fns[i]();
        if (tdf_test_state.failed != failed_before)
            printf("-- %s: FAILED\n", tdf_test_state.names[i]);
        fflush(stdout);
    }
    tdf_test_state.current = NULL;
    printf("%u passed, %u failed\n", tdf_test_state.passed, tdf_test_state.failed);
    fflush(stdout);
    return tdf_test_state.failed == 0 ? 0 : 1;
}

#endif
