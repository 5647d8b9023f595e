#!/usr/bin/env bash
# scripts/check_citations.sh [ROOT]   every path and section the tree cites exists
#
# Run by ctest (test "citations") and by hand; ROOT defaults to this checkout.
# Exit 0: nothing dangling; 1: dangling citations (one line each,
# "FILE:LINE: what"); 2: usage error. Last line: "N passed, M failed".
#
# Scanned: *.c *.h *.S *.def *.cmake *.md *.sh CMakeLists.txt under ROOT, except
# build trees (build/, build-*/), artifacts/, work/, .git/. Per line, after deleting
# URLs (scheme://...), this checks:
#  - Paths. A token of [A-Za-z0-9_.+/~-] that
#      * starts with ./ or ../: must exist relative to the citing file's directory;
#      * starts with a top-level entry of ROOT (docs/, scripts/, model/, ...):
#        must exist relative to ROOT, to the citing file's directory or to an
#        example project examples/*/ (the walk-through's own corpus/, repro/),
#        or be a module name (fuzz/input for fuzz/input.c), or a list of
#        top-level names (corpus/repro); followed by * it is a glob that must
#        match something (corpus/fuzz_power_share/seed-*);
#      * has another directory part and ends in .c .h .S .def .cmake .md .sh:
#        must exist relative to the citing directory or be the tail of a path
#        in the tree (`wdf/device.c` for model/wdf/device.c);
#      * is a bare file name ending in .c .h .md .sh .cmake .def: a file of that
#        name must exist somewhere in the tree, unless it is a WDK header
#        (nt*.h, wd*.h, wmi*.h, wpp*.h, initguid.h), a MOF-generated header (NameMof.h,
#        made in the build by tdf_add_image MOF) or a one-letter placeholder (a.c; also
#        ../x, a test's example of a bad argument).
#    ${TDF_ROOT}/ ${TDF_DIR}/ $root/ ${CMAKE_SOURCE_DIR}/ ${PROJECT_SOURCE_DIR}/
#    prefixes resolve from ROOT, ${CMAKE_CURRENT_SOURCE_DIR}/ and
#    ${CMAKE_CURRENT_LIST_DIR}/ from the citing directory; a path built from any
#    other variable is not checked.
#    Not checked (not citations): #include lines (the compiler checks those; a
#    doc's example of a bad include is not a citation), absolute and ~ paths,
#    tokens inside <...> (<ntddk.h>, corpus/<target>/), generated trees (build/,
#    artifacts/, work/: fuzz.sh's run corpora), paths in an install prefix (bin/ lib/ lib64/ libexec/ share/,
#    unless the tree has such a top-level directory), and placeholders: a path with an all-capitals directory
#    segment or file stem (not a .md's; a last segment with no extension is a
#    path, not a placeholder) that does not exist (corpus/TARGET/,
#    repro/T/NAME.txt).
#  - Sections. "§n" must be a section of the document it refers to: the last
#    document named before it on the line (a *.md path, or a capitalised name
#    followed by §/rule/model spec: KERNEL-SEMANTICS §4 means
#    docs/KERNEL-SEMANTICS.md; "cited as KS" makes KS an alias); failing that
#    the citing document itself when it has numbered sections; failing that
#    the last document named earlier in the file. A section is a heading
#    "## §n ..." or "## n. ...", up to the next heading of its level.
#    A quoted phrase right after §n (§4 "Across stack", "PDO") must occur in
#    that section; one after a document name (docs/LIFECYCLE.md, "Rules") in
#    that document. Case, `, * and line breaks are ignored; "..." splits a phrase
#    into pieces that must each occur; a quote may go on over the next lines
#    of a comment (up to 4, their comment leaders dropped); one not closed by
#    then is not checked.
#  - "rule n" in docs/LIFECYCLE.md, or after LIFECYCLE on the line: row n of
#    its rule table. "invariant n": item n of the invariants of
#    docs/KERNEL-SEMANTICS.md's model spec.
set -uo pipefail

usage() { echo "usage: scripts/check_citations.sh [ROOT]   (ROOT: a teardown-fuzz checkout; default: this one)"; }
case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; echo "check_citations.sh: unknown option '$1'" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { usage >&2; echo "check_citations.sh: one ROOT at most" >&2; exit 2; }
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
[ -d "$root" ] || { echo "check_citations.sh: $root: not a directory" >&2; exit 2; }
[ -f "$root/CMakeLists.txt" ] && [ -d "$root/model" ] ||
    { echo "check_citations.sh: $root: not a teardown-fuzz checkout (no CMakeLists.txt, model/)" >&2; exit 2; }
