"""`tessera demo`'s customers: planted personas and their six months of Segment events (pure, no I/O)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

DAYS = 182  # six simulated months, ending at the simulated today
REFERRAL_CODE, INFLUENCER_CAMPAIGN = "ANNA10", "anna-spring"
BASE_ORDER_RATE = 0.08  # a lapsed customer's chance of ordering in the campaign's days without any mail
BAD_SPELL = (95, 125)  # days into the simulation when deliveries were late: reviews turn sour
SHOP = "https://shop.example"
CITIES = ("Paris", "Lyon", "Berlin", "Madrid", "Milan", "Amsterdam", "Lisbon")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
PLANS = ("free", "plus", "premium")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Linus", "Margaret", "Tim", "Barbara", "Ken", "Radia", "Dennis", "Frances",
               "Edsger", "Hedy", "John", "Katherine", "Niklaus", "Sophie", "Guido", "Yukihiro", "Annie")  # fmt: skip
PRODUCTS = tuple(f"sku-{n:03d}" for n in range(1, 41))
POSITIVE = ("Love it, great quality and fast delivery!", "Excellent value, I would happily buy again.",
            "Really happy with this, it works perfectly.", "Great price and wonderful service, thank you!")  # fmt: skip
NEGATIVE = ("Terrible quality, it broke after a week.", "Very disappointed: delivery was late, support useless.",
            "Awful experience, the item arrived damaged.", "Bad fit and a frustrating, slow refund.")  # fmt: skip
NEUTRAL = ("It is okay, does the job.", "Arrived on Tuesday as planned.", "Average product, nothing special.")
COMMENTS_UP = ("Love this look!", "So good, great style", "Amazing, want it now!", "Beautiful colours, well done")
COMMENTS_DOWN = ("Meh, too expensive for what it is", "Not a fan, looks cheap", "Boring, disappointing drop")
TEXTS = {1: POSITIVE, 0: NEUTRAL, -1: NEGATIVE}


@dataclass(frozen=True)
class Persona:
    """How one planted persona behaves; rates are per week, amounts in euros."""

    name: str
    weight: float
    start: tuple[float, float]  # first visit, days into the simulation
    lifetime: tuple[float, float] | None  # days active before lapsing (None: until BG/NBD dropout)
    visits: float  # mean visit rate
    purchase: tuple[float, float]  # gamma shape and mean of the purchase rate λ
    dropout: tuple[float, float]  # beta a, b of the dropout probability after each purchase
    order_value: float  # median order value
    social: float  # mean rate of likes, comments and shares
    email: tuple[float, float]  # mean open rate, mean click rate once opened
    happy: float  # share of positive reviews and comments
    review: float  # chance an order is reviewed
    referral: float  # share of orders placed with the influencer's referral code
    buyer: bool  # starts with a first purchase (BG/NBD's trial); new visitors may never buy
    plans: tuple[float, float, float]
    interests: tuple[str, ...]


PERSONAS = (  # name, weight, start, lifetime, visits, purchase, dropout, order value, social, email, happy, review,
    # referral, buyer, plans, interests
    Persona("Bargain hunters", 0.25, (0, 25), None, 2.5, (8, 0.7), (1, 120), 18, 0.1, (0.5, 0.3), 0.7, 0.12, 0.02,
            True, (0.7, 0.25, 0.05), ("deals", "home", "gadgets")),
    Persona("Loyal big spenders", 0.15, (0, 20), None, 0.8, (8, 0.25), (1, 150), 220, 0.2, (0.45, 0.35), 0.9, 0.25,
            0.02, True, (0.1, 0.4, 0.5), ("premium", "fashion", "travel")),
    Persona("Social fans", 0.15, (5, 110), None, 1.0, (4, 0.05), (2, 20), 45, 4.0, (0.25, 0.2), 0.8, 0.3, 0.6, True,
            (0.5, 0.4, 0.1), ("fashion", "beauty", "music")),
    Persona("Lapsed customers", 0.25, (0, 25), (15, 45), 1.5, (4, 0.3), (2, 10), 60, 0.05, (0.3, 0.3), 0.15, 0.5,
            0.02, True, (0.6, 0.3, 0.1), ("home", "garden")),
    Persona("New visitors", 0.20, (DAYS - 28, DAYS - 1), None, 2.0, (3, 0.0), (2, 20), 40, 0.3, (0.4, 0.25), 0.7, 0.2,
            0.2, False, (0.85, 0.15, 0.0), ("gadgets", "fashion", "sport")),
)  # fmt: skip


@dataclass(frozen=True)
class Post:
    """A social post of ours (or of the influencer) that customers like, comment on and share."""

    post_id: str
    day: int
    content_type: str
    text: str
    influencer: bool = False


POSTS = tuple(
    Post(f"ig-{i + 1}", day, kind, text, influencer)
    for i, (day, kind, text, influencer) in enumerate(
        [(2, "image", "New season, new colours", False), (20, "video", "Behind the scenes at the workshop", False),
         (41, "image", "Styled by @anna.style: use ANNA10", True), (63, "story", "Flash sale tonight only", False),
         (88, "video", "Anna's spring picks (code ANNA10)", True), (110, "text", "We hear you about deliveries", False),
         (135, "image", "Customer favourites of the month", False), (160, "video", "Anna unboxes our bestseller", True)]
    )
)  # fmt: skip


@dataclass
class Customer:
    """One simulated customer and the habits the demo needs again after the events are sent."""

    index: int
    user_id: str
    email: str
    first_name: str
    persona: int
    open_rate: float
    click_rate: float
    order_value: float
    consent: bool
    events: list[dict[str, Any]] = field(default_factory=list)


def generate(n: int, seed: int, today: datetime) -> list[Customer]:
    """n customers drawn from the personas, each with their events in time order."""
    rng = random.Random(seed)
    labels = rng.choices(range(len(PERSONAS)), weights=[p.weight for p in PERSONAS], k=n)
    start = today - timedelta(days=DAYS)
    return [_customer(i, label, seed, rng, start, today) for i, label in enumerate(labels)]


def _customer(i: int, label: int, seed: int, rng: random.Random, start: datetime, today: datetime) -> Customer:
    persona = PERSONAS[label]
    first = rng.choice(FIRST_NAMES)
    open_rate, click_rate = (rng.betavariate(m * 10, (1 - m) * 10) for m in persona.email)
    order_value = rng.lognormvariate(math.log(persona.order_value), 0.25)
    customer = Customer(i, f"demo-{seed}-{i:05d}", f"{first.lower()}.{i}@example.com", first, label, open_rate,
                        click_rate, order_value, rng.random() < 0.9)  # fmt: skip
    builder = _Builder(customer, rng, start, today)
    builder.simulate(persona)
    return customer


class _Builder:
    """Writes one customer's events; times are days into the simulation."""

    def __init__(self, customer: Customer, rng: random.Random, start: datetime, today: datetime) -> None:
        self.customer, self.rng, self.start = customer, rng, start
        self.horizon = (today - start).total_seconds() / 86400 - 0.01
        self.raw: list[tuple[float, dict[str, Any]]] = []

    def simulate(self, persona: Persona) -> None:
        """Visits, orders (buy till you die), social activity, reviews and a survey answer, then the events."""
        rng = self.rng
        first = rng.uniform(*persona.start)
        end = min(first + rng.uniform(*persona.lifetime), self.horizon) if persona.lifetime else self.horizon
        orders, end = self._orders(persona, first, end)
        self._identify(persona, first)
        for day in self._arrivals(persona.visits * rng.gammavariate(4, 0.25), first, end):
            self._visit(day)
        for day in orders:
            self._order(persona, day)
        for day in self._arrivals(persona.social * rng.gammavariate(4, 0.25), first, end):
            self._social(persona, day)
        if rng.random() < 0.3:
            self._survey(persona, rng.uniform(first, end))
        self._finish()

    def _orders(self, persona: Persona, first: float, end: float) -> tuple[list[float], float]:
        """BG/NBD: a first purchase (buyers), then repeat purchases at a gamma-distributed rate λ until a
        beta-distributed dropout after a purchase."""
        shape, mean = persona.purchase
        rate = self.rng.gammavariate(shape, mean / shape) / 7 if mean else 0.0
        dropout = self.rng.betavariate(*persona.dropout)
        days = [first + self.rng.uniform(0.01, min(3.0, end - first))] if persona.buyer else []
        day = days[0] if days else first + 0.01
        while rate > 0:
            day += self.rng.expovariate(rate)
            if day >= end:
                break
            days.append(day)
            if self.rng.random() < dropout:
                return days, day + 0.01  # gone: no more visits after the last order
        return days, end

    def _arrivals(self, weekly: float, first: float, end: float) -> list[float]:
        """Times of a Poisson process at `weekly` events per week between first and end."""
        times: list[float] = []
        day = first
        while weekly > 0:
            day += self.rng.expovariate(weekly / 7)
            if day >= end:
                return times
            times.append(day)
        return times

    def _add(self, day: float, event: dict[str, Any]) -> None:
        if day <= self.horizon:  # a review due after the simulated today is never written
            self.raw.append((day, event))

    def _identify(self, persona: Persona, day: float) -> None:
        c, rng = self.customer, self.rng
        traits = {"email": c.email, "first_name": c.first_name, "city": rng.choice(CITIES),
                  "age_band": rng.choices(AGE_BANDS, weights=_age_weights(c.persona))[0],
                  "plan": rng.choices(PLANS, weights=persona.plans)[0], "interests": rng.sample(persona.interests, 2),
                  "consent": {"email": c.consent}}  # fmt: skip
        self._add(day, {"type": "identify", "traits": traits})

    def _visit(self, day: float, utm: bool = False) -> None:
        url = f"{SHOP}/?utm_source=instagram&utm_medium=influencer&utm_campaign={INFLUENCER_CAMPAIGN}" if utm else SHOP
        self._add(day, _page("/", url))
        if self.rng.random() < 0.55:
            product = self.rng.choice(PRODUCTS)
            self._add(day + 0.001, {"type": "track", "event": "Product Viewed", "properties": {"product_id": product}})
            if self.rng.random() < 0.3:
                self._add(
                    day + 0.002, {"type": "track", "event": "Product Added", "properties": {"product_id": product}}
                )

    def _order(self, persona: Persona, day: float) -> None:
        """A visit that ends in an order: home, product, basket, checkout; sometimes a review a few days later."""
        c, rng = self.customer, self.rng
        product = rng.choice(PRODUCTS)
        self._add(day - 0.004, _page("/", SHOP))
        self._add(day - 0.003, {"type": "track", "event": "Product Viewed", "properties": {"product_id": product}})
        self._add(day - 0.002, {"type": "track", "event": "Product Added", "properties": {"product_id": product}})
        self._add(day - 0.001, _page("/checkout", f"{SHOP}/checkout"))
        revenue = round(c.order_value * rng.lognormvariate(-0.08, 0.4), 2)  # each order varies around the mean
        properties: dict[str, Any] = {"order_id": f"{c.user_id}-{len(self.raw)}", "revenue": revenue,
                                      "currency": "EUR", "products": [{"product_id": product}]}  # fmt: skip
        order: dict[str, Any] = {"type": "track", "event": "Order Completed", "properties": properties}
        if rng.random() < persona.referral:
            properties["referral_code"] = REFERRAL_CODE
            order["context"] = {
                "campaign": {"source": "instagram", "medium": "influencer", "name": INFLUENCER_CAMPAIGN}
            }
        self._add(day, order)
        if rng.random() < persona.review:
            self._review(persona, day + rng.uniform(2, 6), product)

    def _review(self, persona: Persona, day: float, product: str) -> None:
        mood = self._mood(persona, day)
        text = self.rng.choice(TEXTS[mood])
        rating = {1: self.rng.randint(4, 5), 0: 3, -1: self.rng.randint(1, 2)}[mood]
        self._add(day, {"type": "track", "event": "Review Submitted",
                        "properties": {"product_id": product, "rating": rating, "text": text}})  # fmt: skip

    def _mood(self, persona: Persona, day: float) -> int:
        """1, 0 or -1: the persona's share of happy customers, halved while deliveries were late."""
        happy = persona.happy * (0.5 if BAD_SPELL[0] <= day <= BAD_SPELL[1] else 1.0)
        return self.rng.choices((1, 0, -1), weights=(happy * 0.9, 0.1, 0.9 - happy * 0.9))[0]

    def _social(self, persona: Persona, day: float) -> None:
        posts = [p for p in POSTS if p.day <= day]
        if not posts:
            return
        post = self.rng.choice(posts)
        name = self.rng.choices(("Post Liked", "Comment Posted", "Post Shared"), weights=(0.6, 0.25, 0.15))[0]
        properties: dict[str, Any] = {"platform": "instagram", "post_id": post.post_id}
        if name == "Comment Posted":
            properties["text"] = self.rng.choice(COMMENTS_UP if self._mood(persona, day) > 0 else COMMENTS_DOWN)
        self._add(day, {"type": "track", "event": name, "properties": properties})
        if post.influencer and self.rng.random() < 0.15:
            self._visit(day + 0.01, utm=True)

    def _survey(self, persona: Persona, day: float) -> None:
        mood = self._mood(persona, day)
        score = {1: self.rng.randint(9, 10), 0: self.rng.randint(7, 8), -1: self.rng.randint(0, 6)}[mood]
        properties = {"survey_id": "nps", "score": score, "text": self.rng.choice(TEXTS[mood])}
        self._add(day, {"type": "track", "event": "Survey Responded", "properties": properties})

    def _finish(self) -> None:
        """Events in time order with their user id, timestamp and a message id that is the same on every run."""
        c = self.customer
        self.raw.sort(key=lambda pair: pair[0])
        for j, (day, event) in enumerate(self.raw):
            at = self.start + timedelta(days=day)
            c.events.append(
                event
                | {
                    "userId": c.user_id,
                    "messageId": f"{c.user_id}-{j}",
                    "timestamp": at.isoformat(timespec="milliseconds"),
                }
            )


