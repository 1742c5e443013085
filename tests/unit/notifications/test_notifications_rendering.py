import email
import html as html_module
import json
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

from binome_devstack.notifications.examples import EXAMPLE_NOW, example_trigger
from binome_notifications.adapters.mime import build_mime_message, message_id_for
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.model import Channel, Notification, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_notifications.domain.triggers import PairFitConcern, PairFormed
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

KIND = NotificationKind
BASE = "https://binome.example.com/app"
RENDERER = NotificationRenderer(public_base_url=BASE + "/", organizer_email="noreply@example.com")

SESSION_FR = "jeudi 3 décembre 2026 à 14 h 00 (Europe/Paris)"
SESSION_EN = "Thursday 3 December 2026, 2:00 PM (Europe/Paris)"

# kind -> language -> (subject fragments, body fragments); every body fragment must appear in
# both the text and the HTML part.
EXPECTED: dict[NotificationKind, dict[Language, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    KIND.INTRODUCTION: {
        Language.FR: (
            ("Votre binôme", "Laurent Girard"),
            (
                "Bonjour Inès Moreau",
                "Vous accompagnerez",
                "Directeur financier",
                "Inès maîtrise LinkedIn et les outils collaboratifs",
                "Première étape",
                f"{BASE}/pairs/pair-42",
            ),
        ),
        Language.EN: (
            ("Meet your partner", "Laurent Girard"),
            (
                "Hello Inès Moreau",
                "You will mentor",
                "Directeur financier",
                "Inès masters LinkedIn and collaborative tools",
                "First step",
                f"{BASE}/pairs/pair-42",
            ),
        ),
    },
    KIND.SESSION_INVITATION: {
        Language.FR: (
            ("Séance confirmée", "Laurent Girard", "jeudi 3 décembre 2026"),
            (
                SESSION_FR,
                "fin à 15 h 00",
                "Réseaux sociaux professionnels",
                "n° 2",
                "https://visio.example.com/binome-42",
                f"{BASE}/sessions/session-7",
                "invite.ics",
            ),
        ),
        Language.EN: (
            ("Session confirmed", "Laurent Girard", "Thursday 3 December 2026"),
            (
                SESSION_EN,
                "ends at 3:00 PM",
                "Professional social networks",
                "https://visio.example.com/binome-42",
                f"{BASE}/sessions/session-7",
                "invite.ics",
            ),
        ),
    },
    KIND.SESSION_REMINDER: {
        Language.FR: (
            ("Rappel", "Laurent Girard", "jeudi 3 décembre 2026 à 14 h 00"),
            (SESSION_FR, "Réseaux sociaux professionnels", f"{BASE}/sessions/session-7"),
        ),
        Language.EN: (
            ("Reminder", "Laurent Girard", "Thursday 3 December 2026 at 2:00 PM"),
            (SESSION_EN, "Professional social networks", f"{BASE}/sessions/session-7"),
        ),
    },
    KIND.SESSION_CANCELLATION: {
        Language.FR: (
            ("Séance annulée", "Laurent Girard", "jeudi 3 décembre 2026"),
            (f"prévue le {SESSION_FR}, est annulée", "Conflit d'agenda", f"{BASE}/pairs/pair-42"),
        ),
        Language.EN: (
            ("Session cancelled", "Laurent Girard", "Thursday 3 December 2026"),
            (
                f"planned for {SESSION_EN}, is cancelled",
                "Calendar conflict",
                f"{BASE}/pairs/pair-42",
            ),
        ),
    },
    KIND.FEEDBACK_REQUEST: {
        Language.FR: (
            ("Comment s'est passée", "Laurent Girard"),
            (
                "jeudi 3 décembre 2026 à 15 h 00 (Europe/Paris)",
                "Réseaux sociaux professionnels",
                f"{BASE}/sessions/session-7/feedback",
            ),
        ),
        Language.EN: (
            ("How did your session", "Laurent Girard"),
            (
                "Thursday 3 December 2026, 3:00 PM (Europe/Paris)",
                "Professional social networks",
                f"{BASE}/sessions/session-7/feedback",
            ),
        ),
    },
    KIND.STALL_NUDGE: {
        Language.FR: (
            ("Laurent Girard",),
            ("5 semaines", "jeudi 22 octobre 2026", f"{BASE}/pairs/pair-42/schedule"),
        ),
        Language.EN: (
            ("Laurent Girard",),
            ("5 weeks", "Thursday 22 October 2026", f"{BASE}/pairs/pair-42/schedule"),
        ),
    },
    KIND.HR_STALL_ALERT: {
        Language.FR: (
            ("Comex digital 2026", "5 semaines"),
            (
                "Bonjour Claire Fontaine",
                "Inès Moreau",
                "Laurent Girard",
                "jeudi 22 octobre 2026",
                f"{BASE}/programmes/engie-comex-2026/pairs/pair-42",
            ),
        ),
        Language.EN: (
            ("Comex digital 2026", "5 weeks"),
            (
                "Hello Claire Fontaine",
                "Inès Moreau",
                "Laurent Girard",
                "Thursday 22 October 2026",
                f"{BASE}/programmes/engie-comex-2026/pairs/pair-42",
            ),
        ),
    },
    KIND.HR_FIT_ALERT: {
        Language.FR: (
            ("Comex digital 2026", "ne semble pas bien assorti"),
            (
                "Bonjour Claire Fontaine",
                "Inès Moreau",
                "Laurent Girard",
                "(mentoré·e)",
                "la personne mentorée a indiqué, après la séance n° 1, que ce binôme ne lui "
                "semble pas bien assorti",
                "en parler avec l'un et l'autre",
                "DissolvePair",
                "un nouveau binôme pour chacune des deux personnes",
                f"{BASE}/programmes/engie-comex-2026/pairs/pair-42",
            ),
        ),
        Language.EN: (
            ("Comex digital 2026", "may not be a good fit"),
            (
                "Hello Claire Fontaine",
                "Inès Moreau",
                "Laurent Girard",
                "(mentee)",
                "the mentee said, after session 1, that the pair does not seem to be a good fit",
                "talk with each of them",
                "DissolvePair",
                "looks for a new partner for each of them",
                f"{BASE}/programmes/engie-comex-2026/pairs/pair-42",
            ),
        ),
    },
    KIND.MATCHING_SUMMARY: {
        Language.FR: (
            ("24 binômes formés",),
            (
                "Aucun mentor ne partage sa langue",
                "Capacité des mentors atteinte",
                "82 / 100",
                f"{BASE}/programmes/engie-comex-2026/rounds/round-1",
            ),
        ),
        Language.EN: (
            ("24 pairs formed",),
            (
                "No mentor shares their language",
                "Mentor capacity reached",
                "82 / 100",
                f"{BASE}/programmes/engie-comex-2026/rounds/round-1",
            ),
        ),
    },
    KIND.PROGRESS_REPORT: {
        Language.FR: (
            ("point d'étape", "lundi 30 novembre 2026"),
            (
                "dimanche 1er novembre 2026",
                "48",
                "76 %",
                f"{BASE}/programmes/engie-comex-2026/progress",
            ),
        ),
        Language.EN: (
            ("progress", "Monday 30 November 2026"),
            ("Sunday 1 November 2026", "48", "76%", f"{BASE}/programmes/engie-comex-2026/progress"),
        ),
    },
    KIND.PAIR_THANKS: {
        Language.FR: (
            ("Merci", "Laurent Girard"),
            ("8 séances", f"{BASE}/pairs/pair-42/survey"),
        ),
        Language.EN: (
            ("Thank you", "Laurent Girard"),
            ("8 sessions", f"{BASE}/pairs/pair-42/survey"),
        ),
    },
    KIND.CONSENT_REQUEST: {
        Language.FR: (
            ("Acceptez-vous", "Laurent Girard"),
            (
                "lundi 7 décembre 2026 à 10 h 00",
                f"{BASE}/pairs/pair-42/consent/accept",
                f"{BASE}/pairs/pair-42/consent/decline",
            ),
        ),
        Language.EN: (
            ("Would you pair with", "Laurent Girard"),
            (
                "Monday 7 December 2026, 10:00 AM",
                f"{BASE}/pairs/pair-42/consent/accept",
                f"{BASE}/pairs/pair-42/consent/decline",
            ),
        ),
    },
    KIND.PAIRING_CALLED_OFF: {
        Language.FR: (("ne se fera pas", "Laurent Girard"), ("ne se fera pas.",)),
        Language.EN: (("will not go ahead", "Laurent Girard"), ("will not go ahead.",)),
    },
    # Pulse check-ins: one link per answer, each answering the round for the reader.
    KIND.PULSE_CHECK: {
        Language.FR: (
            ("Baromètre", "Laurent Girard"),
            (
                "Bonjour Inès Moreau",
                "baromètre (n° 2)",
                "Tout va bien",
                "Nous avons besoin d'aide",
                f"{BASE}/pairs/pair-42/pulses/2/on_track",
                f"{BASE}/pairs/pair-42/pulses/2/need_help",
                "l'équipe RH du programme en est informée",
            ),
        ),
        Language.EN: (
            ("Check-in", "Laurent Girard"),
            (
                "Hello Inès Moreau",
                "check-in (no. 2)",
                "On track",
                "We need help",
                f"{BASE}/pairs/pair-42/pulses/2/on_track",
                f"{BASE}/pairs/pair-42/pulses/2/need_help",
                "the programme's HR team is told",
            ),
        ),
    },
    KIND.HR_HELP_ALERT: {
        Language.FR: (
            ("Comex digital 2026", "un binôme demande de l'aide"),
            (
                "Bonjour Claire Fontaine",
                "Inès Moreau",
                "Laurent Girard",
                "(mentoré·e)",
                "le mentor a répondu « nous avons besoin d'aide » au baromètre n° 2",
                "qu'une fois par baromètre",
                f"{BASE}/programmes/engie-comex-2026/pairs/pair-42",
            ),
        ),
        Language.EN: (
            ("Comex digital 2026", "a pair asks for help"),
            (
                "Hello Claire Fontaine",
                "Inès Moreau",
                "Laurent Girard",
                "(mentee)",
                'the mentor answered "we need help" to check-in no. 2',
                "once per check-in",
                f"{BASE}/programmes/engie-comex-2026/pairs/pair-42",
            ),
        ),
    },
}


def _notification(kind: NotificationKind, language: Language) -> Notification:
    planned = plan_notifications(example_trigger(kind, language=language))
    return next(n for n in planned if n.kind is kind and n.channel is Channel.EMAIL)


def _html_text(html: str) -> str:
    # The HTML escapes apostrophes; compare on the unescaped text.
    return html_module.unescape(html)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_reads_right_in_both_languages(
    kind: NotificationKind, language: Language
) -> None:
    rendered = RENDERER.render_text(_notification(kind, language))
    subject_parts, body_parts = EXPECTED[kind][language]

    for part in subject_parts:
        assert part in rendered.subject
    html = _html_text(rendered.html)
    for part in body_parts:
        assert part in rendered.text, part
        assert part in html, part
    assert f'<html lang="{language.value}">' in rendered.html
    assert f"{BASE}/preferences" in rendered.text
    other = Language.EN if language is Language.FR else Language.FR
    greeting = {Language.FR: "Bonjour", Language.EN: "Hello"}
    assert greeting[other] not in rendered.text


def test_the_mentee_is_told_who_their_mentor_is() -> None:
    planned = plan_notifications(example_trigger(KIND.INTRODUCTION, language=Language.FR))
    rendered = RENDERER.render_text(planned[1])
    assert "Inès Moreau (Community manager) sera votre mentor" in rendered.text


def test_dates_follow_the_readers_time_zone() -> None:
    notification = _notification(KIND.SESSION_INVITATION, Language.EN)
    in_new_york = replace(
        notification, recipient=replace(notification.recipient, time_zone="America/New_York")
    )
    rendered = RENDERER.render_text(in_new_york)
    assert "Thursday 3 December 2026, 8:00 AM (America/New_York)" in rendered.text
    assert "ends at 9:00 AM" in rendered.text


def test_html_escapes_what_people_typed_but_text_keeps_it() -> None:
    trigger = example_trigger(KIND.INTRODUCTION, language=Language.FR)
    assert isinstance(trigger, PairFormed)
    hostile = replace(trigger.mentee, display_name='<script>alert("x")</script> & Co')
    planned = plan_notifications(replace(trigger, mentee=hostile))
    rendered = RENDERER.render_text(planned[0])
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in rendered.html
    assert '<script>alert("x")</script> & Co' in rendered.text


def test_invitation_email_carries_the_ics_in_the_readers_language() -> None:
    outgoing = RENDERER.render_email(_notification(KIND.SESSION_INVITATION, Language.EN))
    assert outgoing.calendar is not None
    assert b"METHOD:REQUEST" in outgoing.calendar.ics
    assert "SUMMARY:Binôme — session 2: Professional social networks" in (
        outgoing.calendar.ics.decode()
    )
    assert outgoing.to_address == "ines.moreau@example.com"
    reminder = RENDERER.render_email(_notification(KIND.SESSION_REMINDER, Language.EN))
    assert reminder.calendar is None


def test_mime_message_has_text_html_calendar_and_a_key_derived_message_id() -> None:
    outgoing = RENDERER.render_email(_notification(KIND.SESSION_INVITATION, Language.FR))
    message = build_mime_message(
        outgoing,
        sender_address="noreply@binome.example.com",
        sender_name="Binôme",
        message_id_domain="binome.example.com",
        sent_at=EXAMPLE_NOW,
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    expected_id = message_id_for(outgoing.delivery_key, domain="binome.example.com")
    assert parsed["Message-ID"] == expected_id
    assert parsed["Content-Language"] == "fr"
    assert str(parsed["To"]) == "Inès Moreau <ines.moreau@example.com>"
    assert parsed.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in parsed.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    assert SESSION_FR in body.get_content()
    attachment = next(parsed.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert b"UID:session-session-7@binome" in attachment.get_content()


def test_webhook_body_has_title_link_and_facts_but_no_names_or_addresses() -> None:
    planned = plan_notifications(example_trigger(KIND.HR_STALL_ALERT, language=Language.EN))
    webhook_notification = next(n for n in planned if n.channel is Channel.WEBHOOK)
    outgoing = RENDERER.render_webhook(webhook_notification)
    payload = json.loads(outgoing.body)

    assert outgoing.receiver_id == "hr-platform"
    assert payload["kind"] == "hr_stall_alert"
    assert payload["delivery_id"] == webhook_notification.delivery_key
    assert payload["title"] == (
        '"Comex digital 2026" programme: a pair without a session for 5 weeks'
    )
    assert payload["link"] == f"{BASE}/programmes/engie-comex-2026/pairs/pair-42"
    assert payload["facts"]["weeks_without_session"] == 5
    text = outgoing.body.decode()
    for personal in ("Inès", "Laurent", "@example.com"):
        assert personal not in text


@pytest.mark.parametrize(
    ("language", "side", "session_number", "expected", "absent"),
    [
        (
            Language.FR,
            ParticipantRole.MENTOR,
            2,
            "le mentor a indiqué, après la séance n° 2, que ce binôme",
            "personne mentorée a indiqué",
        ),
        (
            Language.FR,
            ParticipantRole.MENTEE,
            None,
            "la personne mentorée a indiqué que ce binôme",
            "après la séance",
        ),
        (
            Language.EN,
            ParticipantRole.MENTOR,
            None,
            "the mentor said that the pair does not seem",
            "after session",
        ),
        (
            Language.EN,
            ParticipantRole.MENTEE,
            3,
            "the mentee said, after session 3, that the pair",
            "the mentor said",
        ),
    ],
)
def test_the_fit_alert_names_the_side_in_the_readers_language(
    language: Language,
    side: ParticipantRole,
    session_number: int | None,
    expected: str,
    absent: str,
) -> None:
    trigger = example_trigger(KIND.HR_FIT_ALERT, language=language)
    assert isinstance(trigger, PairFitConcern)
    planned = plan_notifications(replace(trigger, side=side, session_number=session_number))
    rendered = RENDERER.render_text(next(n for n in planned if n.channel is Channel.EMAIL))
    for body in (rendered.text, _html_text(rendered.html)):
        assert expected in body
        assert absent not in body


def test_the_fit_alert_webhook_says_which_side_but_names_no_one() -> None:
    planned = plan_notifications(example_trigger(KIND.HR_FIT_ALERT, language=Language.FR))
    webhook_notification = next(n for n in planned if n.channel is Channel.WEBHOOK)
    payload = json.loads(RENDERER.render_webhook(webhook_notification).body)

    assert payload["kind"] == "hr_fit_alert"
    assert payload["title"] == (
        "Programme « Comex digital 2026 » : un binôme qui ne semble pas bien assorti"
    )
    assert payload["facts"] == {"raised_by": "mentee", "session_number": 1}
    assert payload["subject_id"] == "pair-42#fit#mentee#1"
    text = json.dumps(payload, ensure_ascii=False)
    for personal in ("Inès", "Laurent", "Claire", "@example.com"):
        assert personal not in text


def test_channels_are_not_mixed_up() -> None:
    planned = plan_notifications(example_trigger(KIND.MATCHING_SUMMARY))
    email_notification = next(n for n in planned if n.channel is Channel.EMAIL)
    webhook_notification = next(n for n in planned if n.channel is Channel.WEBHOOK)
    with pytest.raises(ValueError, match="webhook"):
        RENDERER.render_webhook(email_notification)
    with pytest.raises(ValueError, match="e-mail"):
        RENDERER.render_email(webhook_notification)


def test_base_url_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        NotificationRenderer(public_base_url="binome.example.com", organizer_email="x@example.com")
