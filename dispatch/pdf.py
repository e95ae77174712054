"""Print a report's HTML (A4, GB/T 9704—2012 layout) to PDF with headless Chromium.

The page size and margins come from the HTML's `@page` rule
(`dispatch/templates/_page.html.j2`); the fonts from the system: 仿宋/小标宋 where
installed, else Noto CJK (Debian: `fonts-noto-cjk`), embedded in the PDF.
Chromium (Debian: `chromium`) runs in its own process group, bounded in time,
and is killed with its children when it overruns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 60.0


class PdfError(Exception):
    """The PDF could not be made; the message says what to install or check."""


def browser() -> str:
    """The Chromium to print with: $COMMWATCH_CHROMIUM, else the first on PATH."""
    configured = os.environ.get("COMMWATCH_CHROMIUM")
    if configured:
        return configured
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "PDF needs Chromium and CJK fonts: apt install chromium fonts-noto-cjk "
        "(or set COMMWATCH_CHROMIUM)"
    )


def html_to_pdf(html: str, output: Path, timeout: float = TIMEOUT_S) -> None:
    """Write `html` as a PDF to `output`."""
    command = browser()
    with tempfile.TemporaryDirectory(prefix="commwatch-pdf-") as work:
        page = Path(work) / "report.html"
        page.write_text(html, encoding="utf-8")
        target = output.resolve()
        argv = [
            command, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            f"--user-data-dir={work}/profile", f"--print-to-pdf={target}", page.as_uri(),
        ]  # fmt: skip
        try:
            process = subprocess.Popen(
                argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
            )
        except OSError as exc:
            raise PdfError(f"cannot run {command}: {exc.strerror}") from exc
        try:
            _, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise PdfError(f"{command} did not finish within {timeout:.0f}s") from None
        finally:
            _reap(process.pid)
    if process.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
        raise PdfError(f"{command} failed (exit {process.returncode}): {' '.join(tail)}")


def _reap(group: int) -> None:
    """Chromium leaves helpers behind in its group: stop them."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
