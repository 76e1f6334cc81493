// The live feed of segment entries and exits. Segmentation has no feed of individual entries and exits yet, so this
// polls what exists — every segment's size, every 2 s — and reports each change of size as it is seen: the net
// number of people who entered (or left) since the check before.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import { listSegmentsOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import type { SegmentRead } from "../../client/segmentation/types.gen";

export const POLL_MS = 2_000;
const KEEP = 50;

export interface SizeChange {
  key: string;
  at: Date;
  segmentId: string;
  name: string;
  from: number;
  to: number;
}

/** Size changes between two snapshots of the segment list (new and deleted segments are not changes). */
export function diffSizes(before: Map<string, number>, segments: SegmentRead[], at: Date): SizeChange[] {
  return segments
    .filter((s) => before.has(s.id) && before.get(s.id) !== s.size)
    .map((s) => ({ key: `${s.id}@${at.getTime()}`, at, segmentId: s.id, name: s.name, from: before.get(s.id) ?? 0, to: s.size }));
}

export function useSegmentChanges(segmentId?: string) {
  const query = useQuery({
    ...listSegmentsOptions(),
    refetchInterval: POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  const sizes = useRef<Map<string, number> | null>(null);
  const [changes, setChanges] = useState<SizeChange[]>([]);
  const [since] = useState(() => new Date());
  const { data, dataUpdatedAt } = query;
  useEffect(() => {
    if (!data) return;
    const previous = sizes.current;
    sizes.current = new Map(data.map((s) => [s.id, s.size]));
    if (!previous) return;
    const found = diffSizes(previous, data, new Date(dataUpdatedAt)).filter((c) => !segmentId || c.segmentId === segmentId);
    if (found.length) setChanges((old) => [...found, ...old].slice(0, KEEP));
  }, [data, dataUpdatedAt, segmentId]);
  return { changes, since, query };
}
