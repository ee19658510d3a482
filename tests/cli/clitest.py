# SPDX-License-Identifier: BSD-3-Clause
"""What every CLI test script shares: named checks, notes and the closing tally.

Each check prints one line ("ok   name" or "FAIL name: detail") as it happens, so a slow
test shows its progress; finish() prints the counts and gives the exit status.
"""

results = []  # (name, passed)


def check(name, cond, detail=""):
    """Record one assertion; returns whether it held."""
    ok = bool(cond)
    results.append((name, ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)[:2500]}",
          flush=True)
    return ok


def note(text):
    """A measurement or remark, indented under the checks."""
    print(f"     {text}", flush=True)


def failed():
    return any(not ok for _, ok in results)


def finish():
    """Print 'N passed, M failed' and return the exit status (0 when nothing failed)."""
    npass = sum(1 for _, ok in results if ok)
    nfail = len(results) - npass
    print(f"{npass} passed, {nfail} failed")
    return 0 if nfail == 0 else 1


def read_all(fd):
    """Everything a pseudo-terminal's master gives until the child closes it."""
    import os
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def zeek_traces(src):
    """The Zeek project's public captures in ../shared beside the checkout, or [] (noted)."""
    import glob
    import os
    traces = sorted(glob.glob(os.path.join(src, "..", "shared", "corpus", "zeek", "traces", "*")))
    if not traces:
        note("../shared/corpus/zeek absent: samples only")
    return traces
