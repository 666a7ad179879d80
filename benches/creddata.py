#!/usr/bin/env python3
"""Recall / false-positive benchmark of shush on the CredData subset (held out: measure, never tune).

The corpus (not part of this repository) is a folder with `data/` (real open-source files) and
`labels.tsv` (one row per labeled candidate line: T = credential, F = hard negative,
X = placeholder / example). See its README.md.

    python3 benches/creddata.py target/release/shush                     # built-in rules
    python3 benches/creddata.py target/release/shush --config rules.toml # a rule file
    python3 benches/creddata.py target/release/shush --only-tag generic  # count generic rules only
    python3 benches/creddata.py --peer gitleaks       # score a peer the same way (betterleaks,
                                                      # kingfisher; from $PEERS/bin, default /opt/peers)

A finding matches a labeled row when it is in the row's file and its line range overlaps
[line_start, line_end] (with --span, it must also overlap the labeled value's columns).
Reported:
  * recall on T rows, overall and per category, with and without the UUID / Nonce / Salt
    categories (CredData counts them as credentials; most secret scanners do not look for them);
  * F and X rows hit (false positives on hard negatives and on placeholders);
  * findings on lines with no label (not automatically false positives: labels are not
    exhaustive), with --show-unlabeled N to review a sample;
  * the same split per rule.
Only the Python 3 standard library is used; nothing from the corpus is written anywhere.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

# The corpus sits beside the repository: ../shared/corpora/creddata from the repository root.
DEFAULT_CORPUS = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpora", "creddata")
)
EXCLUDABLE = {"UUID", "Nonce", "Salt"}


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def load_labels(corpus):
    rows = []
    with open(os.path.join(corpus, "labels.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < len(header):
                continue
            get = lambda k: unescape(parts[col[k]])
            rows.append(
                {
                    "id": get("id"),
                    "file": os.path.normpath(get("file")),
                    "line_start": int(get("line_start")),
                    "line_end": int(get("line_end")),
                    "label": get("label"),
                    "value_start": int(get("value_start") or -1),
                    "value_end": int(get("value_end") or -1),
                    "categories": [c for c in get("category").split(":") if c],
                }
            )
    return rows


def run_scan(binary, corpus, config, extra):
    cmd = [os.path.abspath(binary), "scan", "--format", "jsonl", "--show-secrets", "--no-progress", "-q"]
    if config:
        cmd += ["--config", os.path.abspath(config)]
    else:
        cmd += ["--no-config"]
    cmd += extra + ["data"]
    proc = subprocess.run(cmd, cwd=corpus, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"shush failed ({proc.returncode}): {proc.stderr.strip()}")
    findings = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line:
            findings.append(json.loads(line))
    return findings


def run_peer(tool, corpus):
    """Runs a peer scanner over `data/` with its default rules (no validation, no network) and
    returns its findings as dicts with path, line, end_line and rule_id, like shush's JSONL."""
    peers = os.path.join(os.environ.get("PEERS", "/opt/peers"), "bin")
    exe = os.path.join(peers, tool)
    if not os.access(exe, os.X_OK):
        sys.exit(f"{exe} not found (install the peers with ../shared/tools/install-peers.sh)")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        if tool in ("gitleaks", "betterleaks"):
            sub = "dir" if tool == "gitleaks" else "fs"
            cmd = [exe, sub, "data", "--no-banner", "--exit-code", "0", "--log-level", "error"]
            cmd += ["-f", "json", "-r", report] if tool == "gitleaks" else ["-o", report]
        elif tool == "kingfisher":
            cmd = [exe, "scan", "data", "--no-validate", "--no-update-check", "--no-dedup", "-q", "-f", "json", "-o", report]
        else:
            sys.exit(f"unknown peer {tool} (gitleaks, betterleaks, kingfisher)")
        proc = subprocess.run(cmd, cwd=corpus, capture_output=True, text=True)
        if not os.path.exists(report):
            sys.exit(f"{tool} wrote no report ({proc.returncode}): {proc.stderr.strip()[:500]}")
        data = json.load(open(report, errors="replace"))
    out = []
    if tool == "gitleaks":
        for f in data or []:
            out.append({"path": f["File"], "line": f["StartLine"], "end_line": f.get("EndLine"), "rule_id": f.get("RuleID", "?")})
    elif tool == "betterleaks":
        # Betterleaks 2: {"findings": [{"rule_id", "location": {"path", "start_line", "end_line"}}]}
        for f in (data or {}).get("findings") or []:
            loc = f.get("location") or {}
            out.append({"path": loc.get("path", ""), "line": loc.get("start_line", 0), "end_line": loc.get("end_line"), "rule_id": f.get("rule_id", "?")})
    else:
        def walk(v):
            if isinstance(v, dict):
                fin = v.get("finding")
                if isinstance(fin, dict) and "path" in fin:
                    rule = (v.get("rule") or {}).get("id", "?") if isinstance(v.get("rule"), dict) else "?"
                    line = int(fin.get("line") or 0)
                    out.append({"path": fin["path"], "line": line, "end_line": line, "rule_id": rule})
                    return
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(data)
    return out


