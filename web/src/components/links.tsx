// Mantine components as router links (TanStack Router's createLink), so links get typed routes, preloading and
// real <a href> elements that keyboards and screen readers know.
import { Anchor, Button, NavLink } from "@mantine/core";
import type { AnchorProps, ButtonProps, NavLinkProps } from "@mantine/core";
import { createLink } from "@tanstack/react-router";
import type { ComponentPropsWithRef } from "react";

type AnchorElementProps = Omit<ComponentPropsWithRef<"a">, "color" | "style">;

function ButtonAnchor(props: ButtonProps & AnchorElementProps) {
  return <Button component="a" {...props} />;
}

function PlainAnchor(props: AnchorProps & AnchorElementProps) {
  return <Anchor {...props} />;
}

function NavAnchor(props: NavLinkProps & AnchorElementProps) {
  return <NavLink component="a" {...props} />;
}

export const ButtonLink = createLink(ButtonAnchor);
export const AnchorLink = createLink(PlainAnchor);
export const NavLinkItem = createLink(NavAnchor);
