"""A template that names a field its content does not have must fail, never render empty.

The rendering environment is strict (``StrictUndefined``); these tests keep it so, and read
every template for ``content.<field>`` names, including branches the examples do not take.
"""

from dataclasses import fields

import jinja2
import pytest
from jinja2 import nodes

from binome_devstack.notifications.examples import example_trigger
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.model import Channel, Notification, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

# Only parsed, never rendered: the escaping setting does not matter here.
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("binome_notifications", "templates"), autoescape=True
)


def _email(kind: NotificationKind, language: Language) -> Notification:
    planned = plan_notifications(example_trigger(kind, language=language))
    return next(n for n in planned if n.kind is kind and n.channel is Channel.EMAIL)


def _content_fields_named(template_name: str) -> set[str]:
    source, _, _ = TEMPLATES.loader.get_source(TEMPLATES, template_name)  # type: ignore[union-attr]
    return {
        node.attr
        for node in TEMPLATES.parse(source).find_all(nodes.Getattr)
        if isinstance(node.node, nodes.Name) and node.node.name == "content"
    }


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_template_names_only_fields_its_content_has(
    kind: NotificationKind, language: Language
) -> None:
    content_fields = {field.name for field in fields(_email(kind, language).content)}
    for form in ("txt", "html"):
        for stem in (kind.value, "base"):
            named = _content_fields_named(f"{language.value}/{stem}.{form}.j2")
            assert named, stem
            assert named <= content_fields, (stem, form, named - content_fields)


@pytest.mark.parametrize(
    "body",
    [
        "{{ content.weeks_without_session }} weeks",
        '{% if content.raised_by == "mentor" %}mentor{% else %}mentee{% endif %}',
    ],
)
def test_an_unknown_content_field_fails_the_rendering(body: str) -> None:
    templates = {
        "en/stall_nudge.txt.j2": "{% block subject %}Subject{% endblock %}" + body,
        "en/stall_nudge.html.j2": "<p>{{ content.weeks_silent }}</p>",
    }
    renderer = NotificationRenderer(
        public_base_url="https://binome.example.com",
        organizer_email="noreply@example.com",
        loader=jinja2.DictLoader(templates),
    )
    with pytest.raises(jinja2.UndefinedError):
        renderer.render_text(_email(NotificationKind.STALL_NUDGE, Language.EN))
