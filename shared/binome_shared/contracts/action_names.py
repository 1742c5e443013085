"""The names of what action links do (the token's ``act`` claim), shared by the service that
signs the links (notifications) and the one that performs them (docs/actions.md)."""

from __future__ import annotations

from typing import Final

SESSIONS: Final = "sessions"
"""The service that performs the session actions (the token's audience names it)."""
NOTIFICATIONS: Final = "notifications"
PAIRING: Final = "pairing"
"""The service that performs the consent actions (accept / decline a proposed pair)."""

SESSION_HELD: Final = "session.held"
"""After a session: it took place (ReportSessionHeld at its booked slot)."""
SESSION_MISSED: Final = "session.missed"
"""After a session: it did not take place (ReportSessionMissed)."""
SESSION_FEEDBACK: Final = "session.feedback"
"""After a session: a 1–5 rating, a comment, "a good fit?" after the first (GiveFeedback)."""
UNSUBSCRIBE: Final = "notifications.unsubscribe"
"""RFC 8058 one-click: stop one kind of message (SetNotificationPreferences)."""
PREFERENCES: Final = "notifications.preferences"
"""The preferences page: see and change one's opt-outs (SetNotificationPreferences)."""
PAIR_ACCEPT: Final = "pair.accept"
"""A proposed pair put to its members: the reader accepts it (AcceptPair)."""
PAIR_DECLINE: Final = "pair.decline"
"""A proposed pair put to its members: the reader declines it (DeclinePair)."""
PULSE_ON_TRACK: Final = "pulse.on_track"
"""A pulse check-in: "on track" for the reader (AnswerPulse, answer on_track)."""
PULSE_NEED_HELP: Final = "pulse.need_help"
"""A pulse check-in: "we need help" for the reader (AnswerPulse, answer need_help)."""
