"""The shape of a consultation response, shared by the JSON API and the HTML form."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr


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
