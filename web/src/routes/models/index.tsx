import { createFileRoute } from "@tanstack/react-router";

export const Route = createFileRoute("/_console/models/")({
  component: () => <div>models</div>,
});
