"""The shape of a consultation response, shared by the JSON API and the HTML form."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator


class ResponseIn(BaseModel):
    """The brief's JSON body; the form builds the same thing."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr | None = None  # a general response
    answers: dict[StrictStr, StrictStr] = Field(default_factory=dict)  # {question id: text}
    language: Literal["en", "cy"] | None = None
    group: StrictStr | None = None  # a stakeholder group slug
    anonymous: StrictBool = True
    name: StrictStr | None = None
    email: StrictStr | None = None
    contact_consent: StrictBool = False
    quote_consent: StrictBool = False  # "you may quote my words anonymously" in what is published

    @field_validator("text", "name", "email", "group")
    @classmethod
    def plain_text(cls, value: str | None) -> str | None:
        return None if value is None else _plain(value)

    @field_validator("answers")
    @classmethod
    def plain_answers(cls, value: dict[str, str]) -> dict[str, str]:
        return {_plain(k): _plain(v) for k, v in value.items()}


class PlainText(BaseModel):
    """A body whose every string is text a database can keep (see ``_plain``), however deeply nested."""

    @field_validator("*")
    @classmethod
    def _plain_everywhere(cls, value: Any) -> Any:
        return _plain_all(value)


def _plain_all(value: Any) -> Any:
    if isinstance(value, str):
        return _plain(value)
    if isinstance(value, list):
        return [_plain_all(v) for v in value]
    if isinstance(value, dict):
        return {_plain_all(k): _plain_all(v) for k, v in value.items()}
    return value


def _plain(value: str) -> str:
    """Text a database can keep: no lone surrogates (not Unicode text at all); NUL dropped (PostgreSQL
    refuses it in text, and no keyboard types it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text") from None
    return value.replace("\x00", "")


def plain_text(value: str) -> str | None:
    """``value`` as text a database can keep (``_plain``), or None when it is not Unicode text at all: for a
    body read without a model."""
    try:
        return _plain(value)
    except ValueError:
        return None
