"""The HTML run report: one self-contained page (no script, no external resource) drawn from the JSON report.

``render_html(report, history, findings)`` is pure: ``report`` is the run's JSON report (``RunReport.to_dict()``
plus the keys below), ``history`` the EARLIER runs' history entries, oldest first (``history.read_history``,
read before this run's entry is appended; this run is added as the trends' last point), ``findings`` from
``findings.compute_findings``. Charts are inline SVG drawn here; the page has a Content-Security-Policy that
forbids every script and every fetch, so it opens offline and cannot call home. It reads on a laptop and a
phone (fluid grid, tables scroll sideways) and prints (print CSS: no shadows, sections kept whole).

Keys read beyond today's ``RunReport.to_dict()`` (the engine should produce them; each section renders
without its keys, saying what is missing):

``already_delivered``: int
    events skipped because the delivery ledger says an earlier run delivered them.
``user_fields``: ``{field: {"sent": int, "not_sent": {reason: int}}}``
    per Snap user field (``em``, ``ph``, ...), values sent, and values present but not sent by reason
    (``invalid``, ``foreign_hash_dropped``, ``unknown_country``, ...: the normalisation outcome without the
    field prefix). Without it the section shows the raw ``normalisation`` outcomes by field.
``event_age_days_histogram``: ``[{"from": int, "to": int | None, "events": int}, ...]``
    age of each delivered event at send time, in whole days, ``from <= age < to`` (``to`` None: open-ended),
    bins in order; ``EVENT_AGE_BIN_EDGES_DAYS`` are the suggested edges.
``events_older_than_7_days``: int
    delivered events more than 7 days old at send time (the share shown beside the histogram).
``pixels``: ``{pixel route: {"events_delivered": int, "api_rejected": int, "requests": int}}`` (Snap's refusals;
  rejections made before sending are not split by pixel)
``source_files``: ``{path: {"events_delivered": int, "events_rejected": int}}``
    per input file (the tap's ``_sdc_source_file``); shown most rejects first.
``reject_examples``: ``{reason: [{"file": str, "line": int}, ...]}``
    a few (``MAX_REJECT_EXAMPLES``) locations per reject reason; never a value.
``validation_errors``: ``{code: int}``
    validate_only: Snap's per-event error codes (``errors.codes`` of each INVALID verdict), counted
    (``count_validation_errors`` builds it from the validate answers' ``event_logs``).
``test_event_logs``: ``{"fetched": int, "by_status": {status: int}, "by_event_name": {name: int}}``
    with ``test_event_code``: a summary of ``GET /v3/{pixel}/events/validate/logs`` read after the run
    (``summarize_test_event_logs`` builds it from the answer's ``logs``).
``event_times_parsed``, ``midnight_event_times``, ``duplicate_order_id_rows``: int
    used by the findings (see ``findings``), shown in the run section when present.

Machine-checkable figures: every number on the page is inside an element carrying ``data-figure`` (a JSON list:
the path of the number in the report, e.g. ``["match_keys", "em"]``) and ``data-value`` (the exact number).
A share also carries ``data-per`` (the denominator's path); its ``data-value`` is numerator / denominator.
A number taken from a history entry carries ``data-history`` (its index in ``history``). Fixed numbers of the
page itself (the 37-day limit, axis ticks) are inside ``data-fixed`` elements. Text figures (status, mode,
start time) carry ``data-figure`` too.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from target_snapchat_capi import capi
from target_snapchat_capi.findings import (
    FIELD_LABELS,
    GENERIC_REJECT_FIX,
    REJECT_FIXES,
    Finding,
    format_share,
)
from target_snapchat_capi.history import history_entry

EVENT_AGE_BIN_EDGES_DAYS: Final[tuple[int, ...]] = (0, 1, 2, 3, 5, 7, 10, 14, 21, 28, 37)
MAX_REJECT_EXAMPLES: Final = 5
FRESH_DAYS: Final = 7
#: Figures drawn as trends: (title, numerator path, denominator path or None).
TREND_FIGURES: Final[tuple[tuple[str, tuple[str, ...], tuple[str, ...] | None], ...]] = (
    ("Events delivered", ("events_delivered",), None),
    ("Events rejected", ("events_rejected",), None),
    ("Rejected share", ("events_rejected",), ("records_read",)),
    ("Email coverage", ("match_keys", "em"), ("events_delivered",)),
    ("Phone coverage", ("match_keys", "ph"), ("events_delivered",)),
    ("Single-key share", ("single_key_events",), ("events_delivered",)),
    ("Duration (s)", ("duration_seconds",), None),
)
_RUN_FIGURES: Final[tuple[tuple[str, str], ...]] = (
    ("duration_seconds", "Duration (s)"),
    ("records_read", "Records read"),
    ("events_delivered", "Events delivered"),
    ("already_delivered", "Already delivered"),
    ("events_rejected", "Rejected"),
    ("requests", "Requests"),
    ("retries", "Retries"),
    ("events_per_second", "Events/s"),
    ("event_times_parsed", "Event times read"),
    ("midnight_event_times", "Midnight event times"),
    ("duplicate_order_id_rows", "Repeated order ids"),
)
_DELIVERED_LABEL: Final = {"validate_only": "Events valid", "dry_run": "Events written"}
_NOT_SENT_PREFIXES: Final = ("empty",)

Path = Sequence[str | int]


def render_html(report: Mapping[str, Any], history: Sequence[Mapping[str, Any]], findings: Sequence[Finding]) -> str:
    """The whole page, as text (UTF-8 when written)."""
    sections = [
        _findings_section(findings),
        _run_section(report),
        _coverage_section(report),
        _user_fields_section(report),
        _rejects_section(report),
        _freshness_section(report),
        _breakdown_section(report),
        _validation_section(report),
        _trends_section(report, history),
    ]
    status = str(report.get("status", "unknown"))
    started = str(report.get("started_at") or "")
    return _PAGE.format(
        css=_CSS,
        title=_e(f"Snapchat CAPI run report {started}"),
        status_class=_e(_status_class(status)),
        status=_text_figure(status, ["status"]),
        mode=_text_figure(str(report.get("mode", "")), ["mode"]),
        started=_text_figure(started, ["started_at"]) if started else "",
        body="\n".join(section for section in sections if section),
    )


# --- building the validation keys (for the engine) -------------------------------------------------------------


def count_validation_errors(verdicts: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """``validation_errors`` from the validate endpoint's ``event_logs``: each INVALID verdict's error codes."""
    counts: Counter[str] = Counter()
    for verdict in verdicts:
        if verdict.get("status") == capi.STATUS_INVALID:
            errors = verdict.get("errors")
            codes = errors.get("codes") if isinstance(errors, Mapping) else None
            counts.update(str(code) for code in (codes or ["UNKNOWN"]))
    return counts


def summarize_test_event_logs(logs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``test_event_logs`` from ``GET .../events/validate/logs``'s ``logs``: counts by status and event name.

    Counts only: error texts and event ids stay out of the report.
    """
    by_status: Counter[str] = Counter()
    by_event_name: Counter[str] = Counter()
    fetched = 0
    for log in logs:
        fetched += 1
        by_status[str(log.get("status") or "UNKNOWN")] += 1
        by_event_name[str(log.get("event_name") or "UNKNOWN")] += 1
    return {
        "fetched": fetched,
        "by_status": dict(sorted(by_status.items())),
        "by_event_name": dict(sorted(by_event_name.items())),
    }


