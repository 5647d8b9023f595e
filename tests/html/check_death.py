#!/usr/bin/env python3
"""tests/html/check_death.py KIND TRACE_JSON RUNNER_OUT RUNNER_ERR RUNNER_EXIT: a run that a sanitizer
report ended (tests/html/run.sh asan|tsan) still wrote its --trace_json and --failure_json: the exit is
15, the JSON file is a whole trace whose result and failure are the SANITIZER report of KIND
(heap-use-after-free, data-race) with the signature the runner printed on stderr (a use of freed pool:
the pool's dead-object key), its failing event in
the trace, and the --failure_json object on stdout says the same. Prints what differs and exits 1, or a
one-line summary and exits 0."""
import json
import re
import sys


def main(kind, path, out_path, err_path, rc):
    errors = []
    if rc != 15:
        errors.append("the runner exited %d, not 15 (SANITIZER)" % rc)
    err = open(err_path, encoding="utf-8", errors="replace").read().splitlines()
    sig = [l[len("==TDF== SIGNATURE "):] for l in err if l.startswith("==TDF== SIGNATURE ")]
    # A use of pool the model freed keys as a dead object (docs/REPORTS.md "Signatures"): the pool, the
    # call or the driver thread that met it (<kind>(<owner>):...); every other report as SANITIZER/<kind>:...
    if kind == "heap-use-after-free":
        if not sig or not re.match(r"^[a-z]+\(", sig[0]):
            errors.append("stderr has no dead-object signature: %s" % sig)
    elif not sig or not sig[0].startswith("SANITIZER/%s:" % kind):
        errors.append("stderr has no SANITIZER/%s signature: %s" % (kind, sig))
    try:
        d = json.load(open(path))
    except (OSError, ValueError) as e:
        print("no trace JSON: %s" % e)
        return 1
    res, f = d.get("result") or {}, d.get("failure")
    if res.get("class") != "SANITIZER" or res.get("exit") != 15:
        errors.append("result %s" % res)
    if not f or f.get("class") != "SANITIZER" or f.get("name") != kind:
        errors.append("failure %s" % (f and {k: f.get(k) for k in ("class", "name")}))
    elif sig and f.get("signature") != sig[0]:
        errors.append("failure signature %r, stderr says %r" % (f.get("signature"), sig[0]))
    steps = d.get("steps") or []
    ev = f.get("event", -1) if f else -1
    if not steps or not (0 <= ev < len(steps)) or steps[ev]["kind"] != "failure":
        errors.append("the failing event %s is not a failure event of the %d steps" % (ev, len(steps)))
    if not d.get("lanes"):
        errors.append("no lanes")
    objs = []
    for line in open(out_path, encoding="utf-8", errors="replace"):
        if line.startswith("{"):
            try:
                objs.append(json.loads(line))
            except ValueError as e:
                errors.append("--failure_json line is not JSON: %s" % e)
    if len(objs) != 1 or objs[0].get("class") != "SANITIZER" or (sig and objs[0].get("signature") != sig[0]):
        errors.append("--failure_json objects on stdout: %s" % [(o.get("class"), o.get("signature")) for o in objs])
    if errors:
        print("; ".join(errors))
        return 1
    print("%s: exit 15, %d steps, %d lanes, failure %s at event %d, --failure_json agrees" %
          (kind, len(steps), len(d["lanes"]), f["signature"], ev))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print("usage: check_death.py KIND TRACE_JSON RUNNER_OUT RUNNER_ERR RUNNER_EXIT", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
