// "updated 2 min ago": how fresh what a screen shows is, with the exact time on hover and for screen readers.
import { Text, Tooltip } from "@mantine/core";
import { useEffect, useState } from "react";

import { formatDateTime, formatRelative } from "../lib/format";

/** The current time, refreshed every `everyMs`, so relative times stay true while a screen is open. */
export function useNow(everyMs = 15_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(new Date()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function RelativeTime({ value, prefix = "" }: { value: string | Date | null | undefined; prefix?: string }) {
  const now = useNow();
  if (!value) return <>{prefix}–</>;
  const exact = formatDateTime(value);
  return (
    <Tooltip label={exact} withArrow>
      <time dateTime={value instanceof Date ? value.toISOString() : value} title={exact}>
        {prefix}
        {formatRelative(value, now)}
      </time>
    </Tooltip>
  );
}

/** "as of 5 Dec 2026, 14:03 · updated 2 min ago" from an API's as_of, or when the data was fetched. */
export function Freshness({ asOf, fetchedAt, label = "as of" }: { asOf?: string | null; fetchedAt?: number; label?: string }) {
  return (
    <Text size="xs" c="dimmed" component="span">
      {asOf ? (
        <>
          {label} {formatDateTime(asOf)}
          {fetchedAt ? " · " : ""}
        </>
      ) : null}
      {fetchedAt ? <RelativeTime value={new Date(fetchedAt)} prefix="updated " /> : null}
    </Text>
  );
}
