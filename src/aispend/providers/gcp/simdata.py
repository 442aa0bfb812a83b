"""The simulator's billing export: a seeded, deterministic detailed export table, and its truth.

Rows are generated per usage day, project and SKU (:mod:`.simcatalog`) the way the real
export writes them: hourly usage windows, gross ``cost`` in the billing currency with its
``currency_conversion_rate`` and ``cost_at_list``, ``credits[]`` of several types with negative
amounts, ``export_time`` a few hours after the usage, the load-day partition, and an
``invoice.month`` that for late rows at a month's end is the next month. Rows not yet exported
at the simulator's "now" are not in the table. :meth:`SimulatedExport.restate` appends late
rows with a later ``export_time``, as the export does.

Amounts are kept as exact ``Decimal`` (at most nine decimal places, at most 15 significant
digits), so the FLOAT64 the table holds reads back to the same decimal text; the ground truth
(:mod:`.simtruth`) adds them up exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from aispend.providers.gcp.simcatalog import CATALOG, CREDIT_PLANS, PROJECTS, SimProject, SimSku, Usage

__all__ = ["ExportRow", "SimCredit", "SimulatedExport", "SimulatorSettings"]

NINE_PLACES: Final = Decimal("0.000000001")
RATE_PLACES: Final = Decimal("0.000001")
BASE_RATES: Final = {"USD": Decimal(1), "EUR": Decimal("0.92"), "JPY": Decimal("151.5")}


@dataclass(frozen=True)
class SimulatorSettings:
    """What the simulated export holds. ``now`` defaults to the current hour."""

    seed: int = 20261126
    history_days: int = 100
    currency: str = "USD"
    billing_account_id: str = "01A2B3-C4D5E6-F7A8B9"
    table_project: str = "acme-billing-admin"
    dataset: str = "billing_export"
    now: datetime | None = None
    # The share of a month's last two days' rows that arrive late, in the next invoice month.
    late_share: float = 0.3

    @property
    def table_suffix(self) -> str:
        return self.billing_account_id.replace("-", "_")


@dataclass(frozen=True, slots=True)
class SimCredit:
    type: str
    name: str
    full_name: str
    id: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One row of the detailed export (the fields aispend reads, plus the detailed-only ones)."""

    billing_account_id: str
    sku: SimSku
    project: SimProject
    project_name: str
    project_labels: tuple[tuple[str, str], ...]
    region: str
    usage_start: datetime
    export_time: datetime
    cost: Decimal
    cost_at_list: Decimal
    currency: str
    rate: Decimal
    usage_amount: Decimal
    credits: tuple[SimCredit, ...] = ()
    cost_type: str = "regular"
    invoice_month: str = ""

    @property
    def day(self) -> date:
        return self.usage_start.date()

    @property
    def usage_end(self) -> datetime:
        return self.usage_start + timedelta(hours=1)

    @property
    def partition_time(self) -> datetime:
        """Ingestion-time partitioning: midnight (UTC) of the day the row was loaded."""
        return datetime.combine(self.export_time.date(), time(), tzinfo=UTC)

    @property
    def credit_total(self) -> Decimal:
        return sum((credit.amount for credit in self.credits), Decimal(0))


def _places(value: Decimal) -> Decimal:
    return value.quantize(NINE_PLACES, rounding=ROUND_HALF_EVEN)


