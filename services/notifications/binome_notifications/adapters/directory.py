"""What the service remembers to write to people: programmes, people, pairs, sessions and
preferences, as named statements over the service's own schema."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from binome_notifications.domain.model import (
    Channel,
    Language,
    LocalizedText,
    NotificationKind,
    Person,
)
from binome_notifications.domain.policy import OptOut, Preferences

HR_CONTACT_ID_PREFIX = "hr:"
"""The HR contact's recipient id is ``hr:<programme id>``: one contact per programme."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeRecord:
    """A programme as DefineProgramme last described it."""

    programme_id: str
    tenant_id: str
    name: str
    language: Language
    time_zone: str
    contact_name: str
    contact_email: str
    contact_language: Language
    reminder_lead: timedelta
    themes: dict[str, LocalizedText] = field(default_factory=dict)
    feedback_after_each_session: bool = True
    feedback_delay: timedelta = timedelta(0)

    @property
    def hr_contact(self) -> Person:
        """The programme's HR contact as a reader of e-mails."""
        return Person(
            person_id=f"{HR_CONTACT_ID_PREFIX}{self.programme_id}",
            display_name=self.contact_name,
            email=self.contact_email,
            language=self.contact_language,
            time_zone=self.time_zone,
        )

    def theme(self, key: str) -> LocalizedText:
        """The title of a session theme; the key itself when the plan does not name it."""
        return self.themes.get(key) or LocalizedText(fr=key, en=key)


@dataclass(frozen=True, slots=True, kw_only=True)
class PairRecord:
    """Who is in a pair, by participant id."""

    pair_id: str
    programme_id: str
    mentor_id: str
    mentee_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """A session's latest calendar revision."""

    session_id: str
    pair_id: str
    session_number: int
    theme_key: str
    starts_at: datetime
    duration_minutes: int
    location: str
    sequence: int

    @property
    def ends_at(self) -> datetime:
        """When the session is planned to end."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)


_UPSERT_PROGRAMME = """
INSERT INTO programmes (programme_id, tenant_id, name, language, time_zone, contact_name,
    contact_email, contact_language, reminder_hours_before, themes,
    feedback_after_each_session, feedback_delay_hours, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, clock_timestamp())
ON CONFLICT (programme_id) DO UPDATE SET
    tenant_id = EXCLUDED.tenant_id, name = EXCLUDED.name, language = EXCLUDED.language,
    time_zone = EXCLUDED.time_zone, contact_name = EXCLUDED.contact_name,
    contact_email = EXCLUDED.contact_email, contact_language = EXCLUDED.contact_language,
    reminder_hours_before = EXCLUDED.reminder_hours_before, themes = EXCLUDED.themes,
    feedback_after_each_session = EXCLUDED.feedback_after_each_session,
    feedback_delay_hours = EXCLUDED.feedback_delay_hours, updated_at = clock_timestamp()
"""
_PROGRAMME = """
SELECT programme_id, tenant_id, name, language, time_zone, contact_name, contact_email,
       contact_language, reminder_hours_before, themes, feedback_after_each_session,
       feedback_delay_hours
FROM programmes WHERE programme_id = $1
"""
_UPSERT_PERSON = """
INSERT INTO people (tenant_id, programme_id, participant_id, full_name, email, language,
    time_zone, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp())
ON CONFLICT (programme_id, participant_id) DO UPDATE SET
    tenant_id = EXCLUDED.tenant_id, full_name = EXCLUDED.full_name, email = EXCLUDED.email,
    language = EXCLUDED.language, time_zone = EXCLUDED.time_zone, updated_at = clock_timestamp()
