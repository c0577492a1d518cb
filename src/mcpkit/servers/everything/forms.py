"""The elicitation forms (`requestedSchema`s) the everything server's tools ask with.

Layer: applications (servers/everything). Data only: each form is the shape a conformance
scenario inspects, so they sit together here where they can be compared with its text.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "COLOR",
    "CONFIRM",
    "CONTEXT",
    "DEFAULTS",
    "ENUMS",
    "NAME",
    "USER_INFO",
]


def _form(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    form: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        form["required"] = list(required)
    return form


NAME: Final = _form({"name": {"type": "string"}}, "name")
COLOR: Final = _form({"color": {"type": "string"}}, "color")
CONFIRM: Final = _form({"ok": {"type": "boolean"}}, "ok")
CONTEXT: Final = _form({"context": {"type": "string"}}, "context")

USER_INFO: Final = _form(
    {
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"},
    },
    "username",
    "email",
)

# SEP-1034: a default for every primitive type.
DEFAULTS: Final = _form(
    {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "score": {"type": "number", "default": 95.5},
        "status": {
            "type": "string",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "default": True},
    }
)


def _titled(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"const": value, "title": title} for value, title in pairs]


# SEP-1330: the five ways to offer choices.
ENUMS: Final = _form(
    {
        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "oneOf": _titled(
                ("value1", "First Option"), ("value2", "Second Option"), ("value3", "Third Option")
            ),
        },
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "items": {
                "anyOf": _titled(
                    ("value1", "First Choice"),
                    ("value2", "Second Choice"),
                    ("value3", "Third Choice"),
                )
            },
        },
    }
)
