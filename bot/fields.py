"""The types of the values a card's submission holds, as card actions declare them (bot/router.py
refuses a press with a value of another type before its handler runs)."""

from __future__ import annotations

from enum import StrEnum


class Field(StrEnum):
    """What one value of a card's submission may be. A submission holds what the card's inputs
    collected, which Webex sends as text, merged with the pressed button's data as the bot wrote
    it; each card action declares its fields with these (`router.card_action(fields=…)`), and a
    press with a value of another type is refused before its handler runs."""

    TEXT = "text"  # Input.Text, Input.Date, Input.Time, a single-choice ChoiceSet; text in a button's data
    NUMBER = "number"  # Input.Number: its text, or a number (bot/parse.py reads it)
    CHOICES = "choices"  # a multi-select ChoiceSet: "M2M,LoRa", or a list of texts
    FLAG = "flag"  # Input.Toggle: "true" or "false", or a boolean
    ID = "id"  # a row id in a button's data: a whole number, or its digits

    def accepts(self, value: object) -> bool:
        """Whether `value` is of this field's type (its content is the handler's to check)."""
        if isinstance(value, bool):
            return self is Field.FLAG
        if self is Field.NUMBER:
            return isinstance(value, (str, int, float))
        if self is Field.ID:
            return isinstance(value, (str, int))
        if self is Field.CHOICES:
            return isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))
        return isinstance(value, str)
