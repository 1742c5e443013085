"""The directory's storage: programmes, people, pairs, sessions and preferences, as named
statements over the service's own schema, returning the domain's typed records.

What one event about a pair needs (programme, mentor, mentee and their opt-outs) is read in
one statement (:meth:`PostgresDirectory.pair_people`, :meth:`PostgresDirectory.people_of_pair`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg

from binome_notifications.domain.directory import (
    EnrolledPerson,
    ErasedPerson,
    PairPeople,
    PairRecord,
    ProgrammeRecord,
    SessionRecord,
)
from binome_notifications.domain.model import DEFAULT_TIME_ZONE, Channel, NotificationKind, Person
from binome_notifications.domain.policy import OptOut, Preferences
from binome_shared.contracts.values import Language, LocalisedText
from binome_shared.db import erasures
from binome_shared.db.status import rows_affected


class Directory(Protocol):
    """What handlers need from the directory (Postgres in production, a fake in unit tests).
    Everything is read and written within one tenant."""

    async def save_programme(self, programme: ProgrammeRecord) -> None: ...

    async def programme(self, tenant_id: str, programme_id: str) -> ProgrammeRecord | None: ...

    async def save_people(self, people: Sequence[EnrolledPerson]) -> None: ...

    async def erase_person(self, *, tenant_id: str, participant_id: str) -> ErasedPerson: ...

    async def record_erasure(
        self, tenant_id: str, participant_id: str, *, at: datetime
    ) -> bool: ...

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]: ...

    async def save_preferences(
        self, *, tenant_id: str, participant_id: str, preferences: Preferences
    ) -> None: ...

    async def save_pair(self, pair: PairRecord) -> None: ...

    async def pair_people(self, pair: PairRecord) -> PairPeople: ...

    async def people_of_pair(self, tenant_id: str, pair_id: str) -> PairPeople | None: ...

    async def save_session(self, tenant_id: str, session: SessionRecord) -> None: ...

    async def session(self, tenant_id: str, session_id: str) -> SessionRecord | None: ...


_PROGRAMME_COLUMNS = """programme.programme_id, programme.tenant_id, programme.name,
       programme.language, programme.time_zone, programme.contact_name,
       programme.contact_email, programme.contact_language, programme.reminder_hours_before,
       programme.themes, programme.feedback_after_each_session, programme.feedback_delay_hours"""
_UPSERT_PROGRAMME = """
INSERT INTO programmes (programme_id, tenant_id, name, language, time_zone, contact_name,
    contact_email, contact_language, reminder_hours_before, themes,
    feedback_after_each_session, feedback_delay_hours, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, clock_timestamp())
ON CONFLICT (tenant_id, programme_id) DO UPDATE SET
    name = EXCLUDED.name, language = EXCLUDED.language,
    time_zone = EXCLUDED.time_zone, contact_name = EXCLUDED.contact_name,
    contact_email = EXCLUDED.contact_email, contact_language = EXCLUDED.contact_language,
    reminder_hours_before = EXCLUDED.reminder_hours_before, themes = EXCLUDED.themes,
    feedback_after_each_session = EXCLUDED.feedback_after_each_session,
    feedback_delay_hours = EXCLUDED.feedback_delay_hours, updated_at = clock_timestamp()
"""
_PROGRAMME = f"""
SELECT {_PROGRAMME_COLUMNS} FROM programmes AS programme
WHERE programme.tenant_id = $1 AND programme.programme_id = $2
"""
_UPSERT_PERSON = """
INSERT INTO people (tenant_id, programme_id, participant_id, full_name, email, language,
    time_zone, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp())
ON CONFLICT (tenant_id, programme_id, participant_id) DO UPDATE SET
    full_name = EXCLUDED.full_name, email = EXCLUDED.email,
    language = EXCLUDED.language, time_zone = EXCLUDED.time_zone, updated_at = clock_timestamp()