# --- figures --------------------------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """How a count or an amount is written on the page (tests use it to compare text and data-value)."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def _path_attr(path: Path) -> str:
    return _e(json.dumps(list(path), ensure_ascii=False))


def _figure(value: float, path: Path, *, history_index: int | None = None) -> str:
    source = "" if history_index is None else f' data-history="{history_index}"'
    return (
        f'<span class="num" data-figure="{_path_attr(path)}"{source} data-value="{value!r}">'
        f"{_e(format_number(value))}</span>"
    )


def _share(numerator: float, denominator: float, path: Path, per: Path, *, history_index: int | None = None) -> str:
    share = numerator / denominator if denominator else 0.0
    source = "" if history_index is None else f' data-history="{history_index}"'
    return (
        f'<span class="num share" data-figure="{_path_attr(path)}" data-per="{_path_attr(per)}"{source} '
        f'data-value="{share!r}">{_e(format_share(share))}</span>'
    )


def _text_figure(text: str, path: Path) -> str:
    return f'<span data-figure="{_path_attr(path)}" data-value="{_e(text)}">{_e(text)}</span>'


def _name(text: object) -> str:
    """A code or a name from the report (a reason, a field, a stream): may hold digits, is not a figure."""
    return f'<code data-fixed="name">{_e(text)}</code>'


def _fixed(text: str) -> str:
    return f'<span data-fixed="">{_e(text)}</span>'


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): count for key, count in value.items() if _count(count) is not None}


