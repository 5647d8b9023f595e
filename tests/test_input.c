/*
 * fuzz/input: any byte string decodes; the text form round-trips; the
 * schedule region does not move when the events mutate; the text parser
 * rejects what it does not know with a line number.
 */
#include "../fuzz/input.h"
#include "tdf_test.h"

/* A target with 1 param and 2 stimuli: 5 generic + 2 event kinds. */
static const tdf_param_desc_t k_params[] = {{"n", 1, 3}};
static const tdf_stimulus_desc_t k_stimuli[] = {{"poke", NULL, NULL, "test"}, {"prod", NULL, NULL, "test"}};
static const tdf_variant_desc_t k_variants[] = {{"correct", "test"}};
static const tdf_target_desc_t k_target = {
    .name = "test",
    .stimuli = k_stimuli,
    .stimulus_count = 2,
    .variants = k_variants,
    .variant_count = 1,
    .params = k_params,
    .param_count = 1,
};
TDF_TARGET(k_target);

#define KINDS (TDF_EV_GENERIC_COUNT + 2)
#define ROUNDS 20000
#define MAX_LEN 300

static uint32_t g_rng = 0x9e3779b9u;
static uint32_t xorshift32(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

static size_t random_buffer(uint8_t *buf)
{
    size_t len = xorshift32() % (MAX_LEN + 1);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)xorshift32();
    return len;
}

/* Where the events start and the schedule region starts, from the format alone. */
static void expected_layout(const uint8_t *d, size_t size, size_t *events_at, unsigned *count, size_t *sched_at)
{
    size_t p = size < 1 ? size : 1; /* one param byte */
    unsigned want = 0;
    if (p < size)
        want = d[p++] % (TDF_MAX_EVENT_COUNT + 1);
    *events_at = p;
    *count = want < (size - p) / 2 ? want : (unsigned)((size - p) / 2);
    *sched_at = p + 2 * (size_t)*count;
}

static char *to_text(const tdf_script_t *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    tdf_write_text(&k_target, s, m);
    fclose(m);
    return text;
}

static int scripts_equal(const tdf_script_t *a, const tdf_script_t *b)
{
    if (a->params[0] != b->params[0] || a->event_count != b->event_count)
        return 0;
    for (unsigned k = 0; k < a->event_count; k++)
        if (a->events[k].kind != b->events[k].kind || a->events[k].arg != b->events[k].arg)
            return 0;
    return a->schedule.kind == b->schedule.kind && a->schedule.len == b->schedule.len &&
           (a->schedule.len == 0 || memcmp(a->schedule.bytes, b->schedule.bytes, a->schedule.len) == 0);
}

TEST(any_byte_string_decodes)
{
    static uint8_t buf[MAX_LEN];
    unsigned bad = 0, with_events = 0, with_schedule = 0;
    g_rng = 0x9e3779b9u;
    CHECK_EQ(tdf_event_kind_count(&k_target), KINDS);
    for (int r = 0; r < ROUNDS; r++) {
        size_t size = random_buffer(buf), events_at, sched_at;
        unsigned count;
        tdf_script_t s;
        tdf_decode(&k_target, buf, size, &s);
        expected_layout(buf, size, &events_at, &count, &sched_at);
        int ok = s.event_count <= TDF_MAX_EVENT_COUNT && s.event_count == count;
        ok &= s.params[0] >= 1 && s.params[0] <= 3 && s.params[0] == (size ? 1 + buf[0] % 3 : 1);
        for (unsigned k = 0; k < s.event_count && ok; k++)
            ok &= s.events[k].kind < KINDS && s.events[k].kind == buf[events_at + 2 * k] % KINDS &&
                  s.events[k].arg == buf[events_at + 2 * k + 1];
        /* The schedule region is exactly the bytes after the events. */
        ok &= s.schedule.kind == SCHED_SOURCE_BYTES && s.schedule.bytes == buf + sched_at &&
              s.schedule.len == size - sched_at;
        if (!ok && !bad++)
            printf("    round %d (size %zu) decodes wrong\n", r, size);
        with_events += s.event_count > 0;
        with_schedule += s.schedule.len > 0;
    }
    CHECK_EQ(bad, 0);
    CHECK(with_events > ROUNDS / 2 && with_schedule > ROUNDS / 2); /* the inputs exercise both regions */
}