"""
_ERASE_PERSON = """
DELETE FROM people WHERE tenant_id = $1 AND participant_id = $2 RETURNING lower(email) AS email
"""
# A programme whose HR contact was the erased person keeps no contact (HR sets a new one).
_ERASE_CONTACT = """
UPDATE programmes SET contact_name = NULL, contact_email = NULL, updated_at = clock_timestamp()
WHERE tenant_id = $1 AND lower(contact_email) = ANY($2::text[])
"""
# The pair stays known without the erased member, so that later events about it are skipped.
_ERASE_MEMBER = """
UPDATE pairs SET
    mentor_id = CASE WHEN mentor_id = $2 THEN NULL ELSE mentor_id END,
    mentee_id = CASE WHEN mentee_id = $2 THEN NULL ELSE mentee_id END
WHERE tenant_id = $1 AND (mentor_id = $2 OR mentee_id = $2)
RETURNING pair_id
"""
# Nothing is sent about a pair with an erased member again, so its sessions' calendar
# revisions (their place is free text: a person's office, an address) are never read again: a
# later event about the pair is skipped before its session is looked up.
_ERASE_SESSIONS = "DELETE FROM sessions WHERE tenant_id = $1 AND pair_id = ANY($2::text[])"
_ERASE_PREFERENCES = (
    "DELETE FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2"
)
_RECORD_PAIR = """
INSERT INTO pairs (tenant_id, pair_id, programme_id, mentor_id, mentee_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, pair_id) DO UPDATE SET
    mentor_id = EXCLUDED.mentor_id, mentee_id = EXCLUDED.mentee_id
"""
# The pair's programme, its two members and their opt-outs, all within the pair's tenant, in
# one statement; each part is NULL when not known yet.
_PAIR_PEOPLE_COLUMNS = f"""pair.tenant_id AS pair_tenant_id, pair.pair_id,
       pair.programme_id AS pair_programme_id, pair.mentor_id, pair.mentee_id,
       {_PROGRAMME_COLUMNS},
       mentor.full_name AS mentor_full_name, mentor.email AS mentor_email,
       mentor.language AS mentor_language, mentor.time_zone AS mentor_time_zone,
       mentor_preferences.opt_outs AS mentor_opt_outs,
       mentee.full_name AS mentee_full_name, mentee.email AS mentee_email,
       mentee.language AS mentee_language, mentee.time_zone AS mentee_time_zone,
       mentee_preferences.opt_outs AS mentee_opt_outs"""
_PAIR_PEOPLE_JOINS = """
LEFT JOIN programmes AS programme
    ON programme.tenant_id = pair.tenant_id AND programme.programme_id = pair.programme_id
LEFT JOIN people AS mentor
    ON mentor.tenant_id = pair.tenant_id AND mentor.programme_id = pair.programme_id
   AND mentor.participant_id = pair.mentor_id
LEFT JOIN people AS mentee
    ON mentee.tenant_id = pair.tenant_id AND mentee.programme_id = pair.programme_id
   AND mentee.participant_id = pair.mentee_id
LEFT JOIN notification_preferences AS mentor_preferences
    ON mentor_preferences.tenant_id = pair.tenant_id
   AND mentor_preferences.participant_id = pair.mentor_id
LEFT JOIN notification_preferences AS mentee_preferences
    ON mentee_preferences.tenant_id = pair.tenant_id
   AND mentee_preferences.participant_id = pair.mentee_id
