#define _GNU_SOURCE /* memmem */
#include "input.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void tdf_decode(const tdf_target_desc_t *t, const uint8_t *data, size_t size, tdf_script_t *script)
{
    size_t pos = 0;
    memset(script, 0, sizeof *script);
    for (unsigned i = 0; i < t->param_count && i < TDF_MAX_PARAMS; i++) {
        uint8_t b = pos < size ? data[pos++] : 0;
        unsigned span = (unsigned)t->params[i].max - t->params[i].min + 1u;
        script->params[i] = (uint8_t)(t->params[i].min + b % span);
    }
    unsigned count = pos < size ? data[pos++] % (TDF_MAX_EVENT_COUNT + 1) : 0;
    for (unsigned k = 0; k < count && pos + 2 <= size; k++, pos += 2) {
        script->events[k].kind = (uint8_t)(data[pos] % tdf_event_kind_count(t));
        script->events[k].arg = data[pos + 1];
        script->event_count = k + 1;
    }
    script->schedule.kind = SCHED_SOURCE_BYTES;
    script->schedule.bytes = data + pos;
    script->schedule.len = size - pos;
}

int tdf_parse_number(const char **p, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    unsigned long long x = 0;
    int digits = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++, digits++) {
        unsigned d = (unsigned)(**p - '0');
        if (d > hi || x > (hi - d) / 10)
            return 0; /* above hi, never overflows */
        x = x * 10 + d;
    }
    *out = x;
    return digits && x >= lo;
}

int tdf_parse_tail(const char *name, sched_source_t *src)
{
    if (strcmp(name, "none") == 0) {
        src->random_tail = SCHED_TAIL_NONE;
        return 1;
    }
    if (strcmp(name, "random") == 0) {
        src->random_tail = SCHED_TAIL_RANDOM;
        return 1;
    }
    if (strncmp(name, "pct", 3) != 0)
        return 0;
    const char *p = name + 3;
    unsigned long long depth = 3, k = TDF_PCT_TAIL_K;
    if (*p == ':' && (p++, !tdf_parse_number(&p, 1, 8, &depth)))
        return 0;
    if (*p == ':' && (p++, !tdf_parse_number(&p, 1, 4000000000ull, &k)))
        return 0;
    if (*p)
        return 0;
    src->random_tail = SCHED_TAIL_PCT;
    src->pct_depth = (unsigned)depth;
    src->pct_steps = (uint32_t)k;
    return 1;
}

size_t tdf_reschedule(const tdf_target_desc_t *t, uint8_t *data, size_t size, size_t max_size, const uint8_t *salt,
                      size_t salt_len)
{
    /* static: TDF_TEXT_MAX_FILE is too large for a stack (libFuzzer's mutator
     * runs on the main thread, one call at a time). */
    static uint8_t bin[TDF_TEXT_MAX_FILE];
    const uint8_t *src = data;
    if (tdf_is_text(data, size)) {
        char err[8];
        long n = tdf_parse_text(t, (const char *)data, size, bin, sizeof bin, NULL, err, sizeof err);
        if (n < 0)
            return 0;
        src = bin, size = (size_t)n;
    }
    tdf_script_t script;
    tdf_decode(t, src, size, &script);
    size_t events_end = (size_t)(script.schedule.bytes - src);
    if (events_end + salt_len > max_size)
        return 0;
    memmove(data, src, events_end); /* src is data or bin: memmove for the first */
    memcpy(data + events_end, salt, salt_len);
    return events_end + salt_len;
}

void tdf_write_text(const tdf_target_desc_t *t, const tdf_script_t *s, FILE *out)
{
    fprintf(out, "# teardown-fuzz input, text form (docs/INPUT.md)\n");
    fprintf(out, "format %d\n", TDF_TEXT_FORMAT);
    fprintf(out, "target %s\n", t->name);
    for (unsigned i = 0; i < t->param_count; i++)
        fprintf(out, "param %s %u\n", t->params[i].name, s->params[i]);
    for (unsigned k = 0; k < s->event_count; k++)
        fprintf(out, "event %s %u\n", tdf_event_name(t, s->events[k].kind), s->events[k].arg);
    if (s->schedule.kind == SCHED_SOURCE_BYTES && s->schedule.len) {
        /* Consumption order: the last byte of the input is used first. */
        fprintf(out, "# schedule bytes in the order they are used; each: run (b & 7) %% runnable, stay b >> 3\n");
        fprintf(out, "schedule");
        for (size_t i = s->schedule.len; i-- > 0;)
            fprintf(out, " %02x", s->schedule.bytes[i]);
        fprintf(out, "\n");
    }
}