def _lookup(data: Mapping[str, Any], path: Path) -> Any:
    current: Any = data
    for key in path:
        if isinstance(current, Mapping):
            current = current.get(key)
        elif isinstance(current, list) and isinstance(key, int) and 0 <= key < len(current):
            current = current[key]
        else:
            return None
    return current


def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{note_html}{body}</section>'


def _missing(what: str) -> str:
    return f'<p class="missing">Not in this report: {_e(what)}.</p>'


def _status_class(status: str) -> str:
    return {"succeeded": "ok", "failed": "bad"}.get(status, "warn")


# --- sections -------------------------------------------------------------------------------------------------


def _findings_section(findings: Sequence[Finding]) -> str:
    if not findings:
        return _section("findings", "Findings", '<p class="ok-note">No data-quality problems found.</p>')
    items = []
    for finding in findings:
        value = (
            f'<span class="num" data-figure="{_path_attr([finding.figure_id])}" data-value="{finding.figure!r}">'
            f"{_e(format_share(finding.figure) if finding.unit == 'share' else format_number(finding.figure))}"
            "</span>"
        )
        items.append(
            f'<li class="finding {_e(finding.severity)}" data-finding="{_e(finding.code)}">'
            f'<div class="finding-head"><span class="sev">{_e(finding.severity)}</span>{value}'
            f'<code class="code">{_e(finding.code)}</code></div>'
            # the message repeats the figure in words: marked fixed, the figure itself is marked above
            f'<p><span data-fixed="finding-message">{_e(finding.message)}</span></p>'
            f'<p class="fix" data-fixed="fix"><strong>Fix:</strong> {_e(finding.fix)}</p></li>'
        )
    return _section("findings", "Findings", f'<ul class="findings">{"".join(items)}</ul>')


def _run_section(report: Mapping[str, Any]) -> str:
    mode = str(report.get("mode", ""))
    tiles = []
    for key, label in _RUN_FIGURES:
        value = report.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            if key in {"already_delivered"}:
                tiles.append(f'<div class="tile absent"><div class="label">{_e(label)}</div><div>n/a</div></div>')
            continue
        shown = _DELIVERED_LABEL.get(mode, label) if key == "events_delivered" else label
        tiles.append(
            f'<div class="tile"><div class="label">{_e(shown)}</div>'
            f'<div class="big">{_figure(value, [key])}</div></div>'
        )
    error = report.get("error")
    error_html = f'<p class="run-error">The run failed: {_text_figure(str(error), ["error"])}</p>' if error else ""
    return _section("run", "The run", f'{error_html}<div class="tiles">{"".join(tiles)}</div>')


def _coverage_section(report: Mapping[str, Any]) -> str:
    keys = _counts(report.get("match_keys"))
    delivered = _count(report.get("events_delivered")) or 0
    if not keys:
        return _section("coverage", "Match-key coverage", _missing("match_keys"))
    if not delivered:
        return _section("coverage", "Match-key coverage", '<p class="note">No event was delivered.</p>')
    ordered = [key for key in capi.REPORTED_MATCH_KEYS if key in keys] + sorted(
        set(keys) - set(capi.REPORTED_MATCH_KEYS)
    )
    row_height, label_width, bar_width, value_width = 26, 80, 240, 120
    width = label_width + bar_width + value_width
    rows = []
    for index, key in enumerate(ordered):
        share = keys[key] / delivered
        y = index * row_height
        rows.append(
            f'<g class="bar-row"><text x="0" y="{y + 17}" class="axis-label">{_e(key)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{bar_width}" height="18" class="track"/>'
            f'<rect x="{label_width}" y="{y + 4}" width="{share * bar_width:.1f}" height="18" class="bar"/>'
            f'<text x="{label_width + bar_width + 8}" y="{y + 17}" class="value">'
            f"{_svg_share(keys[key], delivered, ['match_keys', key], ['events_delivered'])}"
            f' <tspan class="muted">(</tspan>{_svg_figure(keys[key], ["match_keys", key])}'
            '<tspan class="muted">)</tspan></text></g>'
        )
    height = len(ordered) * row_height + 4
    svg = (
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="match-key coverage">'
        f"{''.join(rows)}</svg>"
    )
    single = _count(report.get("single_key_events"))
    single_html = (
        f'<p class="callout">Events with only one match key: '
        f"{_share(single, delivered, ['single_key_events'], ['events_delivered'])} "
        f"({_figure(single, ['single_key_events'])} of {_figure(delivered, ['events_delivered'])}).</p>"
        if single is not None
        else _missing("single_key_events")
    )
    legend = ", ".join(f"{_name(key)} {_e(FIELD_LABELS.get(key, key))}" for key in ordered)
    return _section(
        "coverage",
        "Match-key coverage",
        f'<div class="chart-wrap">{svg}</div>{single_html}<p class="legend">{legend}</p>',
        "Share of delivered events carrying each key. More keys per event, more matches.",
    )