"""
_PAIR_PEOPLE = f"""
SELECT {_PAIR_PEOPLE_COLUMNS}
FROM (SELECT $1::text AS tenant_id, $2::text AS pair_id, $3::text AS programme_id,
             $4::text AS mentor_id, $5::text AS mentee_id) AS pair
{_PAIR_PEOPLE_JOINS}
"""
_PEOPLE_OF_PAIR = f"""
SELECT {_PAIR_PEOPLE_COLUMNS}
FROM pairs AS pair
{_PAIR_PEOPLE_JOINS}
WHERE pair.tenant_id = $1 AND pair.pair_id = $2
"""
_RECORD_SESSION = """
INSERT INTO sessions (tenant_id, session_id, pair_id, session_number, theme_key, starts_at,
    duration_minutes, location, sequence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (tenant_id, session_id) DO UPDATE SET
    theme_key = EXCLUDED.theme_key, starts_at = EXCLUDED.starts_at,
    duration_minutes = EXCLUDED.duration_minutes, location = EXCLUDED.location,
    sequence = EXCLUDED.sequence
WHERE sessions.sequence <= EXCLUDED.sequence
"""
_SESSION = """
SELECT session_id, pair_id, session_number, theme_key, starts_at, duration_minutes, location,
       sequence
FROM sessions WHERE tenant_id = $1 AND session_id = $2
"""
_SAVE_PREFERENCES = """
INSERT INTO notification_preferences (tenant_id, participant_id, opt_outs)
VALUES ($1, $2, $3::jsonb)
ON CONFLICT (tenant_id, participant_id) DO UPDATE SET opt_outs = EXCLUDED.opt_outs
"""

_PREFERENCES_OF = """
SELECT opt_outs FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2
"""


class PostgresDirectory:
    """:class:`Directory` on the service's schema, inside the caller's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def save_programme(self, programme: ProgrammeRecord) -> None:
        """Create or replace a programme."""
        themes = {key: {"fr": text.fr, "en": text.en} for key, text in programme.themes.items()}
        await self._conn.execute(
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

    async def programme(self, tenant_id: str, programme_id: str) -> ProgrammeRecord | None:
        """The tenant's programme, or None if its DefineProgramme has not been seen."""
        row = await self._conn.fetchrow(_PROGRAMME, tenant_id, programme_id)
        return None if row is None else _programme(row)

    async def save_people(self, people: Sequence[EnrolledPerson]) -> None:
        """Create or replace several participants, in order."""
        await self._conn.executemany(
            _UPSERT_PERSON,
            [
                (
                    enrolled.tenant_id,
                    enrolled.programme_id,
                    enrolled.person.person_id,
                    enrolled.person.display_name,
                    enrolled.person.email,
                    (enrolled.person.language or Language.FR).value,
                    enrolled.person.time_zone or DEFAULT_TIME_ZONE,
                )
                for enrolled in people
            ],
        )

    async def erase_person(self, *, tenant_id: str, participant_id: str) -> ErasedPerson:
        """Delete a participant's personal data in every programme of the tenant: profiles,
        opt-outs, programme contacts that were their address, their id in pairs, and the
        sessions of those pairs."""
        profiles = await self._conn.fetch(_ERASE_PERSON, tenant_id, participant_id)
        addresses = frozenset(row["email"] for row in profiles)
        await self._conn.execute(_ERASE_PREFERENCES, tenant_id, participant_id)
        contacts = await self._conn.execute(_ERASE_CONTACT, tenant_id, sorted(addresses))
        pairs = await self._conn.fetch(_ERASE_MEMBER, tenant_id, participant_id)
        pair_ids = tuple(row["pair_id"] for row in pairs)
        sessions = await self._conn.execute(_ERASE_SESSIONS, tenant_id, list(pair_ids))
        return ErasedPerson(
            profiles=len(profiles),
            addresses=addresses,
            pair_ids=pair_ids,
            contacts=rows_affected(contacts),
            sessions=rows_affected(sessions),
        )

    async def record_erasure(self, tenant_id: str, participant_id: str, *, at: datetime) -> bool:
        """Remember the person as erased in the tenant; False if they already were."""
        return await erasures.record_erasure(self._conn, tenant_id, participant_id, at=at)

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]:
        """Which of these people were erased in the tenant."""
        return await erasures.erased_among(self._conn, tenant_id, participant_ids)

    async def save_preferences(
        self, *, tenant_id: str, participant_id: str, preferences: Preferences
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
        await self._conn.execute(_SAVE_PREFERENCES, tenant_id, participant_id, json.dumps(items))

    async def preferences_of(self, tenant_id: str, participant_id: str) -> Preferences:
        """A participant's opt-outs (none when never set): what a preferences page shows."""
        raw = await self._conn.fetchval(_PREFERENCES_OF, tenant_id, participant_id)
        return Preferences() if raw is None else _preferences(raw)

    async def save_pair(self, pair: PairRecord) -> None:
        """Remember who is in a pair."""
        await self._conn.execute(
            _RECORD_PAIR,
            pair.tenant_id,
            pair.pair_id,
            pair.programme_id,
            pair.mentor_id,
            pair.mentee_id,
        )

    async def pair_people(self, pair: PairRecord) -> PairPeople:
        """The programme, members and opt-outs of a pair the caller knows (a new one)."""
        row = await self._conn.fetchrow(
            _PAIR_PEOPLE,
            pair.tenant_id,
            pair.pair_id,
            pair.programme_id,
            pair.mentor_id,
            pair.mentee_id,
        )
        assert row is not None  # a FROM of one literal row always gives one row
        return _pair_people(row)

    async def people_of_pair(self, tenant_id: str, pair_id: str) -> PairPeople | None:
        """The same for a stored pair of the tenant, or None if its PairFormed has not been
        seen."""
        row = await self._conn.fetchrow(_PEOPLE_OF_PAIR, tenant_id, pair_id)
        return None if row is None else _pair_people(row)

    async def save_session(self, tenant_id: str, session: SessionRecord) -> None:
        """Remember a session's revision (an older revision arriving late changes nothing)."""
        await self._conn.execute(
            _RECORD_SESSION,
            tenant_id,
            session.session_id,
            session.pair_id,
            session.session_number,
            session.theme_key,
            session.starts_at,
            session.duration_minutes,
            session.location,
            session.sequence,
        )

    async def session(self, tenant_id: str, session_id: str) -> SessionRecord | None:
        """The tenant's session's latest revision, or None if it was never scheduled."""
        row = await self._conn.fetchrow(_SESSION, tenant_id, session_id)
        return None if row is None else SessionRecord(**dict(row))


def _programme(row: Any) -> ProgrammeRecord:
    # Stored texts were validated when their command came in: read back as they are.
    themes = {
        key: LocalisedText.model_construct(fr=text["fr"], en=text["en"])
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


def _pair_people(row: Any) -> PairPeople:
    pair = PairRecord(
        tenant_id=row["pair_tenant_id"],
        pair_id=row["pair_id"],
        programme_id=row["pair_programme_id"],
        mentor_id=row["mentor_id"],
        mentee_id=row["mentee_id"],
    )
    preferences = {
        participant_id: _preferences(raw)
        for participant_id, raw in (
            (pair.mentor_id, row["mentor_opt_outs"]),
            (pair.mentee_id, row["mentee_opt_outs"]),
        )
        if participant_id is not None and raw is not None
    }
    return PairPeople(
        pair=pair,
        programme=None if row["programme_id"] is None else _programme(row),
        mentor=_person(row, "mentor", pair.mentor_id),
        mentee=_person(row, "mentee", pair.mentee_id),
        preferences=preferences,
    )


def _person(row: Any, side: str, participant_id: str | None) -> Person | None:
    """One member of the pair from the joined row, or None if not enrolled (or erased)."""
    if participant_id is None or row[f"{side}_full_name"] is None:
        return None
    return Person(
        person_id=participant_id,
        display_name=row[f"{side}_full_name"],
        email=row[f"{side}_email"],
        language=Language(row[f"{side}_language"]),
        time_zone=row[f"{side}_time_zone"],
    )


def _preferences(raw: str) -> Preferences:
    return Preferences(
        opt_outs=frozenset(
            OptOut(
                kind=NotificationKind(item["kind"]) if item.get("kind") else None,
                channel=Channel(item["channel"]) if item.get("channel") else None,
            )
            for item in json.loads(raw)
        )
    )
