#!/usr/bin/env python3
"""Scores a scanner's recall on Plazmaz/leaky-repo, a public repository of typical leaked
dotfiles and app configs whose `.leaky-meta/secrets.csv` says how many lines of each file hold
a risk (a credential) and how many are merely informative.

Usage: benches/leaky-repo.py SHUSH_BINARY LEAKY_REPO_CHECKOUT [--per-file]

A file's score is the number of distinct lines shush reports in it, capped at its count of
risk lines (the CSV counts lines, not secrets; a line with several secrets counts once).
Findings in files the CSV does not list are counted apart as "unlisted". The repository is
not vendored: clone it (`git clone https://github.com/Plazmaz/leaky-repo`) or fetch a mirror.
"""
import csv
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def expected(repo: Path) -> dict:
    """Risk and informative line counts per file, from the repository's own CSV."""
    rows = {}
    with open(repo / ".leaky-meta" / "secrets.csv", newline="") as f:
        for row in csv.reader(f):
            if not row or row[0].startswith("#") or len(row) < 3:
                continue
            rows[row[0].strip()] = (int(row[1]), int(row[2]))
    return rows


def found_lines(shush: str, repo: Path) -> dict:
    """Distinct (file, line) pairs shush reports, per file relative to the repository."""
    out = subprocess.run(
        [shush, "scan", "--no-config", "--no-progress", "-f", "jsonl", "."],
        cwd=repo, capture_output=True, text=True,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"shush failed ({out.returncode}): {out.stderr.strip()}")
    lines = defaultdict(set)
    rules = defaultdict(set)
    for raw in out.stdout.splitlines():
        f = json.loads(raw)
        if "path" not in f:
            continue
        path = f["path"].removeprefix("./")
        lines[path].add(f.get("line"))
        rules[path].add(f.get("rule_id"))
    return lines, rules


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    shush, repo = str(Path(args[0]).resolve()), Path(args[1])
    per_file = "--per-file" in sys.argv
    want = expected(repo)
    lines, rules = found_lines(shush, repo)
    total = sum(r for r, _ in want.values())
    got = 0
    for path, (risk, _info) in sorted(want.items()):
        score = min(len(lines.get(path, ())), risk)
        got += score
        if per_file:
            mark = "" if score == risk else "  <- missed " + str(risk - score)
            print(f"{path:45} {score}/{risk} {sorted(rules.get(path, ()))}{mark}")
    unlisted = {p: len(v) for p, v in lines.items() if p not in want and not p.startswith(".leaky-meta")}
    print(f"leaky-repo risk lines found: {got}/{total} ({100.0 * got / total:.1f}%)")
    print(f"lines reported in files the CSV does not list: {sum(unlisted.values())} {unlisted}")


if __name__ == "__main__":
    main()
