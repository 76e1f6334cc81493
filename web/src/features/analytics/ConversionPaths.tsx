// Conversion paths by channel (GET /v1/journeys/paths): the touchpoints people passed before converting, and how
// many people took each path, as the API counts them.
import { Group, Stack, Table, Text, TextInput } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { getPathsOptions } from "../../client/profiles/@tanstack/react-query.gen";
import type { PathsRead } from "../../client/profiles/types.gen";
import { Freshness } from "../../components/Freshness";
import { Empty, QueryState } from "../../components/QueryState";
import { formatCount, formatPercent } from "../../lib/format";

export function PathsTable({ paths }: { paths: PathsRead }) {
  return (
    <Stack gap="xs">
      <Text size="sm" c="dimmed" data-testid="paths-summary">
        {formatCount(paths.converting_people)} people converted ({paths.conversion}); {formatCount(paths.without_touchpoints)} without a touchpoint in the {formatCount(paths.lookback_days)} days before.
      </Text>
      <Table aria-label="Conversion paths" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Path</Table.Th>
            <Table.Th ta="right">People</Table.Th>
            <Table.Th ta="right">Share</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {paths.paths.map((p) => (
            <Table.Tr key={p.path.join(">")} data-testid={`path-${p.path.join(">")}`}>
              <Table.Th scope="row">{p.path.join(" → ")}</Table.Th>
              <Table.Td ta="right" className="tabular">{formatCount(p.people)}</Table.Td>
              <Table.Td ta="right" className="tabular">{formatPercent(p.share, 1)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

export function ConversionPaths({ window: range }: { window: { from?: string; to?: string } }) {
  const [conversion, setConversion] = useState("Order Completed");
  const paths = useQuery({
    ...getPathsOptions({ query: { conversion: conversion.trim() || "Order Completed", ...range } }),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <TextInput label="Conversion event" value={conversion} onChange={(e) => setConversion(e.currentTarget.value)} w={260} />
        <Freshness fetchedAt={paths.dataUpdatedAt || undefined} />
      </Group>
      <QueryState query={paths} loadingLabel="Loading conversion paths" isEmpty={(p) => p.paths.length === 0} empty={<Empty title="No conversions in this range" />}>
        {(p) => <PathsTable paths={p} />}
      </QueryState>
    </Stack>
  );
}
