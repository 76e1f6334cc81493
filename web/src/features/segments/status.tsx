import { Badge, Loader, Tooltip } from "@mantine/core";

import type { SegmentRead } from "../../client/segmentation/types.gen";

export const KIND_LABELS: Record<string, string> = { rules: "Rules", cluster: "Cluster", rfm: "RFM", predictive: "Predictive" };

export function KindBadge({ kind }: { kind: string }) {
  return (
    <Badge variant="outline" color={kind === "cluster" ? "grape" : "blue"}>
      {KIND_LABELS[kind] ?? kind}
    </Badge>
  );
}

export function StatusBadge({ segment }: { segment: Pick<SegmentRead, "status" | "last_error"> }) {
  if (segment.status === "building") {
    return (
      <Badge color="blue" variant="light" leftSection={<Loader size={10} color="blue" aria-hidden />}>
        Building
      </Badge>
    );
  }
  if (segment.status === "error") {
    return (
      <Tooltip label={segment.last_error ?? "The last computation failed."} multiline w={280}>
        <Badge color="red" variant="light" tabIndex={0}>
          Error
        </Badge>
      </Tooltip>
    );
  }
  return (
    <Badge color="green" variant="light">
      {segment.status === "ready" ? "Ready" : segment.status}
    </Badge>
  );
}
