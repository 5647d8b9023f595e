#!/usr/bin/env python3
"""The work of scripts/nightly.sh (which checks the arguments and builds; run it, not this).

One job per TARGET:VARIANT. A job, in a worker thread (--jobs of them at once):
  1. fuzzes with the asan libFuzzer binary in fork mode (-fork=1 -ignore_crashes=1, so crashes are kept
     going and every one is written as an artifact), TDF_SCHEDULE_TAIL=random as scripts/fuzz.sh does;
     new inputs go to the job corpus <out>/jobs/T/V/corpus, the run corpus <out>/corpus/T is read too;
  2. merges the job corpus into the run corpus (-merge=1: only inputs adding coverage, nothing removed);
  3. replays the run and job corpora (the entries this variant's TSan replay has not seen yet) and every
     crash of the job with the TSan runner (there is no TSan libFuzzer build: docs/REPORTS.md).
The main thread triages: every second it replays new artifacts with the asan runner, deduplicates them
by the model's signature, minimizes each new signature (scripts/minimize.sh, bounded time), records
everything in <out>/state.json and rewrites report.md / report.json / report.sarif, each write atomic
(temporary file + rename). Nothing is ever deleted from corpus/ or artifacts/, and an artifact counts once
it is in state.json's "processed": a run killed even by SIGKILL leaves its artifacts and corpus entries on
disk, and the next run with the same --out triages the artifacts it had not recorded and appends.
"""
import argparse
import ctypes
import datetime
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

STATE_SCHEMA = "teardown-fuzz-nightly-state/1"
REPORT_SCHEMA = "teardown-fuzz-nightly-report/1"
EXIT_OK, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 6
CLASS_EXIT = {"BUGCHECK": 10, "HARDWARE": 11, "MISUSE": 12, "DEADLOCK": 13, "HANG": 14, "SANITIZER": 15,
              "FAULT": 16, "LIMIT": 17}
PROGRESS_SECONDS = float(os.environ.get("TDF_NIGHTLY_PROGRESS_SECONDS", "30"))
MINIMIZE_SECONDS = int(os.environ.get("TDF_NIGHTLY_MINIMIZE_SECONDS", "60"))
ARTIFACT_RE = re.compile(r"^(crash|timeout|oom|leak|slow-unit)-[0-9a-f]+$")


