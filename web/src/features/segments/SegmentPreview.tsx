// While a definition is edited: how many people it matches now, and who (a sample), from segmentation's preview.
import { Alert, Group, List, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect } from "react";

import { errorMessage, fieldErrors, isStatus } from "../../api/errors";
import { previewSegment } from "../../client/segmentation/sdk.gen";
import { RelativeTime } from "../../components/Freshness";
import { AnchorLink } from "../../components/links";
import { formatCount } from "../../lib/format";
import { profileLabel, useProfilesById } from "../customers/profiles";
import { locateErrors, type NodeErrors, type Serialized } from "./builder/tree";

export function SegmentPreview({
  serialized,
  valid,
  onErrors,
}: {
  serialized: Serialized;
  /** Whether the builder's own checks pass (the preview waits until they do). */
  valid: boolean;
  /** Where the preview's 422 goes: to the nodes it names. */
  onErrors: (errors: NodeErrors) => void;
}) {
  const [debounced] = useDebouncedValue(serialized, 500);
  const definition = debounced.rule as Record<string, unknown>;
  const preview = useQuery({
    queryKey: ["segment-preview", definition],
    queryFn: async ({ signal }) => {
      const { data } = await previewSegment({ body: { definition, sample_size: 10 }, signal, throwOnError: true });
      return { ...data, at: new Date() };
    },
    enabled: valid,
    placeholderData: keepPreviousData,
    staleTime: 10_000,
    retry: false,
  });
  const { error } = preview;
  useEffect(() => {
    onErrors(isStatus(error, 422) ? locateErrors(fieldErrors(error, "definition"), debounced.paths) : {});
  }, [error, debounced.paths, onErrors]);
  const sample = preview.data?.sample ?? [];
  const profiles = useProfilesById(sample);
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="preview-title">
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={2} size="h5" id="preview-title">
            Matches now
          </Title>
          {preview.isFetching ? <Loader size="xs" aria-label="Counting" /> : null}
        </Group>
        {!valid ? (
          <Text size="sm" c="dimmed">
            Complete the conditions to see who matches.
          </Text>
        ) : preview.isError && !isStatus(error, 422) ? (
          <Alert color="red" variant="light" role="alert">
            {errorMessage(error)}
          </Alert>
        ) : preview.isError ? (
          <Text size="sm" c="red.7" role="alert">
            Segmentation refused a condition: see the marked condition.
          </Text>
        ) : preview.data ? (
          <>
            <Text fz={28} fw={700} className="tabular" aria-live="polite">
              {formatCount(preview.data.count)} <Text span size="sm" c="dimmed" fw={400}>people</Text>
            </Text>
            <Text size="xs" c="dimmed">
              Counted <RelativeTime value={preview.data.at} />
            </Text>
            {sample.length ? (
              <>
                <Text size="sm" fw={500}>
                  Some of them
                </Text>
                <List size="sm" spacing={2}>
                  {sample.map((id) => (
                    <List.Item key={id}>
                      <AnchorLink to="/customers/$profileId" params={{ profileId: id }} size="sm">
                        {profileLabel(profiles.data?.get(id), id)}
                      </AnchorLink>
                    </List.Item>
                  ))}
                </List>
              </>
            ) : null}
          </>
        ) : (
          <Text size="sm" c="dimmed">
            Counting…
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
