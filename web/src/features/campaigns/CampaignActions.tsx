// Launch (after a confirmation that repeats the audience, holdout and variants from the pre-flight), pause, and
// pick the A/B winner now. Only for roles that write; the caller wraps these in WriteAccess.
import { Button, Group, List, Modal, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { errorMessage } from "../../api/errors";
import {
  getPreflightOptions,
  launchCampaignMutation,
  pauseCampaignMutation,
  pickWinnerMutation,
} from "../../client/campaigns/@tanstack/react-query.gen";
import type { CampaignRead } from "../../client/campaigns/types.gen";
import { QueryState } from "../../components/QueryState";
import { formatCount, formatNumber } from "../../lib/format";
import { reasonLabel } from "./reasons";

const LAUNCHABLE = new Set(["draft", "scheduled", "paused"]);
const PAUSABLE = new Set(["running", "scheduled", "active", "testing"]);

function useRefresh(campaignId: string) {
  const client = useQueryClient();
  return () => client.invalidateQueries({ predicate: (q) => JSON.stringify(q.queryKey).includes(campaignId) || JSON.stringify(q.queryKey).includes("CampaignSummaries") });
}

function LaunchConfirm({ campaign, onClose }: { campaign: CampaignRead; onClose: () => void }) {
  const refresh = useRefresh(campaign.id);
  const preflight = useQuery(getPreflightOptions({ path: { campaign_id: campaign.id } }));
  const launch = useMutation({
    ...launchCampaignMutation(),
    onSuccess: () => {
      notifications.show({ color: "green", message: `“${campaign.name}” is launched.` });
      void refresh();
      onClose();
    },
  });
  const schedule = campaign.schedule as { type?: string; at?: string };
  return (
    <Stack gap="sm">
      <QueryState query={preflight} loadingLabel="Checking who would receive it">
        {(p) => (
          <List size="sm" spacing={4}>
            <List.Item>
              Audience: <b>{formatCount(p.audience)}</b> profiles, <b>{formatCount(p.sendable)}</b> will be sent to
            </List.Item>
            <List.Item>
              Holdout: <b>{formatNumber(campaign.holdout_percent, 1)}%</b>, <b>{formatCount(p.held_out)}</b> profiles
            </List.Item>
            {p.variants.map((v) => (
              <List.Item key={v.variant_id}>
                Variant {v.name}: <b>{formatCount(v.recipients)}</b>
              </List.Item>
            ))}
            {p.waiting ? <List.Item>Waiting for the A/B winner: {formatCount(p.waiting)}</List.Item> : null}
            {Object.entries(p.skipped).map(([reason, n]) => (
              <List.Item key={reason}>
                Skipped, {reasonLabel(reason).toLowerCase()}: {formatCount(n)}
              </List.Item>
            ))}
            <List.Item>Schedule: {schedule.type === "at" ? `at ${schedule.at ?? ""}` : schedule.type === "on_entry" ? "on segment entry" : "now"}</List.Item>
          </List>
        )}
      </QueryState>
      {launch.isError ? (
        <Text c="red.8" size="sm" role="alert">
          {errorMessage(launch.error)}
        </Text>
      ) : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Button loading={launch.isPending} disabled={!preflight.data} onClick={() => launch.mutate({ path: { campaign_id: campaign.id } })}>
          Launch to {preflight.data ? formatCount(preflight.data.sendable) : "…"}
        </Button>
      </Group>
    </Stack>
  );
}

export function CampaignActions({ campaign }: { campaign: CampaignRead }) {
  const [opened, { open, close }] = useDisclosure(false);
  const refresh = useRefresh(campaign.id);
  const onError = (title: string) => (error: unknown) => notifications.show({ color: "red", title, message: errorMessage(error) });
  const pause = useMutation({ ...pauseCampaignMutation(), onSuccess: () => void refresh(), onError: onError("Not paused") });
  const winner = useMutation({ ...pickWinnerMutation(), onSuccess: () => void refresh(), onError: onError("No winner picked") });
  const path = { campaign_id: campaign.id };
  return (
    <Group gap="xs">
      {LAUNCHABLE.has(campaign.status) || (campaign.channel === "audience_export" && campaign.status === "completed") ? (
        <Button onClick={open}>Launch…</Button>
      ) : null}
      {PAUSABLE.has(campaign.status) ? (
        <Button variant="default" loading={pause.isPending} onClick={() => pause.mutate({ path })}>
          Pause
        </Button>
      ) : null}
      {campaign.status === "testing" ? (
        <Button variant="light" loading={winner.isPending} onClick={() => winner.mutate({ path })}>
          Pick winner now
        </Button>
      ) : null}
      <Modal opened={opened} onClose={close} title={`Launch “${campaign.name}”?`} size="lg">
        {opened ? <LaunchConfirm campaign={campaign} onClose={close} /> : null}
      </Modal>
    </Group>
  );
}
