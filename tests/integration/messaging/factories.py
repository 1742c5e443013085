"""Messages for messaging-core tests."""

from __future__ import annotations

from datetime import UTC, datetime

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.pairing_events import PairExplanation, PairFormed, PairSide
from binome_shared.contracts.values import LocalisedText

NOW = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)


def pair_formed(index: int, *, programme_id: str = "prog-1") -> Envelope[PairFormed]:
    return Envelope.new(
        PairFormed(
            pair_id=f"pair-{index}",
            round_id="round-1",
            mentor=PairSide(participant_id=f"Y{index}", business_unit="Digital"),
            mentee=PairSide(participant_id=f"X{index}", business_unit="Finance"),
            explanation=PairExplanation(
                score=0.75,
                breakdown={"needs_coverage": 0.8},
                summary=LocalisedText(
                    fr="Compétences IA pour vos besoins", en="AI skills for your needs"
                ),
            ),
        ),
        source="/binome/pairing",
        time=NOW,
        tenant_id="groupe-exemple",
        programme_id=programme_id,
    )
