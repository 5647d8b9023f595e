#!/usr/bin/env python3
"""tests/html/check_json.py TRACE_JSON PRINT_TRACE RUNNER_EXIT [rundown]: the runner's --trace_json agrees
with the run it describes (tests/html/run.sh json). PRINT_TRACE is the same input's --print_trace --quiet
output. Every rundown event names whose rundown it is (its object, its driver, a state that is not
"unknown"), and so does every rundown of the worlds; with "rundown" the run must have such events.
Prints what differs and exits 1; exits 0 when everything agrees."""
import json
import sys


def main(path, trace_path, rc, need_rundown=False):
    d = json.load(open(path))
    errors = []
    if d.get("schema") != "teardown-fuzz-trace/1":
        errors.append("schema %r" % d.get("schema"))
    lines = [l.rstrip("\n") for l in open(trace_path, encoding="utf-8", errors="replace")]
    events = [l for l in lines if not l.startswith("==TDF==")]
    sig = [l[len("==TDF== SIGNATURE "):] for l in lines if l.startswith("==TDF== SIGNATURE ")]
    steps, lanes = d["steps"], d["lanes"]
    if rc != 3 and d["result"]["exit"] != rc:
        errors.append("result.exit %s, the runner exited %s" % (d["result"]["exit"], rc))
    if len(steps) != len(events):
        errors.append("%d steps, --print_trace has %d events" % (len(steps), len(events)))
    marked = set()
    for s, line in zip(steps, events):
        # "<mark><step> <thread> <text>": the mark is ">>" on the fatal pair's two events.
        if line[:2] == ">>":
            marked.add(s["i"])
        line = line[2:]
        head = "%6d " % s["step"]
        if not (line.startswith(head) and line.endswith(" " + s["text"])) and line != head + s["text"]:
            errors.append("step %d: %r is not trace line %r" % (s["i"], s["text"], line))
            break
    if [l["lane"] for l in lanes] != list(range(len(lanes))):
        errors.append("lanes not numbered 0..%d" % (len(lanes) - 1))
    labels = [l["label"] for l in lanes]
    if len(set(labels)) != len(labels):
        errors.append("two lanes with one label: %s" % labels)
    for s in steps:
        if not (0 <= s["lane"] < len(lanes)) or lanes[s["lane"]]["fiber"] != s["fiber"]:
            errors.append("step %d: lane %d does not hold fiber %d" % (s["i"], s["lane"], s["fiber"]))
            break
        if not (0 <= s["world"] < len(d["worlds"])) or d["worlds"][s["world"]]["from"] > s["i"]:
            errors.append("step %d: world %d is not in effect" % (s["i"], s["world"]))
            break
    if sum(l["events"] for l in lanes) != len(steps):
        errors.append("the lanes' event counts do not add up to the steps")
    last = -1
    for e in d["input_events"]:
        if e["reached"]:
            if not (last < e["first"] <= e["last"] < len(steps)):
                errors.append("input event %d spans %s..%s" % (e["index"], e["first"], e["last"]))
            last = e["last"]
    f = d["failure"]
    if (f is None) != (not sig):
        errors.append("failure %s, the runner printed signature %s" % (f and f["signature"], sig))
    elif f and f["signature"] != sig[0]:
        errors.append("failure signature %r, the runner printed %r" % (f["signature"], sig[0]))
    pair = f and f.get("fatal_pair")
    for side in ("access", "teardown"):
        s = pair and pair.get(side)
        if not s:
            continue
        i = s["trace_event"]
        if not (-1 <= i < len(steps)):
            errors.append("%s trace_event %d out of range" % (side, i))
        elif i >= 0 and (steps[i]["step"] != s["step"] or steps[i]["fiber"] != s["fiber"]):
            errors.append("%s: trace event %d is step %d fiber %d, the pair says step %d fiber %d" %
                          (side, i, steps[i]["step"], steps[i]["fiber"], s["step"], s["fiber"]))
    sides = [pair[k]["trace_event"] for k in ("access", "teardown") if pair and pair.get(k)]
    if marked != {i for i in sides if i >= 0}:
        errors.append("--print_trace marks events %s, the pair's are %s" % (sorted(marked), sides))
    # Whose rundown (docs/REPORTS.md "The trace as JSON"): the owner is in every rundown event.
    rundowns = [s for s in steps if s["kind"] == "rundown"]
    if need_rundown and not rundowns:
        errors.append("no rundown event in the trace (the input was chosen for its rundowns)")
    for s in rundowns:
        if s["object"] in ("", "rundown") or not s["owner"] or "unknown" in s["state"] or " of " not in s["state"]:
            errors.append("step %d: rundown event without its owner: object %r owner %r state %r" %
                          (s["i"], s["object"], s["owner"], s["state"]))
            break
    for w in d["worlds"]:
        bad = [r for r in w["rundowns"] if not r.get("owner") or "unknown" in r.get("state", "unknown")]
        if bad:
            errors.append("world from %d: rundown %r" % (w["from"], bad[0]))
            break
    if errors:
        print("; ".join(errors))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or (len(sys.argv) == 5 and sys.argv[4] != "rundown"):
        print("usage: check_json.py TRACE_JSON PRINT_TRACE RUNNER_EXIT [rundown]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), len(sys.argv) == 5))
