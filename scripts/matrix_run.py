#!/usr/bin/env python3
"""The work of scripts/matrix.sh (which checks the arguments and builds; run it, not this).

The kill matrix: every selected target x every variant x every selected strategy. A run is one
(target, variant, strategy, seed); --jobs of them at once, each capped at --seconds of wall time:

  fuzz    the asan libFuzzer binary as scripts/fuzz.sh runs it: its run corpus seeded with the committed
          corpus/<target>/ (converted by the runner's --to_binary; --fuzz-corpus empty: an EMPTY corpus
          instead), TDF_SCHEDULE_TAIL=random, scripts/lib.sh's TDF_LIBFUZZER_OPTIONS, the target's
          dictionary when fuzz/dict/<target>.dict exists, -seed=SEED; a kill is an artifact written; execs
          are libFuzzer's stat::number_of_executed_units (the seed inputs' runs included).
  random  the plain runner's --hunt over the target's seed scripts (the events of corpus/<target>/*,
          schedule lines dropped, identical scripts once; seeded random inputs where the target has no
          corpus), --schedule=random:SEED: one random walk per exec.
  pct     the same with --schedule=pct:SEED:3 (PCT depth 3, k estimated per exec by a first run).
  tsan    the random hunt in the TSan build: a race TSan reports (exit 15) is a kill too.
  stress  the pthread stress backend (docs/INPUT.md "Schedule sources"): the asan runner's --hunt
          on --schedule=stress:SEED over the seed scripts round robin, when the runner has it;
          otherwise every cell says "not available" and no run is made.
  dfs     deterministic, so one run whatever --seeds: --schedule=dfs:P:LIMIT (plain runner) over the
          seed scripts and the events of every repro/<target>/*.txt (the target's known crashes, all of
          its mutants), smallest scripts first (events, then name); the first failing script is the
          kill, the time and runs are summed over the scripts tried before it.

On a correct variant (a target's first) every run goes to its cap: a kill there is a FALSE POSITIVE, reported
as such, and the exit status is 1. Results: <out>/matrix.json (every run, every cell) and <out>/matrix.md
(the table, printed too). Times are from the process start, CPU (user + system) and wall (a loaded machine
stretches the wall: the execs are the load-independent measure). The start cost apart: before any run, each
seeded strategy's process is started 3 times on each target doing nothing (start_cost); a run's
search_cpu_seconds is its CPU less that median. fuzz runs also record libFuzzer's own wall times, to its first
exec and from there to the report (first_exec_seconds, search_seconds).
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SCHEMA = "teardown-fuzz-matrix/1"
STRATEGIES = ["fuzz", "random", "pct", "dfs", "stress", "tsan"]
SEEDED = {"fuzz", "random", "pct", "stress", "tsan"}
EXIT_OK, EXIT_FALSE_POSITIVE, EXIT_ERROR = 0, 1, 6
HUNT_RE = re.compile(r"^==TDF== HUNT (found|died) in exec (\d+) after ([0-9.]+) s")
HUNT_NONE_RE = re.compile(r"^==TDF== HUNT nothing in (\d+) execs, ([0-9.]+) s")
SIG_RE = re.compile(r"^==TDF== SIGNATURE (\S+)", re.M)
DFS_RE = re.compile(r"^==TDF== DFS .* variant=\S+: (\d+) schedules \((\d+) runs\)", re.M)
DFS_PRE_RE = re.compile(r"^==TDF== DFS failing schedule \((\d+) preemptions\)", re.M)


def log(msg):
    sys.stderr.write("==TDF== matrix: %s\n" % msg)
    sys.stderr.flush()


def runner_list(runner):
    out = subprocess.run([runner, "--list"], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if k != "TDF_VARIANT"}).stdout
    return [line.split("\t")[0].split(" ")[1] for line in out.splitlines() if line.strip()]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TDF_VARIANT", "TDF_SCHEDULE_TAIL")}
    # No symbolized stacks: the model's report is printed first, and symbolizing every find would be
    # counted in the time to the kill.
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":symbolize=0").lstrip(":")
    env.update(extra)
    return env


class Children:
    """Every child started, so that SIGINT/SIGTERM ends them by their ids (and nothing else)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs = set()
        self.stopping = False

    def run(self, argv, timeout, env, cwd=None, marks=None):
        """(rc or None on timeout, output, wall seconds, CPU seconds, {mark: wall seconds}). The child is reaped
        with wait4 for its own CPU time (user + system): on a loaded machine the wall clock stretches, the CPU
        time much less. marks: {name: compiled regex}; the output is read line by line as it comes, and the
        wall time from the start at which a line first matched each is returned (libFuzzer's first exec and
        its first report line: the start cost and the search, apart)."""
        with self.lock:
            if self.stopping:
                return None, "", 0.0, 0.0, {}
            t0 = time.monotonic()
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                 start_new_session=True)
            self.procs.add(p)
        fired = []

        def expire():
            fired.append(1)
            try:
                os.killpg(p.pid, signal.SIGKILL)  # its own session: libFuzzer and nothing of anyone else
            except OSError:
                pass
        timer = threading.Timer(timeout, expire)
        timer.start()
        seen = {}
        try:
            if marks:
                chunks = []
                for line in p.stdout:
                    chunks.append(line)
                    if len(seen) < len(marks):
                        now = time.monotonic() - t0
                        text = line.decode(errors="replace")
                        for name, rx in marks.items():
                            if name not in seen and rx.search(text):
                                seen[name] = round(now, 4)
                out = b"".join(chunks)
            else:
                out = p.stdout.read()
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
            p.stdout.close()
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        with self.lock:
            self.procs.discard(p)
        rc = None if fired else p.returncode
        return rc, out.decode(errors="replace"), wall, ru.ru_utime + ru.ru_stime, seen

    def stop(self):
        with self.lock:
            self.stopping = True
            for p in self.procs:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass


CHILDREN = Children()


