#include "input.h"

#include <ctype.h>
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

void tdf_write_text(const tdf_target_desc_t *t, const tdf_script_t *s, FILE *out)
{
    fprintf(out, "# teardown-fuzz input, text form (docs/INPUT.md)\n");
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

int tdf_is_text(const uint8_t *data, size_t size)
{
    static const char a[] = "# teardown-fuzz", b[] = "target ";
    return (size >= sizeof a - 1 && memcmp(data, a, sizeof a - 1) == 0) ||
           (size >= sizeof b - 1 && memcmp(data, b, sizeof b - 1) == 0);
}

static int event_kind_by_name(const tdf_target_desc_t *t, const char *name)
{
    for (unsigned k = 0; k < tdf_event_kind_count(t); k++)
        if (strcmp(tdf_event_name(t, k), name) == 0)
            return (int)k;
    return -1;
}

long tdf_parse_text(const tdf_target_desc_t *t, const char *text, uint8_t *out, size_t cap, char *err, size_t errsz)
{
    uint8_t params[TDF_MAX_PARAMS] = {0};
    uint8_t events[2 * TDF_MAX_EVENT_COUNT];
    unsigned nevents = 0;
    uint8_t sched[4096];
    size_t nsched = 0;
    unsigned lineno = 0;
    const char *p = text;

    while (*p) {
        char line[8192];
        size_t n = strcspn(p, "\n");
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = 0;
        p += strcspn(p, "\n");
        if (*p)
            p++;
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            continue;
        char word[64], name[64];
        unsigned value;
        if (sscanf(s, "%63s", word) != 1)
            continue;
        if (strcmp(word, "target") == 0) {
            if (sscanf(s, "target %63s", name) != 1 || strcmp(name, t->name) != 0) {
                snprintf(err, errsz, "line %u: input is for target '%s', this is %s", lineno, name, t->name);
                return -1;
            }
        } else if (strcmp(word, "param") == 0) {
            if (sscanf(s, "param %63s %u", name, &value) != 2) {
                snprintf(err, errsz, "line %u: expected 'param NAME VALUE'", lineno);
                return -1;
            }
            unsigned i = 0;
            while (i < t->param_count && strcmp(t->params[i].name, name) != 0)
                i++;
            if (i == t->param_count || value < t->params[i].min || value > t->params[i].max) {
                snprintf(err, errsz, "line %u: unknown param '%s' or value out of range", lineno, name);
                return -1;
            }
            params[i] = (uint8_t)(value - t->params[i].min);
        } else if (strcmp(word, "event") == 0) {
            if (sscanf(s, "event %63s %u", name, &value) != 2 || value > 255) {
                snprintf(err, errsz, "line %u: expected 'event NAME ARG' (ARG 0..255)", lineno);
                return -1;
            }
            int kind = event_kind_by_name(t, name);
            if (kind < 0) {
                snprintf(err, errsz, "line %u: unknown event '%s'", lineno, name);
                return -1;
            }
            if (nevents >= TDF_MAX_EVENT_COUNT) {
                snprintf(err, errsz, "line %u: more than %d events", lineno, TDF_MAX_EVENT_COUNT);
                return -1;
            }
            events[2 * nevents] = (uint8_t)kind;
            events[2 * nevents + 1] = (uint8_t)value;
            nevents++;
        } else if (strcmp(word, "schedule") == 0) {
            char *q = s + strlen("schedule");
            for (;;) {
                while (isspace((unsigned char)*q))
                    q++;
                if (!*q)
                    break;
                char *end;
                unsigned long b = strtoul(q, &end, 16);
                if (end == q || b > 255 || nsched >= sizeof sched) {
                    snprintf(err, errsz, "line %u: schedule takes hex bytes 00..ff", lineno);
                    return -1;
                }
                sched[nsched++] = (uint8_t)b;
                q = end;
            }
        } else {
            snprintf(err, errsz, "line %u: unknown keyword '%s'", lineno, word);
            return -1;
        }
    }
    size_t total = t->param_count + 1 + 2 * (size_t)nevents + nsched;
    if (total > cap) {
        snprintf(err, errsz, "input too large");
        return -1;
    }
    size_t pos = 0;
    memcpy(out + pos, params, t->param_count);
    pos += t->param_count;
    out[pos++] = (uint8_t)nevents;
    memcpy(out + pos, events, 2 * (size_t)nevents);
    pos += 2 * (size_t)nevents;
    for (size_t i = nsched; i-- > 0;) /* text lists them in use order: stored reversed */
        out[pos++] = sched[i];
    return (long)pos;
}