int tdf_text_fits(const tdf_script_t *s, char *err, size_t errsz)
{
    if (s->schedule.kind == SCHED_SOURCE_BYTES && s->schedule.len > TDF_TEXT_MAX_SCHEDULE) {
        snprintf(err, errsz, "its schedule region has %zu bytes, over the text form's limit of %u schedule bytes",
                 s->schedule.len, TDF_TEXT_MAX_SCHEDULE);
        return 0;
    }
    return 1;
}

int tdf_is_text(const uint8_t *data, size_t size)
{
    static const char *const starts[] = {"# teardown-fuzz", "format ", "target "};
    for (unsigned i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        size_t n = strlen(starts[i]);
        if (size >= n && memcmp(data, starts[i], n) == 0)
            return 1;
    }
    /* A free comment first: text if it has a target line and no control
     * byte (a fuzzer-made input is practically never both). */
    if (size == 0 || data[0] != '#' || !memmem(data, size, "\ntarget ", 8))
        return 0;
    for (size_t i = 0; i < size; i++)
        if ((data[i] < 0x20 && data[i] != '\t' && data[i] != '\n' && data[i] != '\r') || data[i] == 0x7f)
            return 0;
    return 1;
}

void tdf_escape(const char *s, size_t n, size_t max, char *out, size_t outsz)
{
    size_t o = 0;
    if (outsz == 0)
        return;
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        char piece[8];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            piece[0] = (char)c, piece[1] = 0;
        else
            snprintf(piece, sizeof piece, "\\x%02x", c);
        size_t pl = strlen(piece);
        if (o + pl + 4 >= outsz) /* room for "..." and the NUL */
            break;
        memcpy(out + o, piece, pl);
        o += pl;
    }
    if (n > max && o + 4 <= outsz)
        memcpy(out + o, "...", 3), o += 3;
    out[o] = 0;
}

static int event_kind_by_name(const tdf_target_desc_t *t, const char *name)
{
    for (unsigned k = 0; k < tdf_event_kind_count(t); k++)
        if (strcmp(tdf_event_name(t, k), name) == 0)
            return (int)k;
    return -1;
}

/* Strict decimal: digits only (no sign, no spaces, no suffix). 0 ok, -1 not a
 * number, -2 above max (overflow included). */
static int parse_decimal(const char *s, unsigned long max, unsigned long *v)
{
    unsigned long x = 0;
    int big = 0;
    if (!*s)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (d > max || x > (max - d) / 10)
            big = 1;
        else
            x = x * 10 + d;
    }
    if (big)
        return -2;
    *v = x;
    return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, min = 0x80;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, min = 0x800;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = s[0] & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

typedef struct parse_state {
    char *err;
    size_t errsz;
    unsigned lineno;
} parse_state_t;

static long fail(parse_state_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long fail(parse_state_t *ps, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errsz, "line %u: %s", ps->lineno, msg);
    return -1;
}

/* Escaped copy of one token for a message. */
#define SHOW(tok) (tdf_escape((tok), strlen(tok), 40, show, sizeof show), show)

