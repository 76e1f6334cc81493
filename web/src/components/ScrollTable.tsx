// A table wider than its column scrolls sideways inside this container; the scrolling area takes keyboard focus
// (and a name), so keyboard users can scroll it too (axe: scrollable-region-focusable).
import { Table } from "@mantine/core";
import type { ReactNode } from "react";

export function ScrollTable({ minWidth, label, children }: { minWidth: number; label: string; children: ReactNode }) {
  return (
    <Table.ScrollContainer minWidth={minWidth} scrollAreaProps={{ viewportProps: { tabIndex: 0, role: "region", "aria-label": label } }}>
      {children}
    </Table.ScrollContainer>
  );
}
