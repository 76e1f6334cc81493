// Numbers and dates formatted for people, with Intl (the browser's locale unless one is given).
// Every function accepts null/undefined/NaN and answers an en dash, so screens never show "NaN" or "null".

const DASH = "–";

export interface FormatOptions {
  locale?: string;
}

function usable(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

const cache = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ""}|${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    cache.set(key, format);
  }
  return format;
}

/** 12,345 or 12,345.68: thousands separators, at most `digits` decimals. */
export function formatNumber(value: number | null | undefined, digits = 2, { locale }: FormatOptions = {}): string {
  if (!usable(value)) return DASH;
  // "negative": a value that rounds to zero is "0", never "-0".
  return numberFormat(locale, { maximumFractionDigits: digits, signDisplay: "negative" }).format(value);
}

/** A whole count: 12,345. */
export function formatCount(value: number | null | undefined, options: FormatOptions = {}): string {
  return formatNumber(usable(value) ? Math.round(value) : value, 0, options);
}

/** 12K, 3.4M: for tight places such as chart axes. */
export function formatCompact(value: number | null | undefined, { locale }: FormatOptions = {}): string {
  if (!usable(value)) return DASH;
  return numberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

/** A ratio (0.034) as a percentage (3.4%). */
export function formatPercent(ratio: number | null | undefined, digits = 1, { locale }: FormatOptions = {}): string {
  if (!usable(ratio)) return DASH;
  return numberFormat(locale, { style: "percent", maximumFractionDigits: digits }).format(ratio);
}

/** A signed change as a percentage (+12.5%, −3%), for lifts and deltas. */
export function formatSignedPercent(ratio: number | null | undefined, digits = 1, options: FormatOptions = {}): string {
  if (!usable(ratio)) return DASH;
  return numberFormat(options.locale, { style: "percent", maximumFractionDigits: digits, signDisplay: "exceptZero" }).format(
    ratio,
  );
}

/** A signed count (+3, −12, 0). */
export function formatDelta(value: number | null | undefined, { locale }: FormatOptions = {}): string {
  if (!usable(value)) return DASH;
  return numberFormat(locale, { maximumFractionDigits: 0, signDisplay: "exceptZero" }).format(value);
}

/** The currency money is shown in; orders carry no currency the console can rely on, so it is a build setting. */
export const DEFAULT_CURRENCY: string = import.meta.env.VITE_TESSERA_CURRENCY ?? "USD";

/** $1,234.50 (two decimals below 1,000, none above or with `whole`: marketers read totals, not cents). */
export function formatCurrency(
  value: number | null | undefined,
  { locale, currency = DEFAULT_CURRENCY, whole = false }: FormatOptions & { currency?: string; whole?: boolean } = {},
): string {
  if (!usable(value)) return DASH;
  const digits = whole || Math.abs(value) >= 1000 ? 0 : 2;
  return numberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** An interval such as a 95% confidence interval: "1.2%–3.4%", with a formatter for each end. */
export function formatInterval(
  low: number | null | undefined,
  high: number | null | undefined,
  format: (value: number) => string = (v) => formatNumber(v),
): string {
  if (!usable(low) || !usable(high)) return DASH;
  return `${format(low)} to ${format(high)}`;
}

/** A duration in seconds as people say it: "45 s", "1 min 33 s", "2 h 5 min", "3 days". */
export function formatDuration(seconds: number | null | undefined, { locale }: FormatOptions = {}): string {
  if (!usable(seconds)) return DASH;
  const unit = (n: number, name: "second" | "minute" | "hour" | "day") =>
    numberFormat(locale, { style: "unit", unit: name, unitDisplay: name === "day" ? "long" : "short" }).format(n);
  const total = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? "−" : "";
  if (total < 60) return sign + unit(total, "second");
  if (total < 3600) {
    const [m, s] = [Math.floor(total / 60), total % 60];
    return sign + (s ? `${unit(m, "minute")} ${unit(s, "second")}` : unit(m, "minute"));
  }
  if (total < 86400) {
    const [h, m] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60)];
    return sign + (m ? `${unit(h, "hour")} ${unit(m, "minute")}` : unit(h, "hour"));
  }
  return sign + unit(Math.round(total / 86400), "day");
}

function toDate(value: string | Date | null | undefined): Date | null {
  if (value == null || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** 5 Dec 2026, 14:03 (the reader's time zone). */
export function formatDateTime(value: string | Date | null | undefined, { locale }: FormatOptions = {}): string {
  const date = toDate(value);
  if (!date) return DASH;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** 5 Dec 2026. A bare calendar day ("2026-12-05") stays that day whatever the time zone. */
export function formatDate(value: string | Date | null | undefined, { locale }: FormatOptions = {}): string {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-").map(Number) as [number, number, number];
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(Date.UTC(y, m - 1, d));
  }
  const date = toDate(value);
  if (!date) return DASH;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(date);
}

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

/** "2 min ago", "in 3 days", "now": how long ago (or until) a moment, relative to `now`. */
export function formatRelative(
  value: string | Date | null | undefined,
  now: Date = new Date(),
  { locale }: FormatOptions = {},
): string {
  const date = toDate(value);
  if (!date) return DASH;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });
  let amount = (date.getTime() - now.getTime()) / 1000;
  if (Math.abs(amount) < 5) return format.format(0, "second");
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return format.format(Math.round(amount), unit);
    amount /= size;
  }
  return format.format(Math.round(amount), "year");
}

/** Any JSON value as short text for tables: strings as they are, numbers formatted, lists joined. */
export function formatValue(value: unknown, { locale }: FormatOptions = {}): string {
  if (value === null || value === undefined) return DASH;
  if (typeof value === "number") return formatNumber(value, 4, { locale });
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map((v) => formatValue(v, { locale })).join(", ");
  return JSON.stringify(value);
}