# ---- inputs --------------------------------------------------------------------------------------
def event_scripts(runner, files, dest):
    """The events of each input (text form, schedule and comment lines dropped), identical ones once:
    [(path written, origin, number of events)]."""
    os.makedirs(dest, exist_ok=True)
    seen, out = set(), []
    for f in files:
        if f.endswith(".txt"):
            text = open(f, errors="replace").read()
        else:
            r = subprocess.run([runner, "--to_text", f], capture_output=True, text=True,
                               env=clean_env())
            if r.returncode != 0:
                log("skipping %s: no text form (%s)" % (f, r.stderr.strip().splitlines()[:1]))
                continue
            text = r.stdout
        body = "".join(l + "\n" for l in text.splitlines() if not l.startswith("schedule ") and not l.startswith("#"))
        h = hashlib.sha1(body.encode()).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        path = os.path.join(dest, h[:16] + ".txt")
        with open(path, "w") as w:
            w.write(body)
        out.append((path, f, sum(1 for l in body.splitlines() if l.startswith("event "))))
    return out


# ---- one run -------------------------------------------------------------------------------------
def result(killed, secs, execs, sig=None, error=None, cpu=None, **more):
    """One run: wall seconds to the kill (or the whole run), its CPU seconds (user + system of the process),
    execs to the kill (or all), the signature."""
    r = {"killed": killed, "seconds": round(secs, 3), "cpu_seconds": None if cpu is None else round(cpu, 3),
         "execs": execs, "signature": sig, "error": error}
    r.update(more)
    return r


def hunt_result(rc, out, wall, cpu, cap):
    """A --hunt run: found / died (a sanitizer report or fault inside an exec) / nothing."""
    if rc is None:
        return result(False, wall, None, cpu=cpu, error="no HUNT line within %d s + grace (killed)" % cap)
    sigs = SIG_RE.findall(out)
    for line in out.splitlines():
        m = HUNT_RE.match(line)
        if m:
            return result(True, wall, int(m.group(2)), sigs[-1] if sigs else "SANITIZER/unknown", cpu=cpu,
                          tool_seconds=float(m.group(3)), exit=rc)
        m = HUNT_NONE_RE.match(line)
        if m and rc == 0:
            return result(False, wall, int(m.group(1)), cpu=cpu, tool_seconds=float(m.group(2)), exit=rc)
    return result(False, wall, None, cpu=cpu, error="exit %s and no HUNT line: %s" % (rc, " | ".join(out.splitlines()[:4])))


# libFuzzer's first exec: fuzz/fuzz_main.c prints this line in LLVMFuzzerInitialize, after libFuzzer's own start and
# right before it runs the first input. Its first report line: the model's headline (fuzz/report.c) or a
# sanitizer's / libFuzzer's error line. The wall time between the two is the search without the start.
FUZZ_MARKS = {
    "first_exec": re.compile(r"^==TDF== target \S+ variant "),
    "report": re.compile(r"^==TDF== (BUGCHECK|HARDWARE|MISUSE|DEADLOCK|HANG|SANITIZER|FAULT|LIMIT) |"
                         r"ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error: "),
}


def fuzz_argv(ctx, target, seed, artifacts, corpus):
    """libFuzzer's command line as scripts/fuzz.sh builds it (its options, the target's dictionary)."""
    argv = [os.path.join(ctx.asan, "bin", target), "-seed=%d" % seed, "-max_total_time=%d" % ctx.seconds,
            "-print_final_stats=1", "-artifact_prefix=%s/" % artifacts] + ctx.libfuzzer_options.split()
    dict_path = os.path.join(ctx.project, "fuzz", "dict", target + ".dict")
    if os.path.isfile(dict_path):
        argv.append("-dict=" + dict_path)
    return argv + [corpus]


def fuzz_seed_dir(ctx, target, work):
    """--fuzz-corpus seeds: the committed corpus/<target>/ in libFuzzer's binary form, converted by the runner's
    --to_binary as scripts/fuzz.sh seeds its run corpus (each run gets a fresh copy: libFuzzer adds to it).
    None: the target has no corpus (its runs then start empty, and say so)."""
    src = os.path.join(ctx.project, "corpus", target)
    files = sorted(os.path.join(src, f) for f in os.listdir(src)) if os.path.isdir(src) else []
    if not files:
        return None
    dest = os.path.join(work, target, "fuzz-seeds")
    os.makedirs(dest, exist_ok=True)
    runner = os.path.join(ctx.asan, "bin", target + "_run")
    r = subprocess.run([runner, "--to_binary=" + dest] + files, capture_output=True, text=True, env=clean_env())
    if r.returncode != 0:
        raise RuntimeError("%s --to_binary failed (exit %d): %s" % (runner, r.returncode, r.stderr.strip()[:200]))
    return dest


def run_fuzz(ctx, target, variant, seed, work, seeds_dir):
    d = tempfile.mkdtemp(prefix="fuzz-", dir=work)
    corpus = os.path.join(d, "corpus")
    if seeds_dir:
        shutil.copytree(seeds_dir, corpus)
    else:
        os.makedirs(corpus)
    n_seeds = len(os.listdir(corpus))
    argv = fuzz_argv(ctx, target, seed, d, corpus)
    rc, out, wall, cpu, marks = CHILDREN.run(argv, ctx.seconds + 30, clean_env(TDF_VARIANT=variant, TDF_SCHEDULE_TAIL="random"),
                                             marks=FUZZ_MARKS)
    arts = [a for a in os.listdir(d) if re.match(r"^(crash|timeout|oom|leak|slow-unit)-", a)]
    m = re.findall(r"^stat::number_of_executed_units:\s*(\d+)", out, re.M)
    execs = int(m[-1]) if m else None
    shutil.rmtree(d, ignore_errors=True)
    # Where the wall time went: to the first exec (the start), and from it to the report (the search).
    # libFuzzer's own word on what it read: "seed corpus: files: N" (none: "A corpus is not provided").
    lf = re.search(r"^INFO: seed corpus: files: (\d+)", out, re.M)
    more = {"corpus": "seeds" if seeds_dir else "empty", "seed_inputs": n_seeds,
            "libfuzzer_seed_files": int(lf.group(1)) if lf else (0 if "A corpus is not provided" in out else None),
            "first_exec_seconds": marks.get("first_exec")}
    if rc is None:
        return result(False, wall, execs, cpu=cpu, error="libFuzzer did not stop within -max_total_time + 30 s (killed)", **more)
    if arts:
        sigs = SIG_RE.findall(out)
        kind = arts[0].split("-")[0]
        sig = sigs[-1] if sigs else "LIBFUZZER/%s" % kind
        if "first_exec" in marks and "report" in marks:
            more["search_seconds"] = round(max(0.0, marks["report"] - marks["first_exec"]), 4)
        return result(True, wall, execs, sig, cpu=cpu, artifact_kind=kind, exit=rc, **more)
    if rc != 0:
        return result(False, wall, execs, cpu=cpu, error="libFuzzer exit %d, no artifact: %s" % (rc, " | ".join(out.splitlines()[-3:])), **more)
    return result(False, wall, execs, cpu=cpu, exit=rc, **more)