"""
_PERSON = """
SELECT participant_id, full_name, email, language, time_zone
FROM people WHERE programme_id = $1 AND participant_id = $2
"""
_ERASE_PERSON = "DELETE FROM people WHERE tenant_id = $1 AND participant_id = $2"
_ERASE_PREFERENCES = (
    "DELETE FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2"
)
_RECORD_PAIR = """
INSERT INTO pairs (pair_id, programme_id, mentor_id, mentee_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (pair_id) DO UPDATE SET mentor_id = EXCLUDED.mentor_id, mentee_id = EXCLUDED.mentee_id
"""
_PAIR = "SELECT pair_id, programme_id, mentor_id, mentee_id FROM pairs WHERE pair_id = $1"
_RECORD_SESSION = """
INSERT INTO sessions (session_id, pair_id, session_number, theme_key, starts_at,
    duration_minutes, location, sequence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (session_id) DO UPDATE SET
    theme_key = EXCLUDED.theme_key, starts_at = EXCLUDED.starts_at,
    duration_minutes = EXCLUDED.duration_minutes, location = EXCLUDED.location,
    sequence = EXCLUDED.sequence
WHERE sessions.sequence <= EXCLUDED.sequence
"""
_SESSION = """
SELECT session_id, pair_id, session_number, theme_key, starts_at, duration_minutes, location,
       sequence
FROM sessions WHERE session_id = $1
"""
_PREFERENCES = """
SELECT opt_outs FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2
"""
_SAVE_PREFERENCES = """
INSERT INTO notification_preferences (tenant_id, participant_id, opt_outs)
VALUES ($1, $2, $3::jsonb)
ON CONFLICT (tenant_id, participant_id) DO UPDATE SET opt_outs = EXCLUDED.opt_outs
"""


async def save_programme(conn: asyncpg.Connection, programme: ProgrammeRecord) -> None:
    """Create or replace a programme."""
    themes = {key: {"fr": text.fr, "en": text.en} for key, text in programme.themes.items()}
    await conn.execute(
        _UPSERT_PROGRAMME,
        programme.programme_id,
        programme.tenant_id,
        programme.name,
        programme.language.value,
        programme.time_zone,
        programme.contact_name,
        programme.contact_email,
        programme.contact_language.value,
        int(programme.reminder_lead.total_seconds() // 3600),
        json.dumps(themes),
        programme.feedback_after_each_session,
        int(programme.feedback_delay.total_seconds() // 3600),
    )


async def load_programme(conn: asyncpg.Connection, programme_id: str) -> ProgrammeRecord | None:
    """The programme, or None if DefineProgramme has not been seen."""
    row = await conn.fetchrow(_PROGRAMME, programme_id)
    if row is None:
        return None
    themes = {
        key: LocalizedText(fr=text["fr"], en=text["en"])
        for key, text in json.loads(row["themes"]).items()
    }
    return ProgrammeRecord(
        programme_id=row["programme_id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        language=Language(row["language"]),
        time_zone=row["time_zone"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        contact_language=Language(row["contact_language"]),
        reminder_lead=timedelta(hours=row["reminder_hours_before"]),
        themes=themes,
        feedback_after_each_session=row["feedback_after_each_session"],
        feedback_delay=timedelta(hours=row["feedback_delay_hours"]),
    )


async def save_person(
    conn: asyncpg.Connection, *, tenant_id: str, programme_id: str, person: Person
) -> None:
    """Create or replace what the service knows of a participant."""
    await save_people(conn, [(tenant_id, programme_id, person)])


async def save_people(conn: asyncpg.Connection, people: Sequence[tuple[str, str, Person]]) -> None:
    """Create or replace several participants (tenant, programme, person), in order."""
    await conn.executemany(
        _UPSERT_PERSON,
        [
            (
                tenant_id,
                programme_id,
                person.person_id,
                person.display_name,
                person.email,
                (person.language or Language.FR).value,
                person.time_zone or "Europe/Paris",
            )
            for tenant_id, programme_id, person in people
        ],
    )


async def load_person(
    conn: asyncpg.Connection, *, programme_id: str, participant_id: str
) -> Person | None:
    """A participant of the programme, or None if not enrolled (or erased)."""
    row = await conn.fetchrow(_PERSON, programme_id, participant_id)
    if row is None:
        return None
    return Person(
        person_id=row["participant_id"],
        display_name=row["full_name"],
        email=row["email"],
        language=Language(row["language"]),
        time_zone=row["time_zone"],
    )


async def erase_person(conn: asyncpg.Connection, *, tenant_id: str, participant_id: str) -> int:
    """Delete a participant's personal data in every programme of the tenant; rows deleted."""
    status = await conn.execute(_ERASE_PERSON, tenant_id, participant_id)
    await conn.execute(_ERASE_PREFERENCES, tenant_id, participant_id)
    return int(status.rsplit(" ", 1)[1])


async def save_pair(conn: asyncpg.Connection, pair: PairRecord) -> None:
    """Remember who is in a pair."""
    await conn.execute(
        _RECORD_PAIR, pair.pair_id, pair.programme_id, pair.mentor_id, pair.mentee_id
    )


async def load_pair(conn: asyncpg.Connection, pair_id: str) -> PairRecord | None:
    """The pair, or None if PairFormed has not been seen."""
    row = await conn.fetchrow(_PAIR, pair_id)
    return None if row is None else PairRecord(**dict(row))


async def save_session(conn: asyncpg.Connection, session: SessionRecord) -> None:
    """Remember a session's revision (an older revision arriving late changes nothing)."""
    await conn.execute(
        _RECORD_SESSION,
        session.session_id,
        session.pair_id,
        session.session_number,
        session.theme_key,
        session.starts_at,
        session.duration_minutes,
        session.location,
        session.sequence,
    )


async def load_session(conn: asyncpg.Connection, session_id: str) -> SessionRecord | None:
    """The session's latest revision, or None if it was never scheduled."""
    row = await conn.fetchrow(_SESSION, session_id)
    return None if row is None else SessionRecord(**dict(row))


async def load_preferences(
    conn: asyncpg.Connection, *, tenant_id: str, participant_id: str
) -> Preferences:
    """A participant's opt-outs (none when never set)."""
    raw = await conn.fetchval(_PREFERENCES, tenant_id, participant_id)
    if raw is None:
        return Preferences()
    return Preferences(
        opt_outs=frozenset(
            OptOut(
                kind=NotificationKind(item["kind"]) if item.get("kind") else None,
                channel=Channel(item["channel"]) if item.get("channel") else None,
            )
            for item in json.loads(raw)
        )
    )


async def save_preferences(
    conn: asyncpg.Connection, *, tenant_id: str, participant_id: str, preferences: Preferences
) -> None:
    """Replace a participant's opt-outs."""
    items = sorted(
        (
            {
                "kind": opt_out.kind.value if opt_out.kind else None,
                "channel": opt_out.channel.value if opt_out.channel else None,
            }
            for opt_out in preferences.opt_outs
        ),
        key=lambda item: (item["kind"] or "", item["channel"] or ""),
    )
    await conn.execute(_SAVE_PREFERENCES, tenant_id, participant_id, json.dumps(items))