cd "$root" || exit 2

list=$(mktemp) || exit 2
trap 'rm -f "$list"' EXIT
# Every file and directory (directories with a trailing /), build trees pruned.
find . \( -name .git -o -name build -o -name 'build-*' -o -regex '\./\(artifacts\|work\)' \) -prune -o \
    \( -type d -printf '%P/\n' \) -o -printf '%P\n' | grep -v '^/$' >"$list"
scan=()
while IFS= read -r f; do scan+=("$f"); done < <(grep -E '(\.(c|h|S|def|cmake|md|sh)|(^|/)CMakeLists\.txt)$' "$list" | LC_ALL=C sort)

awk -v listfile="$list" '
function dirname(p) { return p ~ /\// ? substr(p, 1, match(p, /\/[^\/]*$/) - 1) : "" }
function basename(p) { sub(/\/$/, "", p); return p ~ /\// ? substr(p, match(p, /\/[^\/]*$/) + 1) : p }
# Joins base and rel, folding . and ..; "" if it climbs out of ROOT.
function join(base, rel,    n, i, parts, out, k, m, stack) {
    n = split((base == "" ? "" : base "/") rel, parts, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (k == 0) return ""; k--; continue }
        stack[++k] = parts[i]
    }
    out = ""
    for (m = 1; m <= k; m++) out = out (m > 1 ? "/" : "") stack[m]
    return out
}
function present(p) { return p != "" && ((p in exists) || ((p "/") in exists)) }
function tail_of_tree(t,    f, lt) {
    lt = length(t)
    for (f in exists)
        if (length(f) > lt && substr(f, length(f) - lt) == "/" t) return 1
    return 0
}
function norm(s) { s = tolower(s); gsub(/[`*]/, "", s); gsub(/[ \t]+/, " ", s); return s }
function bad(msg) {
    key = FILENAME ":" FNR ": " msg
    if (key in said) return
    said[key] = 1; failed++
    print key
}
# Reads a document once: its sections (§n or "n." headings), rule rows, invariants.
function load(doc,    line, nl, lev, n, h, cur, curlev, inspec, speclev) {
    if (doc in loaded) return
    loaded[doc] = 1; cur = ""; inspec = 0
    while ((getline line < doc) > 0) {
        if (line ~ /^#+ /) {
            lev = match(line, /[^#]/) - 1
            h = substr(line, lev + 2)
            n = ""
            if (match(h, /§[0-9]+/)) n = substr(h, RSTART + length("§"), RLENGTH - length("§"))
            else if (match(h, /^[0-9]+[. ]/)) n = substr(h, 1, RLENGTH - 1)
            if (n != "") { cur = n; curlev = lev; sect[doc, n] = 1; numbered[doc] = 1 }
            else if (cur != "" && lev <= curlev) cur = ""
            if (tolower(h) ~ /model spec/) { inspec = 1; speclev = lev }
            else if (inspec && lev <= speclev) inspec = 0
        }
        nl = norm(line); sub(/^ /, "", nl); sub(/ $/, "", nl)
        if (cur != "") text[doc, cur] = text[doc, cur] " " nl
        whole[doc] = whole[doc] " " nl
        if (line ~ /^\| *[0-9]+ *\|/) {
            n = line; sub(/^\| */, "", n); sub(/ *\|.*/, "", n)
            # Rule numbers are what tests and citations name: two rows with
            # one number (two sections picking the same range) make a
            # citation ambiguous.
            if (doc ~ /LIFECYCLE\.md$/ && (doc, n) in row) bad(doc ": rule " n " is defined twice")
            row[doc, n] = 1
        }
        if (inspec && match(line, /^ *[0-9]+\. /)) { n = line; sub(/^ */, "", n); sub(/\..*/, "", n); inv[doc, n] = 1 }
    }
    close(doc)
}
# The document a name stands for: a path, or a bare name -> docs/<name>.md.
function doc_of(name, dir,    p) {
    if (name in alias) return alias[name]
    if (name !~ /\.md$/) name = name ".md"
    if (name ~ /\//) {
        p = join(dir, name); if (p in exists) return p
        p = join("", name); if (p in exists) return p
        return "!" name
    }
    p = join(dir, name); if (p in exists) return p
    if (("docs/" name) in exists) return "docs/" name
    if (name in byname) return byname[name]
    return "!" name
}
# Checks the quoted phrases at the start of rest against the text hay.
function check_quote(q, hay, where,    pieces, n, i, p) {
    n = split(q, pieces, /\.\.\./)
    for (i = 1; i <= n; i++) {
        p = norm(pieces[i]); sub(/^ /, "", p); sub(/ $/, "", p)
        checked++
        if (p != "" && index(hay, p) == 0) bad("\"" q "\" is not in " where)
    }
}
# Checks the quoted phrases at the start of rest against the text hay; a quote
# left open at the end of the line is carried to the next lines (pend_*).
function phrases(rest, hay, where,    q) {
    while (match(rest, /^[ :,]*\(?"[^"]*"/)) {
        q = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + RLENGTH)
        sub(/^[^"]*"/, "", q); sub(/"$/, "", q)
        check_quote(q, hay, where)
    }
    if (match(rest, /^[ :,]*\(?"[^"]*$/)) {
        q = rest; sub(/^[^"]*"/, "", q)
        pend_q = q; pend_hay = hay; pend_where = where; pend_lines = 0
    }
}
function prefix_in_tree(pre,    f) {
    for (f in exists) if (index(f, pre) == 1) return 1
    return 0
}
function in_example(t,    f) {
    for (f in exists)
        if (f ~ /^examples\/[^\/]+\/$/ && present(f t)) return 1
    return 0
}
function glob_in_example(p,    f) {
    for (f in exists)
        if (f ~ /^examples\/[^\/]+\/$/ && prefix_in_tree(f p)) return 1
    return 0
}
function toplevel_list(t,    n, i, segs) {
    n = split(t, segs, "/")
    for (i = 1; i <= n; i++) if (!((segs[i] "/") in exists)) return 0
    return 1
}
function check_path(t, dir, glob,    first, p, seg, n, i, segs, stem) {
    if (t ~ /^\$\{?(TDF_ROOT|TDF_DIR|root|CMAKE_SOURCE_DIR|PROJECT_SOURCE_DIR)\}?\//) { sub(/^[^\/]*\//, "", t); dir = "" }
    else if (t ~ /^\$\{?(CMAKE_CURRENT_SOURCE_DIR|CMAKE_CURRENT_LIST_DIR)\}?\//) { sub(/^[^\/]*\//, "", t); t = "./" t }
    if (t ~ /[${}]/) return
    if (!glob) sub(/[.,:;]+$/, "", t)
    if (t == "" || t ~ /^[\/~]/ || t ~ /\/\// || t ~ /^[.\/]+$/) return
    n = split(t, segs, "/")
    first = segs[1]
    if (first == "build" || first == "artifacts" || first == "work") return
    if (first ~ /^(bin|lib|lib64|libexec|share)$/ && !((first "/") in exists)) return
    for (i = 1; i <= n; i++) {
        stem = segs[i]
        if (i == n && stem !~ /\.[A-Za-z0-9]+$/) continue
        if (i == n && stem !~ /\.md$/) sub(/\.[A-Za-z0-9]+$/, "", stem)
        if (stem ~ /^[A-Z][A-Z0-9_]+$/ && !present(join("", t)) && !present(join(dir, t))) return
    }
    if (glob) {
        if (t !~ /\// || (first != "." && first != ".." && !((first "/") in exists))) return
        checked++
        p = join("", t)
        if (!prefix_in_tree(p) && !prefix_in_tree(join(dir, t)) && !glob_in_example(p)) bad(t "*: matches nothing")
        return
    }
    if (t !~ /\//) {
        if (t !~ /^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*\.(c|h|md|sh|cmake|def)$/) return
        if (t ~ /^[a-z]\.[a-z]+$/ || t ~ /^(nt[a-z]*|wd[a-z]*|wmi[a-z]*|wpp[a-z]*|initguid)\.h$/ && !(t in byname) || t ~ /^[A-Za-z0-9_]+Mof\.h$/) return
        checked++
        if (!(t in byname)) bad("no file named " t " in the tree")
        return
    }
    if (first == "." || first == "..") {
        if (segs[n] ~ /^[a-z]$/) return
        checked++
        if (!present(join(dir, t))) bad(t ": no such path (from " (dir == "" ? "the root" : dir "/") ")")
        return
    }
    if ((first "/") in exists) {
        checked++
        p = join("", t)
        if (present(p) || present(join(dir, t)) || in_example(p) || ((p ".c") in exists) || ((p ".h") in exists) || toplevel_list(t)) return
        bad(t ": no such path")
        return
    }
    if (t !~ /\.(c|h|S|def|cmake|md|sh)$/) return
    checked++
    if (!present(join(dir, t)) && !tail_of_tree(t)) bad(t ": no such path")
}
BEGIN {
    # A bare file name (README.md "Exit codes") means the shallowest file of
    # that name: the top-level README.md, not the README.md of a subfolder.
    while ((getline f < listfile) > 0) {
        exists[f] = 1
        if (f ~ /\/$/) continue
        b = basename(f)
        if (!(b in byname) || gsub(/\//, "/", f) < depth[b]) { byname[b] = f; depth[b] = gsub(/\//, "/", f) }
    }
    close(listfile)
    section = "§"
}
FNR == 1 { filedoc = ""; split("", alias); dir = dirname(FILENAME); self = ""; pend_where = "" }
FNR == 1 && FILENAME ~ /\.md$/ { load(FILENAME); if (FILENAME in numbered) self = FILENAME }
pend_where != "" {
    # The rest of a quote opened on an earlier line (comment leaders dropped).
    cont = $0
    sub(/^[ \t]*(\*|\/\/|#)?[ \t]*/, "", cont)
    if (index(cont, "\"")) {
        check_quote(pend_q " " substr(cont, 1, index(cont, "\"") - 1), pend_hay, pend_where)
        pend_where = ""
    } else if (++pend_lines >= 4) pend_where = ""
    else pend_q = pend_q " " cont
}
{
    line = $0
    gsub(/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^ \t)>"`'"'"'\]]*/, " ", line)
    if (line !~ /^[ \t]*(\/\/|\/\*|\*)?[ \t]*#[ \t]*include/) {
        s = line
        gsub(/<[^<> ]*>/, " ", s)
        while (match(s, /[A-Za-z0-9_.+\/~${}-]+/)) {
            t = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
            if (t ~ /[\/.]/) check_path(t, dir, substr(s, 1, 1) == "*")
        }
    }
    # Sections, rules, invariants, left to right.
    linedoc = ""
    s = line
    while (match(s, /[A-Za-z0-9_.\/-]*[A-Za-z0-9_-]\.md|[A-Z][A-Z]+(-[A-Z]+)*|§[0-9]+|[Rr]ule [0-9]+|invariant [0-9]+|cited as [A-Z]+/)) {
        m = substr(s, RSTART, RLENGTH); rest = substr(s, RSTART + RLENGTH); s = rest
        if (m ~ /^cited as /) { sub(/^cited as /, "", m); if (linedoc != "") alias[m] = linedoc; continue }
        if (m ~ /\.md$/) {
            if (m ~ /^[\/~]/ || m ~ /^(build|artifacts)\//) continue
            linedoc = filedoc = doc_of(m, dir)
            if (linedoc !~ /^!/) { load(linedoc); if (match(rest, /^[ ,:]*\(?"[^"]*"/)) phrases(rest, whole[linedoc], linedoc) }
            continue
        }
        if (m ~ /^[A-Z]/) {
            if (!(m in alias) && rest !~ /^(\.md)?[ ,:]*(§|[Rr]ule [0-9]|model spec)/) continue
            linedoc = filedoc = doc_of(m, dir)
            if (linedoc ~ /^!/) { checked++; bad(m " cited, but " substr(linedoc, 2) " is not in the tree") }
            else load(linedoc)
            continue
        }
        if (m ~ /^§/) {
            n = substr(m, length(section) + 1)
            d = linedoc != "" ? linedoc : (self != "" ? self : filedoc)
            if (d ~ /^!/) continue
            checked++
            if (d == "") { bad(m ": no document named before it in this file"); continue }
            load(d)
            if (!((d, n) in sect)) { bad(m ": " d " has no section " m); continue }
            phrases(rest, text[d, n], d " " m)
            continue
        }
        if (m ~ /^[Rr]ule/) {
            d = linedoc != "" ? linedoc : FILENAME
            if (d !~ /(^|\/)LIFECYCLE\.md$/) continue
            n = m; sub(/^[Rr]ule /, "", n)
            checked++; load(d)
            if (!((d, n) in row)) bad(m ": " d " has no rule " n)
            continue
        }
        if (m ~ /^invariant/) {
            n = m; sub(/^invariant /, "", n)
            d = "docs/KERNEL-SEMANTICS.md"
            checked++
            if (!(d in exists)) { bad(m ": " d " is not in the tree"); continue }
            load(d)
            if (!((d, n) in inv)) bad(m ": the model spec of " d " has no invariant " n)
        }
    }
}
END {
    printf "%d citations checked, %d dangling\n", checked, failed
    printf "%d passed, %d failed\n", checked - failed, failed
    exit failed > 0
}' "${scan[@]}"
