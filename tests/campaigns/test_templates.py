"""Sandboxed template rendering, template checks, click-link rewriting and the open pixel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from services.campaigns.templates import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_BYTES,
    TemplateError,
    TemplateIssue,
    add_open_pixel,
    check_template,
    render,
    render_subject,
    rewrite_links,
)

GREETING = 'Hi {{ first_name | default("there") }}!'


def track(url: str) -> str:
    return f"https://t.example/c?sig=abc&u={url}"


class Recorder:
    """A make_click_url callback that records the URLs it is given and returns them with an optional suffix."""

    def __init__(self, suffix: str = "") -> None:
        self.seen: list[str] = []
        self.suffix = suffix

    def __call__(self, url: str) -> str:
        self.seen.append(url)
        return url + self.suffix


class TestMissingTraits:
    def test_default_fills_a_missing_trait(self) -> None:
        assert render(GREETING, {}) == "Hi there!"

    def test_default_is_ignored_when_the_trait_is_present(self) -> None:
        assert render(GREETING, {"first_name": "Ada"}) == "Hi Ada!"

    def test_none_trait_counts_as_missing(self) -> None:
        assert render(GREETING, {"first_name": None}) == "Hi there!"

    def test_blank_trait_counts_as_missing(self) -> None:
        assert render(GREETING, {"first_name": "   "}) == "Hi there!"

    def test_plain_missing_variable_renders_empty(self) -> None:
        assert render("Hi {{ first_name }}!", {}) == "Hi !"

    def test_attribute_of_missing_trait_renders_empty(self) -> None:
        assert render("[{{ address.city.name }}]", {}) == "[]"

    def test_missing_key_of_present_dict_renders_empty(self) -> None:
        assert render("[{{ address.city }}]", {"address": {"zip": "1000"}}) == "[]"

    def test_method_call_on_missing_trait_renders_empty(self) -> None:
        assert render("[{{ first_name.title() }}]", {}) == "[]"

    def test_arithmetic_on_missing_trait_renders_empty(self) -> None:
        assert render("[{{ points + 10 }}]", {}) == "[]"

    def test_comparison_with_missing_trait_is_false(self) -> None:
        assert render("{% if points > 100 %}vip{% else %}regular{% endif %}", {}) == "regular"

    def test_int_filter_on_missing_trait_uses_its_default(self) -> None:
        assert render("{{ points | int }}", {}) == "0"

    def test_none_inside_a_nested_trait_renders_empty(self) -> None:
        assert render("[{{ address.city }}]", {"address": {"city": None}}) == "[]"


class TestEscaping:
    def test_html_body_escapes_trait_markup(self) -> None:
        assert render("<p>{{ name }}</p>", {"name": "<script>x</script>"}) == "<p>&lt;script&gt;x&lt;/script&gt;</p>"

    def test_text_kind_does_not_escape(self) -> None:
        assert render("{{ name }}", {"name": "Tom & Jerry"}, kind="text") == "Tom & Jerry"

    def test_subject_is_not_escaped(self) -> None:
        assert render_subject("Deals for {{ name }}", {"name": "Tom & Jerry"}) == "Deals for Tom & Jerry"

    def test_subject_collapses_newlines_from_traits(self) -> None:
        assert (
            render_subject("Hi {{ name }}", {"name": "Bob\r\nBcc: evil@example.com"}) == "Hi Bob Bcc: evil@example.com"
        )

    def test_subject_longer_than_the_cap_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="larger than"):
            render_subject("{{ name }}", {"name": "x" * 2000})


class TestTraitInjection:
    def test_expression_in_trait_renders_literally(self) -> None:
        assert render("Hi {{ name }}", {"name": "{{ 7*7 }}"}, kind="text") == "Hi {{ 7*7 }}"

    def test_statement_in_trait_renders_literally(self) -> None:
        assert render("Hi {{ name }}", {"name": "{% for %}"}, kind="text") == "Hi {% for %}"

    def test_expression_in_trait_is_escaped_not_evaluated_in_html(self) -> None:
        assert render("{{ name }}", {"name": "{{ 7*7 }}<b>"}) == "{{ 7*7 }}&lt;b&gt;"

    def test_injection_in_subject_renders_literally(self) -> None:
        payload = "{{ ''.__class__.__mro__ }}"
        assert render_subject("Hi {{ name }}", {"name": payload}) == f"Hi {payload}"


class TestSandbox:
    def test_dunder_attribute_access_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="SecurityError"):
            render("{{ ''.__class__.__mro__ }}", {})

    def test_function_globals_are_refused(self) -> None:
        with pytest.raises(TemplateError, match="SecurityError"):
            render("{{ lipsum.__globals__ }}", {})

    def test_mutating_a_trait_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="SecurityError"):
            render("{{ tags.append('x') }}", {"tags": ["a"]})

    def test_huge_string_repetition_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="repetition too large"):
            render("{{ 'x' * 100000000 }}", {})

    def test_huge_power_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="power too large"):
            render("{{ 10 ** 100000 }}", {})

    def test_small_arithmetic_still_works(self) -> None:
        assert render("{{ n * 2 }} {{ 2 ** 10 }} {{ '-' * 3 }}", {"n": 21}) == "42 1024 ---"

    def test_output_larger_than_the_cap_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="rendered output is larger"):
            render("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", {})

    def test_output_cap_can_be_lowered(self) -> None:
        with pytest.raises(TemplateError, match="larger than 10 characters"):
            render("{{ name }}", {"name": "x" * 11}, max_chars=10)

    def test_output_at_the_default_cap_is_allowed(self) -> None:
        assert len(render("{{ 'x' * n }}", {"n": MAX_OUTPUT_CHARS}, kind="text")) == MAX_OUTPUT_CHARS

    def test_template_larger_than_the_cap_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="template is larger"):
            render("x" * (MAX_TEMPLATE_BYTES + 1), {})

    def test_syntax_error_raises_template_error_with_line(self) -> None:
        with pytest.raises(TemplateError) as caught:
            render("ok\n{% if %}", {})
        assert caught.value.line == 2


class TestCheckTemplate:
    def test_valid_template_has_no_issues(self) -> None:
        assert check_template(GREETING, {"first_name": "Ada"}) == []

    def test_syntax_error_is_reported_with_its_line(self) -> None:
        (issue,) = check_template("<p>Hi</p>\n<p>\n{% for %}\n</p>", {})
        assert issue.line == 3
        assert "expected" in issue.message.lower()

    def test_unclosed_block_is_reported(self) -> None:
        (issue,) = check_template("{% if vip %}\nHello", {})
        assert "endif" in issue.message

    def test_unknown_filter_is_reported(self) -> None:
        (issue,) = check_template("line\n{{ name | shout }}", {})
        assert (issue.line, "shout" in issue.message) == (2, True)

    def test_security_error_is_reported_not_raised(self) -> None:
        issues = check_template("Hi\n{{ name.__class__ }}", {"name": "Ada"})
        assert issues and issues[0].line == 2
        assert issues[0].message.startswith("SecurityError")

    def test_render_error_is_reported_with_its_line(self) -> None:
        issues = check_template("a\nb\n{{ 1 / count }}", {"count": 0})
        assert issues == [TemplateIssue(message="ZeroDivisionError: division by zero", line=3)]

    def test_error_that_only_happens_without_traits_is_reported(self) -> None:
        issues = check_template("{{ score | round }}", {"score": 2.5})
        assert len(issues) == 1
        assert issues[0].message.startswith("TypeError")

    def test_oversized_template_is_reported(self) -> None:
        (issue,) = check_template("x" * (MAX_TEMPLATE_BYTES + 1), {})
        assert "template is larger" in issue.message

    def test_oversized_output_is_reported(self) -> None:
        (issue,) = check_template("{% for i in range(100000) %}{{ pad }}{% endfor %}", {"pad": "x" * 100})
        assert "rendered output is larger" in issue.message

    def test_subject_kind_is_checked_without_escaping(self) -> None:
        assert check_template("{{ name }} & co", {"name": "<Ada>"}, kind="text") == []


def finished_within(seconds: float, work: Callable[[], Any]) -> BaseException | None:
    """Run `work` in a daemon thread (a runaway one dies with the test process); what it raised, if it finished."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still rendering after {seconds} s"
    return outcome[0]


