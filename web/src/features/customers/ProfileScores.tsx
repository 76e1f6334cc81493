import { SimpleGrid, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";

import type { ProfileScores as Scores } from "../../api/shapes";
import { getProfileScoresOptions } from "../../client/segmentation/@tanstack/react-query.gen";
import { AnchorLink } from "../../components/links";
import { Empty, QueryState } from "../../components/QueryState";
import { StatCard } from "../../components/StatCard";
import { formatCurrency, formatNumber, formatPercent } from "../../lib/format";
import { useSegmentNames } from "../segments/suggestions";

export function ProfileScores({ profileId }: { profileId: string }) {
  const query = useQuery(getProfileScoresOptions({ path: { profile_id: profileId } }));
  const names = useSegmentNames();
  return (
    <QueryState
      query={query}
      isEmpty={(d) => Object.keys(d.scores).length === 0}
      empty={<Empty title="No scores yet" description="Scores appear once RFM is scored or a CLV model is fitted." />}
    >
      {(raw) => {
        const { scores }: Scores = raw;
        const clusters = Object.keys(scores.cluster_segments ?? {});
        const rfm = [scores.rfm_r, scores.rfm_f, scores.rfm_m].every((v) => typeof v === "number")
          ? `R ${scores.rfm_r} · F ${scores.rfm_f} · M ${scores.rfm_m}`
          : undefined;
        return (
          <>
            <SimpleGrid cols={{ base: 2, md: 3, lg: 5 }}>
              <StatCard label="RFM segment" value={scores.rfm_segment ?? "–"} hint={rfm} />
              <StatCard label="Predicted lifetime value" value={formatCurrency(scores.clv)} hint={scores.clv_percentile != null ? `top ${formatNumber(100 - scores.clv_percentile, 1)}%` : undefined} />
              <StatCard label="Probability still active" value={formatPercent(scores.p_alive)} />
              <StatCard label="Expected purchases" value={formatNumber(scores.expected_purchases, 2)} hint="over the model's horizon" />
              <StatCard label="CLV percentile" value={formatNumber(scores.clv_percentile, 1)} />
            </SimpleGrid>
            {clusters.length ? (
              <Text size="sm" mt="md">
                Clusters:{" "}
                {clusters.map((id, i) => (
                  <span key={id}>
                    {i ? ", " : ""}
                    <AnchorLink to="/segments/$segmentId" params={{ segmentId: id }}>
                      {names(id)}
                    </AnchorLink>
                  </span>
                ))}
              </Text>
            ) : null}
          </>
        );
      }}
    </QueryState>
  );
}