def start_cost(ctx, target, strategy, work):
    """CPU seconds (user + system) a strategy's process spends before its first exec, on this target: the median
    of 3 runs that start and do (almost) nothing. fuzz: the libFuzzer binary with fuzz.sh's options, -runs=0 on
    an empty corpus (libFuzzer still runs its empty input and a one-byte one: two execs of a few microseconds
    each); the hunts: the runner of their build with --list (start, sanitizer runtime, argument parsing, and the
    exit's leak check, which a hunt's exit does too). The time to a kill less this is the search alone
    (matrix.json: search_cpu_seconds)."""
    cpus = []
    for _ in range(3):
        if strategy == "fuzz":
            # A fresh empty directory each time: libFuzzer may keep its two inputs in the corpus it is given.
            empty = tempfile.mkdtemp(prefix="start-", dir=work)
            argv = [a for a in fuzz_argv(ctx, target, 1, empty, empty) if not a.startswith("-max_total_time=")]
            argv.insert(1, "-runs=0")
            # No leak check at its exit: a run that kills ends in libFuzzer's crash handler, which does none
            # (with it, -runs=0 costs about 10 ms more than a whole run that dies at its first exec).
            env = clean_env(TDF_SCHEDULE_TAIL="random")
            env["ASAN_OPTIONS"] += ":detect_leaks=0"
        else:
            build = {"random": ctx.plain, "pct": ctx.plain, "tsan": ctx.tsan, "stress": ctx.stress_build}[strategy]
            argv = [os.path.join(build, "bin", target + "_run"), "--list"]
            env = clean_env()
        rc, _, _, cpu, _ = CHILDREN.run(argv, 60, env)
        if strategy == "fuzz":
            shutil.rmtree(empty, ignore_errors=True)
        if rc != 0:
            return None
        cpus.append(cpu)
    return round(statistics.median(cpus), 4)


def run_hunt(ctx, build, target, variant, schedule, seed, pool):
    runner = os.path.join(build, "bin", target + "_run")
    argv = [runner, "--variant=" + variant, "--hunt=1000000000", "--hunt_seconds=%d" % ctx.seconds]
    argv.append("--schedule=" + schedule)
    # The seed scripts in turn; a target without a corpus: seeded random inputs.
    argv += [p for p, _, _ in pool] if pool else ["--seed=%d" % seed]
    rc, out, wall, cpu, _ = CHILDREN.run(argv, ctx.seconds + 30, clean_env())
    return hunt_result(rc, out, wall, cpu, ctx.seconds)


def run_stress(ctx, target, variant, seed, pool):
    """The pthread backend (docs/INPUT.md "Schedule sources", stress), as scripts/stress.sh runs it: the
    asan runner's --hunt on --schedule=stress:SEED over the seed scripts round robin (the stress source
    reseeded per exec); the CPU time is every thread's."""
    return run_hunt(ctx, ctx.stress_build, target, variant, "stress:%d" % seed, seed, pool)


def run_dfs(ctx, target, variant, scripts):
    runner = os.path.join(ctx.plain, "bin", target + "_run")
    t_used, cpu_used, runs, tried, complete, limited = 0.0, 0.0, 0, 0, 0, 0
    for path, origin, nev in scripts:
        left = ctx.seconds - t_used
        if left <= 0.05:
            break
        argv = [runner, "--variant=" + variant, "--schedule=dfs:%d:%d" % (ctx.preemptions, ctx.dfs_limit),
                "--quiet", path]
        rc, out, wall, cpu, _ = CHILDREN.run(argv, left, clean_env())
        t_used += wall
        cpu_used += cpu
        tried += 1
        m = DFS_RE.findall(out)
        if m:
            runs += int(m[-1][1])
        if rc is None:
            break  # the budget ran out inside this script
        if 10 <= rc <= 17:
            sigs = SIG_RE.findall(out)
            pre = DFS_PRE_RE.findall(out)
            return result(True, t_used, runs, sigs[0] if sigs else None, cpu=cpu_used, script=rel(ctx, origin), events=nev,
                          preemptions=int(pre[0]) if pre else None, scripts_tried=tried, exit=rc)
        if rc == 0:
            complete += 1
        elif rc == 4:
            limited += 1
        else:
            return result(False, t_used, runs, cpu=cpu_used, error="dfs on %s exited %s: %s" % (rel(ctx, origin), rc,
                                                                                 " | ".join(out.splitlines()[:3])))
    return result(False, t_used, runs, cpu=cpu_used, scripts_tried=tried, scripts_total=len(scripts), scripts_complete=complete,
                  scripts_at_limit=limited)


def rel(ctx, path):
    return os.path.relpath(path, ctx.project) if path.startswith(ctx.project + "/") else path


# ---- aggregation ---------------------------------------------------------------------------------
def med(vals):
    """Median of values where None is 'not killed' (above every kill)."""
    big = [float("inf") if v is None else v for v in vals]
    m = statistics.median(big) if big else None
    return None if m is None or m == float("inf") else m


