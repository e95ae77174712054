"""Parse and validate the config in a short-lived child process (for the daemon).

Loading a config of N nodes makes N parsed TOML tables, their validation's
temporaries and N node models, interleaved in the heap. The temporaries are
freed, but the models that stay are scattered over pages that can then never
be given back: ≈ 6 MiB of the daemon's RSS at 10,000 nodes, for as long as it
runs, on top of the models themselves. `load_in_child(directory)` runs
`load_config` in `python -P -m monitor.config.load_child` instead (`-P`: the
daemon's working directory is not on the child's path) and takes the validated
`Config` back as one pickle through a pipe: unpickling allocates only what
stays, packed together. The config comes as its plain form
(`monitor.config.plain`, secrets kept): the daemon never imports pydantic or
builds the models (≈ 12 MiB). Errors are the same ConfigProblems
`load_config` raises, as a ConfigError. The pickle comes from this same installed program,
run by this same user, through a pipe only the two processes hold.

With `record=True` the child also writes the validated-config cache
(`monitor.config.cache.record`, for a fast `commwatch status`): parsing the
files for its fingerprint and dumping every node leave ≈ 3.6 MiB of a 10,000-node
daemon's heap resident for good, so that too happens in the child.

If the child cannot be started (no `sys.executable`), or ends without an
answer (killed, out of memory), the config is loaded in process (pydantic
then stays loaded) and made plain the same way.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from pathlib import Path

from monitor.config.errors import ConfigError, ConfigProblem
from monitor.config.model import Config

log = logging.getLogger(__name__)

CHILD_TIMEOUT_S = 300  # a 100,000-node config validates in ≈ 10 s on these machines
LOADED, REFUSED, FAILED = "loaded", "refused", "failed"
RECORD_FLAG = "--record"
FAILURES: dict[str, type[Exception]] = {
    kind.__name__: kind for kind in (RecursionError, OverflowError, ValueError, OSError)
}


def load_in_child(directory: str | Path, *, record: bool = False) -> Config:
    """`load_config(directory)` in plain form, run in a child process; ConfigError as in process.

    With `record`, a config that passed is written to the validated-config cache.
    """
    if not sys.executable:
        return _in_process(directory, "no Python executable to run", record)
    flags = [RECORD_FLAG] if record else []
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-m", "monitor.config.load_child", str(directory), *flags],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _in_process(directory, type(exc).__name__, record)
    if done.returncode != 0 or not done.stdout:
        return _in_process(directory, _why(done), record)
    try:
        kind, payload = pickle.loads(done.stdout)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, ImportError, AttributeError):
        return _in_process(directory, "an answer that is not one", record)
    if kind == LOADED:
        assert isinstance(payload, Config)
        return payload
    if kind == REFUSED:
        raise ConfigError([ConfigProblem(*problem) for problem in payload])
    raise FAILURES.get(str(payload), ValueError)()  # what the caller reports as a bug, not a crash


def _why(done: subprocess.CompletedProcess[bytes]) -> str:
    """The exit status and what the child's last line names, never its message (secrets)."""
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    named = lines[-1].split(":", 1)[0].strip()[:80] if lines else ""
    return f"exit status {done.returncode}" + (f" ({named})" if named else "")


def _in_process(directory: str | Path, why: str, record: bool) -> Config:
    from monitor.config.cache import record as record_cache
    from monitor.config.loader import load_config
    from monitor.config.snapshot import to_plain

    log.warning("config child gave no answer; loading in process", extra={"fields": {"why": why}})
    validated = load_config(directory)
    if record:
        record_cache(validated)
    return to_plain(validated)


def answer(directory: str, *, record: bool = False) -> tuple[str, object]:
    """What the child sends back: the plain Config, the problems, or what went wrong."""
    from monitor.config.cache import record as record_cache
    from monitor.config.loader import load_config
    from monitor.config.snapshot import SnapshotError, to_plain

    try:
        validated = load_config(directory)
        if record:
            record_cache(validated)  # None when it cannot be written: `status` then validates
        return LOADED, to_plain(validated)
    except ConfigError as exc:
        return REFUSED, [rendered(problem) for problem in exc.problems]
    except SnapshotError:  # a value only pydantic can unpickle: a bug, reported as one
        return FAILED, ValueError.__name__
    except tuple(FAILURES.values()) as exc:
        return FAILED, type(exc).__name__


def rendered(problem: ConfigProblem) -> tuple[str, str, str]:
    """(file, path, message) with the bad value already in the message: it prints the same.

    (A problem without a value is told apart by a sentinel object that would
    not survive the trip.)
    """
    where = f"{problem.file}: {problem.path}" if problem.path else problem.file
    return problem.file, problem.path, str(problem)[len(where) + 2 :]


def main() -> int:
    """The child: load the directory named in argv (and record it); one pickle on stdout."""
    found = answer(sys.argv[1], record=RECORD_FLAG in sys.argv[2:])
    sys.stdout.buffer.write(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
