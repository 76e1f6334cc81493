import { describe, expect, it } from "vitest";

import {
  formatCompact,
  formatCount,
  formatCurrency,
  formatDate,
  formatDateTime,
  formatDelta,
  formatDuration,
  formatInterval,
  formatNumber,
  formatPercent,
  formatRelative,
  formatSignedPercent,
  formatValue,
} from "./format";

const en = { locale: "en-US" };
const de = { locale: "de-DE" };
/** Intl puts non-breaking spaces between amount and unit; compare them as spaces. */
const spaces = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

describe("numbers", () => {
  it("separates thousands in the reader's locale", () => {
    expect(formatCount(1234567, en)).toBe("1,234,567");
    expect(formatCount(1234567, de)).toBe("1.234.567");
    expect(formatNumber(1234.5678, 2, en)).toBe("1,234.57");
    expect(formatCount(2.6, en)).toBe("3");
  });

  it("answers a dash for what is missing, never NaN", () => {
    for (const f of [formatCount, formatPercent, formatCurrency, formatCompact, formatDuration]) {
      expect(f(null)).toBe("–");
      expect(f(undefined)).toBe("–");
      expect(f(Number.NaN)).toBe("–");
    }
    expect(formatDate("nonsense")).toBe("–");
  });

  it("shows ratios as percentages, signed for changes", () => {
    expect(formatPercent(0.034, 1, en)).toBe("3.4%");
    expect(formatPercent(1, 1, en)).toBe("100%");
    expect(formatSignedPercent(0.125, 1, en)).toBe("+12.5%");
    expect(formatSignedPercent(-0.03, 1, en)).toBe("-3%");
    expect(formatSignedPercent(0, 1, en)).toBe("0%");
    expect(formatDelta(3, en)).toBe("+3");
  });

  it("shows money with the currency, cents only below a thousand", () => {
    expect(formatCurrency(42.5, { ...en, currency: "USD" })).toBe("$42.50");
    expect(formatCurrency(1674.86, { ...en, currency: "USD" })).toBe("$1,675");
    expect(formatCurrency(250, { ...en, currency: "USD", whole: true })).toBe("$250");
    expect(spaces(formatCurrency(1674.86, { ...de, currency: "EUR" }))).toBe("1.675 €");
  });

  it("shortens large numbers for axes", () => {
    expect(formatCompact(12_300, en)).toBe("12.3K");
    expect(formatCompact(3_400_000, en)).toBe("3.4M");
  });

  it("writes intervals with both ends formatted", () => {
    expect(formatInterval(0.012, 0.034, (v) => formatPercent(v, 1, en))).toBe("1.2% to 3.4%");
    expect(formatInterval(null, 1)).toBe("–");
  });
});

describe("durations", () => {
  it("uses the units people say", () => {
    expect(formatDuration(45, en)).toBe("45 sec");
    expect(formatDuration(93, en)).toBe("1 min 33 sec");
    expect(formatDuration(120, en)).toBe("2 min");
    expect(formatDuration(7500, en)).toBe("2 hr 5 min");
    expect(formatDuration(3 * 86400, en)).toBe("3 days");
  });
});

describe("dates", () => {
  const now = new Date("2026-12-05T12:00:00Z");

  it("says how long ago", () => {
    expect(formatRelative("2026-12-05T11:58:00Z", now, en)).toBe("2 min. ago");
    expect(formatRelative("2026-12-05T11:59:58Z", now, en)).toBe("now");
    expect(formatRelative("2026-12-02T12:00:00Z", now, en)).toBe("3 days ago");
    expect(formatRelative("2026-12-05T15:00:00Z", now, en)).toBe("in 3 hr.");
  });

  it("keeps a calendar day the same day in every time zone", () => {
    expect(formatDate("2026-12-05", en)).toBe("Dec 5, 2026");
    expect(formatDate("2026-12-05", { locale: "en-GB" })).toBe("5 Dec 2026");
  });

  it("formats moments with date and time", () => {
    expect(formatDateTime("2026-12-05T12:03:00Z", en)).toMatch(/^Dec 5, 2026, \d{1,2}:03\s[AP]M$/);
  });
});

describe("values", () => {
  it("shows any JSON value as short text", () => {
    expect(formatValue(null)).toBe("–");
    expect(formatValue(true)).toBe("yes");
    expect(formatValue(["a", "b"])).toBe("a, b");
    expect(formatValue(1234.5, en)).toBe("1,234.5");
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
  });
});
