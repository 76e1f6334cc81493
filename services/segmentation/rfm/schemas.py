"""Request and response models of RFM: the segment map."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.segmentation.replica.schemas import Freshness


class RfmCell(BaseModel):
    """One cell of the RFM segment map: R score and combined FM score → segment name."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(ge=1, le=5)
    fm: int = Field(ge=1, le=5)
    name: str = Field(min_length=1, max_length=60)


class RfmMap(BaseModel):
    """The RFM segment map; cells left out name their customers "Other"."""

    model_config = ConfigDict(extra="forbid")

    cells: list[RfmCell] = Field(min_length=1, max_length=25)

    @model_validator(mode="after")
    def _unique_cells(self) -> RfmMap:
        if len({(c.r, c.fm) for c in self.cells}) != len(self.cells):
            raise ValueError("each (r, fm) cell may appear once")
        return self


class RfmMapRead(BaseModel):
    """The RFM segment map in force, R descending then FM ascending."""

    cells: list[RfmCell]


class RfmSegmentRead(BaseModel):
    """One named RFM segment: its customers, their share and their average raw R, F and M."""

    segment: str
    customers: int
    share: float
    mean_recency_days: float
    mean_frequency: float
    mean_monetary: float


class RfmCellCount(BaseModel):
    """Customers in one (R, FM) cell of the grid."""

    r: int
    fm: int
    customers: int


class RfmSummaryRead(BaseModel):
    """RFM segments of every customer with an order, as of a moment, largest first; and the grid's cell counts."""

    as_of: datetime
    customers: int
    segments: list[RfmSegmentRead]
    cells: list[RfmCellCount]


class RfmScoreRead(RfmSummaryRead):
    """The summary of a scoring run, with the replica's freshness when it ran."""

    freshness: Freshness