TEST(text_round_trip)
{
    static uint8_t buf[MAX_LEN], bin[4 * MAX_LEN];
    unsigned bad_parse = 0, bad_script = 0, bad_text = 0;
    char err[256];
    g_rng = 0x12345678u;
    for (int r = 0; r < ROUNDS; r++) {
        size_t size = random_buffer(buf);
        tdf_script_t s1, s2;
        tdf_decode(&k_target, buf, size, &s1);
        char *text1 = to_text(&s1);
        long n = tdf_parse_text(&k_target, text1, bin, sizeof bin, err, sizeof err);
        if (n < 0) {
            if (!bad_parse++)
                printf("    round %d: %s\n%s", r, err, text1);
            free(text1);
            continue;
        }
        tdf_decode(&k_target, bin, (size_t)n, &s2);
        if (!scripts_equal(&s1, &s2) && !bad_script++)
            printf("    round %d: decode(parse(text)) differs\n%s", r, text1);
        char *text2 = to_text(&s2); /* text -> binary -> text */
        if (strcmp(text1, text2) != 0 && !bad_text++)
            printf("    round %d: text differs:\n%s---\n%s", r, text1, text2);
        free(text1);
        free(text2);
    }
    CHECK_EQ(bad_parse, 0);
    CHECK_EQ(bad_script, 0);
    CHECK_EQ(bad_text, 0);
}

/* The format pinned on one input: names, parameter offset, schedule order. */
TEST(text_form_of_one_input)
{
    static const char text[] = "# teardown-fuzz input, text form (docs/INPUT.md)\n"
                               "target test\n"
                               "param n 2\n"
                               "event remove 0\n"
                               "event prod 7\n"
                               "# schedule bytes in the order they are used; each: run (b & 7) % runnable, stay b >> 3\n"
                               "schedule 0a ff 00\n";
    /* param 2 is stored as 2 - min; schedule bytes are stored last-used first. */
    static const uint8_t want[] = {1, 2, TDF_EV_REMOVE, 0, TDF_EV_GENERIC_COUNT + 1, 7, 0x00, 0xff, 0x0a};
    uint8_t bin[64];
    char err[256];
    long n = tdf_parse_text(&k_target, text, bin, sizeof bin, err, sizeof err);
    if (!CHECK_EQ(n, (long)sizeof want))
        return;
    CHECK(memcmp(bin, want, sizeof want) == 0);
    tdf_script_t s;
    tdf_decode(&k_target, bin, (size_t)n, &s);
    CHECK_EQ(s.params[0], 2);
    char *again = to_text(&s);
    CHECK(strcmp(again, text) == 0);
    free(again);
    CHECK(tdf_is_text((const uint8_t *)text, sizeof text - 1));
    CHECK(tdf_is_text((const uint8_t *)"target x", 8));
    CHECK(!tdf_is_text(want, sizeof want));
}

TEST(mutating_events_leaves_schedule_unchanged)
{
    static uint8_t buf[MAX_LEN], before[MAX_LEN];
    unsigned bad = 0, mutated = 0;
    g_rng = 0xdeadbeefu;
    for (int r = 0; r < ROUNDS; r++) {
        size_t size = random_buffer(buf);
        tdf_script_t s1, s2;
        tdf_decode(&k_target, buf, size, &s1);
        if (s1.event_count == 0)
            continue;
        size_t events_at = (size_t)(s1.schedule.bytes - buf) - 2 * s1.event_count;
        size_t len1 = s1.schedule.len;
        memcpy(before, s1.schedule.bytes, len1);
        /* Any kind or arg byte, any non-zero flip. */
        size_t at = events_at + xorshift32() % (2 * s1.event_count);
        buf[at] ^= (uint8_t)(1 + xorshift32() % 255);
        tdf_decode(&k_target, buf, size, &s2);
        mutated++;
        if ((s2.event_count != s1.event_count || s2.schedule.len != len1 ||
             memcmp(s2.schedule.bytes, before, len1) != 0) &&
            !bad++)
            printf("    round %d: mutating byte %zu moved the schedule\n", r, at);
    }
    CHECK_EQ(bad, 0);
    CHECK(mutated > ROUNDS / 2);
}

static void check_rejects(const char *text, const char *msg, int line)
{
    uint8_t bin[256];
    char err[256] = "";
    long n = tdf_parse_text(&k_target, text, bin, sizeof bin, err, sizeof err);
    tdf_check(n == -1, __FILE__, line, "tdf_parse_text returns -1");
    tdf_check_str_contains(err, msg, __FILE__, line, "error message");
}
#define CHECK_REJECTS(text, msg) check_rejects((text), (msg), __LINE__)

TEST(parse_rejects_unknown_items_with_line_number)
{
    CHECK_REJECTS("target test\nparam n 2\nbogus 1\n", "line 3: unknown keyword 'bogus'");
    CHECK_REJECTS("target test\nevent nosuch 1\n", "line 2: unknown event 'nosuch'");
    CHECK_REJECTS("# comment\ntarget test\n\nparam zz 1\n", "line 4: unknown param 'zz'");
    CHECK_REJECTS("param n 9\n", "line 1: unknown param 'n' or value out of range");
    CHECK_REJECTS("target other\n", "line 1: input is for target 'other'");
    CHECK_REJECTS("target test\nevent poke 256\n", "line 2: expected 'event NAME ARG'");
    CHECK_REJECTS("target test\nschedule 0a zz\n", "line 2: schedule takes hex bytes");
}

int main(void) { return tdf_test_main(); }
