"""LaTeX to plain math: ``\\boxed``/``\\frac``/``\\sqrt`` and friends (:func:`latex_to_plain`)."""

from __future__ import annotations

import re


def find_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}`` in ``text`` (nested braces kept)."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = start + (len("\\boxed") if text.startswith("\\boxed", start) else len("\\fbox"))
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        group = _read_braced(text, i)
        return group[0] if group is not None else None
    # "\boxed 5": the argument runs to the next whitespace or math delimiter.
    m = re.match(r"[^\s$]+", text[i:])
    return m.group(0) if m else None


def _read_braced(text: str, i: int) -> tuple[str, int] | None:
    """Given ``text[i] == "{"``, the content up to the matching brace and the index after it."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{" and (j == 0 or text[j - 1] != "\\"):
            depth += 1
        elif text[j] == "}" and (j == 0 or text[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
    return None


def _read_argument(text: str, i: int) -> tuple[str, int] | None:
    """A LaTeX macro argument at ``i``: a braced group, a ``\\command`` or a single character."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] == "{":
        return _read_braced(text, i)
    if text[i] == "\\":
        m = re.match(r"\\[A-Za-z]+", text[i:])
        if m:
            return m.group(0), i + len(m.group(0))
    # "\frac34": each argument is one character.
    return text[i], i + 1


_TEXT_COMMANDS = (
    "text",
    "textbf",
    "textit",
    "textrm",
    "textnormal",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mbox",
    "hbox",
    "operatorname",
    "boxed",
    "fbox",
)
# Commands that only affect spacing or sizing.
_DROP_COMMANDS_RE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|displaystyle|textstyle|quad|qquad|"
    r"middle|limits|nolimits)(?![A-Za-z])"
)
_SPACING_RE = re.compile(r"\\[,;:! ]")
_DEGREES_RE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|°")
_SIMPLE_SYMBOLS = {
    "\\cdot": "*",
    "\\times": "*",
    "\\ast": "*",
    "\\div": "/",
    "\\pi": "pi",
    "\\infty": "oo",
    "\\infinity": "oo",
    "\\le": "<=",
    "\\ge": ">=",
    "\\neq": "!=",
}
# The lookahead keeps "\le" from matching inside "\leq" and "\pi" inside "\pitchfork".
_SIMPLE_SYMBOLS_RE = re.compile(
    "(?:" + "|".join(re.escape(k) for k in sorted(_SIMPLE_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
_UNICODE = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash, often typed for minus
    "\u00d7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u03c0": "pi",
    "\u221e": "oo",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2032": "'",
    "\uff1a": ":",
}


def latex_to_plain(text: str) -> str:
    """Light LaTeX → plain-math conversion (``\\frac{a}{b}`` → ``(a)/(b)``, ``\\sqrt{x}`` →
    ``sqrt(x)``, ``\\cdot`` → ``*``, ``\\text{..}`` → its content, sizing commands dropped).

    Braces that remain (``x^{2}``) are kept; :func:`normalize_answer` turns them into
    parentheses. Unknown commands are left in place so that a later parse can refuse them.
    """
    for src, dst in _UNICODE.items():
        text = text.replace(src, dst)
    text = _unwrap_commands(text, _TEXT_COMMANDS)
    text = _DROP_COMMANDS_RE.sub("", text)
    text = _SPACING_RE.sub(" ", text)
    text = text.replace("~", " ")
    text = _DEGREES_RE.sub("", text)
    text = text.replace("\\%", "%").replace("\\$", "$")
    text = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", text)
    text = re.sub(r"\\cfrac(?![A-Za-z])", r"\\frac", text)
    text = _convert_frac(text)
    text = _convert_sqrt(text)
    text = _SIMPLE_SYMBOLS_RE.sub(lambda m: _SIMPLE_SYMBOLS[m.group(0)], text)
    # Escaped set braces are plain grouping once the markup is gone.
    return text.replace("\\{", "{").replace("\\}", "}")


def _unwrap_commands(text: str, names: tuple[str, ...]) -> str:
    """Replace ``\\name{content}`` by ``content`` for each command name (innermost too)."""
    pattern = re.compile(r"\\(" + "|".join(names) + r")(?![A-Za-z])\s*")
    while True:
        m = pattern.search(text)
        if m is None:
            return text
        arg = _read_argument(text, m.end())
        if arg is None:
            return text[: m.start()] + text[m.end() :]
        content, end = arg
        text = text[: m.start()] + content + text[end:]


def _convert_frac(text: str) -> str:
    """``\\frac{a}{b}`` / ``\\frac34`` → ``(a)/(b)``, converting nested fractions too."""
    while True:
        i = text.find("\\frac")
        if i < 0:
            return text
        first = _read_argument(text, i + len("\\frac"))
        second = _read_argument(text, first[1]) if first else None
        if first is None or second is None:
            # A malformed fraction: drop the command so that the loop terminates.
            return text[:i] + text[i + len("\\frac") :]
        num, den = _convert_frac(first[0]), _convert_frac(second[0])
        text = f"{text[:i]}({num})/({den}){text[second[1] :]}"


def _convert_sqrt(text: str) -> str:
    """Square roots: ``\\sqrt{x}`` → ``sqrt(x)``, ``\\sqrt[n]{x}`` → ``(x)^(1/(n))``."""
    while True:
        i = text.find("\\sqrt")
        if i < 0:
            return text
        j = i + len("\\sqrt")
        index: str | None = None
        rest = text[j:].lstrip()
        if rest.startswith("["):
            k = j + (len(text[j:]) - len(rest))
            close = text.find("]", k)
            if close < 0:
                return text[:i] + text[j:]
            index, j = text[k + 1 : close], close + 1
        arg = _read_argument(text, j)
        if arg is None:
            return text[:i] + text[j:]
        body = _convert_sqrt(arg[0])
        repl = f"sqrt({body})" if index is None else f"({body})^(1/({index}))"
        text = text[:i] + repl + text[arg[1] :]