def _page(path: str, url: str) -> dict[str, Any]:
    page = {"path": path, "url": url}
    return {
        "type": "page",
        "name": "Checkout" if path != "/" else "Home",
        "properties": page,
        "context": {"page": page},
    }


def _age_weights(persona: int) -> list[float]:
    """Younger social fans and new visitors, older loyal customers."""
    return [[0.2, 0.35, 0.25, 0.15, 0.05], [0.02, 0.18, 0.35, 0.3, 0.15], [0.45, 0.4, 0.1, 0.04, 0.01],
            [0.1, 0.25, 0.3, 0.2, 0.15], [0.3, 0.35, 0.2, 0.1, 0.05]][persona]  # fmt: skip


@dataclass(frozen=True)
class Reaction:
    """What one recipient of the campaign did."""

    opened: bool
    proxy_opened: bool  # a privacy proxy fetched the pixel (a machine open)
    clicked: bool
    ordered: bool


def reaction(c: Customer, variant: int, rng: random.Random) -> Reaction:
    """A recipient's response to the mail: their own open and click habits; variant 1 has the better offer."""
    better = min(variant, 1)
    opened = rng.random() < min(1.0, c.open_rate * (1.0, 1.4)[better])
    clicked = opened and rng.random() < min(1.0, c.click_rate * (1.0, 1.4)[better])
    chance = (0.4, 0.55)[better] if clicked else 0.15 if opened else BASE_ORDER_RATE
    return Reaction(opened, rng.random() < 0.12, clicked, rng.random() < chance)


