import { createFileRoute } from "@tanstack/react-router";

import { Placeholder } from "../../components/Placeholder";

export const Route = createFileRoute("/_console/social")({
  component: () => <Placeholder title="Social" description="Social engagement, competitors, influencers and the feedback inbox with sentiment." />,
});
