# report.py: the grader's results in every format it writes: a terminal table, JSON,
# JUnit XML (CI systems) and Gradescope's results.json (the autograder platform).
"""Output formats of grading/run.py; each takes [grade.SubmissionReport]."""
import dataclasses
import json
import re
import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot carry; a kernel may print anything.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text):
    """Printable text: a kernel's binary garbage becomes \\xNN, never a control character."""
    return _XML_BAD.sub(lambda m: "\\x%02x" % ord(m.group(0)) if ord(m.group(0)) < 256 else "?",
                        str(text))


def _pct(earned, possible):
    return "%d/%d" % (earned, possible)


def failure_text(message):
    """'missing: ...' from tools/checkpoints.py reads MISSING in a report."""
    return "MISSING: " + message[len("missing: "):] if message.startswith("missing: ") else message


def grouped_failures(cp):
    """[(runs, message, lines)]: runs that failed a checkpoint the same way, together."""
    groups = {}
    for f in cp.failures:
        key = (failure_text(f["message"]), tuple(f["details"]))
        groups.setdefault(key, []).append(f["run"])
    return [(runs, msg, list(lines)) for (msg, lines), runs in groups.items()]


def chapter_lines(ch, details=True):
    """A chapter's part of the terminal report."""
    head = "  chapter %-6s %-40s %7s" % (ch.id, ch.title[:40], _pct(ch.earned, ch.possible))
    if ch.note:
        return [head + "  (%s)" % ch.note]
    out = [head]
    if ch.build == "failed":
        out.append("    BUILD FAILED: the chapter scores 0:")
        out += ["      " + clean(l) for l in ch.build_message.splitlines()]
    width = max([len(cp.id) for cp in ch.checkpoints] + [12])
    for cp in ch.checkpoints:
        mark = {"pass": "ok", "fail": "FAIL", "skip": "skip"}[cp.status]
        line = "    %-*s %5s  %-4s  %s" % (width, cp.id, "-" if cp.status == "skip" else
                                             _pct(cp.earned, cp.points), mark, cp.description)
        out.append(line)
        if cp.status == "fail" and ch.build != "failed" and details:
            for runs, msg, lines in grouped_failures(cp):
                out.append("        %s: %s" % (", ".join(runs), clean(msg)))
                out += ["          line: %s" % clean(d)[:200] for d in lines]
    if details and ch.build != "failed":
        for r in ch.runs:
            if r.boot != "pass" or r.diagnostics:
                out.append("    run %s (%s, %s): %s" % (r.name, r.cpu, r.emulator or "-",
                                                        clean(r.boot_message)))
                out += ["      " + clean(l) for l in r.diagnostics]
    return out


def text_report(sub, details=True):
    out = ["submission %s (%s): %s" % (sub.name, sub.source, _pct(sub.earned, sub.possible))]
    out += ["  note: %s" % n for n in sub.notes]
    if sub.error:
        out += ["  ERROR: " + clean(l) for l in sub.error.splitlines()]
    for ch in sub.chapters:
        out += chapter_lines(ch, details)
    return "\n".join(out) + "\n"


def summary_table(subs, chapter_ids):
    """One line per submission, one column per chapter: for a class."""
    width = max([len(s.name) for s in subs] + [10])
    head = "%-*s " % (width, "submission") + " ".join("%7s" % ("ch" + c)[:7] for c in chapter_ids) \
        + "    total"
    out = [head, "-" * len(head)]
    for s in subs:
        cells = []
        for c in chapter_ids:
            ch = next((x for x in s.chapters if x.id == c), None)
            cells.append("%7s" % ("-" if ch is None or ch.note else
                                  ("build!" if ch.build == "failed" else _pct(ch.earned, ch.possible))))
        out.append("%-*s " % (width, s.name) + " ".join(cells) + "  %7s" % _pct(s.earned, s.possible)
                   + ("  ERROR" if s.error else ""))
    return "\n".join(out) + "\n"


def to_json(subs):
    def conv(s):
        d = dataclasses.asdict(s)
        d["earned"], d["possible"] = s.earned, s.possible
        return d
    return json.dumps({"submissions": [conv(s) for s in subs]}, indent=2, default=str) + "\n"