def finding_path(f, corpus):
    p = f.get("path") or (f.get("source") or {}).get("path") or ""
    if os.path.isabs(p):
        p = os.path.relpath(p, corpus)
    return os.path.normpath(p)


def overlaps(f, row, span):
    fl, fe = f["line"], f.get("end_line") or f["line"]
    if fe < row["line_start"] or fl > row["line_end"]:
        return False
    if not span or row["value_start"] < 0 or row["line_start"] != row["line_end"]:
        return True
    # Columns: shush reports 1-based columns; CredData value offsets are 0-based, end-exclusive.
    if fl != row["line_start"]:
        return True
    fc = f.get("column", 1) - 1
    fce = (f.get("end_column") or f.get("column", 1)) - 1 if fe == fl else 1 << 30
    return fc < row["value_end"] and fce >= row["value_start"]


def pct(n, d):
    return f"{100.0 * n / d:5.1f}%" if d else "    -"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", help="path to the shush binary (not with --peer)")
    ap.add_argument("--peer", help="score a peer scanner instead: gitleaks, betterleaks or kingfisher")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="CredData subset folder (default: %(default)s)")
    ap.add_argument("--config", help="rule file passed to `shush scan --config` (default: built-in rules)")
    ap.add_argument("--only-tag", help="count only findings of rules carrying this tag (e.g. generic)")
    ap.add_argument("--span", action="store_true", help="also require the finding to overlap the labeled value's columns")
    ap.add_argument("--show-unlabeled", type=int, default=0, metavar="N", help="print N findings on unlabeled lines (path:line rule)")
    ap.add_argument("--show-fp", type=int, default=0, metavar="N", help="print N findings on F/X rows (path:line rule label)")
    ap.add_argument("--json", help="also write the summary as JSON to this file")
    ap.add_argument("scan_args", nargs="*", help="extra arguments for `shush scan` (after --)")
    args = ap.parse_args()

    rows = load_labels(args.corpus)
    by_file = collections.defaultdict(list)
    for r in rows:
        by_file[r["file"]].append(r)
    if args.peer:
        findings = run_peer(args.peer, args.corpus)
    elif args.binary:
        findings = run_scan(args.binary, args.corpus, args.config, args.scan_args)
    else:
        ap.error("give the shush binary, or --peer TOOL")
    if args.only_tag:
        findings = [f for f in findings if args.only_tag in (f.get("tags") or [])]

    hit_rows = set()
    per_rule = collections.defaultdict(collections.Counter)
    unlabeled = []
    fp_examples = []
    for f in findings:
        path = finding_path(f, args.corpus)
        matched = [r for r in by_file.get(path, []) if overlaps(f, r, args.span)]
        rule = f.get("rule_id", "?")
        per_rule[rule]["findings"] += 1
        if not matched:
            per_rule[rule]["unlabeled"] += 1
            unlabeled.append((path, f["line"], rule))
            continue
        labels = {r["label"] for r in matched}
        # A finding on a line labeled both T and F counts as a T hit.
        kind = "T" if "T" in labels else ("F" if "F" in labels else "X")
        per_rule[rule][kind] += 1
        if kind != "T":
            fp_examples.append((path, f["line"], rule, kind))
        for r in matched:
            hit_rows.add(r["id"])

    t_rows = [r for r in rows if r["label"] == "T"]
    t_core = [r for r in t_rows if not (set(r["categories"]) & EXCLUDABLE)]
    found = lambda rs: sum(1 for r in rs if r["id"] in hit_rows)
    f_rows = [r for r in rows if r["label"] == "F"]
    x_rows = [r for r in rows if r["label"] == "X"]

    print(f"corpus: {args.corpus}  tool: {args.peer or 'shush'}  rules: {args.config or 'built-in'}"
          + (f"  (only tag {args.only_tag})" if args.only_tag else "")
          + ("  [span match]" if args.span else ""))
    print(f"findings: {len(findings)}")
    print()
    print(f"recall on T rows:                      {found(t_rows):5d} / {len(t_rows):5d}  {pct(found(t_rows), len(t_rows))}")
    print(f"recall on T rows without UUID/Nonce/Salt: {found(t_core):5d} / {len(t_core):5d}  {pct(found(t_core), len(t_core))}")
    print(f"F rows hit (hard negatives):           {found(f_rows):5d} / {len(f_rows):5d}  {pct(found(f_rows), len(f_rows))}")
    print(f"X rows hit (placeholders/examples):    {found(x_rows):5d} / {len(x_rows):5d}  {pct(found(x_rows), len(x_rows))}")
    n_unl = sum(c["unlabeled"] for c in per_rule.values())
    n_t = sum(c["T"] for c in per_rule.values())
    n_fx = sum(c["F"] + c["X"] for c in per_rule.values())
    print(f"findings on T lines / F-X lines / unlabeled lines: {n_t} / {n_fx} / {n_unl}")
    print(f"labeled precision (findings on T / on T+F+X): {pct(n_t, n_t + n_fx)}")
    print()

    cats = collections.defaultdict(lambda: [0, 0])
    for r in t_rows:
        for c in r["categories"] or ["(none)"]:
            cats[c][0] += 1
            cats[c][1] += r["id"] in hit_rows
    print("recall per category (T rows; a row may carry several categories):")
    for c, (n, k) in sorted(cats.items(), key=lambda kv: (-kv[1][0], kv[0])):
        print(f"  {c:34s} {k:5d} / {n:5d}  {pct(k, n)}")
    print()
    print("per rule: findings  on-T  on-F  on-X  unlabeled")
    for rule, c in sorted(per_rule.items(), key=lambda kv: -kv[1]["findings"]):
        print(f"  {rule:34s} {c['findings']:6d} {c['T']:5d} {c['F']:5d} {c['X']:5d} {c['unlabeled']:6d}")
    if args.show_fp:
        print("\nfindings on F/X rows (sample):")
        for p, line, rule, kind in fp_examples[: args.show_fp]:
            print(f"  {p}:{line} {rule} {kind}")
    if args.show_unlabeled:
        print("\nfindings on unlabeled lines (sample):")
        for p, line, rule in unlabeled[: args.show_unlabeled]:
            print(f"  {p}:{line} {rule}")
    if args.json:
        summary = {
            "findings": len(findings),
            "t_rows": len(t_rows), "t_found": found(t_rows),
            "t_core_rows": len(t_core), "t_core_found": found(t_core),
            "f_rows": len(f_rows), "f_hit": found(f_rows),
            "x_rows": len(x_rows), "x_hit": found(x_rows),
            "unlabeled_findings": n_unl,
            "per_category": {c: {"t": n, "found": k} for c, (n, k) in cats.items()},
            "per_rule": {r: dict(c) for r, c in per_rule.items()},
        }
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
