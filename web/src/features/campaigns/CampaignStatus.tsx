import { Badge } from "@mantine/core";

const COLORS: Record<string, string> = {
  draft: "gray",
  scheduled: "blue",
  running: "teal",
  active: "teal",
  testing: "cyan",
  paused: "yellow",
  completed: "grape",
  failed: "red",
};

export function CampaignStatus({ status }: { status: string }) {
  return (
    <Badge variant="light" color={COLORS[status] ?? "gray"}>
      {status}
    </Badge>
  );
}