def cell_summary(runs, correct, cap):
    """A cell: K runs of one strategy on one variant. Times to the kill in CPU seconds (one core's work,
    what a loaded machine does not stretch much) and wall seconds."""
    errors = [r["error"] for r in runs if r.get("error")]
    kills = [r for r in runs if r["killed"]]

    def cpu(r):
        return r["cpu_seconds"] if r.get("cpu_seconds") is not None else r["seconds"]
    total_c = sum(cpu(r) for r in runs if r.get("execs") is not None)
    total_e = sum(r["execs"] for r in runs if r.get("execs") is not None)
    s = {"runs": len(runs), "kills": len(kills), "errors": errors,
         "median_cpu_seconds": med([cpu(r) if r["killed"] else None for r in runs]),
         "median_seconds": med([r["seconds"] if r["killed"] else None for r in runs]),
         "median_execs": med([r["execs"] if r["killed"] else None for r in runs]),
         "min_cpu_seconds": min((cpu(r) for r in kills), default=None),
         "max_cpu_seconds": max((cpu(r) for r in kills), default=None),
         "min_seconds": min((r["seconds"] for r in kills), default=None),
         "max_seconds": max((r["seconds"] for r in kills), default=None),
         "min_execs": min((r["execs"] for r in kills if r["execs"] is not None), default=None),
         "max_execs": max((r["execs"] for r in kills if r["execs"] is not None), default=None),
         "execs_per_cpu_second": round(total_e / total_c) if total_c > 0 else None,
         "signatures": sorted({r["signature"] for r in kills if r["signature"]})}
    # The start cost apart (runs made before it was measured have none): the median search CPU to the kill,
    # and the CPU an exec costs once started (summed search CPU over summed execs, every run of the cell).
    if runs and all(r.get("search_cpu_seconds") is not None for r in runs):
        s["start_cpu_seconds"] = statistics.median(r["start_cpu_seconds"] for r in runs)
        s["median_search_cpu_seconds"] = med([r["search_cpu_seconds"] if r["killed"] else None for r in runs])
        se = sum(r["execs"] for r in runs if r.get("execs"))
        sc = sum(r["search_cpu_seconds"] for r in runs if r.get("execs"))
        s["search_cpu_per_exec"] = sc / se if se else None
    # fuzz: its run corpus, and libFuzzer's own wall times (to its first exec; from it to the report).
    if runs and runs[0]["strategy"] == "fuzz":
        s["corpus"] = ",".join(sorted({r.get("corpus", "empty") for r in runs}))
        fe = [r["first_exec_seconds"] for r in runs if r.get("first_exec_seconds") is not None]
        s["median_first_exec_seconds"] = statistics.median(fe) if fe else None
        s["median_fuzzer_search_seconds"] = med([r.get("search_seconds") if r["killed"] else None for r in runs])
    if correct:
        s["false_positive"] = bool(kills)
        s["clean_seconds"] = round(sum(r["seconds"] for r in runs if not r["killed"]), 1)
        s["clean_cpu_seconds"] = round(sum(cpu(r) for r in runs if not r["killed"]), 1)
        s["clean_execs"] = sum(r["execs"] or 0 for r in runs if not r["killed"])
    clean_dfs = [r for r in runs if not r["killed"] and "scripts_total" in r]
    if clean_dfs:
        r = clean_dfs[0]
        s["dfs"] = {"scripts_tried": r["scripts_tried"], "scripts_total": r["scripts_total"],
                    "scripts_complete": r["scripts_complete"], "scripts_at_limit": r["scripts_at_limit"],
                    "runs": r["execs"] or 0}
    if kills and all(k.get("script") for k in kills):
        s["script"] = kills[0]["script"]
        s["preemptions"] = kills[0].get("preemptions")
    return s


def fmt_n(n):
    if n is None:
        return "-"
    if n >= 1e6:
        return "%.1fM" % (n / 1e6)
    if n >= 1e4:
        return "%.0fk" % (n / 1e3)
    if n >= 1e3:
        return "%.1fk" % (n / 1e3)
    return "%d" % n