@dataclass
class SimulatedExport:
    """The table's rows, generated from the settings, and the restatements appended since."""

    settings: SimulatorSettings = field(default_factory=SimulatorSettings)
    rows: list[ExportRow] = field(init=False)

    def __post_init__(self) -> None:
        now = self.settings.now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.now = now
        self.today = now.date()
        self.first_day = self.today - timedelta(days=self.settings.history_days)
        self._rates: dict[date, Decimal] = {}
        rng = random.Random(self.settings.seed)
        rows = [row for day in self.days() for row in self._day_rows(rng, day)]
        rows.append(self._adjustment())
        self.rows = [row for row in rows if row.export_time <= now]
        self._restatements = 0

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.today - self.first_day).days + 1)]

    def rate(self, day: date, hour: int = 0) -> Decimal:
        """Billing-currency units per US dollar. Non-USD rates move daily, and once mid-day."""
        base = BASE_RATES[self.settings.currency]
        if base == 1:
            return base
        if day not in self._rates:
            wiggle = random.Random(f"{self.settings.seed}:rate:{day}").uniform(-0.02, 0.02)
            self._rates[day] = (base * Decimal(1 + wiggle)).quantize(RATE_PLACES)
        # On the 10th the rate changes at noon: one SKU-day then carries two rates.
        bump = Decimal("0.004") * base if day.day == 10 and hour >= 12 else Decimal(0)
        return (self._rates[day] + bump).quantize(RATE_PLACES)

    def _day_rows(self, rng: random.Random, day: date) -> list[ExportRow]:
        rows = []
        for project in PROJECTS:
            for use in project.uses:
                for _ in range(rng.randint(1, 2)):
                    rows.append(self._row(rng, day, project, use, rng.randint(use.low, use.high)))
        return rows

    def _row(self, rng: random.Random, day: date, project: SimProject, use: Usage, amount: int) -> ExportRow:
        sku = CATALOG[use.sku]
        hour = rng.randrange(24)
        start = datetime.combine(day, time(hour), tzinfo=UTC)
        export_time = start + timedelta(hours=1 + rng.randint(2, 30))
        invoice = day.strftime("%Y%m")
        next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        if (next_month - day).days <= 2 and rng.random() < self.settings.late_share:
            # Late usage at a month's end lands on the next invoice month.
            export_time = datetime.combine(next_month, time(rng.randrange(24)), tzinfo=UTC) + timedelta(
                days=rng.randint(0, 2)
            )
            invoice = next_month.strftime("%Y%m")
        return self._priced(project, use.region, sku, start, export_time, Decimal(amount), invoice)

    def _priced(
        self,
        project: SimProject,
        region: str,
        sku: SimSku,
        start: datetime,
        export_time: datetime,
        amount: Decimal,
        invoice: str,
    ) -> ExportRow:
        rate = self.rate(start.date(), start.hour)
        list_usd = amount * sku.price / sku.per
        cost = _places(list_usd * (1 - project.discount) * rate)
        credits = tuple(
            SimCredit(plan.type, plan.name, plan.full_name, plan.id, -_places(cost * plan.fraction))
            for plan in CREDIT_PLANS
            if project.id in plan.projects and sku.service in plan.services
        )
        renamed = bool(project.former_name) and start.date() < self.today - timedelta(days=20)
        return ExportRow(
            billing_account_id=self.settings.billing_account_id,
            sku=sku,
            project=project,
            project_name=project.former_name if renamed else project.name,
            project_labels=project.former_labels if renamed else project.labels,
            region=region,
            usage_start=start,
            export_time=export_time,
            cost=cost,
            cost_at_list=_places(list_usd * rate),
            currency=self.settings.currency,
            rate=rate,
            usage_amount=amount,
            credits=credits,
            invoice_month=invoice,
        )

    def _adjustment(self) -> ExportRow:
        """A goodwill adjustment: money on a Gemini SKU, no usage, its own cost type."""
        project = PROJECTS[2]
        sku = CATALOG["96EA-8692-BEAE"]
        start = datetime.combine(self.today - timedelta(days=12), time(9), tzinfo=UTC)
        row = self._priced(project, "global", sku, start, start + timedelta(hours=6), Decimal(0), "")
        amount = _places(Decimal("-1.234567") * row.rate)
        return replace(
            row,
            cost=amount,
            cost_at_list=Decimal(0),
            credits=(),
            cost_type="adjustment",
            invoice_month=start.strftime("%Y%m"),
        )

    def restate(self, day: date, rows: int = 6) -> list[ExportRow]:
        """Append late rows for usage ``day`` with a later ``export_time`` (now), as the export does.

        Returns the rows appended. Their usage is real usage of that day that arrived late,
        priced and credited like any other row; the totals of ``day`` grow by exactly them.
        """
        self._restatements += 1
        rng = random.Random(f"{self.settings.seed}:restate:{day}:{self._restatements}")
        uses = [(project, use) for project in PROJECTS for use in project.uses]
        added = []
        for project, use in rng.sample(uses, rows):
            start = datetime.combine(day, time(rng.randrange(24)), tzinfo=UTC)
            amount = Decimal(rng.randint(use.low, use.high))
            sku = CATALOG[use.sku]
            added.append(
                self._priced(project, use.region, sku, start, self.now, amount, self.today.strftime("%Y%m"))
            )
        self.rows += added
        return added
