import { Badge, Loader, Tooltip } from "@mantine/core";

import type { ClusteringRead } from "../../client/segmentation/types.gen";
import { formatPercent } from "../../lib/format";

export function ClusteringStatus({ clustering }: { clustering: Pick<ClusteringRead, "status" | "progress" | "last_error"> }) {
  const { status } = clustering;
  if (status === "queued" || status === "running") {
    return (
      <Badge color="blue" variant="light" leftSection={<Loader size={10} color="blue" aria-hidden />}>
        {status === "queued" ? "Queued" : `Running ${formatPercent(clustering.progress, 0)}`}
      </Badge>
    );
  }
  if (status === "error") {
    return (
      <Tooltip label={clustering.last_error ?? "The fit failed."} multiline w={280}>
        <Badge color="red" variant="light" tabIndex={0}>
          Error
        </Badge>
      </Tooltip>
    );
  }
  return (
    <Badge color="green" variant="light">
      Ready
    </Badge>
  );
}
