#!/usr/bin/env python3
"""tdf_mof_header.py IN.mof OUT.h -- the C header of a driver's WMI classes.

The WDK makes this header from the driver's .mof with wmimofck at build time;
tdf_add_image(... MOF file.mof=Header.h) makes it here at configure time, with
the names wmimofck gives (KERNEL-SEMANTICS does not cover WMI: the shim
accepts and ignores it, include/tdf/wmi.h):
  Class_GUID (DEFINE_GUID) and ClassGuid (initializer);
  typedef struct _Class { items by WmiDataId } Class, *PClass;
  Class_Item_SIZE, Class_Item_ID per item; Class_SIZE when every item has a
  fixed size; the first variable-size item (a string) and everything after it
  become CHAR VariableData[1] (the driver lays that part out itself);
  per method: Method (its WmiMethodId), Method_IN / Method_OUT structs with
  their _SIZE and per-parameter _SIZE/_ID macros.
Exit 0, or 1 with one line naming the file and what it cannot translate.
"""
import re
import sys

TYPES = {
    'boolean': 'BOOLEAN', 'uint8': 'UCHAR', 'sint8': 'CHAR', 'uint16': 'USHORT', 'sint16': 'SHORT',
    'uint32': 'ULONG', 'sint32': 'LONG', 'uint64': 'ULONGLONG', 'sint64': 'LONGLONG', 'char16': 'WCHAR',
}
VARIABLE = {'string', 'datetime'}


def fail(path, what):
    sys.stderr.write(f'{path}: {what}\n')
    sys.exit(1)


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def qualifiers(q):
    """[a, b("x"), c(1)] -> {'a': None, 'b': 'x', 'c': '1'} (names lower-cased)."""
    out = {}
    for m in re.finditer(r'([A-Za-z_]+)\s*(?:\(\s*("(?:[^"\\]|\\.)*"|[^)]*)\s*\))?(?:\s*\{[^}]*\})?', q):
        value = m.group(2)
        if value is not None:
            value = value.strip().strip('"')
        out[m.group(1).lower()] = value
    return out


def guid_parts(g, path):
    m = re.fullmatch(r'\{?([0-9A-Fa-f]{8})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{12})\}?', g)
    if not m:
        fail(path, f'not a GUID: {g}')
    d4 = m.group(4) + m.group(5)
    return '0x' + m.group(1), '0x' + m.group(2), '0x' + m.group(3), ['0x' + d4[i:i + 2] for i in range(0, 16, 2)]


def emit_struct(name, items, path, lines):
    """items: (id, mof type, item name). Returns whether every item is fixed-size."""
    lines.append(f'typedef struct _{name}\n{{')
    fixed = True
    last = None
    for ident, mtype, item in sorted(items):
        if mtype in VARIABLE:
            lines.append(f'    // {item} ({mtype}) and the items after it: variable size')
            lines.append('    CHAR VariableData[1];')
            lines.append(f'    #define {name}_{item}_ID {ident}')
            fixed = False
            break
        if mtype not in TYPES:
            fail(path, f'{name}.{item}: MOF type {mtype} is not translated')
        ctype = TYPES[mtype]
        lines.append(f'    {ctype} {item};')
        lines.append(f'    #define {name}_{item}_SIZE sizeof({ctype})')
        lines.append(f'    #define {name}_{item}_ID {ident}')
        last = item
    if not items:
        lines.append('    CHAR VariableData[1];')
        fixed = False
    lines.append(f'}} {name}, *P{name};')
    if fixed and last:
        lines.append(f'#define {name}_SIZE (FIELD_OFFSET({name}, {last}) + {name}_{last}_SIZE)')
    lines.append('')


def main():
    if len(sys.argv) != 3:
        sys.stderr.write('usage: tdf_mof_header.py IN.mof OUT.h\n')
        sys.exit(2)
    path, out_path = sys.argv[1], sys.argv[2]
    try:
        raw = open(path, encoding='utf-8', errors='replace').read()
    except OSError as e:
        fail(path, f'cannot read: {e.strerror}')
    text = strip_comments(raw.replace('\ufeff', ''))
    text = re.sub(r'#pragma[^\n]*', ' ', text, flags=re.I)
    guard = re.sub(r'[^A-Za-z0-9]', '_', out_path.split('/')[-1]).upper()
    lines = [f'/* generated from {path.split("/")[-1]} by tdf_mof_header.py (tdf_add_image MOF) */',
             f'#ifndef _{guard}_', f'#define _{guard}_', '']
    classes = re.finditer(r'\[([^\]]*)\]\s*class\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*[A-Za-z_][A-Za-z0-9_]*)?\s*\{(.*?)\}\s*;',
                          text, flags=re.S)
    for c in classes:
        cq, name, body = qualifiers(c.group(1)), c.group(2), c.group(3)
        lines.append(f'// {name}')
        if 'guid' in cq and cq['guid']:
            l, w1, w2, b = guid_parts(cq['guid'], path)
            lines.append(f'#define {name}Guid \\\n    {{ {l},{w1},{w2}, {{ {",".join(b)} }} }}')
            lines.append(f'DEFINE_GUID({name}_GUID, {l},{w1},{w2},{",".join(b)});')
            lines.append('')
        items, methods = [], []
        for m in re.finditer(r'\[([^\]]*)\]\s*([A-Za-z0-9_]+)\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\((.*?)\))?\s*;', body, flags=re.S):
            q, mtype, item, params = qualifiers(m.group(1)), m.group(2).lower(), m.group(3), m.group(5)
            if m.group(4) is not None:  # a method
                if 'wmimethodid' not in q:
                    continue
                methods.append((int(q['wmimethodid'], 0), item, params or ''))
            elif 'wmidataid' in q:
                if '[' in item or 'wmisizeis' in q or 'max' in q:
                    fail(path, f'{name}.{item}: arrays are not translated')
                items.append((int(q['wmidataid'], 0), mtype, item))
        emit_struct(name, items, path, lines)
        for mid, mname, params in sorted(methods):
            lines.append(f'#define {mname} {mid}')
            lines.append('')
            ins, outs = [], []
            for n, p in enumerate(re.finditer(r'\[([^\]]*)\]\s*([A-Za-z0-9_]+)\s+([A-Za-z_][A-Za-z0-9_]*)', params), 1):
                pq = qualifiers(p.group(1))
                entry = (n, p.group(2).lower(), p.group(3))
                if 'in' in pq:
                    ins.append(entry)
                if 'out' in pq:
                    outs.append(entry)
            if ins:
                emit_struct(f'{mname}_IN', ins, path, lines)
            if outs:
                emit_struct(f'{mname}_OUT', outs, path, lines)
    lines += ['#endif', '']
    tmp = out_path + '.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines))
    import os
    os.replace(tmp, out_path)


if __name__ == '__main__':
    main()
