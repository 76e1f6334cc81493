// What the builder offers while typing: trait keys and values, event names, segments, RFM names. The trait and event
// endpoints are being added to segmentation; until they answer, the builder falls back to the names it knows.
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";

import {
  listEventNamesOptions,
  listTraitKeysOptions,
  listTraitValuesOptions,
} from "../../client/segmentation/@tanstack/react-query.gen";
import { getSegmentMapOptions, listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import type { SegmentRead } from "../../client/segmentation/types.gen";
import { formatCount } from "../../lib/format";
import { KNOWN_COMPUTED, KNOWN_EVENTS } from "./rules";

export interface Suggestion {
  value: string;
  label: string;
}

const QUIET = { retry: false, staleTime: 60_000, placeholderData: keepPreviousData } as const;

function withCount(value: string, profiles: number | undefined): Suggestion {
  return { value, label: profiles === undefined ? value : `${value} (${formatCount(profiles)} profiles)` };
}

function merge(found: Suggestion[], known: string[], prefix: string): Suggestion[] {
  const seen = new Set(found.map((s) => s.value));
  const extra = known.filter((k) => !seen.has(k) && k.toLowerCase().startsWith(prefix.toLowerCase()));
  return [...found, ...extra.map((k) => ({ value: k, label: k }))];
}

/** Trait or computed-trait keys starting with what was typed, most used first. */
export function useKeySuggestions(source: "traits" | "computed", typed: string): Suggestion[] {
  const [prefix] = useDebouncedValue(typed, 250);
  const query = useQuery({ ...listTraitKeysOptions({ query: { prefix } }), ...QUIET });
  return useMemo(() => {
    const found =
      source === "traits"
        ? (query.data?.traits ?? []).map((k) => withCount(k.key, k.profiles))
        : (query.data?.computed ?? []).map((k) => withCount(k.key, k.profiles));
    return source === "computed" ? merge(found, KNOWN_COMPUTED, prefix) : found;
  }, [query.data, source, prefix]);
}

/** Values of one trait starting with what was typed. */
export function useValueSuggestions(key: string, typed: string, enabled: boolean): Suggestion[] {
  const [prefix] = useDebouncedValue(typed, 250);
  const query = useQuery({ ...listTraitValuesOptions({ query: { key, prefix } }), ...QUIET, enabled: enabled && !!key });
  return useMemo(
    () => (query.data?.values ?? []).map((v) => withCount(String(v.value), v.profiles)),
    [query.data],
  );
}

export function useEventSuggestions(): Suggestion[] {
  const query = useQuery({ ...listEventNamesOptions(), ...QUIET });
  return useMemo(
    () => merge((query.data?.names ?? []).map((n) => withCount(n.name, n.profiles)), KNOWN_EVENTS, ""),
    [query.data],
  );
}

export function useSegments(): SegmentRead[] {
  const query = useQuery({ ...listSegmentsOptions(), staleTime: 30_000 });
  return query.data ?? [];
}

export const DEFAULT_RFM_NAMES = [
  "Champions",
  "Loyal",
  "Potential Loyalist",
  "New",
  "Promising",
  "Need Attention",
  "About To Sleep",
  "At Risk",
  "Can't Lose Them",
  "Hibernating",
  "Lost",
];

interface RfmCell {
  r: number;
  fm: number;
  name: string;
}

function isCellList(value: unknown): value is RfmCell[] {
  return Array.isArray(value) && value.every((c) => typeof (c as RfmCell | null)?.name === "string");
}

/** The names of the RFM segment map (the defaults until it loads). */
export function useRfmNames(): string[] {
  const query = useQuery({ ...getSegmentMapOptions(), staleTime: 60_000, retry: false });
  return useMemo(() => {
    const cells = query.data?.cells;
    if (!isCellList(cells)) return DEFAULT_RFM_NAMES;
    return [...new Set(cells.map((c) => c.name))];
  }, [query.data]);
}

/** A segment's name by id (its id until the list has loaded). */
export function useSegmentNames(): (id: string) => string {
  const segments = useSegments();
  return useMemo(() => {
    const names = new Map(segments.map((s) => [s.id, s.name]));
    return (id: string) => names.get(id) ?? id;
  }, [segments]);
}
