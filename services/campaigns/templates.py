"""Message templates: sandboxed Jinja2 rendering with a profile's traits, template checks, link and pixel rewriting.

Pure functions, no I/O. Templates are authored by staff but rendered with customer data, so:
- rendering runs in an immutable sandbox; unsafe attribute access raises `SecurityError` at once;
- traits are data, never template source: a trait holding "{{ 7*7 }}" renders literally;
- a missing (or None, or blank) trait never crashes a send: it is undefined, so `default("there")` applies and a
  bare `{{ missing }}`, `{{ missing.title() }}` or `{{ missing + 1 }}` renders as an empty string;
- template size, output size, string repetition and powers are capped;
- each render has a budget of operations (loop turns, `range` items, calls) and of time, counted inside the sandbox:
  past either it stops with "template too slow". Still CPU work: callers render off the event loop.
"""

from __future__ import annotations

import html
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any, Literal

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError, nodes
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError, safe_range

TemplateKind = Literal["html", "text"]

MAX_TEMPLATE_BYTES = 100 * 1024
MAX_OUTPUT_CHARS = 1_000_000
MAX_SUBJECT_CHARS = 1_000
_MAX_POWER_BITS = 4096  # `x ** y` results beyond this many bits are refused before they are computed
RENDER_SECONDS = 1.0  # per render; a personalised mail takes well under a millisecond
RENDER_OPERATIONS = 1_000_000  # loop turns + `range` items + calls per render
_CLOCK_EVERY = 1000  # operations between two looks at the clock
TOO_SLOW = "template too slow"
TOO_LARGE = "rendered output is larger than"

_HTTP_URL = re.compile(r"https?://", re.IGNORECASE)
_LINK_TAGS = frozenset({"a", "area"})  # not <link>/<img>: stylesheets and images must not go through the redirect


class TemplateError(ValueError):
    """A template that cannot be compiled or rendered within the sandbox and its limits."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class TemplateIssue:
    """One problem found by check_template, with its template line when known."""

    message: str
    line: int | None = None


class LenientUndefined(ChainableUndefined):
    """A missing trait: renders as "", and attribute access, calls and arithmetic on it stay undefined."""

    __slots__ = ()

    def _absorb(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def _not_a_number(self) -> Any:
        # TypeError (not UndefinedError) lets filters such as `int` and `float` fall back to their default.
        raise TypeError("undefined value is not a number")

    __call__ = __add__ = __radd__ = __sub__ = __rsub__ = _absorb
    __mul__ = __rmul__ = __div__ = __rdiv__ = __truediv__ = __rtruediv__ = _absorb
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = _absorb
    __pos__ = __neg__ = __lt__ = __le__ = __gt__ = __ge__ = _absorb
    __int__ = __float__ = __complex__ = _not_a_number


class _OverBudget(BaseException):
    """Raised inside a render past its budget; a BaseException so that no filter's `except Exception` swallows it."""


class _Budget:
    """What one render may still spend: operations, and time (looked at every _CLOCK_EVERY operations)."""

    __slots__ = ("spent", "limit", "deadline", "next_look")

    def __init__(self, operations: int, seconds: float) -> None:
        self.spent, self.limit, self.next_look = 0, operations, _CLOCK_EVERY
        self.deadline = time.monotonic() + seconds

    def spend(self, operations: int) -> None:
        """Count operations; raise _OverBudget past the count or the deadline."""
        self.spent += operations
        if self.spent > self.limit:
            raise _OverBudget
        if self.spent >= self.next_look:
            self.next_look = self.spent + _CLOCK_EVERY
            if time.monotonic() > self.deadline:
                raise _OverBudget