def now_iso(t=None):
    return datetime.datetime.fromtimestamp(time.time() if t is None else t, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def log(msg):
    sys.stderr.write("==TDF== nightly: %s\n" % msg)
    sys.stderr.flush()


def write_atomic(path, text):
    """Temporary file in the same directory, fsync, rename: a reader (or a kill) sees old or new, whole."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def fmt_secs(s):
    s = int(s)
    return "%dm%02ds" % (s // 60, s % 60) if s >= 60 else "%ds" % s


def slug(sig):
    """A file name for a signature: readable part + a hash (two signatures never share one)."""
    import hashlib
    h = hashlib.sha1(sig.encode()).hexdigest()[:10]
    return (re.sub(r"[^A-Za-z0-9_.-]+", "_", sig)[:80].strip("_") or "sig") + "-" + h


def split_signature(sig):
    """'<code or object>:<where>:<other side or teardown>' (docs/REPORTS.md "Signatures"); the last part may
    itself contain ':'."""
    parts = sig.split(":", 2)
    while len(parts) < 3:
        parts.append("")
    return parts[0], parts[1], parts[2]


# ---- child processes --------------------------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup():
    # SIGKILL when the thread that started it dies (PR_SET_PDEATHSIG): a SIGKILLed nightly leaves no
    # fuzzer running on. Children stay in nightly's process group, so that killing the group (a CI
    # timeout, Ctrl-C) reaches libFuzzer's fork children too.
    _libc.prctl(1, signal.SIGKILL)


def _proc_table():
    """{pid: (ppid, cmdline)} of every process."""
    t = {}
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % n).read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmd = open("/proc/%s/cmdline" % n, "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        t[int(n)] = (ppid, cmd)
    return t


def kill_tree(pid, sig=signal.SIGKILL):
    """PID and every process below it (a script's runner, libFuzzer's fork children), by their ids."""
    t = _proc_table()
    kids, todo = [], [pid]
    while todo:
        x = todo.pop()
        kids.append(x)
        todo += [c for c, (pp, _) in t.items() if pp == x]
    for x in kids:
        try:
            os.kill(x, sig)
        except OSError:
            pass


class Procs:
    """Every process group started, so that a signal reaches all of them; their pids also go to
    <out>/running.json so that a run following a SIGKILLed one ends the leftovers."""

    def __init__(self, path, out):
        self.lock = threading.Lock()
        self.pids = set()
        self.path = path
        self.out = out

    def start(self, argv, **kw):
        with self.lock:
            p = subprocess.Popen(argv, preexec_fn=_child_setup, **kw)
            self.pids.add(p.pid)
            self._save()
        return p

    def done(self, p):
        with self.lock:
            self.pids.discard(p.pid)
            self._save()

    def _save(self):
        write_atomic(self.path, json.dumps(sorted(self.pids)))

    def signal_all(self, sig):
        with self.lock:
            for pid in list(self.pids):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass

    def reap_leftovers(self):
        """Processes a killed run left running (libFuzzer fork children outlive a parent killed alone):
        every process whose command line names this --out, other than this one and its ancestors. Safe
        because this run holds <out>/lock: no other nightly run uses this directory."""
        t = _proc_table()
        mine, x = set(), os.getpid()
        while x in t and x not in mine:
            mine.add(x)
            x = t[x][0]
        for pid, (_, cmd) in t.items():
            if pid not in mine and (self.out + "/") in cmd:
                log("ending pid %d, left by a killed run: %s" % (pid, cmd[:120]))
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def run(self, argv, timeout=None, env=None, cwd=None):
        """Runs to completion (or timeout: the group is killed); returns (rc, output)."""
        p = self.start(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            out, _ = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            kill_tree(p.pid)
            out, _ = p.communicate()
            rc = None
        finally:
            self.done(p)
        return rc, out.decode(errors="replace")


def quiet_asan():
    """ASan options for the fuzzers and batch replays: no symbolized stacks (the model's report is printed
    before the abort, and triage replays each new signature with symbols); a mutant crashing on every
    input spends most of its time in the symbolizer otherwise (91 s against 23 s for 428 crashes)."""
    old = os.environ.get("ASAN_OPTIONS", "")
    return (old + ":" if old else "") + "symbolize=0"


# ---- replays ----------------------------------------------------------------------------------------
def parse_results(text):
    """{path: (class, signature or None)} from a runner's --quiet output: a failing input prints its
    SIGNATURE line, then every input its RESULT line."""
    res, sig = {}, None
    for line in text.splitlines():
        if line.startswith("==TDF== SIGNATURE "):
            sig = line[len("==TDF== SIGNATURE "):].strip()
        elif line.startswith("==TDF== RESULT "):
            m = re.match(r"==TDF== RESULT (.*) variant=\S+ class=(\S+) steps=\d+$", line)
            if m:
                cls = m.group(2)
                res[m.group(1)] = (cls, sig if cls != "NONE" else None)
            sig = None
    return res, sig


def is_sanitizer(sig):
    return bool(sig) and sig.startswith("SANITIZER/")


def note_also(f, sig, build):
    """A sanitizer's report of an input whose bug is finding f: kept with f (`also_reported` in
    report.json, `alsoReported` in the SARIF result's properties), with the build that made it, not as a
    row of its own."""
    also = f.setdefault("also_reported", [])
    entry = "%s (%s)" % (sig, build)
    if entry not in also and len(also) < 20:
        also.append(entry)
    if build not in f["builds"]:
        f["builds"].append(build)


def replay(procs, runner, variant, files, schedule="input+random", timeout=None):
    """Replays FILES in one runner process per stretch: a sanitizer report ends the process at the input
    it came from (no RESULT line), which is then recorded with that report's signature, and the replay
    goes on from the next file. Returns ({path: (class, sig)}, error or None, files not reached)."""
    results, i, deadline = {}, 0, None if timeout is None else time.time() + timeout
    env = dict(os.environ, ASAN_OPTIONS=quiet_asan())
    env.pop("TDF_VARIANT", None)
    while i < len(files):
        left = None if deadline is None else deadline - time.time()
        if left is not None and left <= 0:
            return results, None, files[i:]
        chunk = files[i:i + 200]
        rc, out = procs.run([runner, "--variant=" + variant, "--schedule=" + schedule, "--quiet", "--"] + chunk,
                            timeout=left, env=env)
        got, last_sig = parse_results(out)
        results.update(got)
        done = 0
        while done < len(chunk) and chunk[done] in got:
            done += 1
        if done == len(chunk):
            i += len(chunk)
            continue
        if rc is None:
            return results, None, files[i + done:]
        if rc == 2:
            # The runner checks every input before running any: one it rejects (a file libFuzzer kept
            # although its entry refused it, e.g. text that does not parse) is left out, with reason.
            bad = [x for x in chunk if ("==TDF== %s:" % x) in out]
            if not bad:
                return results, "runner rejected an input (exit 2): %s" % out.strip()[-300:], files[i + done:]
            for x in bad:
                results[x] = ("REJECTED", None)
            files = files[:i] + [x for x in files[i:] if x not in bad]
            continue
        # The process died in chunk[done]: its report's signature (SANITIZER/... or FAULT/...).
        cls = last_sig.split("/", 1)[0] if last_sig else "SANITIZER"
        if cls not in CLASS_EXIT:
            cls = "SANITIZER"
        results[chunk[done]] = (cls, last_sig or "SANITIZER/unknown:?:?")
        i += done + 1
    return results, None, []


# ---- state ------------------------------------------------------------------------------------------
class State:
    def __init__(self, out):
        self.path = os.path.join(out, "state.json")
        try:
            self.d = json.load(open(self.path))
            if self.d.get("schema") != STATE_SCHEMA:
                raise ValueError("schema")
        except FileNotFoundError:
            self.d = {"schema": STATE_SCHEMA, "runs": [], "findings": {}, "processed": {}, "tsan_seen": {},
                      "jobs": {}}
        except (OSError, ValueError) as e:
            log("state.json unreadable (%s): kept as state.json.bad, starting a new state" % e)
            os.replace(self.path, self.path + ".bad")
            self.d = {"schema": STATE_SCHEMA, "runs": [], "findings": {}, "processed": {}, "tsan_seen": {},
                      "jobs": {}}

    def save(self):
        write_atomic(self.path, json.dumps(self.d, indent=1, sort_keys=True))


class Nightly:
    def __init__(self, a):
        self.a = a
        self.out = a.out
        self.root, self.project = a.root, a.project
        self.jobs = [tuple(j.split(":", 1)) for j in a.job]
        for sub in ("corpus", "jobs", "artifacts", "repros", "logs", "tmp"):
            os.makedirs(os.path.join(self.out, sub), exist_ok=True)
        import fcntl
        self.lockf = open(os.path.join(self.out, "lock"), "w")
        try:
            fcntl.flock(self.lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log("another nightly run is using %s (it holds %s/lock)" % (self.out, self.out))
            sys.exit(2)
        self.procs = Procs(os.path.join(self.out, "running.json"), self.out)
        self.procs.reap_leftovers()
        self.state = State(self.out)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.tsan_q = queue.Queue()
        self.live = {}  # job key -> {"phase", "execs", "started", "fuzz_seconds"}
        self.errors = []
        self.nm_cache = {}
        self.correct_cache = {}
        self.started = time.time()
        self.run_no = len(self.state.d["runs"]) + 1
        self.run = {"run": self.run_no, "started": now_iso(), "ended": None, "status": "running",
                    "budget_seconds": a.budget_seconds, "parallel": a.jobs, "mode": a.mode,
                    "jobs": ["%s/%s" % j for j in self.jobs]}
        self.state.d["runs"].append(self.run)
        # The budget split: the run's wall time over the job batches; 80% of a slot fuzzes, the rest is
        # the merge, the TSan replay and triage (the last batch's may run past the budget).
        batches = -(-len(self.jobs) // a.jobs)
        self.slot = a.budget_seconds / batches
        self.fuzz_seconds = max(2, int(self.slot * 0.8))
        self.state.save()

    # -- paths
    def rel(self, path):
        return os.path.relpath(path, self.out)

    def job_key(self, t, v):
        return "%s/%s" % (t, v)

    def runner(self, build, t):
        return os.path.join(getattr(self.a, build), "bin", t + "_run")

    def art_dir(self, t, v):
        return os.path.join(self.out, "artifacts", t, v)

    def correct(self, t):
        if t not in self.correct_cache:
            env = dict(os.environ)
            env.pop("TDF_VARIANT", None)
            out = subprocess.run([self.runner("asan", t), "--list"], capture_output=True, text=True, env=env,
                                 timeout=60).stdout
            self.correct_cache[t] = out.split("\n", 1)[0].split("\t", 1)[0].split()[1]
        return self.correct_cache[t]

    # -- source locations (SARIF): image!Routine -> file:line from the runner's debug info (nm -l)
    def locate(self, t, where):
        if "!" not in where:
            return None
        image, routine = where.split("!", 1)
        if t not in self.nm_cache:
            table = {}
            try:
                out = subprocess.run(["nm", "-l", "--defined-only", self.runner("asan", t)],
                                     capture_output=True, text=True, timeout=60).stdout
            except (OSError, subprocess.TimeoutExpired):
                out = ""
            for line in out.splitlines():
                m = re.match(r"^[0-9a-f]+ [tT] (\S+)\t(.+):(\d+)$", line)
                if m:
                    table.setdefault(m.group(1), []).append((m.group(2), int(m.group(3))))
            self.nm_cache[t] = table
        cands = self.nm_cache[t].get(routine, [])
        if not cands:
            return None
        # A routine name two images both define: the one whose file names the image.
        best = next((c for c in cands if image in os.path.basename(c[0])), cands[0])
        path = os.path.realpath(best[0])
        for base, name in ((self.project, "SRCROOT"), (self.root, "TDFROOT")):
            b = os.path.realpath(base) + os.sep
            if path.startswith(b):
                return {"uri": path[len(b):], "uriBaseId": name, "line": best[1]}
        return None

    # -- triage (main thread only: the one writer of state)
    def triage(self, final=False):
        new_files = []
        for t, v in self.jobs:
            d = self.art_dir(t, v)
            try:
                names = sorted(os.listdir(d))
            except OSError:
                continue
            for n in names:
                p = os.path.join(d, n)
                if ARTIFACT_RE.match(n) and self.rel(p) not in self.state.d["processed"]:
                    new_files.append((t, v, p))
        by_job = {}
        for t, v, p in new_files:
            by_job.setdefault((t, v), []).append(p)
        for (t, v), files in by_job.items():
            res, err, _ = replay(self.procs, self.runner("asan", t), v, files)
            if err:
                self.errors.append("%s/%s: asan replay of artifacts: %s" % (t, v, err))
            model = self.model_keys(t, v, [p for p in files if p in res and is_sanitizer(res[p][1])])
            for p in files:
                if p not in res:
                    continue  # not reached: tried again next tick
                cls, sig = res[p]
                kind = os.path.basename(p).split("-", 1)[0]
                if sig is None:
                    # An artifact the runner does not reproduce is reported too: the builds must agree.
                    sig, cls = "UNREPRODUCED/%s:%s:%s" % (kind, t, v), "UNREPRODUCED"
                if p in model:
                    self.record(t, v, p, model[p][0], model[p][1], "plain", os.path.getmtime(p), also=sig)
                    sig = model[p][1]
                else:
                    self.record(t, v, p, cls, sig, "asan", os.path.getmtime(p))
                self.state.d["processed"][self.rel(p)] = sig
            self.state.save()
        while True:
            try:
                item = self.tsan_q.get_nowait()
            except queue.Empty:
                break
            t, v, p, cls, sig, kind = item
            build = "asan" if kind == "corpus-asan" else "tsan"
            key = ("%s:%s:" % (build, v)) + self.rel(p) if kind.startswith("corpus") else "tsan:" + self.rel(p)
            if key in self.state.d["processed"]:
                continue
            f = self.state.d["findings"].get(sig)
            first = self.state.d["processed"].get(self.rel(p))
            mine = self.state.d["findings"].get(first) if first and not is_sanitizer(first) else None
            if kind == "crash" and sig == first:
                # TSan replays the crash as asan did: the same finding, seen by both builds.
                if f is not None and "tsan" not in f["builds"]:
                    f["builds"].append("tsan")
            elif kind == "crash" and mine is not None and is_sanitizer(sig):
                # The input's bug has its model finding; TSan's race on the way to it is that bug seen
                # by TSan (one bug, one row): kept with the finding, not a row of its own.
                note_also(mine, sig, "tsan")
            else:
                if kind == "corpus-asan" and is_sanitizer(sig):
                    model = self.model_keys(t, v, [p])
                    if p in model:
                        self.record(t, v, p, model[p][0], model[p][1], "plain", os.path.getmtime(p), also=sig)
                        self.state.d["processed"][key] = model[p][1]
                        self.state.save()
                        continue
                self.record(t, v, p, cls, sig, build, os.path.getmtime(p))
            self.state.d["processed"][key] = sig
            self.state.save()
        if new_files or final:
            self.write_reports()

    def model_keys(self, t, v, paths):
        """Inputs a sanitizer stopped first (ASan's use-after-free at the raw access, before the model's
        oracle): their finding in the plain runner, where the model's oracles see the same run to the end.
        Returns {path: (class, signature)} for those that fail there with a model key; an input that runs
        clean in plain is a bug only the sanitizer sees, and keeps its sanitizer key."""
        if not paths:
            return {}
        res, err, _ = replay(self.procs, self.runner("plain", t), v, paths)
        if err:
            self.errors.append("%s/%s: plain replay of sanitizer findings: %s" % (t, v, err))
        return {p: r for p, r in res.items() if r[1] and not is_sanitizer(r[1]) and r[0] in CLASS_EXIT}

    def record(self, t, v, path, cls, sig, build, found_at, also=None):
        fs = self.state.d["findings"]
        jk = self.job_key(t, v)
        f = fs.get(sig)
        if f is None:
            code, where, other = split_signature(sig)
            # "HARDWARE/NOT_IN_D0" -> "NOT_IN_D0"; a fatal-pair key's object ("registers(child/FDO)") as it is.
            f = {"signature": sig, "class": cls,
                 "code": code.split("/", 1)[1] if "/" in code and "(" not in code else code,
                 "where": where, "other_side": other, "target": t, "variants": [], "builds": [build],
                 "first_seen": {"time": now_iso(found_at), "run": self.run_no, "job": jk, "build": build},
                 "count": 0, "inputs": [], "plain_input": None, "minimal_input": None, "minimized": None,
                 "detail": None, "headline": None, "location": None, "other_location": None}
            fs[sig] = f
            self.describe(f, t, v, path, build)
        f["count"] += 1
        if build not in f["builds"]:
            f["builds"].append(build)
        if also:
            note_also(f, also, "asan")
        if v not in f["variants"]:
            f["variants"].append(v)
        if len(f["inputs"]) < 20:
            f["inputs"].append(self.rel(path))
        j = self.state.d["jobs"].setdefault(jk, {})
        if not j.get("first_kill"):
            j["first_kill"] = {"time": now_iso(found_at), "run": self.run_no, "signature": sig}
        j.setdefault("signatures", [])
        if sig not in j["signatures"]:
            j["signatures"].append(sig)

    def describe(self, f, t, v, path, build):
        """A new signature: its plain input, readable report, minimal input, source location."""
        env = dict(os.environ)
        env.pop("TDF_VARIANT", None)
        adir = self.art_dir(t, v)
        # An artifact's plain form beside it; a corpus input's in the artifacts directory (never in a corpus).
        plain = path + ".txt" if os.path.dirname(path) == adir else os.path.join(
            adir, "corpus-%s.txt" % os.path.basename(path))
        os.makedirs(adir, exist_ok=True)
        # The run as the fuzzer made it (bytes, then the random tail) as a plain input: its choices become
        # the schedule bytes. For a TSan-only finding the plain runner writes it (TSan would stop first).
        saver = self.runner("plain" if build in ("tsan", "plain") else "asan", t)
        tmp = plain + ".tmp"
        rc, _ = self.procs.run([saver, "--variant=" + v, "--schedule=input+random", "--quiet",
                                "--save_schedule=" + tmp, "--", path], timeout=60, env=env)
        if rc is not None and os.path.exists(tmp) and os.path.getsize(tmp) > 0:
            os.replace(tmp, plain)
            f["plain_input"] = self.rel(plain)
        else:
            f["plain_input"] = None
            plain = path
        rc, out = self.procs.run([self.runner(build if build in ("tsan", "plain") else "asan", t), "--variant=" + v,
                                  "--schedule=input" if plain != path else "--schedule=input+random",
                                  "--", plain], timeout=60, env=env)
        for line in out.splitlines():
            if line.startswith("==TDF== DETAIL ") and f["detail"] is None:
                f["detail"] = line[len("==TDF== DETAIL "):]
            elif re.match(r"==TDF== (%s) " % "|".join(CLASS_EXIT), line) and f["headline"] is None:
                f["headline"] = line[len("==TDF== "):]
                # A fatal-pair key names the dead object, not the code: the code (and the SARIF rule)
                # is the first headline's (one key may be caught as NOT_IN_D0, AFTER_UNMAP or 0x50).
                words = f["headline"].split()
                if "(" in f["code"] and len(words) > 1:
                    f["object"] = f["code"]
                    f["code"] = words[1]
        f["location"] = self.locate(t, f["where"])
        f["other_location"] = self.locate(t, f["other_side"])
        # Minimization: model findings in the plain runner, ASan/UBSan ones in asan; TSan cannot
        # (minimize.sh refuses: its first race ends the process), nor can an input with no plain form.
        dest = os.path.join(self.out, "repros", slug(f["signature"]) + ".txt")
        cls = f["class"]
        if build == "tsan" or plain == path or cls == "UNREPRODUCED":
            f["minimized"] = "not minimized: %s" % ("TSan finding (scripts/minimize.sh cannot minimize in TSan)"
                                                     if build == "tsan" else "no plain input")
            src = plain
        else:
            mbuild = "asan" if cls == "SANITIZER" else "plain"
            menv = dict(env)
            menv["TDF_BUILD_DIR_" + mbuild.upper()] = getattr(self.a, mbuild)
            argv = [os.path.join(self.root, "scripts", "minimize.sh"), "--build", mbuild]
            if os.path.realpath(self.project) != os.path.realpath(self.root):
                argv += ["--project", self.project]
            argv += [t, plain, "--variant", v, "--out", dest + ".tmp"]
            rc, mout = self.procs.run(argv, timeout=MINIMIZE_SECONDS, env=menv)
            after = re.search(r"MINIMIZE after: (.*)", mout)
            if rc == 0 and os.path.exists(dest + ".tmp"):  # minimize.sh: 0 once written
                os.replace(dest + ".tmp", dest)
                f["minimal_input"] = self.rel(dest)
                f["minimized"] = after.group(1).strip() if after else "minimized"
                src = None
            else:
                f["minimized"] = "not minimized: minimize.sh %s" % (
                    "timed out after %ds" % MINIMIZE_SECONDS if rc is None else "exit %d" % rc)
                src = plain
        if src is not None:
            # The finding's input as it is, under repros/ all the same (one place to look).
            data = open(src, "rb").read()
            tmp = dest + ".tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
            f["minimal_input"] = self.rel(dest)
        flag = "" if os.path.realpath(self.project) == os.path.realpath(self.root) else "--project %s " % self.project
        rbuild = "tsan" if build == "tsan" else ("asan" if cls == "SANITIZER" else "plain")
        inp = os.path.join(self.out, f["minimal_input"])
        if f["plain_input"] is None and build != "tsan":
            f["repro_command"] = "%s --variant=%s --schedule=input+random --trace %s" % (
                self.runner("plain" if build == "plain" else "asan", t), v, inp)
        else:
            f["repro_command"] = "%s/scripts/repro.sh %s%s %s --build %s --variant %s" % (
                self.root, flag, t, inp, rbuild, v)
        log("new signature %s (%s %s/%s, %s)" % (f["signature"], build, t, v, f["minimized"]))

    # -- a job (worker thread)
    def job(self, t, v):
        jk = self.job_key(t, v)
        live = self.live[jk]
        jdir = os.path.join(self.out, "jobs", t, v)
        jcorpus = os.path.join(jdir, "corpus")
        rcorpus = os.path.join(self.out, "corpus", t)
        adir = self.art_dir(t, v)
        tmpdir = os.path.join(self.out, "tmp", t, v)
        for d in (jcorpus, rcorpus, adir, tmpdir):
            os.makedirs(d, exist_ok=True)
        fuzzer = os.path.join(self.a.asan, "bin", t)
        env = dict(os.environ, TDF_VARIANT=v, TDF_SCHEDULE_TAIL="random", TMPDIR=tmpdir,
                   ASAN_OPTIONS=quiet_asan())
        # Seeding: the committed inputs in binary form under their own names (seeding again overwrites).
        seeds = os.path.join(self.project, "corpus", t)
        seed_files = sorted(os.path.join(seeds, n) for n in os.listdir(seeds)) if os.path.isdir(seeds) else []
        if seed_files:
            rc, out = self.procs.run([self.runner("asan", t), "--to_binary=" + rcorpus, "--"] + seed_files,
                                     timeout=300, env={k: x for k, x in env.items() if k != "TDF_VARIANT"})
            if rc != 0:
                self.errors.append("%s: seeding %s from %s failed (exit %s)" % (jk, rcorpus, seeds, rc))
                live["phase"] = "failed"
                return
        logpath = os.path.join(self.out, "logs", "run%d-%s-%s.log" % (self.run_no, t, v))
        # The corpus pass: the run and job corpora replayed in the asan runner (in-process, ~1 ms an input).
        # Inputs that fail on this variant are findings (queued for triage, counted once per variant and
        # file) and are not handed to the fuzzer: libFuzzer's fork mode first runs its corpus in a child
        # that restarts at every crash, and a mutant failing on most of the corpus spent its whole slot
        # there. The rest is linked into <job>/seeds, the fuzzer's second corpus directory.
        live.update(phase="corpus", started=time.time())
        files = sorted(os.path.join(d, n) for d in (rcorpus, jcorpus) for n in os.listdir(d) if not n.startswith("."))
        res, err, notrun = replay(self.procs, self.runner("asan", t), v, files, timeout=max(30, self.slot * 0.2))
        if err:
            self.errors.append("%s: asan replay of the corpus: %s" % (jk, err))
        sdir = os.path.join(jdir, "seeds")
        if os.path.isdir(sdir):
            for n in os.listdir(sdir):
                os.unlink(os.path.join(sdir, n))
        os.makedirs(sdir, exist_ok=True)
        failing = set()
        for x in files:
            r = res.get(x)
            if r and r[1]:
                failing.add(x)
                self.tsan_q.put((t, v, x, r[0], r[1], "corpus-asan"))
            elif os.path.dirname(x) == rcorpus:  # the job corpus is the fuzzer's first directory anyway
                try:
                    os.link(x, os.path.join(sdir, os.path.basename(x)))
                except OSError:
                    pass
        live["corpus_failing"] = len(failing)
        live.update(phase="fuzz", started=time.time())
        argv = [fuzzer, "-fork=1", "-ignore_crashes=1", "-max_total_time=%d" % self.fuzz_seconds,
                "-print_final_stats=1", "-artifact_prefix=" + adir + "/", "-max_len=512", "-len_control=0",
                jcorpus, sdir]
        with open(logpath, "w") as lf:
            p = self.procs.start(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=jdir)
            def kill_late():
                kill_tree(p.pid)
            killer = threading.Timer(self.fuzz_seconds + 120, kill_late)
            killer.daemon = True
            killer.start()
            for raw in p.stdout:
                line = raw.decode(errors="replace")
                lf.write(line)
                m = re.match(r"^#(\d+):? ", line)
                if m:
                    live["execs"] = int(m.group(1))
                m = re.match(r"^stat::number_of_executed_units: (\d+)", line)
                if m:
                    live["execs"] = max(live["execs"], int(m.group(1)))
            rc = p.wait()
            killer.cancel()
            self.procs.done(p)
        live["fuzzed"] = time.time() - live["started"]
        if self.stop.is_set():
            live["phase"] = "interrupted"
            return
        crashes = [n for n in os.listdir(adir) if ARTIFACT_RE.match(n)]
        if rc != 0 and not crashes:
            self.errors.append("%s: the fuzzer exited with %s and wrote no artifact (log %s)" % (
                jk, rc, self.rel(logpath)))
            live["phase"] = "failed"
            return
        # Merge back: the job corpus's inputs that add coverage, into the run corpus (nothing removed).
        live["phase"] = "merge"
        # Coverage is measured on the target's correct variant: a mutant crashes on most inputs and
        # libFuzzer's merge restarts at every crash (minutes); what only a mutant's own code reaches stays
        # in the job corpus, which every later job of that mutant reads again.
        menv = dict(env, TDF_VARIANT=self.correct(t))
        ctl = os.path.join(jdir, "merge.ctl")
        if os.path.exists(ctl):
            os.unlink(ctl)  # a killed merge's control file: the corpora changed since
        rc, out = self.procs.run([fuzzer, "-merge=1", "-merge_control_file=" + ctl,
                                  "-artifact_prefix=" + adir + "/", "-max_len=512", rcorpus, jcorpus],
                                 timeout=max(60, self.slot), env=menv, cwd=jdir)
        with open(logpath, "a") as lf:
            lf.write(out)
        if self.stop.is_set():
            live["phase"] = "interrupted"
            return
        if rc != 0:
            self.errors.append("%s: -merge=1 into %s failed (%s, log %s)" % (
                jk, self.rel(rcorpus), "timed out" if rc is None else "exit %d" % rc, self.rel(logpath)))
        # TSan: this job's crashes, then the corpus entries its variant has not replayed yet.
        live["phase"] = "tsan"
        seen = set(self.state.d["tsan_seen"].get(jk, []))
        arts = sorted(os.path.join(adir, n) for n in os.listdir(adir) if ARTIFACT_RE.match(n))
        arts = [x for x in arts if "tsan:" + self.rel(x) not in self.state.d["processed"]]
        corp = sorted(os.path.join(d, n) for d in (rcorpus, jcorpus) for n in os.listdir(d)
                      if not n.startswith(".") and n not in seen and os.path.join(d, n) not in failing)
        left = max(20, self.slot * 0.15)
        res, err, _ = replay(self.procs, self.runner("tsan", t), v, arts, timeout=left)
        if err:
            self.errors.append("%s: TSan replay of crashes: %s" % (jk, err))
        for x, (cls, sig) in sorted(res.items()):
            if sig:
                self.tsan_q.put((t, v, x, cls, sig, "crash"))
        res, err, notrun = replay(self.procs, self.runner("tsan", t), v, corp, timeout=left)
        if err:
            self.errors.append("%s: TSan replay of the corpus: %s" % (jk, err))
        replayed = []
        for x, (cls, sig) in sorted(res.items()):
            replayed.append(os.path.basename(x))
            if sig:
                self.tsan_q.put((t, v, x, cls, sig, "corpus"))
        live["tsan_replayed"] = len(replayed)
        live["tsan_left"] = len(notrun)
        with self.lock:
            self.state.d["tsan_seen"].setdefault(jk, [])
            self.state.d["tsan_seen"][jk] = sorted(seen | set(replayed))
        live["phase"] = "done"

    def worker(self, q):
        while not self.stop.is_set():
            try:
                t, v = q.get_nowait()
            except queue.Empty:
                return
            try:
                self.job(t, v)
            except Exception as e:  # a job that cannot run is reported, never a silent 0
                self.errors.append("%s/%s: %s: %s" % (t, v, type(e).__name__, e))
                self.live[self.job_key(t, v)]["phase"] = "failed"

    def progress(self):
        el = time.time() - self.started
        execs = sum(l["execs"] for l in self.live.values())
        parts = []
        for jk, l in self.live.items():
            if l["phase"] in ("queued", "done") and not l["execs"]:
                continue
            sigs = len(self.state.d["jobs"].get(jk, {}).get("signatures", []))
            parts.append("%s %s execs=%d sigs=%d" % (jk, l["phase"], l["execs"], sigs))
        log("%s/%s execs=%d signatures=%d | %s" % (fmt_secs(el), fmt_secs(self.a.budget_seconds), execs,
                                                    len(self.state.d["findings"]), " | ".join(parts) or "-"))

    def main(self):
        q = queue.Queue()
        for t, v in self.jobs:
            q.put((t, v))
            self.live[self.job_key(t, v)] = {"phase": "queued", "execs": 0, "started": None}
        log("run %d: %d job(s), %d in parallel, %ds fuzzing each (budget %s), out %s" % (
            self.run_no, len(self.jobs), self.a.jobs, self.fuzz_seconds, fmt_secs(self.a.budget_seconds),
            self.out))
        # Crashes a killed run left untriaged come first.
        self.triage()
        workers = [threading.Thread(target=self.worker, args=(q,), daemon=True) for _ in range(self.a.jobs)]
        for w in workers:
            w.start()
        last = time.time()
        while any(w.is_alive() for w in workers):
            time.sleep(1)
            if not self.stop.is_set():
                self.triage()
            if time.time() - last >= PROGRESS_SECONDS:
                self.progress()
                last = time.time()
        self.triage(final=True)
        for jk, l in self.live.items():
            j = self.state.d["jobs"].setdefault(jk, {})
            j["runs"] = j.get("runs", 0) + (1 if l["phase"] != "queued" else 0)
            j["execs"] = j.get("execs", 0) + l["execs"]
            j["fuzz_seconds"] = round(j.get("fuzz_seconds", 0) + l.get("fuzzed", 0))
            j["last_phase"] = l["phase"]
        self.run["ended"] = now_iso()
        self.run["errors"] = self.errors
        self.run["status"] = "interrupted" if self.stop.is_set() else ("incomplete" if self.errors else "complete")
        self.run["execs"] = sum(l["execs"] for l in self.live.values())
        self.state.save()
        code, why = self.verdict()
        self.run["exit"] = code
        self.run["verdict"] = why
        self.state.save()
        self.write_reports()
        self.progress()
        for e in self.errors:
            log("error: " + e)
        log("report: %s (%s) -> exit %d" % (os.path.join(self.out, "report.md"), why, code))
        return code

    def verdict(self):
        if self.stop.is_set():
            return EXIT_INCOMPLETE, "interrupted"
        if self.errors:
            return EXIT_INCOMPLETE, "incomplete: %d job error(s)" % len(self.errors)
        sel = {self.job_key(t, v) for t, v in self.jobs}
        if self.a.mode == "mutants":
            alive = sorted(jk for jk in sel if not self.state.d["jobs"].get(jk, {}).get("signatures"))
            if alive:
                return EXIT_FINDINGS, "mutants not killed: " + ", ".join(alive)
            return EXIT_OK, "every mutant killed (%d)" % len(sel)
        found = sorted(jk for jk in sel if self.state.d["jobs"].get(jk, {}).get("signatures"))
        if found:
            return EXIT_FINDINGS, "findings on: " + ", ".join(found)
        return EXIT_OK, "no finding on the correct variants (%d)" % len(sel)

    # -- reports
    def findings_sorted(self):
        """The report's rows, first seen first. One bug, one row: a sanitizer finding whose signature a model
        finding lists in also_reported (the two came from one input: the race or use-after-free on the way
        to the model's crash) is folded into the first such model finding, its count added to that row's
        also_reported_count; a sanitizer finding that never came with a model finding keeps its own row
        (status_unlocked's race, a use-after-free the model cannot see). State keeps every finding."""
        fs = sorted(self.state.d["findings"].values(), key=lambda f: (f["first_seen"]["time"], f["signature"]))
        owner = {}
        for f in fs:
            if not is_sanitizer(f["signature"]):
                for a in f.get("also_reported", []):
                    owner.setdefault(a.rsplit(" (", 1)[0], f["signature"])
        rows, folded = [], {}
        for f in fs:
            m = owner.get(f["signature"]) if is_sanitizer(f["signature"]) else None
            if m is None:
                rows.append(dict(f))
            else:
                folded[m] = folded.get(m, 0) + f["count"]
        for g in rows:
            g["also_reported_count"] = folded.get(g["signature"], 0)
        return rows

    def write_reports(self):
        fs = self.findings_sorted()
        code, why = self.run.get("exit"), self.run.get("verdict")
        if code is None:
            code, why = None, "running"
        rep = {"schema": REPORT_SCHEMA, "generated": now_iso(), "project": self.project, "out": self.out,
               "mode": self.a.mode, "verdict": {"exit": code, "reason": why},
               "runs": self.state.d["runs"], "jobs": [], "findings": []}
        for jk in sorted(self.state.d["jobs"]):
            j = self.state.d["jobs"][jk]
            rep["jobs"].append({"job": jk, "runs": j.get("runs", 0), "execs": j.get("execs", 0),
                                "fuzz_seconds": j.get("fuzz_seconds", 0), "signatures": j.get("signatures", []),
                                "first_kill": j.get("first_kill"), "killed": bool(j.get("signatures"))})
        for i, f in enumerate(fs, 1):
            g = dict(f)
            g["id"] = i
            rep["findings"].append(g)
        write_atomic(os.path.join(self.out, "report.json"), json.dumps(rep, indent=1, sort_keys=True) + "\n")
        write_atomic(os.path.join(self.out, "report.md"), self.markdown(rep))
        write_atomic(os.path.join(self.out, "report.sarif"), json.dumps(self.sarif(fs), indent=1) + "\n")

    def markdown(self, rep):
        def cell(s):
            return str(s).replace("|", "\\|").replace("\n", " ")
        L = ["# teardown-fuzz nightly report", "",
             "Generated %s from %s (%d run(s); this one: run %d, %s, budget %s, %d parallel, mode %s)." % (
                 rep["generated"], self.out, len(rep["runs"]), self.run_no, self.run["status"],
                 fmt_secs(self.a.budget_seconds), self.a.jobs, self.a.mode),
             "", "Verdict: %s (exit %s)." % (rep["verdict"]["reason"], rep["verdict"]["exit"]), "",
             "## Signatures", ""]
        if not rep["findings"]:
            L.append("No signature.")
        else:
            L += ["| # | class | code | driver!routine | other side (caller) | first seen | count | variants | builds | minimal input | repro |",
                  "|---|---|---|---|---|---|---:|---|---|---|---|"]
            for f in rep["findings"]:
                fsn = f["first_seen"]
                loc = f["location"]
                where = "`%s`" % f["where"] + (" (%s:%d)" % (loc["uri"], loc["line"]) if loc else "")
                L.append("| %d | %s | %s | %s | `%s` | %s run %d %s (%s) | %d | %s | %s | `%s` | `%s` |" % (
                    f["id"], f["class"], cell(f["code"]), cell(where), cell(f["other_side"]), fsn["time"],
                    fsn["run"], fsn["job"], fsn["build"], f["count"], ", ".join(f["variants"]),
                    ", ".join(f["builds"]), cell(f["minimal_input"]), cell(f["repro_command"])))
            L += ["", "Details:", ""]
            for f in rep["findings"]:
                also = f.get("also_reported") or []
                L.append("%d. `%s` — %s; %s. %s%s" % (f["id"], f["signature"], cell(f["headline"] or f["class"]),
                                                        cell(f["minimized"]), cell(f["detail"] or ""),
                                                        (" Also reported, the same inputs: %s." % cell(", ".join(
                                                            "`%s`" % a for a in also))) if also else ""))
        L += ["", "## Jobs", "", "| job | runs | execs | fuzz time | signatures | killed / clean |",
              "|---|---:|---:|---:|---:|---|"]
        for j in rep["jobs"]:
            fk = j["first_kill"]
            state = ("found: first %s (run %d)" % (fk["time"], fk["run"])) if fk else "no finding"
            L.append("| %s | %d | %d | %s | %d | %s |" % (j["job"], j["runs"], j["execs"],
                                                         fmt_secs(j["fuzz_seconds"]), len(j["signatures"]), state))
        errs = [e for r in rep["runs"] for e in r.get("errors", [])]
        if errs:
            L += ["", "## Errors", ""] + ["- " + cell(e) for e in errs]
        return "\n".join(L) + "\n"

    def sarif(self, fs):
        rules, index, results = [], {}, []
        for f in fs:
            rid = "%s/%s" % (f["class"], f["code"]) if f["class"] != "BUGCHECK" else "BUGCHECK/%s" % f["code"]
            if rid not in index:
                index[rid] = len(rules)
                name = re.sub(r"[^A-Za-z0-9]", "", rid.title())
                rules.append({"id": rid, "name": name,
                              "shortDescription": {"text": "teardown-fuzz %s %s" % (f["class"], f["code"])},
                              "fullDescription": {"text": "A %s failure (%s) the teardown-fuzz model reports; "
                                                  "docs/REPORTS.md lists the classes and codes." % (
                                                      f["class"], f["code"])},
                              "defaultConfiguration": {"level": "note" if f["class"] == "LIMIT" else "error"},
                              "help": {"text": "Replay the result's input with its repro command; "
                                       "docs/REPORTS.md explains the report."}})
            res = {"ruleId": rid, "ruleIndex": index[rid], "level": "note" if f["class"] == "LIMIT" else "error",
                   "message": {"text": "%s (other side: %s). %s Found %d time(s), first %s in %s. Reproduce: %s" % (
                       f["headline"] or f["signature"], f["other_side"] or "-", (f["detail"] or "").rstrip(".") + "."
                       if f["detail"] else "", f["count"], f["first_seen"]["time"], f["first_seen"]["job"],
                       f["repro_command"])},
                   "partialFingerprints": {"tdfSignature/v1": f["signature"]},
                   "properties": {"signature": f["signature"], "count": f["count"], "variants": f["variants"],
                                  "builds": f["builds"], "alsoReported": f.get("also_reported", []),
                                  "minimalInput": f["minimal_input"],
                                  "firstSeen": f["first_seen"]["time"]}}
            loc = f["location"] or f["other_location"]
            if loc:
                res["locations"] = [{"physicalLocation": {
                    "artifactLocation": {"uri": loc["uri"], "uriBaseId": loc["uriBaseId"]},
                    "region": {"startLine": loc["line"]}},
                    "logicalLocations": [{"fullyQualifiedName": f["where"], "kind": "function"}]}]
            if f["location"] and f["other_location"]:
                o = f["other_location"]
                res["relatedLocations"] = [{"id": 1, "message": {"text": "the other side: %s" % f["other_side"]},
                                            "physicalLocation": {
                                                "artifactLocation": {"uri": o["uri"], "uriBaseId": o["uriBaseId"]},
                                                "region": {"startLine": o["line"]}}}]
            results.append(res)
        bases = {"SRCROOT": {"uri": "file://" + os.path.realpath(self.project) + "/"}}
        if os.path.realpath(self.root) != os.path.realpath(self.project):
            bases["TDFROOT"] = {"uri": "file://" + os.path.realpath(self.root) + "/"}
        return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                "runs": [{"tool": {"driver": {"name": "teardown-fuzz", "version": "1",
                                              "informationUri": "https://github.com/",
                                              "rules": rules}},
                          "automationDetails": {"id": "teardown-fuzz/nightly/%s/" % self.a.mode},
                          "originalUriBaseIds": bases, "results": results,
                          "columnKind": "utf16CodeUnits"}]}


def main():
    ap = argparse.ArgumentParser(description="run scripts/nightly.sh, not this")
    ap.add_argument("--root", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-seconds", type=int, required=True)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--mode", choices=("correct", "mutants"), required=True)
    ap.add_argument("--asan", required=True)
    ap.add_argument("--tsan", required=True)
    ap.add_argument("--plain", required=True)
    ap.add_argument("--job", action="append", required=True)
    a = ap.parse_args()
    n = Nightly(a)

    def on_signal(signum, _frame):
        if n.stop.is_set():  # a second signal: stop now (what is on disk is safe)
            n.procs.signal_all(signal.SIGKILL)
            os._exit(EXIT_INCOMPLETE)
        log("signal %d: stopping the fuzzers, recording what they wrote" % signum)
        n.stop.set()
        n.procs.signal_all(signal.SIGINT)  # libFuzzer's own clean stop (fork mode ends its children)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sys.exit(n.main())


if __name__ == "__main__":
    main()
