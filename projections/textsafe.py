"""Text from outside (feed bodies, file names, player names from a DraftKings file) made safe to show.

`visible` escapes the control characters a terminal or a log viewer would act on (ESC sequences that set the
window title, clear the screen or fake colours; a carriage return that overwrites a line) as `\\x1b`, keeping
newlines and tabs: for a whole block of output. `one_line` escapes newlines and tabs too: for one value inside a
line, so that it cannot forge lines of its own. `slack` also escapes what Slack's mrkdwn acts on (`<!channel>`,
`<http://x|text>`). JSON output needs none of them: json.dumps escapes control characters itself.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but \t and \n
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, f"\\x{ord(char):02x}")


def has_control(text: str) -> bool:
    """Whether `text` holds any control character (newline and tab included)."""
    return _CONTROL_ALL.search(text) is not None


def visible(text: str) -> str:
    """`text` with every control character but newline and tab escaped."""
    return _CONTROL.sub(_escape, text)


def one_line(text: Any) -> str:
    """`text` (str() of it) with every control character escaped, newline and tab included."""
    return _CONTROL_ALL.sub(_escape, str(text))  # (has_control tells whether it changes anything)


def slack(text: str) -> str:
    """`text` for a Slack-compatible webhook: control characters (but newlines) escaped, and &, <, > as the
    entities Slack reads back as those characters (so no mention, link or channel ping can be injected)."""
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Visible:
    """A text stream whose writes go through `visible` (the command line's stdout and stderr)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(visible(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