# The budget of the render running in this thread (each render thread has its own context).
_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _spend(operations: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(operations)


def _counted_range(*args: int) -> range:
    numbers = safe_range(*args)
    _spend(len(numbers))  # charged up front: filters such as `sum` or `join` iterate it where no loop counts
    return numbers


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend()
        yield item


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, made strict about unsafe attributes and about runaway `*` and `**`, and counting
    loop turns, `range` items and calls against the render's budget."""

    intercepted_binops = frozenset({"*", "**"})
    counted = staticmethod(_counted)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _counted_range

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        """Compile every `{% for %}` to iterate through `counted` (Jinja's documented code-generation hook)."""
        for loop in source.find_all(nodes.For):
            counted = nodes.EnvironmentAttribute("counted", lineno=loop.iter.lineno)
            loop.iter = nodes.Call(counted, [loop.iter], [], None, None, lineno=loop.iter.lineno)
        return super()._generate(source, name, filename, defer_init)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Count the call (functions, methods, macros), then make it as the sandbox does."""
        _spend()
        return super().call(context, obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse repetitions longer than the output cap and powers with huge results, then apply the operator."""
        if operator == "**":
            _check_power(left, right)
        else:
            _check_repetition(left, right)
        return super().call_binop(context, operator, left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        """Raise instead of returning an undefined, so probing the sandbox fails loudly."""
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")


def _check_power(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if abs(left).bit_length() * right > _MAX_POWER_BITS:
            raise SecurityError("power too large")


def _check_repetition(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT_CHARS:
            raise SecurityError("repetition too large")


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


_ENVIRONMENTS: dict[str, _Sandbox] = {
    "html": _Sandbox(autoescape=True, undefined=LenientUndefined, finalize=_none_as_empty),
    "text": _Sandbox(autoescape=False, undefined=LenientUndefined, finalize=_none_as_empty),
}


@lru_cache(maxsize=256)
def _compile(source: str, kind: str) -> Template:
    if len(source.encode()) > MAX_TEMPLATE_BYTES:
        raise TemplateError(f"template is larger than {MAX_TEMPLATE_BYTES // 1024} KB")
    return _ENVIRONMENTS[kind].from_string(source)


def _context(traits: Mapping[str, Any]) -> dict[str, Any]:
    # None and blank strings count as missing, so `default(...)` replaces them instead of printing "None" or "".
    return {k: v for k, v in traits.items() if v is not None and not (isinstance(v, str) and not v.strip())}


def render(
    source: str,
    traits: Mapping[str, Any],
    *,
    kind: TemplateKind = "html",
    max_chars: int = MAX_OUTPUT_CHARS,
    max_operations: int = RENDER_OPERATIONS,
    max_seconds: float = RENDER_SECONDS,
) -> str:
    """Render a template with a profile's traits (HTML-escaped for kind "html") within its budget; raises
    TemplateError."""
    token = _BUDGET.set(_Budget(max_operations, max_seconds))
    try:
        return _render(source, traits, kind, max_chars)
    except _OverBudget:
        raise TemplateError(TOO_SLOW) from None
    finally:
        _BUDGET.reset(token)


def _render(source: str, traits: Mapping[str, Any], kind: TemplateKind, max_chars: int) -> str:
    try:
        template = _compile(source, kind)
        parts: list[str] = []
        size = 0
        for chunk in template.generate(_context(traits)):
            size += len(chunk)
            if size > max_chars:
                raise TemplateError(f"{TOO_LARGE} {max_chars} characters")
            parts.append(chunk)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or str(exc), exc.lineno) from exc
    except TemplateError:
        raise
    except Exception as exc:  # a template can raise almost anything (SecurityError, TypeError, ZeroDivisionError …)
        raise TemplateError(f"{type(exc).__name__}: {exc}", _template_line(exc)) from exc
    return "".join(parts)


def render_subject(source: str, traits: Mapping[str, Any]) -> str:
    """Render a subject line: no escaping, and all whitespace (newlines included) collapsed to single spaces."""
    # Collapsing newlines also stops a trait from smuggling extra mail headers in through the subject.
    return " ".join(render(source, traits, kind="text", max_chars=MAX_SUBJECT_CHARS).split())


def _template_line(exc: BaseException) -> int | None:
    # Jinja rewrites tracebacks so that template frames carry the file name "<template>" and the template line.
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return lines[-1] if lines else None


def check_template(
    source: str,
    sample_traits: Mapping[str, Any],
    *,
    kind: TemplateKind = "html",
) -> list[TemplateIssue]:
    """List syntax, size, sandbox and render errors, rendering with the sample traits and with no traits at all."""
    try:
        _compile(source, kind)
    except TemplateSyntaxError as exc:
        return [TemplateIssue(message=exc.message or str(exc), line=exc.lineno)]
    except TemplateError as exc:
        return [TemplateIssue(message=exc.message, line=exc.line)]
    issues: list[TemplateIssue] = []
    for traits in (sample_traits, {}):
        try:
            render(source, traits, kind=kind)
        except TemplateError as exc:
            issue = TemplateIssue(message=exc.message, line=exc.line)
            if issue not in issues:
                issues.append(issue)
            if exc.message.startswith((TOO_SLOW, TOO_LARGE)):
                break  # a second render would only spend the budget again (and, on a busy machine, run out of time)
    return issues


class _LinkTagFinder(HTMLParser):
    """Collects the position and raw text of every <a>/<area> start tag, skipping comments and scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[tuple[int, int], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text()
        if tag in _LINK_TAGS and raw:
            self.found.append((self.getpos(), raw))


# One attribute of a start tag: name, then optionally `=` and a double-, single- or un-quoted value.
_ATTRIBUTE = re.compile(
    r"""[\s/]*(?P<name>[^\s/>"'=][^\s/>=]*)(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|(?!["'])[^\s>]*))?"""
)
_TAG_NAME = re.compile(r"<[^\s/>]+")


def _rewrite_href(tag: str, make_click_url: Callable[[str], str]) -> str:
    """Return the start tag with its first http(s) href replaced by make_click_url(href)."""
    name = _TAG_NAME.match(tag)
    pos = name.end() if name else len(tag)
    while (attr := _ATTRIBUTE.match(tag, pos)) and attr.end() > pos:
        pos = attr.end()
        if attr["name"].lower() != "href":
            continue
        value = attr["value"]
        if value is None:
            return tag
        if value[:1] in ('"', "'"):
            value = value[1:-1]
        url = html.unescape(value).strip()
        if not _HTTP_URL.match(url):
            return tag  # mailto:, tel:, #anchors, relative and template-only links are left alone
        quoted = '"' + html.escape(make_click_url(url), quote=True) + '"'
        return tag[: attr.start("value")] + quoted + tag[attr.end("value") :]
    return tag


def rewrite_links(html_body: str, make_click_url: Callable[[str], str]) -> str:
    """Send every http(s) href of <a>/<area> tags through make_click_url (e.g. a signed click-tracking URL)."""
    finder = _LinkTagFinder()
    finder.feed(html_body)
    finder.close()
    line_starts = [0] + [i + 1 for i, ch in enumerate(html_body) if ch == "\n"]
    parts: list[str] = []
    done = 0
    for (line, column), raw in finder.found:
        start = line_starts[line - 1] + column
        if html_body[start : start + len(raw)] != raw:
            continue  # the parser's position and the source disagree: leave the tag as written
        parts += [html_body[done:start], _rewrite_href(raw, make_click_url)]
        done = start + len(raw)
    return "".join(parts) + html_body[done:]


_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def add_open_pixel(html_body: str, pixel_url: str) -> str:
    """Insert a 1×1 open-tracking image just before the last </body>, or at the end when there is none."""
    if not _HTTP_URL.match(pixel_url):
        raise ValueError("pixel_url must be an http(s) URL")
    pixel = (
        f'<img src="{html.escape(pixel_url, quote=True)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0" />'
    )
    ends = list(_BODY_END.finditer(html_body))
    if not ends:
        return html_body + pixel
    at = ends[-1].start()
    return html_body[:at] + pixel + html_body[at:]