def _figure_or_dash(value: Any, path: Path) -> str:
    count = _count(value)
    return "&ndash;" if count is None else _figure(count, path)


def _svg_figure(value: int, path: Path) -> str:
    return f'<tspan data-figure="{_path_attr(path)}" data-value="{value!r}">{_e(format_number(value))}</tspan>'


def _svg_share(numerator: int, denominator: int, path: Path, per: Path) -> str:
    share = numerator / denominator if denominator else 0.0
    return (
        f'<tspan data-figure="{_path_attr(path)}" data-per="{_path_attr(per)}" data-value="{share!r}">'
        f"{_e(format_share(share))}</tspan>"
    )


def _user_fields_section(report: Mapping[str, Any]) -> str:
    user_fields = report.get("user_fields")
    if isinstance(user_fields, Mapping) and user_fields:
        return _user_fields_table(user_fields)
    normalisation = _counts(report.get("normalisation"))
    if not normalisation:
        return _section("user-fields", "User fields", _missing("user_fields and normalisation"))
    rows = "".join(
        f"<tr><td>{_name(outcome)}</td><td class='n'>{_figure(count, ['normalisation', outcome])}</td></tr>"
        for outcome, count in sorted(normalisation.items())
    )
    table = (
        '<div class="table-wrap"><table><thead><tr><th>Outcome</th><th class="n">Values</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )
    return _section(
        "user-fields", "User fields", table, "Normalisation outcomes per field (user_fields is not in this report)."
    )


def _user_fields_table(user_fields: Mapping[str, Any]) -> str:
    reasons = sorted(
        {
            str(reason)
            for outcome in user_fields.values()
            if isinstance(outcome, Mapping)
            for reason in _counts(outcome.get("not_sent"))
        }
    )
    head = "".join(f'<th class="n">not sent: {_e(reason.replace("_", " "))}</th>' for reason in reasons)
    rows = []
    for field, outcome in user_fields.items():
        if not isinstance(outcome, Mapping):
            continue
        sent = _count(outcome.get("sent"))
        not_sent = _counts(outcome.get("not_sent"))
        total = (sent or 0) + sum(not_sent.values())
        sent_html = _figure(sent, ["user_fields", field, "sent"]) if sent is not None else "&ndash;"
        bar = _stacked_bar(sent or 0, total)
        cells = "".join(
            f'<td class="n">{_figure_or_dash(not_sent.get(reason), ["user_fields", field, "not_sent", reason])}</td>'
            for reason in reasons
        )
        rows.append(
            f"<tr><th scope='row'>{_name(field)} "
            f"<span class='muted'>{_e(FIELD_LABELS.get(str(field), ''))}</span></th>"
            f'<td class="n">{sent_html}</td><td class="bar-cell">{bar}</td>{cells}</tr>'
        )
    table = (
        '<div class="table-wrap"><table><thead><tr><th>Field</th><th class="n">sent</th><th>sent share</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    return _section("user-fields", "User fields", table, "Values present in the input: sent, or not sent and why.")


def _stacked_bar(sent: int, total: int) -> str:
    share = sent / total if total else 0.0
    return (
        f'<svg class="mini" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect x="0" y="0" width="100" height="10" class="track bad-fill"/>'
        f'<rect x="0" y="0" width="{100 * share:.1f}" height="10" class="bar"/></svg>'
    )


def _rejects_section(report: Mapping[str, Any]) -> str:
    by_reason = _counts(report.get("rejected_by_reason"))
    rejected = _count(report.get("events_rejected")) or 0
    if not by_reason:
        return _section("rejects", "Rejects", '<p class="ok-note">No record was rejected.</p>')
    raw_examples = report.get("reject_examples")
    examples: Mapping[str, Any] = raw_examples if isinstance(raw_examples, Mapping) else {}
    records = _count(report.get("records_read")) or 0
    rows = []
    for reason, count in sorted(by_reason.items(), key=lambda item: (-item[1], item[0])):
        where = []
        for index, example in enumerate((examples.get(reason) or [])[:MAX_REJECT_EXAMPLES]):
            if not isinstance(example, Mapping):
                continue
            line = _count(example.get("line"))
            line_html = f":{_figure(line, ['reject_examples', reason, index, 'line'])}" if line is not None else ""
            file_name = str(example.get("file") or "?")
            short_name = file_name.rstrip("/").rsplit("/", 1)[-1]  # the full path is in the per-file table
            where.append(
                f'<li><code title="{_e(file_name)}"><span data-fixed="file">{_e(short_name)}</span>'
                f"{line_html}</code></li>"
            )
        where_html = f'<ul class="where">{"".join(where)}</ul>' if where else '<span class="muted">&ndash;</span>'
        share = _share(count, records, ["rejected_by_reason", reason], ["records_read"]) if records else ""
        rows.append(
            f"<tr><th scope='row'>{_name(reason)}</th>"
            f"<td class='n'>{_figure(count, ['rejected_by_reason', reason])}</td><td class='n'>{share}</td>"
            f"<td data-fixed='fix'>{_e(REJECT_FIXES.get(reason, GENERIC_REJECT_FIX))}</td><td>{where_html}</td></tr>"
        )
    table = (
        '<div class="table-wrap"><table class="wide"><thead><tr><th>Reason</th><th class="n">Records</th>'
        '<th class="n">of records read</th><th>Suggested fix</th><th>Examples (file:line)</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    total = f"<p>{_figure(rejected, ['events_rejected'])} records rejected in all.</p>"
    return _section("rejects", "Rejects", total + table)


def _freshness_section(report: Mapping[str, Any]) -> str:
    histogram = report.get("event_age_days_histogram")
    if not isinstance(histogram, list) or not histogram:
        return _section("freshness", "Event freshness", _missing("event_age_days_histogram"))
    bins = [(index, item) for index, item in enumerate(histogram) if isinstance(item, Mapping)]
    top = max((_count(item.get("events")) or 0 for _, item in bins), default=0) or 1
    last_edge = max(
        [_count(item.get("to")) or 0 for _, item in bins] + [(_count(item.get("from")) or 0) + 1 for _, item in bins]
    )
    span = max(last_edge, capi.MAX_EVENT_AGE_DAYS + 1)
    left, plot_width, plot_height, bottom, top_pad = 40, 600, 160, 36, 18
    width, height = left + plot_width + 20, plot_height + bottom + 20 + top_pad

    def x_of(day: float) -> float:
        return left + plot_width * day / span

    parts = [
        f'<line x1="{left}" y1="{plot_height + 10}" x2="{left + plot_width}" y2="{plot_height + 10}" class="axis"/>'
    ]
    for index, item in bins:
        start = _count(item.get("from")) or 0
        end = _count(item.get("to"))
        end = end if end is not None and end > start else min(start + 3, span)
        events = _count(item.get("events")) or 0
        bar_height = plot_height * events / top
        css = "bar" if start < FRESH_DAYS else "bar old"
        parts.append(
            f'<rect x="{x_of(start) + 1:.1f}" y="{plot_height + 10 - bar_height:.1f}" '
            f'width="{max(x_of(end) - x_of(start) - 2, 1):.1f}" height="{bar_height:.1f}" class="{css}"/>'
        )
        if events:
            parts.append(
                f'<text x="{(x_of(start) + x_of(end)) / 2:.1f}" y="{plot_height + 6 - bar_height:.1f}" '
                f'class="value small" text-anchor="middle">'
                f"{_svg_figure(events, ['event_age_days_histogram', index, 'events'])}</text>"
            )
    for tick in sorted({0, FRESH_DAYS, 14, 21, 28, capi.MAX_EVENT_AGE_DAYS}):
        parts.append(
            f'<text x="{x_of(tick):.1f}" y="{plot_height + 26}" class="axis-label small" text-anchor="middle" '
            f'data-fixed="">{tick}</text>'
        )
    limit_x = x_of(capi.MAX_EVENT_AGE_DAYS)
    parts.append(
        f'<line x1="{limit_x:.1f}" y1="4" x2="{limit_x:.1f}" y2="{plot_height + 10}" class="limit"/>'
        f'<text x="{limit_x - 4:.1f}" y="14" class="limit-label small" text-anchor="end" data-fixed="">'
        f"{capi.MAX_EVENT_AGE_DAYS}-day limit</text>"
    )
    fresh_x = x_of(FRESH_DAYS)
    parts.append(f'<line x1="{fresh_x:.1f}" y1="4" x2="{fresh_x:.1f}" y2="{plot_height + 10}" class="fresh"/>')
    parts.append(
        f'<text x="{left + plot_width / 2}" y="{plot_height + 44}" class="axis-label small" text-anchor="middle">'
        "age at send time (days)</text>"
    )
    svg = (
        f'<svg class="chart hist" viewBox="0 0 {width} {height}" role="img" aria-label="event age histogram">'
        f'<g transform="translate(0,{top_pad})">{"".join(parts)}</g></svg>'
    )
    older = _count(report.get("events_older_than_7_days"))
    delivered = _count(report.get("events_delivered")) or 0
    older_html = (
        f'<p class="callout">Older than {_fixed(str(FRESH_DAYS))} days when sent: '
        f"{_share(older, delivered, ['events_older_than_7_days'], ['events_delivered'])} "
        f"({_figure(older, ['events_older_than_7_days'])} events).</p>"
        if older is not None and delivered
        else _missing("events_older_than_7_days")
    )
    return _section(
        "freshness",
        "Event freshness",
        f'<div class="chart-wrap">{svg}</div>{older_html}',
        f"Snap takes events up to {_fixed(str(capi.MAX_EVENT_AGE_DAYS))} days old; fresher events attribute better.",
    )


def _breakdown_section(report: Mapping[str, Any]) -> str:
    tables = [
        _breakdown_table("Per stream", "streams", report.get("streams"), sort_by_rejects=False),
        _breakdown_table(
            "Per pixel", "pixels", report.get("pixels"), sort_by_rejects=False, rejected_column="api_rejected"
        ),
        _breakdown_table(
            "Per source file (most rejects first)", "source_files", report.get("source_files"), sort_by_rejects=True
        ),
    ]
    return _section("breakdown", "Streams, pixels and files", "".join(tables))


def _breakdown_table(
    title: str, key: str, data: Any, *, sort_by_rejects: bool, rejected_column: str = "events_rejected"
) -> str:
    """`rejected_column`: per pixel the count is of Snap's refusals (`api_rejected`), elsewhere of every rejection."""
    if not isinstance(data, Mapping) or not data:
        return f"<h3>{_e(title)}</h3>{_missing(key)}"
    columns = ("events_delivered", rejected_column)
    names = list(data)
    if sort_by_rejects:
        names.sort(key=lambda name: (-(_count(_lookup(data, [name, rejected_column])) or 0), str(name)))
    rows = []
    for name in names:
        counts = data[name] if isinstance(data[name], Mapping) else {}
        cells = "".join(
            f"<td class='n'>{_figure_or_dash(counts.get(column), [key, name, column])}</td>" for column in columns
        )
        rows.append(f"<tr><th scope='row' class='path'><code data-fixed='name'>{_e(name)}</code></th>{cells}</tr>")
    return (
        f'<h3>{_e(title)}</h3><div class="table-wrap"><table><thead><tr><th>Name</th><th class="n">delivered</th>'
        f'<th class="n">rejected</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def _validation_section(report: Mapping[str, Any]) -> str:
    verdicts = _counts(report.get("validation"))
    errors = _counts(report.get("validation_errors"))
    logs = report.get("test_event_logs")
    if not verdicts and not errors and not isinstance(logs, Mapping):
        return ""
    parts = []
    if verdicts:
        items = "".join(
            f"<li>{_name(status)} {_figure(count, ['validation', status])}</li>"
            for status, count in sorted(verdicts.items())
        )
        parts.append(f"<h3>Snap's verdicts</h3><ul class='inline'>{items}</ul>")
    if errors:
        rows = "".join(
            f"<tr><th scope='row'>{_name(code)}</th>"
            f"<td class='n'>{_figure(count, ['validation_errors', code])}</td></tr>"
            for code, count in sorted(errors.items(), key=lambda item: (-item[1], item[0]))
        )
        parts.append(
            '<h3>Invalid events by error code</h3><div class="table-wrap"><table><thead><tr><th>Error code</th>'
            f'<th class="n">Events</th></tr></thead><tbody>{rows}</tbody></table></div>'
        )
    elif verdicts:
        parts.append('<p class="ok-note">Snap found no invalid event.</p>')
    if isinstance(logs, Mapping):
        fetched = _count(logs.get("fetched"))
        summary = (
            [f"<p>Test-event logs read back from Snap: {_figure(fetched, ['test_event_logs', 'fetched'])} entries.</p>"]
            if fetched is not None
            else []
        )
        for group, title in (("by_status", "By status"), ("by_event_name", "By event name")):
            counts = _counts(logs.get(group))
            if counts:
                items = "".join(
                    f"<li>{_name(name)} {_figure(count, ['test_event_logs', group, name])}</li>"
                    for name, count in sorted(counts.items())
                )
                summary.append(f"<h4>{_e(title)}</h4><ul class='inline'>{items}</ul>")
        parts.append("<h3>What Snap received (test events)</h3>" + "".join(summary))
    return _section("validation", "Validation", "".join(parts))


def _trends_section(report: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> str:
    if not history:
        return _section(
            "trends", "Trends", '<p class="note">The first run in the history: trends start with the next one.</p>'
        )
    points: list[Mapping[str, Any]] = [*history, history_entry(report)]
    charts = []
    for title, numerator, denominator in TREND_FIGURES:
        values = [_trend_value(entry, numerator, denominator) for entry in points]
        if all(value is None for value in values[:-1]) or values[-1] is None:
            continue
        charts.append(_trend_chart(title, values, numerator, denominator, len(history)))
    if not charts:
        return _section("trends", "Trends", _missing("comparable figures in the history"))
    return _section(
        "trends",
        "Trends",
        f'<div class="trends">{"".join(charts)}</div>',
        "This run and the earlier ones in the run history, oldest left.",
    )


def _trend_value(entry: Mapping[str, Any], numerator: Path, denominator: Path | None) -> float | None:
    value = _lookup(entry, numerator)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if denominator is None:
        return value
    base = _lookup(entry, denominator)
    if not isinstance(base, int | float) or isinstance(base, bool) or not base:
        return None
    return value / base


def _trend_chart(
    title: str, values: list[float | None], numerator: Path, denominator: Path | None, history_length: int
) -> str:
    width, height, pad = 220, 60, 6
    present = [value for value in values if value is not None]
    low, high = min(present), max(present)
    spread = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = [
        (pad + index * step, height - pad - (height - 2 * pad) * (value - low) / spread)
        for index, value in enumerate(values)
        if value is not None
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="dot"/>' for x, y in coords)
    last_x, last_y = coords[-1]
    svg = (
        f'<svg class="spark" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)} trend">'
        f'<polyline points="{line}" class="trend"/>{dots}'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="4" class="dot now"/></svg>'
    )
    first = next(index for index, value in enumerate(values) if value is not None)
    ends = []
    for label, index in (("first", first), ("now", len(values) - 1)):
        value = values[index] or 0
        history_index = index if index < history_length else None
        if denominator is None:
            number = _figure(value, numerator, history_index=history_index)
        else:
            source = "" if history_index is None else f' data-history="{history_index}"'
            number = (
                f'<span class="num share" data-figure="{_path_attr(numerator)}" data-per="{_path_attr(denominator)}"'
                f'{source} data-value="{value!r}">{_e(format_share(value))}</span>'
            )
        ends.append(f"<span>{label}: {number}</span>")
    return (
        f'<figure class="trend-card"><figcaption>{_e(title)}</figcaption>{svg}'
        f'<div class="trend-ends">{"".join(ends)}</div></figure>'
    )


_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>Snapchat CAPI run report</h1>
<p class="meta"><span class="badge {status_class}">{status}</span> <span class="mode">{mode}</span> {started}</p>
<nav><a href="#findings">Findings</a> <a href="#run">Run</a> <a href="#coverage">Coverage</a>
<a href="#user-fields">User fields</a> <a href="#rejects">Rejects</a> <a href="#freshness">Freshness</a>
<a href="#breakdown">Breakdown</a> <a href="#trends">Trends</a></nav>
</header>
<main>
{body}
</main>
<footer><p>Counts only: this page never shows a value from your data.</p></footer>
</body>
</html>
"""

_CSS: Final = """
:root { --fg:#1d2330; --muted:#5f6b7a; --bg:#f5f6f8; --card:#fff; --line:#dde1e7; --accent:#2b6cb0;
  --ok:#2f855a; --warn:#b7791f; --bad:#c53030; --old:#dd6b20; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  color:var(--fg); background:var(--bg); }
header, main, footer { max-width:1100px; margin:0 auto; padding:0 16px; }
header { padding-top:20px; }
h1 { font-size:1.6rem; margin:0 0 6px; }
h2 { font-size:1.2rem; margin:0 0 10px; }
h3 { font-size:1rem; margin:16px 0 6px; }
h4 { font-size:.9rem; margin:10px 0 4px; }
nav { display:flex; flex-wrap:wrap; gap:4px 14px; margin:8px 0 4px; font-size:.9rem; }
nav a { color:var(--accent); text-decoration:none; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px 18px;
  margin:14px 0; box-shadow:0 1px 2px rgba(0,0,0,.04); }
.meta { margin:0; color:var(--muted); }
.badge { display:inline-block; padding:1px 10px; border-radius:999px; color:#fff; font-weight:600; }
.badge.ok { background:var(--ok); } .badge.warn { background:var(--warn); } .badge.bad { background:var(--bad); }
.mode { font-weight:600; color:var(--fg); }
.note, .legend, .muted { color:var(--muted); font-size:.9rem; }
.missing { color:var(--muted); font-style:italic; }
.ok-note { color:var(--ok); }
.run-error { color:var(--bad); font-weight:600; }
.tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(140px,1fr)); gap:10px; }
.tile { border:1px solid var(--line); border-radius:8px; padding:8px 10px; }
.tile .label { color:var(--muted); font-size:.8rem; text-transform:uppercase; letter-spacing:.03em; }
.tile .big { font-size:1.5rem; font-weight:650; }
.tile.absent { color:var(--muted); }
.findings { list-style:none; margin:0; padding:0; display:grid; gap:10px; }
.finding { border-left:5px solid var(--muted); background:#fafbfc; border-radius:6px; padding:8px 12px; }
.finding.error { border-color:var(--bad); } .finding.warning { border-color:var(--warn); }
.finding.info { border-color:var(--accent); }
.finding p { margin:4px 0; }
.finding-head { display:flex; gap:10px; align-items:baseline; flex-wrap:wrap; }
.finding .sev { text-transform:uppercase; font-size:.75rem; font-weight:700; color:var(--muted); }
.finding .num { font-size:1.2rem; font-weight:700; }
.fix { color:#22543d; }
.code { color:var(--muted); font-size:.8rem; }
.callout { font-size:1rem; }
.chart-wrap { overflow-x:auto; }
svg.chart { width:100%; max-width:720px; height:auto; display:block; }
svg.chart.hist { min-width:480px; }
svg.chart.bars { max-width:560px; }
table.wide { min-width:760px; }
svg text { font:13px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif; fill:var(--fg); }
svg text.small { font-size:11px; }
svg .muted { fill:var(--muted); }
.track { fill:#edf0f4; } .bar { fill:var(--accent); } .bar.old { fill:var(--old); } .bad-fill { fill:#f3c5c5; }
.axis { stroke:var(--muted); stroke-width:1; }
.limit { stroke:var(--bad); stroke-width:2; stroke-dasharray:5 3; }
.limit-label { fill:var(--bad); font-weight:600; }
.fresh { stroke:var(--ok); stroke-width:1.5; stroke-dasharray:3 3; }
svg.mini { width:100px; height:10px; display:block; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
thead th { font-size:.8rem; color:var(--muted); font-weight:600; }
.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.where { margin:0; padding-left:16px; }
ul.inline { list-style:none; padding:0; display:flex; flex-wrap:wrap; gap:6px 18px; }
.trends { display:grid; grid-template-columns:repeat(auto-fill,minmax(220px,1fr)); gap:12px; }
.trend-card { margin:0; border:1px solid var(--line); border-radius:8px; padding:8px; }
.trend-card figcaption { font-size:.85rem; font-weight:600; }
svg.spark { width:100%; height:60px; display:block; }
.trend { fill:none; stroke:var(--accent); stroke-width:2; }
.dot { fill:var(--accent); } .dot.now { fill:var(--old); }
.trend-ends { display:flex; justify-content:space-between; font-size:.8rem; color:var(--muted); }
footer { color:var(--muted); font-size:.8rem; padding-bottom:24px; }
code { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.85em; overflow-wrap:anywhere; }
th[scope=row] code { white-space:nowrap; }
.where code, .path { white-space:normal; word-break:break-all; }
@media (max-width:600px) {
  body { font-size:14px; }
  section { padding:12px; border-radius:0; margin:10px -16px; }
  .tile .big { font-size:1.2rem; }
}
@media print {
  body { background:#fff; font-size:11pt; }
  nav { display:none; }
  section { box-shadow:none; border:1px solid #999; break-inside:avoid; page-break-inside:avoid; }
  .table-wrap, .chart-wrap { overflow:visible; }
  a { color:inherit; }
}
"""
