#!/usr/bin/env python3
"""tests/html/check_page.py DOM_HTML TRACE_JSON: the DOM headless Chromium rendered from a timeline
page (--dump-dom) shows the run of TRACE_JSON (tests/html/run.sh chromium): the script ran, one lane
label per model thread, one cell per trace event, the input events as a band, the fatal pair's two
cells and the line joining their centres, and nothing loaded from elsewhere. Prints a one-line
summary (exit 0) or what is missing (exit 1)."""
import html.parser
import json
import re
import sys


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.elems = []  # (tag, attrs, text list)
        self.stack = []

    def handle_starttag(self, tag, attrs):
        e = (tag, dict(attrs), [])
        self.elems.append(e)
        if tag not in ("rect", "line", "path", "br", "meta", "input", "img", "link"):
            self.stack.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elems.append((tag, dict(attrs), []))

    def handle_endtag(self, tag):
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break

    def handle_data(self, data):
        for e in self.stack:
            e[2].append(data)


def main(dom_path, json_path):
    d = json.load(open(json_path))
    dom = Dom()
    dom.feed(open(dom_path, encoding="utf-8").read())
    by_id = {a["id"]: (t, a, x) for t, a, x in dom.elems if "id" in a}
    cls = lambda c: [(t, a, x) for t, a, x in dom.elems if c in a.get("class", "").split()]
    errors = []
    body = [a for t, a, x in dom.elems if t == "body"]
    if not body or body[0].get("data-rendered") != "1":
        errors.append("the page's script did not run to its end (no body data-rendered=1)")
    for t, a, x in dom.elems:
        for attr in ("src", "href"):
            if attr in a and not a[attr].startswith(("#", "data:", "url(#")):
                errors.append("<%s %s=%r> loads from elsewhere" % (t, attr, a[attr]))
    lanes = d["lanes"]
    labels = cls("lane-label")
    if len(labels) != len(lanes):
        errors.append("%d lane labels for %d model threads" % (len(labels), len(lanes)))
    for (t, a, x), L in zip(labels, lanes):
        text = "".join(x)
        if L["name"] not in text or L["driver"] not in text or L["role"] not in text:
            errors.append("lane %d label %r does not name %s / %s / %s" % (L["lane"], text, L["name"], L["driver"], L["role"]))
        if a.get("data-fiber") != str(L["fiber"]):
            errors.append("lane %d label is for fiber %s, not %d" % (L["lane"], a.get("data-fiber"), L["fiber"]))
    cells = cls("ev")
    if len(cells) != len(d["steps"]):
        errors.append("%d event cells for %d trace events" % (len(cells), len(d["steps"])))
    for e in d["input_events"]:
        if e["reached"] and "input-event-%d" % e["index"] not in by_id:
            errors.append("input event %d has no band element" % e["index"])
    # Whose rundown: a rundown cell's tooltip names the object and its owner, never "unknown".
    # (a cell's <title> is the element after its <rect>: the parser keeps no rect open)
    rd_cells = [(a, "".join(dom.elems[k + 1][2]) if k + 1 < len(dom.elems) and dom.elems[k + 1][0] == "title" else "")
                for k, (t, a, x) in enumerate(dom.elems)
                if t == "rect" and {"ev", "k-rundown"} <= set(a.get("class", "").split())]
    for a, tip in rd_cells:
        s = d["steps"][int(a["data-i"])]
        if "object: " + s["object"] not in tip or "owner: " not in tip or "unknown" in tip or s["object"] == "rundown":
            errors.append("rundown cell %s does not name whose rundown: %r" % (a.get("data-i"), tip))
            break
    f = d["failure"]
    pair = f and f.get("fatal_pair")
    summary = "%d lanes, %d event cells (%d rundown, each with its owner), %d input events" % (
        len(labels), len(cells), len(rd_cells), len(d["input_events"]))
    if f:
        sig = [x for t, a, x in dom.elems if "sig" in a.get("class", "").split()]
        if not sig or "".join(sig[0]) != "SIGNATURE " + f["signature"]:
            errors.append("no SIGNATURE %s in the header" % f["signature"])
    a_ev = pair and pair.get("access") and pair["access"]["trace_event"]
    t_ev = pair and pair.get("teardown") and pair["teardown"]["trace_event"]
    if pair and a_ev is not None and a_ev >= 0 and t_ev is not None and t_ev >= 0 and a_ev != t_ev:
        need = ("fatal-access", "fatal-teardown", "fatal-link")
        missing = [i for i in need if i not in by_id]
        if missing:
            errors.append("fatal pair elements missing: %s" % ", ".join(missing))
        else:
            def centre(i):
                a = by_id[i][1]
                return (float(a["x"]) + float(a["width"]) / 2, float(a["y"]) + float(a["height"]) / 2)
            acc, tea = by_id["fatal-access"][1], by_id["fatal-teardown"][1]
            if acc.get("data-i") != str(a_ev) or tea.get("data-i") != str(t_ev):
                errors.append("fatal cells are events %s/%s, the pair is %d/%d" % (acc.get("data-i"), tea.get("data-i"), a_ev, t_ev))
            nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", by_id["fatal-link"][1].get("d", ""))]
            if len(nums) < 4:
                errors.append("the fatal link has no path")
            else:
                (tx, ty), (ax, ay) = centre("fatal-teardown"), centre("fatal-access")
                if abs(nums[0] - tx) > 1.5 or abs(nums[1] - ty) > 1.5 or abs(nums[-2] - ax) > 6 or abs(nums[-1] - ay) > 1.5:
                    errors.append("the fatal link runs (%g,%g)->(%g,%g), the cells' centres are (%g,%g)->(%g,%g)" %
                                  (nums[0], nums[1], nums[-2], nums[-1], tx, ty, ax, ay))
        summary += ", fatal pair: teardown event %s -> access event %s joined" % (t_ev, a_ev)
    elif f:
        if not ({"fatal-access", "failure-event"} & by_id.keys()):
            errors.append("the failing event is not marked")
        summary += ", failure event marked"
    if errors:
        print("; ".join(errors))
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: check_page.py DOM_HTML TRACE_JSON", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
