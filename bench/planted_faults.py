"""The faults a review planted in dockfix's safety machinery, one at a time.

    python bench/planted_faults.py [NAME ...]

Each fault is a one-line change to the source; the script applies it, runs
the tests that must catch it, prints CAUGHT or SURVIVED, and restores the
file (also on Ctrl-C).  Every fault must be CAUGHT.  The list also holds the
mutants of the first ``make mutation`` run that tests written since catch.  ``make mutation`` is the
general form of the same check (bench/mutation.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUARDS = "tests/core/test_safety_guards.py"
#: name, file, text, replacement, (test file, -k selection)
FAULTS = [
 ("breakage-off", "rewriter/dockerfile/language.py", '    if unknown(after) > unknown(before):', '    return None\n    if unknown(after) > unknown(before):', (GUARDS, "refusal_guard")),
 ("unknown-check-off", "rewriter/dockerfile/language.py", 'if unknown(after) > unknown(before):', 'if False:', (GUARDS, "refusal_guard and unknown")),
 ("empty-user-off", "rewriter/dockerfile/language.py", 'if i.cmd == "USER" and not i.args:', 'if False:', (GUARDS, "refusal_guard and empty")),
 ("settle-through", "rewriter/core/engine.py", '        return _refuse(result, f"fixes did not settle', '        if False: return _refuse(result, f"fixes did not settle', (GUARDS, "refusal_guard and point")),
 ("applied-kept", "rewriter/core/engine.py", '    result.applied = []\n    result.error = why', '    result.error = why', (GUARDS, "refusal_guard")),
 ("in-place-write", "rewriter/io/files.py", '        os.replace(tmp, base, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)', '        os.unlink(tmp, dir_fd=dir_fd)\n        with open(base, "wb", opener=lambda p, fl: os.open(p, fl, dir_fd=dir_fd)) as g:\n            g.write(data)', (GUARDS, "reader or crash")),
 ("no-reread", "rewriter/io/files.py", '        return _read_fd(fd, base, "") == original', '        return True', (GUARDS, "same_size")),
 ("no-owner", "rewriter/io/files.py", '                    os.fchown(f.fileno(), before.st_uid, before.st_gid)', '                    pass', (GUARDS, "owner")),
 ("no-unknown-target", "rewriter/dockerfile/rules/missing_nonroot_user.py", '            return Decline("unknown-target"', '            return None and Decline("unknown-target"', (GUARDS, "unknown_target")),
 ("no-s6", "rewriter/dockerfile/rules/_common.py", '                if ins.json and ins.values and _S6_INIT.search(ins.values[0]):', '                if False:', (GUARDS, "s6")),
 ("entrypoint-override-ignored", "rewriter/dockerfile/rules/_common.py", '        if not overridden:', '        if True:', (GUARDS, "privilege_drop")),
 ("no-bare-cr", "rewriter/dockerfile/rules/missing_nonroot_user.py", '    if ctx.newline == "\\r":', '    if False:', (GUARDS, "bare_cr")),
 ("first-user", "rewriter/dockerfile/rules/missing_nonroot_user.py", '        u = created[-1]', '        u = created[0]', (GUARDS, "last_user")),
 ("no-indent", "rewriter/dockerfile/rules/_common.py", '    body = "".join(indent + ln + nl for ln in lines)', '    body = "".join(ln + nl for ln in lines)', (GUARDS, "indentation")),
 ("fingerprint-no-counter", "rewriter/report/outcome.py", '((str(n),) if n else ())', '()', (GUARDS, "fingerprints")),
 ("fixer-off", "rewriter/core/engine.py", "        new, applied = apply_fixes(current, fixes, threshold)", "        new, applied = current, []", ("tests/core/test_properties.py", "root_running")),
 ("identity-ordered", "rewriter/io/files.py", "    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)", "    return (a.st_dev, a.st_ino) <= (b.st_dev, b.st_ino)", (GUARDS, "same_looking")),
 ("gone-is-fine", "rewriter/io/files.py", "                     dir_fd=dir_fd)\n    except OSError:\n        return False", "                     dir_fd=dir_fd)\n    except OSError:\n        return True", (GUARDS, "deleted")),
 ("curdir-ordered", "rewriter/io/files.py", "    if rel == os.curdir:", "    if rel <= os.curdir:", (GUARDS, "subdirectories")),
 ("walk-follows-links", "rewriter/io/files.py", "    if root is None:\n        return os.open(directory", "    if root is not None:\n        return os.open(directory", (GUARDS, "last_moment or library")),
 ("recheck-follows-links", "rewriter/io/files.py", "        fd = os.open(base, os.O_RDONLY | _NOFOLLOW | _NONBLOCK", "        fd = os.open(base, os.O_RDONLY | _NONBLOCK", (GUARDS, "last_moment")),
 ("recheck-blocks", "rewriter/io/files.py", "        fd = os.open(base, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _NOCTTY", "        fd = os.open(base, os.O_RDONLY | _NOFOLLOW | _NOCTTY", (GUARDS, "last_moment and fifo")),
    # survivors of the first mutation run (bench/mutation.md), caught since
 ("345-nofollow-b", "rewriter/io/files.py", "os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC", "os.open(part, os.O_RDONLY | _DIRECTORY & _NOFOLLOW | _CLOEXEC", (GUARDS, "last_moment")),
 ("345-nofollow-c", "rewriter/io/files.py", "os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC", "os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW & _CLOEXEC", (GUARDS, "last_moment")),
 ("367-ge", "rewriter/io/files.py", "    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)", "    return (a.st_dev, a.st_ino) >= (b.st_dev, b.st_ino)", (GUARDS, "same_looking")),
 ("367-isnot", "rewriter/io/files.py", "    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)", "    return (a.st_dev, a.st_ino) is not (b.st_dev, b.st_ino)", (GUARDS, "same_looking")),
 ("429-le", "rewriter/io/files.py", '        return _read_fd(fd, base, "") == original', '        return _read_fd(fd, base, "") <= original', (GUARDS, "same_size")),
 ("426-true", "rewriter/io/files.py", "        if not stat.S_ISREG(now.st_mode) or not _same_file(now, before):\n            return False", "        if not stat.S_ISREG(now.st_mode) or not _same_file(now, before):\n            return True", (GUARDS, "same_looking")),
 ("425-and", "rewriter/io/files.py", "        if not stat.S_ISREG(now.st_mode) or not _same_file(now, before):", "        if not stat.S_ISREG(now.st_mode) and not _same_file(now, before):", (GUARDS, "same_looking")),
 ("421-except", "rewriter/io/files.py", "                     dir_fd=dir_fd)\n    except OSError:\n        return False", "                     dir_fd=dir_fd)\n    except ZeroDivisionError:\n        return False", (GUARDS, "deleted")),
 ("341-lt", "rewriter/io/files.py", "    if rel == os.curdir:", "    if rel < os.curdir:", (GUARDS, "subdirectories")),
 ("337-notis", "rewriter/io/files.py", "    if root is None:\n        return os.open(directory", "    if not root is None:\n        return os.open(directory", (GUARDS, "last_moment or library")),
 ("419-nofollow-a", "rewriter/io/files.py", "        fd = os.open(base, os.O_RDONLY | _NOFOLLOW | _NONBLOCK", "        fd = os.open(base, os.O_RDONLY & _NOFOLLOW | _NONBLOCK", (GUARDS, "last_moment")),
 ("419-nofollow-b", "rewriter/io/files.py", "        fd = os.open(base, os.O_RDONLY | _NOFOLLOW | _NONBLOCK", "        fd = os.open(base, os.O_RDONLY | _NOFOLLOW & _NONBLOCK", (GUARDS, "last_moment")),
 ("sarif-gt", "rewriter/report/formats/sarif.py", '"executionSuccessful": not any(o.status == ERROR for o in outcomes)', '"executionSuccessful": not any(o.status > ERROR for o in outcomes)', (GUARDS, "sarif")),
 ("sarif-ge", "rewriter/report/formats/sarif.py", '"executionSuccessful": not any(o.status == ERROR for o in outcomes)', '"executionSuccessful": not any(o.status >= ERROR for o in outcomes)', (GUARDS, "sarif")),
 ("sarif-is-a", "rewriter/report/formats/sarif.py", '"executionSuccessful": not any(o.status == ERROR for o in outcomes)', '"executionSuccessful": not any(o.status is ERROR for o in outcomes)', (GUARDS, "sarif")),
 ("sarif-is-b", "rewriter/report/formats/sarif.py", '        if o.status == ERROR:', '        if o.status is ERROR:', (GUARDS, "sarif")),
 ("sarif-notline", "rewriter/report/formats/sarif.py", '            if d.line:', '            if not d.line:', (GUARDS, "sarif")),
 ("file-uri-unquoted", "rewriter/report/formats/sarif.py", '        return {"uri": "file://" + quote(_bytes(path))}', '        return {"uri": "file://" + path}', (GUARDS, "percent")),
]


def main(only: list[str]) -> int:
    survived = 0
    for name, rel, old, new, (tests, selection) in FAULTS:
        if only and name not in only:
            continue
        path = REPO / rel
        src = path.read_text()
        if src.count(old) != 1:
            print(f"{name}: the text to change is not in {rel} exactly once; update this list")
            survived += 1
            continue
        path.write_text(src.replace(old, new))
        try:
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "-x", tests, "-k", selection], cwd=REPO, capture_output=True,
                               text=True)
        finally:
            path.write_text(src)
        verdict = {0: "SURVIVED", 1: "CAUGHT"}.get(r.returncode, f"test run failed ({r.returncode})")
        survived += verdict != "CAUGHT"
        print(f"{name}: {verdict}")
    return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