def too_slow(exc: BaseException | None) -> bool:
    return isinstance(exc, TemplateError) and exc.message == "template too slow"


NESTED_RANGES = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


class TestBudgets:
    """Loops, calls and time are counted inside the sandbox: a template cannot keep a worker busy for hours."""

    def test_nested_ranges_stop_within_a_couple_of_seconds(self) -> None:
        assert too_slow(finished_within(3, lambda: render(NESTED_RANGES, {})))

    def test_nested_loops_over_a_trait_stop_too(self) -> None:
        source = "{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}"
        assert too_slow(finished_within(3, lambda: render(source, {"s": "x" * 100_000})))

    def test_calls_count_even_without_loops(self) -> None:
        source = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
        assert too_slow(finished_within(3, lambda: render(source, {})))

    def test_the_clock_stops_work_the_operation_count_allows(self) -> None:
        source = "{% for i in range(100000) %}{% if range(100000) | sum %}{% endif %}{% endfor %}"
        slow = lambda: render(source, {}, max_operations=10**12, max_seconds=0.2)  # noqa: E731
        assert too_slow(finished_within(3, slow))

    def test_check_template_reports_it_once(self) -> None:
        issues: list[list[TemplateIssue]] = []
        assert finished_within(3, lambda: issues.append(check_template(NESTED_RANGES, {"first_name": "Ada"}))) is None
        assert [i.message for i in issues[0]] == ["template too slow"]

    def test_loops_under_the_budget_keep_their_meaning(self) -> None:
        source = (
            "{% for x in items if x != 'b' %}{{ loop.index }}/{{ loop.length }}{{ x }}"
            "{% if not loop.last %},{% endif %}{% else %}none{% endfor %}|"
            "{% for k, v in d | dictsort %}{{ k }}={{ v }}{% endfor %}|{% for m in missing %}m{% else %}-{% endfor %}|"
            "{% for n in tree recursive %}{{ n.name }}{% if n.kids %}({{ loop(n.kids) }}){% endif %}{% endfor %}|"
            "{{ range(1000) | sum }}"
        )
        traits = {"items": ["a", "b", "c"], "d": {"y": 2, "x": 1},
                  "tree": [{"name": "r", "kids": [{"name": "k1"}, {"name": "k2"}]}]}  # fmt: skip
        assert render(source, traits) == "1/2a,2/2c|x=1y=2|-|r(k1k2)|499500"