def fmt_s(x):
    return "-" if x is None else ("%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x)


def cell_text(strategy, s, cap, correct, unavailable):
    if s is None:
        return "not available" if strategy in unavailable else "-"
    if s["errors"] and not s["kills"]:
        return "ERROR"
    if correct:
        if s["false_positive"]:
            return "**FALSE POSITIVE** %s" % ", ".join(s["signatures"])
        if strategy == "dfs" and s.get("dfs"):
            d = s["dfs"]
            return "clean: %d/%d scripts, %d exhausted, %s runs, %s s" % (
                d["scripts_tried"], d["scripts_total"], d["scripts_complete"], fmt_n(d["runs"]),
                fmt_s(s["clean_cpu_seconds"]))
        return "clean: %s execs, %s s" % (fmt_n(s["clean_execs"]), fmt_s(s["clean_cpu_seconds"]))
    if not s["kills"]:
        return "0/%d" % s["runs"]
    if strategy == "dfs":
        return "%s s, %s runs, P=%s%s" % (fmt_s(s["median_cpu_seconds"]), fmt_n(s["median_execs"]),
                                         s.get("preemptions", "?"), " (repro)" if s.get("script", "").startswith("repro/") else "")
    ms = "-" if s["median_cpu_seconds"] is None else fmt_s(s["median_cpu_seconds"])
    spread = "" if s["kills"] < 2 else " (%s–%s)" % (fmt_s(s["min_cpu_seconds"]), fmt_s(s["max_cpu_seconds"]))
    return "%d/%d %s s%s, %s ex" % (s["kills"], s["runs"], ms, spread, fmt_n(s["median_execs"]))


def goals(doc):
    """What the issue's goals ask, computed from the cells (reported as measured, not asserted)."""
    rows = [r for r in doc["rows"] if not r["correct"]]
    g = {}
    f = [r for r in rows if r["cells"].get("fuzz")]
    g["mutants"] = len(rows)
    g["fuzz_killed"] = sum(1 for r in f if r["cells"]["fuzz"]["kills"] > 0)
    g["fuzz_median_under_5s"] = sum(1 for r in f if (r["cells"]["fuzz"]["median_cpu_seconds"] or 1e9) < 5)
    d = [r for r in rows if r["cells"].get("dfs")]
    g["dfs_killed"] = sum(1 for r in d if r["cells"]["dfs"]["kills"] > 0)
    g["dfs_not_killed"] = ["%s/%s" % (r["target"], r["variant"]) for r in d if r["cells"]["dfs"]["kills"] == 0]
    fp = []
    for r in doc["rows"]:
        if r["correct"]:
            for st, c in r["cells"].items():
                if c and c.get("false_positive"):
                    fp.append("%s/%s %s: %s" % (r["target"], r["variant"], st, ", ".join(c["signatures"])))
    g["false_positives"] = fp
    # The hard half: the mutants whose random-walk time to kill is highest (not killed = hardest);
    # there fuzz is compared with random and pct by median time (a cell not killed counts as its cap).
    cap = doc["seconds"]

    def t(c):
        return cap * 2 if not c or c["median_cpu_seconds"] is None else c["median_cpu_seconds"]
    both = [r for r in f if r["cells"].get("random")]
    both.sort(key=lambda r: (t(r["cells"]["random"]), r["target"], r["variant"]), reverse=True)
    hard = both[:(len(both) + 1) // 2]
    g["hard_half"] = ["%s/%s" % (r["target"], r["variant"]) for r in hard]
    def ts(c):
        """The same without the start cost; None where the cell's runs have no start cost measured."""
        if not c or "start_cpu_seconds" not in c:
            return None
        return cap * 2 if c["median_search_cpu_seconds"] is None else c["median_search_cpu_seconds"]
    for base in ("random", "pct"):
        h = [r for r in hard if r["cells"].get(base)]
        g["fuzz_faster_than_%s_on_hard_half" % base] = "%d of %d" % (
            sum(1 for r in h if t(r["cells"]["fuzz"]) < t(r["cells"][base])), len(h))
        hs = [r for r in h if ts(r["cells"]["fuzz"]) is not None and ts(r["cells"][base]) is not None]
        g["fuzz_faster_than_%s_on_hard_half_without_start" % base] = "%d of %d" % (
            sum(1 for r in hs if ts(r["cells"]["fuzz"]) < ts(r["cells"][base])), len(hs))
    # Where no search run as a libFuzzer process can beat the hunt from the process start: the hunt's median CPU
    # to the kill is under fuzz's start cost alone.
    fstart = {r["target"]: r["cells"]["fuzz"].get("start_cpu_seconds") for r in f}
    for base in ("random", "pct"):
        g["fuzz_start_over_%s_kill_on_hard_half" % base] = [
            "%s/%s" % (r["target"], r["variant"]) for r in hard if r["cells"].get(base)
            and r["cells"][base]["median_cpu_seconds"] is not None and fstart.get(r["target"]) is not None
            and r["cells"][base]["median_cpu_seconds"] < fstart[r["target"]]]
    # fuzz against stress where stress kills: the ratio of the median CPU seconds to the kill, from the process
    # start and without the start cost (a search time under 1 ms counts as 1 ms: below that the start cost's
    # own spread decides). No ratio where fuzz or stress has no median (fewer than half its seeds killed).
    st = [r for r in f if r["cells"].get("stress") and r["cells"]["stress"]["kills"] > 0]
    ratios, detail = [], []
    for r in st:
        fc, sc = r["cells"]["fuzz"], r["cells"]["stress"]
        a, b = fc["median_cpu_seconds"], sc["median_cpu_seconds"]
        x = b / a if a and b else None
        a2, b2 = fc.get("median_search_cpu_seconds"), sc.get("median_search_cpu_seconds")
        x2 = max(b2, 0.001) / max(a2, 0.001) if a2 is not None and b2 is not None else None
        ratios.append((x, x2))
        detail.append({"mutant": "%s/%s" % (r["target"], r["variant"]),
                       "fuzz_cpu": a, "stress_cpu": b, "ratio": None if x is None else round(x, 3),
                       "fuzz_search_cpu": a2, "stress_search_cpu": b2, "ratio_without_start": None if x2 is None else round(x2, 3),
                       "fuzz_execs": fc["median_execs"], "stress_execs": sc["median_execs"]})
    g["stress_killed"] = len(st)
    g["fuzz_10x_faster_than_stress"] = "%d of %d" % (sum(1 for x, _ in ratios if x is not None and x >= 10), len(st))
    g["fuzz_10x_faster_than_stress_without_start"] = "%d of %d" % (
        sum(1 for _, x in ratios if x is not None and x >= 10), sum(1 for _, x in ratios if x is not None))
    # Where no search can be 10x faster than stress: from the process start, where fuzz's start cost alone is
    # more than a tenth of stress's median time to the kill; without the start, where one fuzz exec (its cell's
    # search CPU an exec) is more than a tenth of stress's median search time.
    fuzz_start = {r["target"]: r["cells"]["fuzz"].get("start_cpu_seconds") for r in f}
    g["stress_10x_impossible_from_start"] = [
        d["mutant"] for d in detail if d["stress_cpu"] is not None and fuzz_start.get(d["mutant"].split("/")[0]) is not None
        and fuzz_start[d["mutant"].split("/")[0]] * 10 > d["stress_cpu"]]
    per_exec = {"%s/%s" % (r["target"], r["variant"]): r["cells"]["fuzz"].get("search_cpu_per_exec") for r in f}
    g["stress_10x_impossible_without_start"] = [
        d["mutant"] for d in detail if d["stress_search_cpu"] is not None and per_exec.get(d["mutant"]) is not None
        and per_exec[d["mutant"]] * 10 > d["stress_search_cpu"]]
    g["stress_kills_within_2_execs"] = [d["mutant"] for d in detail
                                        if d["stress_execs"] is not None and d["stress_execs"] <= 2]
    g["stress_ratios"] = detail
    return g


FUZZ_CORPUS_TEXT = {"seeds": "its run corpus seeded with corpus/<target> (as scripts/fuzz.sh does)",
                    "empty": "an empty corpus", None: "-"}


def markdown(doc):
    cap = doc["seconds"]
    strategies = doc["strategies"]
    L = []
    L.append("# Kill matrix")
    L.append("")
    L.append("`%s` — %s, %d seeds a cell, each run capped at %d s wall, dfs P<=%d with at most %d schedules a "
             "script, random/pct/tsan/stress over %s, fuzz from %s, --jobs %d on %d cores; wall time %s; load "
             "average %s at the start, %s at the end. Generated by scripts/matrix.sh (docs/BENCHMARKS.md \"Kill "
             "matrix\" explains the columns)." % (
                 doc["command"], doc["started"], doc["seeds"], cap, doc["preemptions"], doc["dfs_limit"],
                 "the seed scripts" if doc.get("pool", "seeds") == "seeds" else "seeded random inputs (no corpus)",
                 FUZZ_CORPUS_TEXT.get(doc.get("fuzz_corpus"), "run corpora of both kinds (matrix.json: each cell's corpus)"),
                 doc["jobs"], doc["cpus"], doc["wall"], doc["load"], doc["load_end"]))
    L.append("")
    L.append("Mutant cell: kills/seeds, median CPU seconds to the first kill (min–max over the killing seeds), "
             "median execs to it (a seed that did not kill counts as above every kill; `0/K`: none killed within "
             "the cap). dfs: CPU seconds and runs summed over the scripts tried, the preemptions of the failing "
             "schedule, (repro) when the failing script is a repro file's events. Correct variant: the execs and "
             "CPU seconds its runs made with no report. Wall seconds of every run: matrix.json.")
    L.append("")
    L.append("| target | variant | " + " | ".join(strategies) + " |")
    L.append("|---|---|" + "---|" * len(strategies))
    for r in doc["rows"]:
        cells = [cell_text(st, r["cells"].get(st), cap, r["correct"], doc["unavailable"]) for st in strategies]
        L.append("| %s | %s%s | %s |" % (r["target"], r["variant"],
                                          " (correct)" if r["correct"] and r["variant"] != "correct" else "",
                                          " | ".join(cells)))
    L.append("")
    L.append("Execs per CPU second (every run of the target's variants: summed execs over summed CPU seconds):")
    L.append("")
    L.append("| target | " + " | ".join(strategies) + " |")
    L.append("|---|" + "---|" * len(strategies))
    for t in doc["targets"]:
        vals = []
        for st in strategies:
            e = s = 0.0
            for r in doc["runs"]:
                if r["target"] == t and r["strategy"] == st and r.get("execs") is not None:
                    e += r["execs"]
                    s += r["cpu_seconds"] if r.get("cpu_seconds") is not None else r["seconds"]
            vals.append(fmt_n(e / s) if s > 0 else ("not available" if st in doc["unavailable"] else "-"))
        L.append("| %s | %s |" % (t, " | ".join(vals)))
    L.append("")
    # The start cost apart: what a process spends before its first exec, and what an exec costs after it.
    seeded = [st for st in strategies if st in SEEDED and st not in doc["unavailable"]]
    if seeded:
        L.append("Start cost and exec cost (CPU): the median of 3 starts that run nothing (libFuzzer `-runs=0` on an "
                 "empty corpus; the runner `--list`), then the CPU an exec costs after the start (every run of the "
                 "target's variants: summed CPU less the start cost, over summed execs). `start ms / us an exec`:")
        L.append("")
        L.append("| target | " + " | ".join(seeded) + " |")
        L.append("|---|" + "---|" * len(seeded))
        for t in doc["targets"]:
            vals = []
            for st in seeded:
                rr = [r for r in doc["runs"] if r["target"] == t and r["strategy"] == st
                      and r.get("search_cpu_seconds") is not None]
                e = sum(r["execs"] for r in rr if r.get("execs"))
                c = sum(r["search_cpu_seconds"] for r in rr if r.get("execs"))
                if not rr:
                    vals.append("-")
                else:
                    vals.append("%.0f ms / %s us" % (statistics.median(r["start_cpu_seconds"] for r in rr) * 1000,
                                                    fmt_n(c / e * 1e6) if e else "-"))
            L.append("| %s | %s |" % (t, " | ".join(vals)))
        L.append("")
    g = doc["goals"]
    L.append("Measured against the goals (issue 15):")
    L.append("")
    if "fuzz" in strategies:
        L.append("- fuzz killed %d of %d mutants; median CPU time to kill under 5 s on %d." % (
            g["fuzz_killed"], g["mutants"], g["fuzz_median_under_5s"]))
    if "fuzz" in strategies and "random" in strategies:
        L.append("- hard half (the %d mutants slowest for random): fuzz faster than random on %s, than pct on %s; "
                 "without the start cost: %s and %s." % (
                     len(g["hard_half"]), g["fuzz_faster_than_random_on_hard_half"], g["fuzz_faster_than_pct_on_hard_half"],
                     g.get("fuzz_faster_than_random_on_hard_half_without_start", "-"),
                     g.get("fuzz_faster_than_pct_on_hard_half_without_start", "-")))
        if "fuzz_start_over_random_kill_on_hard_half" in g:
            L.append("  On %d of them random's whole run to the kill (%d for pct) takes less CPU than fuzz's start "
                     "cost alone." % (len(g["fuzz_start_over_random_kill_on_hard_half"]),
                                      len(g.get("fuzz_start_over_pct_kill_on_hard_half", []))))
    if "stress" in strategies:
        if "stress" in doc["unavailable"]:
            L.append("- stress: not available (%s)." % doc["unavailable"]["stress"])
        else:
            L.append("- stress killed %d mutants; fuzz at least 10x faster on %s from the process start, on %s "
                     "without the start cost. No search can be: from the start on %d (fuzz's start cost alone is "
                     "over a tenth of stress's time), without it on %d (one fuzz exec is); stress's median is 1-2 "
                     "execs on %d." % (
                         g["stress_killed"], g["fuzz_10x_faster_than_stress"],
                         g.get("fuzz_10x_faster_than_stress_without_start", "-"),
                         len(g.get("stress_10x_impossible_from_start", [])),
                         len(g.get("stress_10x_impossible_without_start", [])),
                         len(g.get("stress_kills_within_2_execs", []))))
    if "dfs" in strategies:
        L.append("- dfs (P<=%d) killed %d of %d mutants%s." % (
            doc["preemptions"], g["dfs_killed"], g["mutants"],
            "; not within the budget: " + ", ".join(g["dfs_not_killed"]) if g["dfs_not_killed"] else ""))
    L.append("- false positives on correct variants: %s." % (
        "none" if not g["false_positives"] else "**%d**: %s" % (len(g["false_positives"]),
                                                                "; ".join(g["false_positives"]))))
    errs = [r for r in doc["runs"] if r.get("error")]
    if errs:
        L.append("- runs that could not complete: %d (matrix.json lists each)." % len(errs))
    L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--seeds", type=int, required=True)
    ap.add_argument("--jobs", type=int, required=True)
    ap.add_argument("--preemptions", type=int, required=True)
    ap.add_argument("--dfs-limit", type=int, required=True)
    ap.add_argument("--strategies", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--variants", default="")
    ap.add_argument("--plain", default="")
    ap.add_argument("--asan", default="")
    ap.add_argument("--tsan", default="")
    ap.add_argument("--stress-build", default="", help="the build whose runner has --schedule=stress; empty: not available")
    ap.add_argument("--stress-missing", default="")
    ap.add_argument("--command", default="scripts/matrix.sh")
    ap.add_argument("--update", action="store_true", help="merge into <out>/matrix.json (matrix.sh checks it)")
    ap.add_argument("--pool", choices=("seeds", "random"), default="seeds",
                    help="what the hunts run: the seed scripts, or seeded random inputs")
    ap.add_argument("--fuzz-corpus", choices=("seeds", "empty"), default="seeds",
                    help="fuzz's run corpus: seeded from corpus/<target> as scripts/fuzz.sh does, or empty")
    ap.add_argument("--libfuzzer-options", default="-max_len=512 -len_control=0",
                    help="scripts/lib.sh's TDF_LIBFUZZER_OPTIONS, what scripts/fuzz.sh passes")
    ctx = ap.parse_args()
    strategies = ctx.strategies.split(",")
    ctx.update_doc = None
    if ctx.update:
        ctx.update_doc = json.load(open(os.path.join(ctx.out, "matrix.json")))
    targets = ctx.targets.split(",")
    want = set(ctx.variants.split(",")) if ctx.variants else None
    started = time.time()
    load = open("/proc/loadavg").read().split()[0]
    work = tempfile.mkdtemp(prefix="tdf-matrix-")
    unavailable = {}
    if "stress" in strategies and not ctx.stress_build:
        unavailable["stress"] = ctx.stress_missing or "no stress backend in this build"

    def on_signal(sig, frame):
        CHILDREN.stop()
        shutil.rmtree(work, ignore_errors=True)
        log("interrupted: nothing written")
        os._exit(128 + sig)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # Inputs and the run list.
    any_build = ctx.plain or ctx.asan or ctx.tsan
    jobs, rows, pools, dfs_scripts, hunt_pools = [], [], {}, {}, {}
    for t in targets:
        runner = os.path.join(any_build, "bin", t + "_run")
        variants = runner_list(runner)
        corpus = sorted(os.path.join(ctx.project, "corpus", t, f)
                        for f in (os.listdir(os.path.join(ctx.project, "corpus", t))
                                  if os.path.isdir(os.path.join(ctx.project, "corpus", t)) else []))
        repros = sorted(os.path.join(ctx.project, "repro", t, f)
                        for f in (os.listdir(os.path.join(ctx.project, "repro", t))
                                  if os.path.isdir(os.path.join(ctx.project, "repro", t)) else [])
                        if f.endswith(".txt"))
        pools[t] = event_scripts(runner, corpus, os.path.join(work, t, "corpus"))
        # --pool random: the hunts (random, pct, tsan, stress) take seeded random inputs, nothing of the
        # corpus, as fuzz starts from an empty corpus; dfs keeps the scripts (it needs an event script).
        hunt_pools[t] = pools[t] if ctx.pool == "seeds" else []
        both = pools[t] + [s for s in event_scripts(runner, repros, os.path.join(work, t, "repro"))
                           if s[0] not in {p for p, _, _ in pools[t]}]
        # Identical events in a corpus and a repro file: once (the corpus copy).
        seen, uniq = set(), []
        for s in both:
            h = os.path.basename(s[0])
            if h not in seen:
                seen.add(h)
                uniq.append(s)
        dfs_scripts[t] = sorted(uniq, key=lambda s: (s[2], rel(ctx, s[1])))
        for i, v in enumerate(variants):
            if want and v not in want and i != 0:
                continue
            if want and i == 0 and v not in want:
                continue
            rows.append({"target": t, "variant": v, "correct": i == 0, "cells": {}})
            for st in strategies:
                if st in unavailable:
                    continue
                for seed in (range(1, ctx.seeds + 1) if st in SEEDED else [0]):
                    jobs.append((t, v, i == 0, st, seed))
    # fuzz's seed corpus (--fuzz-corpus seeds, what scripts/fuzz.sh does) and every strategy's start cost,
    # before any run, one process at a time.
    fuzz_seeds, starts = {}, {}
    if "fuzz" in strategies and ctx.fuzz_corpus == "seeds":
        for t in targets:
            fuzz_seeds[t] = fuzz_seed_dir(ctx, t, work)
    for t in targets:
        for st in strategies:
            if st in SEEDED and st not in unavailable:
                starts[(t, st)] = start_cost(ctx, t, st, work)
    log("start cost (CPU s before the first exec, median of 3): " + ", ".join(
        "%s %s" % (st, "/".join("-" if starts.get((t, st)) is None else "%.3f" % starts[(t, st)] for t in targets))
        for st in strategies if st in SEEDED and st not in unavailable))
    # Long runs first (correct variants go to their cap), so that the pool ends together.
    jobs.sort(key=lambda j: (not j[2], j[3] != "dfs"))
    log("%d runs (%d targets, %d variants, strategies %s, %d seeds, cap %d s), %d at a time" % (
        len(jobs), len(targets), len(rows), ",".join(strategies), ctx.seeds, ctx.seconds, ctx.jobs))

    def one(job):
        try:
            r = one_run(job)
        except Exception as e:  # a run that cannot start is reported, the others go on
            r = result(False, 0.0, None, error="%s: %s" % (type(e).__name__, e))
        t, v, correct, st, seed = job
        r.update({"target": t, "variant": v, "strategy": st, "seed": seed, "correct": correct})
        # The search alone: this run's CPU less what its process spends before the first exec (start_cost).
        sc = starts.get((t, st))
        if sc is not None and r.get("cpu_seconds") is not None:
            r["start_cpu_seconds"] = sc
            r["search_cpu_seconds"] = round(max(0.0, r["cpu_seconds"] - sc), 4)
        return r

    def one_run(job):
        t, v, correct, st, seed = job
        if st == "fuzz":
            r = run_fuzz(ctx, t, v, seed, work, fuzz_seeds.get(t))
        elif st == "random":
            r = run_hunt(ctx, ctx.plain, t, v, "random:%d" % seed, seed, hunt_pools[t])
        elif st == "pct":
            r = run_hunt(ctx, ctx.plain, t, v, "pct:%d:3" % seed, seed, hunt_pools[t])
        elif st == "tsan":
            r = run_hunt(ctx, ctx.tsan, t, v, "random:%d" % seed, seed, hunt_pools[t])
        elif st == "stress":
            r = run_stress(ctx, t, v, seed, hunt_pools[t])
        else:
            r = run_dfs(ctx, t, v, dfs_scripts[t])
        return r

    runs, done = [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=ctx.jobs) as ex:
        futures = [ex.submit(one, j) for j in jobs]
        for fut in concurrent.futures.as_completed(futures):
            r = fut.result()
            runs.append(r)
            done += 1
            what = ("ERROR " + r["error"]) if r.get("error") else \
                ("%s %.2f s (cpu %.2f s) %s execs %s" % ("FALSE POSITIVE" if r["correct"] else "killed", r["seconds"],
                                                        r["cpu_seconds"] or 0, r["execs"], r["signature"])
                 if r["killed"] else "clean %.2f s (cpu %.2f s) %s execs" % (r["seconds"], r["cpu_seconds"] or 0,
                                                                             r["execs"]))
            log("[%d/%d] %s %s %s seed %d: %s" % (done, len(jobs), r["target"], r["variant"], r["strategy"],
                                                  r["seed"], what))
    shutil.rmtree(work, ignore_errors=True)
    runs = [f.result() for f in futures]  # job order, whatever order they finished in
    wall = time.time() - started
    runs_made = len(runs)
    if ctx.update:
        # --update: the existing matrix.json's runs of the cells not run now (target, variant, strategy)
        # are kept, so that a strategy or a target can be (re)measured on its own into the same table
        # (matrix.sh checked the settings).
        old = ctx.update_doc
        again = set(strategies)
        redone = {(t, v, st) for t, v, _, st, _ in jobs}
        runs = [r for r in old["runs"] if (r["target"], r["variant"], r["strategy"]) not in redone] + runs
        strategies = [st for st in STRATEGIES if st in again or st in old["strategies"]]
        # The old table's order, new targets and variants after it.
        targets = old["targets"] + [t for t in targets if t not in old["targets"]]
        had = {(r["target"], r["variant"]) for r in old["rows"]}
        rows = [{"target": r["target"], "variant": r["variant"], "correct": r["correct"], "cells": {}}
                for r in old["rows"]] + [r for r in rows if (r["target"], r["variant"]) not in had]
        for st, why in old.get("unavailable", {}).items():
            if st not in again:
                unavailable[st] = why
        # The old run's command, wall time and load only where some of its runs are kept.
        if len(runs) > runs_made:
            ctx.command = old["command"] + " + " + ctx.command
            wall += old.get("wall_seconds", 0)
            load = "%s, then %s" % (old["load"], load)
    for row in rows:
        for st in strategies:
            rr = [r for r in runs if r["target"] == row["target"] and r["variant"] == row["variant"]
                  and r["strategy"] == st]
            row["cells"][st] = cell_summary(rr, row["correct"], ctx.seconds) if rr else None
    doc = {"schema": SCHEMA, "command": ctx.command,
           "started": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "wall": "%dm%02ds" % (wall // 60, wall % 60), "wall_seconds": round(wall, 1), "load": load,
           "load_end": open("/proc/loadavg").read().split()[0],
           "seconds": ctx.seconds, "seeds": ctx.seeds, "jobs": ctx.jobs, "preemptions": ctx.preemptions,
           "dfs_limit": ctx.dfs_limit, "pool": ctx.pool, "strategies": strategies, "targets": targets, "unavailable": unavailable,
           "cpus": os.cpu_count(), "rows": rows, "runs": runs}
    kinds = sorted({r.get("corpus", "empty") for r in runs if r["strategy"] == "fuzz"})
    doc["fuzz_corpus"] = kinds[0] if len(kinds) == 1 else ("mixed" if kinds else None)
    doc["goals"] = goals(doc)
    md = markdown(doc)
    os.makedirs(ctx.out, exist_ok=True)
    for name, text in (("matrix.json", json.dumps(doc, indent=1) + "\n"), ("matrix.md", md)):
        tmp = os.path.join(ctx.out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(ctx.out, name))
    print(md)
    log("wrote %s/matrix.md and matrix.json (%s)" % (ctx.out, doc["wall"]))
    if doc["goals"]["false_positives"]:
        return EXIT_FALSE_POSITIVE
    if any(r.get("error") for r in runs):
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
