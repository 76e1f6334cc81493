import { Group, Progress, Stack, Text } from "@mantine/core";

import { formatPercent } from "../../lib/format";

/** A running job's progress bar and stage, announced as it changes. */
export function JobProgress({ label, progress, stage, status }: { label: string; progress: number; stage: string; status: string }) {
  return (
    <Stack gap={4} aria-live="polite">
      <Group justify="space-between">
        <Text size="sm" fw={500}>
          {label}: {status === "queued" ? "waiting to start" : stage.replaceAll("_", " ")}
        </Text>
        <Text size="sm" c="dimmed" className="tabular">
          {formatPercent(progress, 0)}
        </Text>
      </Group>
      <Progress value={progress * 100} animated striped aria-label={label} />
    </Stack>
  );
}

export function isRunning(status: string): boolean {
  return status === "queued" || status === "running";
}