def mail_client_address(index: int, via_proxy: bool) -> str:
    """Where a recipient's mail client calls from: their own address, or one of a mail proxy's few."""
    # Tracking rate-limits email links per address: one address for every reader would be throttled.
    return f"192.0.2.{index % 200}" if via_proxy else f"198.18.{index // 250 % 250}.{index % 250 + 1}"


def holdout_ordered(rng: random.Random) -> bool:
    """Whether someone held out of the campaign orders anyway in the same days."""
    return rng.random() < BASE_ORDER_RATE


def features(customers: list[Customer], today: datetime) -> np.ndarray:
    """What profiles would compute for the clustering features (for tuning and checks, not sent anywhere)."""
    rows = []
    for c in customers:
        times = [datetime.fromisoformat(e["timestamp"]) for e in c.events]
        orders = [e["properties"]["revenue"] for e in c.events if e.get("event") == "Order Completed"]
        social = sum(e.get("event") in ("Post Liked", "Comment Posted", "Post Shared") for e in c.events)
        revenue = sum(orders)
        rows.append([len(orders), revenue, revenue / len(orders) if orders else 0.0,
                     (today - max(times)).total_seconds() / 86400, (today - min(times)).total_seconds() / 86400,
                     social])  # fmt: skip
    return np.array(rows)


def sessions(c: Customer) -> int:
    """Visits as profiles count them (a 30-minute gap ends one)."""
    times = sorted(datetime.fromisoformat(e["timestamp"]) for e in c.events)
    return 1 + sum((b - a).total_seconds() > 1800 for a, b in zip(times, times[1:], strict=False))
