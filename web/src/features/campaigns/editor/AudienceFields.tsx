// Target and exclusion segments with the audience size now (POST /v1/campaigns/audience-size, as the launch counts).
import { Group, Loader, MultiSelect, Paper, Stack, Text } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { errorMessage } from "../../../api/errors";
import { getAudienceSize } from "../../../client/campaigns/sdk.gen";
import { listSegmentsOptions } from "../../../client/segmentation/@tanstack/react-query.gen";
import { formatCount } from "../../../lib/format";

export function useAudienceSize(target: string[], exclude: string[]) {
  const [audience] = useDebouncedValue({ target, exclude }, 400);
  return useQuery({
    queryKey: ["campaign-audience-size", audience],
    queryFn: async ({ signal }) => {
      const body = { target_segments: audience.target, exclude_segments: audience.exclude };
      const { data } = await getAudienceSize({ body, signal, throwOnError: true });
      return data;
    },
    enabled: audience.target.length > 0,
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
}

export function AudienceSize({ target, exclude }: { target: string[]; exclude: string[] }) {
  const size = useAudienceSize(target, exclude);
  return (
    <Paper withBorder p="sm" aria-live="polite" aria-label="Audience size">
      <Group gap="xs">
        <Text size="sm">Audience now:</Text>
        {target.length === 0 ? (
          <Text size="sm" c="dimmed">choose a target segment</Text>
        ) : size.isError ? (
          <Text size="sm" c="red.8">{errorMessage(size.error)}</Text>
        ) : size.data ? (
          <Text size="sm" fw={700} className="tabular" data-testid="audience-size">
            {formatCount(size.data.size)} profiles
          </Text>
        ) : null}
        {size.isFetching ? <Loader size="xs" aria-label="Counting" /> : null}
      </Group>
    </Paper>
  );
}

export function SegmentPickers({
  target,
  exclude,
  onTarget,
  onExclude,
  targetError,
}: {
  target: string[];
  exclude: string[];
  onTarget: (ids: string[]) => void;
  onExclude: (ids: string[]) => void;
  targetError?: string;
}) {
  const segments = useQuery({ ...listSegmentsOptions(), staleTime: 60_000 });
  const data = (segments.data ?? []).map((s) => ({ value: s.id, label: `${s.name} (${formatCount(s.size)})` }));
  return (
    <Stack gap="sm">
      <MultiSelect label="Send to segments" placeholder="Choose segments" data={data} value={target} onChange={onTarget} searchable error={targetError} required />
      <MultiSelect label="Exclude segments" placeholder="None" data={data} value={exclude} onChange={onExclude} searchable />
      <AudienceSize target={target} exclude={exclude} />
    </Stack>
  );
}
