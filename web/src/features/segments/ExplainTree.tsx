// "Why is this customer in (or not in) this segment": the definition evaluated for one profile, node by node. Each
// node says whether it held (in words and colour), each leaf shows the value it read, and behaviour leaves the
// counts per day that decided them.
import { Badge, Group, Paper, Stack, Table, Text } from "@mantine/core";
import { IconCheck, IconX } from "@tabler/icons-react";

import type { ExplainNode, ExplainRead as Explanation } from "../../client/segmentation/types.gen";
import { Freshness } from "../../components/Freshness";
import { formatCount, formatDate, formatValue } from "../../lib/format";
import { describeLeaf, type SegmentNames } from "./describe";

const GROUP_TEXT: Record<string, string> = { and: "All of these", or: "Any of these", not: "Not this" };

// Green.9 under white text is 4.2:1, under the 4.5:1 AA needs for small text; this darker green is 6.2:1.
const TRUE_GREEN = "#226e32";

export function ResultBadge({ result, yes = "true", no = "false" }: { result: boolean; yes?: string; no?: string }) {
  return (
    <Badge
      color={result ? TRUE_GREEN : "red.9"}
      variant="filled"
      leftSection={result ? <IconCheck size={12} aria-hidden /> : <IconX size={12} aria-hidden />}
    >
      {result ? yes : no}
    </Badge>
  );
}

function DailyCounts({ counts }: { counts: Record<string, number> }) {
  const days = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  if (!days.length) return <Text size="xs" c="dimmed">No such event on any day of the window.</Text>;
  return (
    <Table withTableBorder withColumnBorders fz="xs" w="auto" maw={320} aria-label="Counts per day">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Day</Table.Th>
          <Table.Th ta="right">Count</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {days.map(([day, n]) => (
          <Table.Tr key={day}>
            <Table.Td>{formatDate(day)}</Table.Td>
            <Table.Td ta="right" className="tabular">
              {formatCount(n)}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function NodeView({ node, names }: { node: ExplainNode; names: SegmentNames }) {
  const isGroup = node.kind === "and" || node.kind === "or" || node.kind === "not";
  const title = isGroup ? GROUP_TEXT[node.kind] : describeLeaf(node.condition ?? {}, names);
  return (
    <Paper
      withBorder
      p="xs"
      role="group"
      aria-label={`${title}: ${node.result ? "true" : "false"}`}
      style={{ borderLeft: `4px solid var(--mantine-color-${node.result ? "green" : "red"}-6)` }}
    >
      <Stack gap={6}>
        <Group gap="xs" wrap="wrap">
          <ResultBadge result={node.result} />
          <Text size="sm" fw={isGroup ? 600 : 400}>
            {title}
          </Text>
        </Group>
        {!isGroup && node.kind !== "event" ? (
          <Text size="sm" c="dimmed">
            Actual value: <strong>{node.actual === undefined || node.actual === null ? "not set" : formatValue(node.actual)}</strong>
          </Text>
        ) : null}
        {node.kind === "event" ? (
          <Stack gap={4}>
            <Text size="sm" c="dimmed">
              Counted in the window: <strong>{formatCount(node.count ?? 0)}</strong>
            </Text>
            <DailyCounts counts={node.daily_counts ?? {}} />
          </Stack>
        ) : null}
        {node.children?.length ? (
          <Stack gap="xs" pl={{ base: "xs", sm: "md" }}>
            {node.children.map((child) => (
              <NodeView key={child.path} node={child} names={names} />
            ))}
          </Stack>
        ) : null}
      </Stack>
    </Paper>
  );
}

export function ExplainTree({ explanation, names = (id) => id }: { explanation: Explanation; names?: SegmentNames }) {
  const { member, matches } = explanation;
  return (
    <Stack gap="sm">
      <Group gap="md" wrap="wrap">
        <Group gap={6}>
          <Text size="sm">Member now:</Text>
          <ResultBadge result={member} yes="yes" no="no" />
        </Group>
        <Group gap={6}>
          <Text size="sm">Definition matches now:</Text>
          <ResultBadge result={matches} yes="yes" no="no" />
        </Group>
        <Freshness asOf={explanation.as_of} />
      </Group>
      {member !== matches ? (
        <Text size="sm" c="orange.8">
          Membership and the definition disagree at this moment: the segment updates as events arrive (and time-window
          conditions at the next sweep), so this resolves on its own.
        </Text>
      ) : null}
      <NodeView node={explanation.tree} names={names} />
    </Stack>
  );
}