def to_junit(subs):
    """JUnit XML: a test suite per submission and chapter, a test case per checkpoint."""
    root = ET.Element("testsuites")
    for s in subs:
        if s.error:
            suite = ET.SubElement(root, "testsuite", name=clean(s.name), tests="1", failures="0",
                                  errors="1", skipped="0")
            case = ET.SubElement(suite, "testcase", classname=clean(s.name), name="submission")
            ET.SubElement(case, "error", message="cannot grade").text = clean(s.error)
        for ch in s.chapters:
            cases = ch.checkpoints
            suite = ET.SubElement(root, "testsuite", name=clean("%s.ch%s" % (s.name, ch.id)),
                                  tests=str(len(cases)), failures=str(sum(c.status == "fail" for c in cases)),
                                  errors="0", skipped=str(sum(c.status == "skip" for c in cases)))
            props = ET.SubElement(suite, "properties")
            for k, v in (("score", ch.earned), ("max_score", ch.possible), ("build", ch.build)):
                ET.SubElement(props, "property", name=k, value=str(v))
            for cp in cases:
                case = ET.SubElement(suite, "testcase", classname=clean("%s.ch%s" % (s.name, ch.id)),
                                     name=clean(cp.id))
                if cp.status == "skip":
                    ET.SubElement(case, "skipped", message="the CPU of every run lacks what it needs")
                elif cp.status == "fail":
                    first = cp.failures[0]["message"] if cp.failures else "failed"
                    el = ET.SubElement(case, "failure", message=clean(first)[:500])
                    el.text = clean(checkpoint_output(ch, cp))
            if ch.build == "failed":
                ET.SubElement(suite, "system-out").text = clean(ch.build_message)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def checkpoint_output(ch, cp, limit=6000):
    """What a student reads about one checkpoint: each failing run's message and what the
    kernel printed last there."""
    if cp.status == "pass":
        return "%s: passed in every run." % cp.description
    if ch.build == "failed":
        return "The chapter did not build, so no checkpoint could pass:\n" + ch.build_message
    out = [cp.description]
    runs = {r.name: r for r in ch.runs}
    for names, msg, lines in grouped_failures(cp):
        out.append("run%s %s: %s" % ("s" if len(names) > 1 else "", ", ".join(names), msg))
        out += ["  line: %s" % d for d in lines]
        r = runs.get(names[0])
        if r is not None:
            out.append("  run %s: %s" % (r.name, r.boot_message))
            out += ["  " + l for l in r.diagnostics]
    text = clean("\n".join(out))
    return text if len(text) <= limit else text[:limit] + "\n... (cut; the full logs are kept)"


def to_gradescope(sub):
    """Gradescope's results.json (one submission): score, per-test score/max_score/output."""
    tests = []
    if sub.error:
        tests.append({"name": "submission", "score": 0, "max_score": 0, "status": "failed",
                      "output": clean(sub.error)})
    for ch in sub.chapters:
        if ch.note:
            continue
        if ch.build == "failed":
            tests.append({"name": "chapter %s build" % ch.id, "score": 0, "max_score": 0,
                          "status": "failed", "output": clean(ch.build_message)})
        for cp in ch.checkpoints:
            if cp.status == "skip":
                continue
            tests.append({"name": "chapter %s %s" % (ch.id, cp.id), "score": cp.earned,
                          "max_score": cp.points, "status": "passed" if cp.status == "pass" else "failed",
                          "output": checkpoint_output(ch, cp)})
    for t in tests:
        t["visibility"] = "visible"
    summary = "%s: %d of %d points" % (sub.name, sub.earned, sub.possible)
    lines = [summary] + ([sub.error] if sub.error else []) + ["chapter %s %s: %d/%d%s" % (c.id, c.title, c.earned, c.possible,
                                                     " (build failed)" if c.build == "failed" else "")
                         for c in sub.chapters if not c.note]
    return {"score": sub.earned, "max_score": sub.possible, "output": clean("\n".join(lines)),
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}
