/*
 * fuzz/input: any byte string decodes; the text form round-trips; the
 * schedule region does not move when the events mutate; the text parser is
 * strict (every number, byte, limit and line checked, with a line number and
 * no raw bytes in its message); a text input keeps its meaning when the
 * target's alphabet grows; the expectation lines are read; a rescheduled
 * input keeps the events and only the events.
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
        long n = tdf_parse_text(&k_target, text1, strlen(text1), bin, sizeof bin, NULL, err, sizeof err);
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
                               "format 1\n"
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
    long n = tdf_parse_text(&k_target, text, sizeof text - 1, bin, sizeof bin, NULL, err, sizeof err);
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
    CHECK(tdf_is_text((const uint8_t *)"format 1\n", 9));
    /* A free first comment: text only with a target line and no control byte. */
    CHECK(tdf_is_text((const uint8_t *)"# mine\ntarget x\n", 16));
    CHECK(!tdf_is_text((const uint8_t *)"# mine\nevent x 1\n", 17));
    CHECK(!tdf_is_text((const uint8_t *)"# mine\ntarget x\x01\n", 17));
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

/* Rejects text of len bytes; the message names the line and has no raw byte. */
static void check_rejects_n(const char *text, size_t len, const char *msg, int line)
{
    static uint8_t bin[1 << 16];
    char err[512] = "";
    long n = tdf_parse_text(&k_target, text, len, bin, sizeof bin, NULL, err, sizeof err);
    tdf_check(n == -1, __FILE__, line, "tdf_parse_text returns -1");
    tdf_check_str_contains(err, msg, __FILE__, line, "error message");
    int raw = 0;
    for (const char *p = err; *p; p++)
        raw |= (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f;
    tdf_check(!raw, __FILE__, line, "the message is printable ASCII");
}
#define CHECK_REJECTS(text, msg) check_rejects_n((text), strlen(text), (msg), __LINE__)
#define CHECK_REJECTS_N(text, len, msg) check_rejects_n((text), (len), (msg), __LINE__)

static long parse(const char *text, uint8_t *bin, size_t cap, tdf_text_meta_t *meta, char *err, size_t errsz)
{
    return tdf_parse_text(&k_target, text, strlen(text), bin, cap, meta, err, errsz);
}

TEST(parse_rejects_unknown_items_with_line_number)
{
    CHECK_REJECTS("target test\nparam n 2\nbogus 1\n", "line 3: unknown keyword 'bogus'");
    CHECK_REJECTS("target test\nevent nosuch 1\n", "line 2: unknown event 'nosuch'");
    CHECK_REJECTS("# comment\ntarget test\n\nparam zz 1\n", "line 4: unknown param 'zz'");
    CHECK_REJECTS("target test\nparam n 9\n", "line 2: param n value 9 out of range 1..3");
    CHECK_REJECTS("target other\n", "line 1: input is for target 'other'");
    CHECK_REJECTS("target test\nevent poke 256\n", "line 2: event poke argument 256 out of range 0..255");
    CHECK_REJECTS("target test\nschedule 0a zz\n", "line 2: schedule byte 2 'zz' is not one or two hex digits");
}

/* Issue 9 item 7: numbers never wrap, trailing garbage is an error. */
TEST(parse_rejects_wrapping_numbers_and_trailing_garbage)
{
    CHECK_REJECTS("target test\nevent remove 4294967297\n", "line 2: event remove argument 4294967297 out of range 0..255");
    CHECK_REJECTS("target test\nparam n 4294967298\n", "line 2: param n value 4294967298 out of range 1..3");
    CHECK_REJECTS("target test\nparam n 18446744073709551617\n", "line 2: param n value 18446744073709551617 out of range");
    CHECK_REJECTS("target test\nevent remove -1\n", "line 2: event remove argument '-1' is not a decimal number");
    CHECK_REJECTS("target test\nevent remove 1x\n", "line 2: event remove argument '1x' is not a decimal number");
    CHECK_REJECTS("target test\nevent remove 1 2\n", "line 2: expected 'event NAME ARG'");
    CHECK_REJECTS("target test\nparam n 2 junk\n", "line 2: expected 'param NAME VALUE'");
    CHECK_REJECTS("target test\nparam n 0x2\n", "line 2: param n value '0x2' is not a decimal number");
    CHECK_REJECTS("target test extra\n", "line 1: expected 'target NAME' (one word)");
    CHECK_REJECTS("target test\nschedule 0a 100\n", "line 2: schedule byte 2 '100' is not one or two hex digits");
    CHECK_REJECTS("target test\nschedule 0x\n", "line 2: schedule byte 1 '0x'");
    CHECK_REJECTS("target test\nschedule +1\n", "line 2: schedule byte 1 '+1'");
    CHECK_REJECTS("target test\nparam n 2\nparam n 3\n", "line 3: param n given twice (first on line 2)");
    CHECK_REJECTS("target test\ntarget test\n", "line 2: a second target line (the first is line 1)");
}

/* A bare `target` printed an uninitialised name; a missing one was accepted. */
TEST(parse_requires_one_target_line_first)
{
    CHECK_REJECTS("target\n", "line 1: expected 'target NAME' (one word)");
    CHECK_REJECTS("# x\nparam n 2\n", "line 2: 'param' before the 'target test' line");
    CHECK_REJECTS("", "line 1: end of input without a 'target test' line");
    CHECK_REJECTS("# only a comment\n", "line 1: end of input without a 'target test' line");
    CHECK_REJECTS("target test\nevent remove 1\ntarget test\n", "line 3: a second target line");
}

/* A NUL dropped the rest of the file; control and non-UTF-8 bytes were echoed raw. */
TEST(parse_rejects_nul_control_and_invalid_utf8_bytes)
{
    static const char nul[] = "target test\nevent remove 1\0event remove 2\n";
    CHECK_REJECTS_N(nul, sizeof nul - 1, "line 2: NUL byte at column 15");
    static const char nul_comment[] = "# a\0b\ntarget test\n";
    CHECK_REJECTS_N(nul_comment, sizeof nul_comment - 1, "line 1: NUL byte at column 4");
    CHECK_REJECTS("target test\nevent \x1b[31mremove 1\n", "line 2: control byte \\x1b at column 7");
    CHECK_REJECTS("target test\n# bell \x07\n", "line 2: control byte \\x07 at column 8");
    CHECK_REJECTS("target test\nevent remove\x7f 1\n", "line 2: control byte \\x7f at column 13");
    CHECK_REJECTS("target test\nevent \xff\xfe 1\n", "line 2: byte \\xff at column 7 is not valid UTF-8");
    CHECK_REJECTS("target test\n# \xc0\xaf overlong\n", "line 2: byte \\xc0 at column 3 is not valid UTF-8");
    CHECK_REJECTS("target test\n# cut \xe2\x80\n", "line 2: byte \\xe2 at column 7 is not valid UTF-8");
    /* Valid UTF-8 is fine in a comment, and escaped when it is a bad word. */
    uint8_t bin[64];
    char err[512];
    CHECK(parse("# caf\xc3\xa9 \xe2\x80\x94 ok\ntarget test\r\nparam n 2\r\n", bin, sizeof bin, NULL, err, sizeof err) == 2);
    CHECK_REJECTS("target test\nevent caf\xc3\xa9 1\n", "line 2: unknown event 'caf\\xc3\\xa9'");
}

/* Over-long lines were cut, more than 4096 schedule bytes gave "hex bytes
 * 00..ff", a file over 1 MiB was cut: each limit is named. */
TEST(parse_names_each_limit)
{
    size_t big = TDF_TEXT_MAX_LINE + 20;
    char *line = malloc(big + 64);
    strcpy(line, "target test\n# ");
    size_t at = strlen(line);
    memset(line + at, 'a', TDF_TEXT_MAX_LINE - 2); /* "# " + MAX-2 = exactly the limit */
    line[at + TDF_TEXT_MAX_LINE - 2] = 0;
    uint8_t bin[64];
    char err[512];
    CHECK(parse(line, bin, sizeof bin, NULL, err, sizeof err) == 2);
    strcat(line, "b\n");
    CHECK_REJECTS(line, "line 2: line of 16385 characters, over the text form's limit of 16384");
    free(line);

    /* Exactly the limit of schedule bytes, over several lines, then one more. */
    char *sched = malloc(4 * TDF_TEXT_MAX_SCHEDULE + 200);
    strcpy(sched, "target test\n");
    for (unsigned i = 0; i < TDF_TEXT_MAX_SCHEDULE; i++)
        strcat(sched + strlen(sched) - (i % 64 ? 0 : 0), i % 64 == 0 ? (i ? "\nschedule 5a" : "schedule 5a") : " 5a");
    strcat(sched, "\n");
    static uint8_t sbin[TDF_TEXT_MAX_SCHEDULE + 64];
    CHECK_EQ(parse(sched, sbin, sizeof sbin, NULL, err, sizeof err), 2 + TDF_TEXT_MAX_SCHEDULE);
    strcat(sched, "schedule 01\n");
    CHECK_REJECTS(sched, "line 66: more than 4096 schedule bytes (the text form's limit)");
    free(sched);

    char *events = malloc(64 * 32);
    strcpy(events, "target test\n");
    for (int i = 0; i <= TDF_MAX_EVENT_COUNT; i++)
        strcat(events, "event idle 1\n");
    CHECK_REJECTS(events, "line 34: more than 32 events (the format's limit)");
    free(events);

    /* A file one byte over the limit: the message names the line the limit
     * falls in (line 1, then one line per newline up to byte 1048576). */
    size_t fsize = TDF_TEXT_MAX_FILE + 1;
    char *file = malloc(fsize + 1);
    memset(file, '\n', fsize);
    memcpy(file, "target test\n", 12);
    file[fsize] = 0;
    CHECK_REJECTS_N(file, fsize, "line 1048566: the file is over the text form's limit of 1048576 bytes");
    CHECK_REJECTS_N(file, fsize, "(1048577 bytes)");
    free(file);
}

/* The format line versions the text form (docs/INPUT.md). */
TEST(format_line)
{
    uint8_t bin[64];
    char err[512];
    tdf_text_meta_t m;
    CHECK(parse("format 1\ntarget test\n", bin, sizeof bin, &m, err, sizeof err) == 2);
    CHECK_EQ(m.format, 1);
    CHECK(parse("# before the format line\ntarget test\n", bin, sizeof bin, &m, err, sizeof err) == 2);
    CHECK_EQ(m.format, 1); /* no format line: format 1, the form before the line existed */
    CHECK_REJECTS("format 2\ntarget test\n", "line 1: format 2 is not known to this build (it reads format 1)");
    CHECK_REJECTS("# c\nformat 99999999999\ntarget test\n", "line 2: format '99999999999' is not a number");
    CHECK_REJECTS("format one\n", "line 1: format 'one' is not a number");
    CHECK_REJECTS("target test\nformat 1\n", "line 2: the format line must come before every other line but comments");
    CHECK_REJECTS("format 1\nformat 1\n", "line 2: a second format line (the first is line 1)");
    CHECK_REJECTS("format\n", "line 1: expected 'format N'");
}

/* The expect lines a repro file carries (read by the runner). */
TEST(expectation_lines)
{
    static const tdf_variant_desc_t variants[] = {{"correct", "test"}, {"broken", "test"}};
    tdf_target_desc_t two = k_target;
    two.variants = variants;
    two.variant_count = 2;
    uint8_t bin[64];
    char err[512];
    tdf_text_meta_t m;
    static const char ok[] = "# teardown-fuzz repro\n# bug: words that are not parsed: 1 2 3\n"
                             "# expect-variant broken\n# expect-signature 0xCE:a!B:thread:c\ntarget test\n";
    CHECK(tdf_parse_text(&two, ok, sizeof ok - 1, bin, sizeof bin, &m, err, sizeof err) == 2);
    CHECK(strcmp(m.expect_variant, "broken") == 0);
    CHECK_EQ(m.expect_variant_line, 3);
    CHECK(strcmp(m.expect_signature, "0xCE:a!B:thread:c") == 0);
    CHECK_EQ(m.expect_signature_line, 4);
    CHECK(parse("target test\n", bin, sizeof bin, &m, err, sizeof err) == 2);
    CHECK(m.expect_variant[0] == 0 && m.expect_signature[0] == 0);
    CHECK_REJECTS("# expect-variant nosuch\ntarget test\n",
                  "line 1: expect-variant 'nosuch' is not a variant of test (variants: correct)");
    CHECK_REJECTS("# expect-variant correct\n# expect-variant correct\ntarget test\n",
                  "line 2: a second expect-variant line (the first is line 1)");
    CHECK_REJECTS("# expect-signature A B\ntarget test\n", "line 1: expected '# expect-signature VALUE' (one word)");
    CHECK_REJECTS("# expect-signature\ntarget test\n", "line 1: expected '# expect-signature VALUE'");
    CHECK_REJECTS("# expect-sig X\ntarget test\n", "line 1: unknown expectation 'expect-sig'");
    CHECK(parse("# expect-tsan SANITIZER/data-race:a!B:thread:c\ntarget test\n", bin, sizeof bin, &m, err, sizeof err) == 2);
    CHECK(strcmp(m.expect_tsan, "SANITIZER/data-race:a!B:thread:c") == 0 && m.expect_tsan_line == 1);
    CHECK_REJECTS("# expect-tsan A\n# expect-tsan A\ntarget test\n", "line 2: a second expect-tsan line (the first is line 1)");
}

/* Issue 9 item 10: the same text read against a target whose alphabet grew
 * (a stimulus inserted before the others, a variant added) gives the same
 * events by name, while the binary form of the old build means other events. */
TEST(text_keeps_its_meaning_when_the_alphabet_grows)
{
    static const tdf_stimulus_desc_t grown_stimuli[] = {
        {"inserted", NULL, NULL, "new"}, {"poke", NULL, NULL, "test"}, {"prod", NULL, NULL, "test"}};
    tdf_target_desc_t grown = k_target;
    grown.stimuli = grown_stimuli;
    grown.stimulus_count = 3;
    static const char text[] = "format 1\ntarget test\nparam n 3\nevent prod 7\nevent remove 1\nevent poke 0\n"
                               "schedule 01 02\n";
    uint8_t old_bin[64], new_bin[64];
    char err[512];
    long n_old = tdf_parse_text(&k_target, text, sizeof text - 1, old_bin, sizeof old_bin, NULL, err, sizeof err);
    long n_new = tdf_parse_text(&grown, text, sizeof text - 1, new_bin, sizeof new_bin, NULL, err, sizeof err);
    if (!CHECK(n_old > 0 && n_new == n_old))
        return;
    tdf_script_t s_old, s_new, s_stale;
    tdf_decode(&k_target, old_bin, (size_t)n_old, &s_old);
    tdf_decode(&grown, new_bin, (size_t)n_new, &s_new);
    if (!CHECK_EQ(s_new.event_count, 3) || !CHECK_EQ(s_old.event_count, 3))
        return;
    static const char *const want[] = {"prod", "remove", "poke"};
    for (unsigned k = 0; k < 3; k++) {
        CHECK(strcmp(tdf_event_name(&k_target, s_old.events[k].kind), want[k]) == 0);
        CHECK(strcmp(tdf_event_name(&grown, s_new.events[k].kind), want[k]) == 0);
        CHECK_EQ(s_new.events[k].arg, s_old.events[k].arg);
    }
    CHECK_EQ(s_new.params[0], 3);
    CHECK(s_new.schedule.len == 2 && s_new.schedule.bytes[1] == 0x01 && s_new.schedule.bytes[0] == 0x02);
    /* The old build's binary read by the grown build: stimuli shift by one. */
    tdf_decode(&grown, old_bin, (size_t)n_old, &s_stale);
    CHECK(strcmp(tdf_event_name(&grown, s_stale.events[0].kind), "poke") == 0);
    CHECK(strcmp(tdf_event_name(&grown, s_stale.events[2].kind), "inserted") == 0);
}

/* The custom mutator's rescheduled input: the front (params, count, events)
 * kept byte for byte, the schedule region exactly the salt; from the text
 * form too; 0 when it does not fit or the text does not parse. */
TEST(reschedule_keeps_events_replaces_schedule)
{
    static const uint8_t salt[] = {0x11, 0x22, 0x33};
    /* param, 2 events, 4 schedule bytes */
    uint8_t in[] = {1, 2, TDF_EV_REMOVE, 0, TDF_EV_GENERIC_COUNT + 1, 7, 0xaa, 0xbb, 0xcc, 0xdd};
    uint8_t buf[64];
    memcpy(buf, in, sizeof in);
    size_t n = tdf_reschedule(&k_target, buf, sizeof in, sizeof buf, salt, sizeof salt);
    if (!CHECK_EQ(n, 6 + sizeof salt))
        return;
    CHECK(memcmp(buf, in, 6) == 0);
    CHECK(memcmp(buf + 6, salt, sizeof salt) == 0);
    tdf_script_t s;
    tdf_decode(&k_target, buf, n, &s);
    CHECK_EQ(s.event_count, 2);
    CHECK(s.schedule.len == sizeof salt && s.schedule.bytes[0] == 0x11);
    /* A count larger than the events present: the front ends where decoding stopped. */
    uint8_t cut[] = {0, 9, TDF_EV_REMOVE, 1, 0x05};
    memcpy(buf, cut, sizeof cut);
    CHECK_EQ(tdf_reschedule(&k_target, buf, sizeof cut, sizeof buf, salt, 1), 5); /* 4 front bytes + 1 */
    CHECK(memcmp(buf, cut, 4) == 0 && buf[4] == 0x11);
    /* Does not fit: nothing written. */
    memcpy(buf, in, sizeof in);
    CHECK_EQ(tdf_reschedule(&k_target, buf, sizeof in, 7, salt, sizeof salt), 0);
    CHECK(memcmp(buf, in, sizeof in) == 0);
    /* The text form: converted, its schedule line dropped. */
    static const char text[] = "target test\nparam n 2\nevent remove 0\nevent prod 7\nschedule 0a ff 00\n";
    char tbuf[128];
    memcpy(tbuf, text, sizeof text - 1);
    n = tdf_reschedule(&k_target, (uint8_t *)tbuf, sizeof text - 1, sizeof tbuf, salt, 2);
    if (!CHECK_EQ(n, 8))
        return;
    CHECK(memcmp(tbuf, in, 6) == 0 && (uint8_t)tbuf[6] == 0x11 && (uint8_t)tbuf[7] == 0x22);
    static const char bad[] = "target test\nevent no_such_event 1\n";
    memcpy(tbuf, bad, sizeof bad - 1);
    CHECK_EQ(tdf_reschedule(&k_target, (uint8_t *)tbuf, sizeof bad - 1, sizeof tbuf, salt, 2), 0);
}

TEST(escape_never_passes_raw_bytes)
{
    char out[64];
    tdf_escape("a\x1b[1m\xff\\z", 8, 40, out, sizeof out);
    CHECK(strcmp(out, "a\\x1b[1m\\xff\\x5cz") == 0);
    tdf_escape("abcdefgh", 8, 3, out, sizeof out);
    CHECK(strcmp(out, "abc...") == 0);
    tdf_escape("\x01\x01\x01\x01\x01\x01", 6, 40, out, 10); /* output cut, still terminated */
    CHECK(strlen(out) < 10);
}

int main(void) { return tdf_test_main(); }