class TestRewriteLinks:
    def test_double_quoted_href_is_rewritten(self) -> None:
        html = '<a href="https://shop.example/p">Buy</a>'
        assert (
            rewrite_links(html, track) == '<a href="https://t.example/c?sig=abc&amp;u=https://shop.example/p">Buy</a>'
        )

    def test_single_quoted_href_is_rewritten(self) -> None:
        assert (
            rewrite_links("<a href='http://x.example/'>x</a>", lambda u: "https://t/1") == '<a href="https://t/1">x</a>'
        )

    def test_unquoted_href_is_rewritten(self) -> None:
        assert (
            rewrite_links("<a href=https://x.example/>x</a>", lambda u: "https://t/1") == '<a href="https://t/1">x</a>'
        )

    def test_upper_case_tag_attribute_and_scheme_are_rewritten(self) -> None:
        html = "<A HREF = 'HTTPS://X.example/'>x</A>"
        assert rewrite_links(html, lambda u: "https://t/1") == '<A HREF = "https://t/1">x</A>'

    def test_callback_gets_the_unescaped_url_and_result_is_escaped(self) -> None:
        recorder = Recorder(suffix='&"')
        out = rewrite_links('<a href="https://x.example/?a=1&amp;b=2">x</a>', recorder)
        assert recorder.seen == ["https://x.example/?a=1&b=2"]
        assert out == '<a href="https://x.example/?a=1&amp;b=2&amp;&quot;">x</a>'

    def test_surrounding_whitespace_in_href_is_dropped(self) -> None:
        recorder = Recorder()
        rewrite_links('<a href="  https://x.example/ ">x</a>', recorder)
        assert recorder.seen == ["https://x.example/"]

    @pytest.mark.parametrize(
        "href", ["mailto:a@example.com", "tel:+3212345678", "#top", "/relative", "javascript:alert(1)", ""]
    )
    def test_non_http_links_are_left_alone(self, href: str) -> None:
        html = f'<a href="{href}">x</a>'
        assert rewrite_links(html, track) == html

    def test_anchor_without_href_is_left_alone(self) -> None:
        assert rewrite_links('<a name="top">x</a><a href>y</a>', track) == '<a name="top">x</a><a href>y</a>'

    def test_href_text_inside_another_attribute_is_not_touched(self) -> None:
        html = """<a title='see href="https://fake.example/"' href="https://real.example/">x</a>"""
        recorder = Recorder()
        rewrite_links(html, recorder)
        assert recorder.seen == ["https://real.example/"]

    def test_quoted_greater_than_sign_does_not_end_the_tag(self) -> None:
        html = '<a title="a > b" href="https://x.example/">x</a>'
        assert rewrite_links(html, lambda u: "https://t/1") == '<a title="a > b" href="https://t/1">x</a>'

    def test_links_in_comments_and_scripts_are_left_alone(self) -> None:
        html = '<!-- <a href="https://c.example/"> --><script>s = \'<a href="https://s.example/">\';</script>'
        assert rewrite_links(html, track) == html

    def test_area_tags_are_rewritten_but_stylesheets_and_images_are_not(self) -> None:
        html = (
            '<link rel="stylesheet" href="https://css.example/s.css"><img src="https://img.example/i.png">'
            '<area href="https://map.example/">'
        )
        expected = html.replace('href="https://map.example/"', 'href="https://t/1"')
        assert rewrite_links(html, lambda u: "https://t/1") == expected

    def test_only_the_first_of_duplicate_hrefs_is_rewritten(self) -> None:
        html = '<a href="https://one.example/" href="https://two.example/">x</a>'
        assert rewrite_links(html, lambda u: "https://t/1") == '<a href="https://t/1" href="https://two.example/">x</a>'

    def test_links_on_later_lines_after_non_ascii_text_are_rewritten_in_place(self) -> None:
        html = '<p>Café 🎉</p>\r\n<p>naïve\n  <a class="b"\n     href="https://x.example/">x</a> tail é</p>\n'
        expected = html.replace("https://x.example/", "https://t/1")
        assert rewrite_links(html, lambda u: "https://t/1") == expected

    def test_every_link_is_rewritten_in_document_order(self) -> None:
        html = '<a href="https://1.example/">1</a> text <a href="https://2.example/">2</a>'
        recorder = Recorder()
        rewrite_links(html, recorder)
        assert recorder.seen == ["https://1.example/", "https://2.example/"]

    def test_document_without_links_is_unchanged(self) -> None:
        html = "<html><body><p>Hello &amp; welcome</p></body></html>"
        assert rewrite_links(html, track) == html


class TestAddOpenPixel:
    PIXEL = '<img src="https://t.example/o?id=1&amp;s=2" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />'

    def test_pixel_goes_before_closing_body(self) -> None:
        out = add_open_pixel("<html><body><p>Hi</p></body></html>", "https://t.example/o?id=1&s=2")
        assert out == f"<html><body><p>Hi</p>{self.PIXEL}</body></html>"

    def test_pixel_goes_before_the_last_closing_body_whatever_its_case(self) -> None:
        out = add_open_pixel("<p>x</body></BODY >", "https://t.example/o?id=1&s=2")
        assert out == f"<p>x</body>{self.PIXEL}</BODY >"

    def test_pixel_is_appended_to_a_fragment(self) -> None:
        assert add_open_pixel("<p>Hi</p>", "https://t.example/o?id=1&s=2") == f"<p>Hi</p>{self.PIXEL}"

    def test_quotes_in_pixel_url_are_escaped(self) -> None:
        assert 'src="https://t.example/&quot;onerror=&quot;x"' in add_open_pixel("", 'https://t.example/"onerror="x')

    def test_non_http_pixel_url_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="http"):
            add_open_pixel("<p>Hi</p>", "javascript:alert(1)")
