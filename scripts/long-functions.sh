#!/usr/bin/env bash
# Lists the functions in src/ longer than N lines (default 120), longest first, as
#   LINES  FILE:LINE  NAME
# and exits 1 when there is any (0 when none), so it can guard the house rule "no function over
# 120 lines outside unit-test modules".
#
# A function's length counts from its `fn` line to the line of its closing brace, both included
# (attributes and doc comments above it are not counted). `#[cfg(test)]` items — the unit-test
# modules — are skipped whole. A function nested in another is listed on its own and also counts
# in its parent's lines, as it reads.
#
# Usage: scripts/long-functions.sh [N] [DIR-or-FILE...]   (defaults to src)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-120}
shift || true
[ $# -gt 0 ] || set -- src
exec python3 - "$limit" "$@" <<'PY'
import os, re, signal, sys

# Piped into `head`: stop quietly when the reader goes.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

limit = int(sys.argv[1])
roots = sys.argv[2:]


def code_only(text):
    """The text with comments, strings and char literals blanked (newlines kept), so that
    braces and `fn` inside them are not seen."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j): depth += 1; j += 2
                elif text.startswith("*/", j): depth -= 1; j += 2
                else: j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif re.match(r'(b|c)?r#*"', text[i:i + 40]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'(b|c)?r(#*)"', text[i:])
            end = text.find('"' + m.group(2), i + m.end())
            j = n if end < 0 else end + 1 + len(m.group(2))
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == '"' or (c in "bc" and text.startswith('"', i + 1) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_"))):
            j = i + (2 if c != '"' else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}', '{'), not a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'\n])'", text[i:])
            if m:
                out.append(" " * m.end()); i += m.end()
            else:
                out.append(c); i += 1
        else:
            out.append(c); i += 1
    return "".join(out)


def matching_brace(code, open_at):
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{": depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0: return j
    return len(code) - 1


def line_of(code, at):
    return code.count("\n", 0, at) + 1


def skipped_test_spans(code):
    """Spans of items under #[cfg(test)]: the item runs to the end of its first `{…}` block or `;`."""
    spans = []
    for m in re.finditer(r"#\[cfg\(test\)\]", code):
        j = m.end()
        while j < len(code) and code[j] not in "{;":
            j += 1
        if j < len(code) and code[j] == "{":
            spans.append((m.start(), matching_brace(code, j)))
        else:
            spans.append((m.start(), j))
    return spans


fn_head = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")
found = []
def rust_files(root):
    if os.path.isfile(root):
        yield root
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(".rs"):
                yield os.path.join(dirpath, name)


for path in (p for root in roots for p in rust_files(root)):
    code = code_only(open(path, encoding="utf-8").read())
    tests = skipped_test_spans(code)
    for m in fn_head.finditer(code):
        if any(a <= m.start() <= b for a, b in tests):
            continue
        # The body opens at the first `{` after the signature; a `;` first means a
        # declaration without a body (a trait method or an extern fn).
        j = m.end(); paren = 0
        while j < len(code):
            ch = code[j]
            if ch in "([": paren += 1
            elif ch in ")]": paren -= 1
            elif paren == 0 and ch in "{;": break
            j += 1
        if j >= len(code) or code[j] == ";":
            continue
        first, last = line_of(code, m.start()), line_of(code, matching_brace(code, j))
        found.append((last - first + 1, path, first, m.group(1)))

long = sorted((f for f in found if f[0] > limit), key=lambda f: (-f[0], f[1], f[2]))
for lines, path, first, name in long:
    print(f"{lines:5d}  {path}:{first}  {name}")
sys.exit(1 if long else 0)
PY