long tdf_parse_text(const tdf_target_desc_t *t, const char *text, size_t len, uint8_t *out, size_t cap,
                    tdf_text_meta_t *meta, char *err, size_t errsz)
{
    tdf_text_meta_t local;
    uint8_t params[TDF_MAX_PARAMS] = {0};
    unsigned param_line[TDF_MAX_PARAMS] = {0};
    uint8_t events[2 * TDF_MAX_EVENT_COUNT];
    unsigned nevents = 0;
    uint8_t sched[TDF_TEXT_MAX_SCHEDULE];
    size_t nsched = 0;
    unsigned format_line = 0, target_line = 0, first_item_line = 0;
    static char line[TDF_TEXT_MAX_LINE + 1];
    char show[200];
    parse_state_t ps = {err, errsz, 0};

    if (!meta)
        meta = &local;
    memset(meta, 0, sizeof *meta);
    meta->format = TDF_TEXT_FORMAT;
    if (len > TDF_TEXT_MAX_FILE) {
        /* Name the line the limit falls in. */
        for (size_t i = 0; i < TDF_TEXT_MAX_FILE; i++)
            ps.lineno += text[i] == '\n';
        ps.lineno++;
        return fail(&ps, "the file is over the text form's limit of %u bytes (%zu bytes)", TDF_TEXT_MAX_FILE, len);
    }
    size_t pos = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL);
        ps.lineno++;
        if (n && start[n - 1] == '\r') /* CRLF line ends */
            n--;
        if (n > TDF_TEXT_MAX_LINE)
            return fail(&ps, "line of %zu characters, over the text form's limit of %u", n, TDF_TEXT_MAX_LINE);
        /* Bytes: printable ASCII, tab and valid UTF-8 only, so nothing raw
         * reaches a terminal through a message. */
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)start[i];
            if (c == 0)
                return fail(&ps, "NUL byte at column %zu (the text form is text)", i + 1);
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return fail(&ps, "control byte \\x%02x at column %zu", c, i + 1);
            if (c >= 0x80) {
                size_t u = utf8_length((const unsigned char *)start + i, n - i);
                if (!u)
                    return fail(&ps, "byte \\x%02x at column %zu is not valid UTF-8", c, i + 1);
                i += u - 1;
            }
        }
        memcpy(line, start, n);
        line[n] = 0;
        /* Tokens separated by spaces and tabs; ntok counts past the array. */
        char *tok[8];
        unsigned ntok = 0;
        for (char *q = strtok(line, " \t"); q; q = strtok(NULL, " \t")) {
            if (ntok < 8)
                tok[ntok] = q;
            ntok++;
            if (tok[0][0] == '#' && ntok == 2 && strncmp(tok[1], "expect-", 7) != 0)
                break; /* a free comment: its words are not parsed */
            if (ntok >= 8 && strcmp(tok[0], "schedule") == 0)
                break; /* schedule lines are re-scanned below */
        }
        if (ntok == 0)
            continue;
        if (tok[0][0] == '#') {
            if (strcmp(tok[0], "#") != 0 || ntok < 2 || strncmp(tok[1], "expect-", 7) != 0)
                continue;
            int is_variant = strcmp(tok[1], "expect-variant") == 0;
            int is_sig = strcmp(tok[1], "expect-signature") == 0;
            int is_tsan = strcmp(tok[1], "expect-tsan") == 0;
            if (!is_variant && !is_sig && !is_tsan)
                return fail(&ps, "unknown expectation '%s' (expect-variant, expect-signature or expect-tsan)",
                            SHOW(tok[1]));
            if (ntok != 3)
                return fail(&ps, "expected '# %s VALUE' (one word)", tok[1]);
            if (is_variant) {
                if (meta->expect_variant_line)
                    return fail(&ps, "a second expect-variant line (the first is line %u)", meta->expect_variant_line);
                unsigned v = 0;
                while (v < t->variant_count && strcmp(t->variants[v].name, tok[2]) != 0)
                    v++;
                if (v == t->variant_count) {
                    char names[200] = "";
                    for (unsigned k = 0; k < t->variant_count; k++)
                        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? " " : "",
                                 t->variants[k].name);
                    return fail(&ps, "expect-variant '%s' is not a variant of %s (variants: %s)", SHOW(tok[2]),
                                t->name, names);
                }
                snprintf(meta->expect_variant, sizeof meta->expect_variant, "%s", tok[2]);
                meta->expect_variant_line = ps.lineno;
            } else {
                char *sig = is_sig ? meta->expect_signature : meta->expect_tsan;
                unsigned *at = is_sig ? &meta->expect_signature_line : &meta->expect_tsan_line;
                if (*at)
                    return fail(&ps, "a second %s line (the first is line %u)", tok[1], *at);
                if (strlen(tok[2]) >= TDF_TEXT_MAX_SIGNATURE)
                    return fail(&ps, "%s longer than %d characters", tok[1], TDF_TEXT_MAX_SIGNATURE - 1);
                snprintf(sig, TDF_TEXT_MAX_SIGNATURE, "%s", tok[2]);
                *at = ps.lineno;
            }
            continue;
        }
        const char *kw = tok[0];
        if (strcmp(kw, "format") == 0) {
            unsigned long f;
            if (format_line)
                return fail(&ps, "a second format line (the first is line %u)", format_line);
            if (target_line || first_item_line)
                return fail(&ps, "the format line must come before every other line but comments");
            if (ntok != 2)
                return fail(&ps, "expected 'format N'");
            if (parse_decimal(tok[1], 1000000, &f) != 0)
                return fail(&ps, "format '%s' is not a number", SHOW(tok[1]));
            if (f != TDF_TEXT_FORMAT)
                return fail(&ps, "format %lu is not known to this build (it reads format %d)", f, TDF_TEXT_FORMAT);
            meta->format = (unsigned)f;
            format_line = ps.lineno;
        } else if (strcmp(kw, "target") == 0) {
            if (target_line)
                return fail(&ps, "a second target line (the first is line %u)", target_line);
            if (first_item_line)
                return fail(&ps, "the target line must come before params, events and schedule bytes");
            if (ntok != 2)
                return fail(&ps, "expected 'target NAME' (one word)");
            if (strcmp(tok[1], t->name) != 0)
                return fail(&ps, "input is for target '%s', this is %s", SHOW(tok[1]), t->name);
            target_line = ps.lineno;
        } else if (strcmp(kw, "param") == 0 || strcmp(kw, "event") == 0 || strcmp(kw, "schedule") == 0) {
            if (!target_line)
                return fail(&ps, "'%s' before the 'target %s' line", kw, t->name);
            if (!first_item_line)
                first_item_line = ps.lineno;
            if (kw[0] == 'p') {
                unsigned long v;
                if (ntok != 3)
                    return fail(&ps, "expected 'param NAME VALUE'");
                unsigned i = 0;
                while (i < t->param_count && strcmp(t->params[i].name, tok[1]) != 0)
                    i++;
                if (i == t->param_count)
                    return fail(&ps, "unknown param '%s'", SHOW(tok[1]));
                if (param_line[i])
                    return fail(&ps, "param %s given twice (first on line %u)", t->params[i].name, param_line[i]);
                int r = parse_decimal(tok[2], t->params[i].max, &v);
                if (r == -1)
                    return fail(&ps, "param %s value '%s' is not a decimal number", t->params[i].name, SHOW(tok[2]));
                if (r == -2 || v < t->params[i].min)
                    return fail(&ps, "param %s value %s out of range %u..%u", t->params[i].name, SHOW(tok[2]),
                                (unsigned)t->params[i].min, (unsigned)t->params[i].max);
                params[i] = (uint8_t)(v - t->params[i].min);
                param_line[i] = ps.lineno;
            } else if (kw[0] == 'e') {
                unsigned long v;
                if (ntok != 3)
                    return fail(&ps, "expected 'event NAME ARG' (ARG 0..255)");
                int kind = event_kind_by_name(t, tok[1]);
                if (kind < 0)
                    return fail(&ps, "unknown event '%s'", SHOW(tok[1]));
                int r = parse_decimal(tok[2], 255, &v);
                if (r == -1)
                    return fail(&ps, "event %s argument '%s' is not a decimal number", tok[1], SHOW(tok[2]));
                if (r == -2)
                    return fail(&ps, "event %s argument %s out of range 0..255", tok[1], SHOW(tok[2]));
                if (nevents >= TDF_MAX_EVENT_COUNT)
                    return fail(&ps, "more than %d events (the format's limit)", TDF_MAX_EVENT_COUNT);
                events[2 * nevents] = (uint8_t)kind;
                events[2 * nevents + 1] = (uint8_t)v;
                nevents++;
            } else {
                /* The token array holds only 8: scan the line again. */
                memcpy(line, start, n);
                line[n] = 0;
                unsigned k = 0;
                for (char *q = strtok(line + strlen("schedule"), " \t"); q; q = strtok(NULL, " \t"), k++) {
                    size_t ql = strlen(q);
                    unsigned long b = strtoul(q, NULL, 16);
                    if (ql > 2 || !isxdigit((unsigned char)q[0]) || (ql == 2 && !isxdigit((unsigned char)q[1])))
                        return fail(&ps, "schedule byte %u '%s' is not one or two hex digits (00..ff)", k + 1,
                                    SHOW(q));
                    if (nsched >= TDF_TEXT_MAX_SCHEDULE)
                        return fail(&ps, "more than %u schedule bytes (the text form's limit)", TDF_TEXT_MAX_SCHEDULE);
                    sched[nsched++] = (uint8_t)b;
                }
            }
        } else {
            return fail(&ps, "unknown keyword '%s'", SHOW(kw));
        }
    }
    if (!target_line) {
        ps.lineno = ps.lineno ? ps.lineno : 1;
        return fail(&ps, "end of input without a 'target %s' line", t->name);
    }
    size_t total = t->param_count + 1 + 2 * (size_t)nevents + nsched;
    if (total > cap) {
        snprintf(err, errsz, "input of %zu bytes does not fit the %zu-byte buffer", total, cap);
        return -1;
    }
    size_t o = 0;
    memcpy(out + o, params, t->param_count);
    o += t->param_count;
    out[o++] = (uint8_t)nevents;
    memcpy(out + o, events, 2 * (size_t)nevents);
    o += 2 * (size_t)nevents;
    for (size_t i = nsched; i-- > 0;) /* text lists them in use order: stored reversed */
        out[o++] = sched[i];
    return (long)o;
}

uint64_t tdf_input_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ULL;
    return h;
}
